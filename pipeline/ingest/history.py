"""Tautulli history into tautulli_history: incremental, idempotent, inside the caller's transaction."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterator, TypeVar
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.logs import Progress, counted
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.db import sql
from pipeline.clients.tautulli import TautulliClient
from pipeline.ingest.history_rows import history_table
from pipeline.ingest.history_windows import Window, WindowPlan, history_windows

log = logging.getLogger(__name__)

PAGE_VIEW = "tautulli_history_page"  # the name the history SQL reads a page from
INGESTED_AT = pa.timestamp("us", tz="UTC")
T = TypeVar("T")


@dataclass(frozen=True)
class HistoryResult:
    fetched: int  # rows downloaded, overlap and duplicates included
    new: int      # plays the store did not have
    pages: int    # get_history requests that returned a page (one per date window)


def ingest_history(store: Store, client: TautulliClient, settings: Settings, now: datetime,
                   progress: Progress | None = None) -> HistoryResult:
    """Fetch plays newer than the store's newest (minus tautulli.overlap_hours) and upsert them window by window.

    Never commits: run it inside `store.transaction()`, so a failure on any request leaves the store as it was.
    """
    after = since(store, settings)
    log.info("Tautulli history: %s", f"plays on or after {after} (server time)" if after else "full history")
    today = now.astimezone(ZoneInfo(settings.server.timezone)).date()
    plan = WindowPlan(settings.tautulli.page_size, today, date.fromisoformat(after) if after else None)
    fetched = pages = new = 0
    for rows, total in prefetched(history_windows(client.call, plan, HISTORY_QUERY, _announcer(plan, progress))):
        pages += 1
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
    log.info("Tautulli history: %s (%s fetched in %s)", counted(new, "new play"), f"{fetched:,}",
             counted(pages, "page"))
    return HistoryResult(fetched=fetched, new=new, pages=pages)


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


def _upsert(store: Store, table: pa.Table, now: datetime, overlap: bool) -> int:
    """Bulk-upsert one typed page (never row by row); return how many plays were new.

    Pages go straight into tautulli_history: staging a million rows first, then merging them, took
    twice the time and memory. The caller's transaction still makes the whole run one unit.
    """
    table = _unique(table)
    table = table.append_column("ingested_at", pa.repeat(pa.scalar(now, INGESTED_AT), table.num_rows))
    # Not con.register(): inside a transaction duckdb 2.0.0 keeps every registered table alive until
    # COMMIT, which held ~600 MB of pages on a 1M-play first run. A relation's query does not.
    page = store.con.from_arrow(table)
    if overlap:  # a first run has nothing stored to update; a repeat within it is the same play
        page.query(PAGE_VIEW, sql("ingest/update_tautulli_history")).fetchall()
    return page.query(PAGE_VIEW, sql("ingest/insert_tautulli_history")).fetchall()[0][0]


def _unique(table: pa.Table) -> pa.Table:
    """One row per play_id (the last one), in case a page ever repeats a row."""
    ids = table.column("play_id")
    if pc.count_distinct(ids).as_py() == table.num_rows:
        return table
    last = (pa.table({"play_id": ids, "i": pa.array(range(table.num_rows))})
            .group_by("play_id").aggregate([("i", "max")]).column("i_max"))
    return table.take(pc.take(last, pc.sort_indices(last)))


def prefetched(items: Iterator[T], ahead: int = 1) -> Iterator[T]:
    """Produce `items` in a background thread, at most `ahead` beyond the one the caller holds.

    While we type and store page N, Tautulli already builds page N+1 (a full query per request):
    the download overlaps our work, and only two pages of parsed JSON are ever alive.
    An error in the thread is raised here; leaving early stops the thread after its current request.
    """
    box: queue.SimpleQueue = queue.SimpleQueue()
    slots = threading.Semaphore(ahead)  # taken before fetching an item, given back when the caller takes one
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            while True:
                while not slots.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                item = next(items, done)
                box.put((None, item))
                if item is done:
                    return
                del item  # the caller owns it now; do not keep it alive through the next download
        except BaseException as exc:  # handed to the caller, who raises it in its own thread
            box.put((exc, None))

    thread = threading.Thread(target=produce, name="tautulli-pages", daemon=True)
    thread.start()
    try:
        while True:
            error, item = box.get()
            slots.release()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
            del item
    finally:
        stop.set()
        thread.join()
