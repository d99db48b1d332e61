"""Tautulli history into tautulli_history: incremental, idempotent, inside the caller's transaction."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, Iterator, TypeVar
from zoneinfo import ZoneInfo

from pipeline.logs import Progress, counted
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.db import sql
from pipeline.clients.tautulli import TautulliClient
from pipeline.ingest.history_windows import Window, WindowPlan, history_windows

# pyarrow is imported where it is used, not here: it loads while Tautulli prepares the first window.

log = logging.getLogger(__name__)

PAGE_VIEW = "tautulli_history_page"  # the name the history SQL reads a page from
T = TypeVar("T")


def __getattr__(name: str):
    """INGESTED_AT (the ingested_at column's Arrow type), made on first use."""
    if name == "INGESTED_AT":
        return ingested_at_type()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ingested_at_type():
    import pyarrow as pa

    return pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class HistoryResult:
    fetched: int  # rows downloaded, overlap and duplicates included
    new: int      # plays the store did not have
    pages: int    # get_history requests that returned a page (one per date window)
    total: int | None = None  # Tautulli's history size (recordsTotal) at the first request
    route: str = "dates"      # how the history was read: dates, or references (history_references.py)
    after: date | None = None  # where a run by dates began (server time); None: all history, or by reference


def ingest_history(store: Store, client: TautulliClient, settings: Settings, now: datetime,
                   progress: Progress | None = None, by_dates: bool = False) -> HistoryResult:
    """Fetch plays newer than the store's newest (minus tautulli.overlap_hours) and upsert them window by window;
    by_dates: never the overlap by reference id.

    Never commits: run it inside `store.transaction()`, so a failure on any request leaves the store as it was.
    """
    after = since(store, settings)
    log.info("Tautulli history: %s", f"plays on or after {after} (server time)" if after else "full history")
    today = now.astimezone(ZoneInfo(settings.server.timezone)).date()
    answer, floor = _by_reference(store, client, settings, now, after, by_dates) if after is not None else (None, None)
    route = "dates" if answer is None else "references"
    if answer is not None:
        new, fetched, pages, total = _store_windows(store, [answer], None, progress, now, after)
    else:
        plan = WindowPlan(settings.tautulli.page_size, today, date.fromisoformat(floor) if floor else None)
        with prefetched(history_windows(client.call, plan, HISTORY_QUERY, _announcer(plan, progress))) as windows:
            _warm(store)  # the first request is out: load what storing its answer needs meanwhile
            new, fetched, pages, total = _store_windows(store, windows, plan, progress, now, after)
    log.info("Tautulli history: %s (%s fetched in %s%s)", counted(new, "new play"), f"{fetched:,}",
             counted(pages, "page"), ", by reference id" if route == "references" else "")
    # A first run records where its overlap begins too: the next run by dates after runs by reference reads back there.
    began = (after or since(store, settings)) if route == "dates" else None
    return HistoryResult(fetched=fetched, new=new, pages=pages, total=total, route=route,
                         after=date.fromisoformat(began) if began else None)


def _by_reference(store: Store, client: TautulliClient, settings: Settings, now: datetime,
                  after: str, by_dates: bool = False) -> tuple[tuple[list, int] | None, str]:
    """The overlap by reference id when history_references allows it and the answer holds up: (answer, after);
    else (None, the date a run by dates must begin at)."""
    from pipeline.ingest.history_references import (by_references, dates_from, fetch_by_references, reference_ask,
                                                    route_state)

    state = route_state(store)
    ask = reference_ask(store, state, settings) if not by_dates and by_references(state, settings, now) else None
    if ask is not None:
        with prefetched(fetch_by_references(client, ask, HISTORY_QUERY) for _ in (1,)) as answers:
            _warm(store)  # while Tautulli looks the ids up
            answer = next(iter(answers))
        if answer is not None:
            return answer, after
    floor = dates_from(state, after)
    if floor != after:
        log.info("Tautulli history: reading back to %s, where the last run by dates began", floor)
    return None, floor


def _store_windows(store: Store, windows: Iterator, plan: WindowPlan | None, progress: Progress | None, now: datetime,
                   after: str | None) -> tuple[int, int, int, int | None]:
    """Type and upsert each window as it arrives; (new, fetched, pages, the first answer's recordsTotal)."""
    from pipeline.ingest.history_rows import history_table

    fetched = pages = new = 0
    first_total = None
    for rows, total in windows:
        pages += 1
        first_total = total if first_total is None else first_total
        count = len(rows)
        table = history_table(rows, f"get_history page {pages}")
        del rows  # ~4 KB of Python objects per row: let it go before the next window arrives
        if count:
            new += _upsert(store, table, now, overlap=after is not None)
        fetched += count
        if progress is not None:
            # Tautulli's count covers all its history; an incremental run only wants the windows' rows.
            expected = fetched + (plan.remaining() or 0) if after is None else fetched
            if progress.total != expected:
                progress.set_total(expected)
            progress.advance(count)
    return new, fetched, pages, first_total


def _warm(store: Store) -> None:
    """Import pyarrow, and let duckdb make its first Arrow scan (it imports pandas then): ~0.3 s of start-up."""
    from pipeline.ingest.history_rows import HISTORY_SCHEMA

    store.con.from_arrow(HISTORY_SCHEMA.empty_table())


# include_activity defaults to on: live sessions would come back as rows without an id. `length` has no upper
# limit in Tautulli (and -1 drops a row): a window comes back whole, in one answer.
HISTORY_QUERY = {"grouping": 0, "include_activity": 0, "order_column": "date", "order_dir": "desc",
                 "start": 0, "length": 2**31 - 1}


def _announcer(plan: WindowPlan, progress: Progress | None):
    """Say what Tautulli is doing while nothing arrives: a window can take a minute to prepare."""
    def announce(window: Window, n: int) -> None:
        left = plan.remaining()
        size = f" (about {min(plan.rows, left):,} of the {left:,} left)" if left else ""
        text = f"Tautulli is preparing the {window.describe()}{size}…"
        if progress is not None:
            progress.note(text)
        else:
            log.info("%s", text)
    return announce


def since(store: Store, settings: Settings) -> str | None:
    """get_history's `after` (inclusive, a date in Tautulli's local zone), or None on the first run."""
    newest = store.execute("ingest/newest_tautulli_play")[0][0]
    if newest is None:
        return None
    start = newest - timedelta(hours=settings.tautulli.overlap_hours)
    return start.astimezone(ZoneInfo(settings.server.timezone)).date().isoformat()


def _upsert(store: Store, table, now: datetime, overlap: bool) -> int:
    """Bulk-upsert one typed page (never row by row); return how many plays were new.

    Pages go straight into tautulli_history: staging a million rows first, then merging them, took
    twice the time and memory. The caller's transaction still makes the whole run one unit.
    """
    import pyarrow as pa

    table = _unique(table)
    table = table.append_column("ingested_at", pa.repeat(pa.scalar(now, ingested_at_type()), table.num_rows))
    # Not con.register(): inside a transaction duckdb 2.0.0 keeps every registered table alive until
    # COMMIT, which held ~600 MB of pages on a 1M-play first run. A relation's query does not.
    page = store.con.from_arrow(table)
    if overlap:  # a first run has nothing stored to update; a repeat within it is the same play
        page.query(PAGE_VIEW, sql("ingest/update_tautulli_history")).fetchall()
    return page.query(PAGE_VIEW, sql("ingest/insert_tautulli_history")).fetchall()[0][0]


def _unique(table):
    """One row per play_id (the last one), in case a page ever repeats a row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = table.column("play_id")
    if pc.count_distinct(ids).as_py() == table.num_rows:
        return table
    last = (pa.table({"play_id": ids, "i": pa.array(range(table.num_rows))})
            .group_by("play_id").aggregate([("i", "max")]).column("i_max"))
    return table.take(pc.take(last, pc.sort_indices(last)))


class prefetched(Generic[T]):
    """Produce `items` in a background thread, at most `ahead` beyond the one the caller holds.

    While we type and store page N, Tautulli already builds page N+1 (a full query per request):
    the download overlaps our work, and only two pages of parsed JSON are ever alive. The thread starts
    at once, so the first request is out before the caller's own start-up work. Use it in a `with`:
    leaving stops the thread after its current request. An error in the thread is raised here.
    """

    def __init__(self, items: Iterator[T], ahead: int = 1) -> None:
        self._box: queue.SimpleQueue = queue.SimpleQueue()
        self._slots = threading.Semaphore(ahead)  # taken before fetching an item, given back when one is taken
        self._stop = threading.Event()
        self._done = object()
        self._items = items
        self._thread = threading.Thread(target=self._produce, name="tautulli-pages", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        try:
            while True:
                while not self._slots.acquire(timeout=0.1):
                    if self._stop.is_set():
                        return
                if self._stop.is_set():
                    return
                item = next(self._items, self._done)
                self._box.put((None, item))
                if item is self._done:
                    return
                del item  # the caller owns it now; do not keep it alive through the next download
        except BaseException as exc:  # handed to the caller, who raises it in its own thread
            self._box.put((exc, None))

    def __iter__(self) -> Iterator[T]:
        while True:
            error, item = self._box.get()
            self._slots.release()
            if error is not None:
                raise error
            if item is self._done:
                return
            yield item
            del item

    def __enter__(self) -> "prefetched[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
