"""The overlap by reference ids: Tautulli finds those through an index, where any date filter scans its history.

A real Tautulli answers `after`/`before` with `strftime(datetime(started, 'unixepoch', 'localtime'))`, which no
index serves: every request scans the whole session_history table, twice (the rows and total_duration). At a
million plays that scan is most of a no-change run. `reference_id` is indexed (plexpy/__init__.py), so asking
for reference ids costs Tautulli about 0.1 s a request plus 0.25 ms an id (measured, docs/benchmarks.md): cheap
for a few hundred ids, as dear as the scan for the ~5,000 plays of a 48-hour overlap at a million plays.

So a run by reference asks for:
- the ids just above the newest stored play: a new play that starts its own group has its own id as reference
  id, whenever it started (a late-arriving play is still a new id);
- the reference ids of the stored plays of the last `overlap_hours / 8` (6 h by default): each comes back, so a
  recent edit shows, and so does a new play Tautulli grouped onto one of them (a resumed session takes the
  reference id of the part before it).

A new play grouped onto an older play would be missed, so the answer is only trusted when it accounts for every
change in Tautulli's history size since the last run (recordsTotal, counted at each run's first history
request): the new plays it holds must be exactly that many more, and every stored play asked for must be there.
Anything else, and the run reads the overlap by dates. A run by dates also comes at least every
`overlap_hours / 2`, and after runs by reference it reads back from where the last run by dates began: whatever
the runs by reference could not see (an edit to an older play, a deletion hiding an arrival from the count)
is still read within the overlap it fell in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.clients.tautulli import TautulliClient
from pipeline.ingest.history_windows import page

log = logging.getLogger(__name__)

CHUNK = 900  # ids per request: Tautulli ORs one term per id, and SQLite parses at most 1,000 deep
FIRST_NEW = 200  # new ids asked for at first: more than a no-change or hourly run finds at a million plays
MAX_IDS = 3_000  # beyond this the one scan by dates costs Tautulli less (at a million plays)
REFERENCE_SHARE = 8  # plays of the last overlap_hours / 8 are read again by reference


@dataclass(frozen=True)
class RouteState:
    newest_play_id: int | None
    newest_started: datetime | None
    tautulli_rows: int | None     # recordsTotal at the last good run's first history request
    last_dates_run: datetime | None
    last_dates_from: date | None  # the `after` the last run by dates began at
    last_route: str | None


def route_state(store: Store) -> RouteState:
    return RouteState(*store.execute("ingest/history_route_state")[0])


def by_references(state: RouteState, settings: Settings, now: datetime) -> bool:
    """Whether this run may try the reference route (else it reads the overlap by dates)."""
    if state.newest_play_id is None or state.tautulli_rows is None or state.last_dates_run is None:
        return False
    if state.tautulli_rows < settings.tautulli.overlap_by_reference_from:
        return False  # a small history's scan is cheap: the date route sees everything
    return now - state.last_dates_run < timedelta(hours=settings.tautulli.overlap_hours / 2)


def dates_from(state: RouteState, after: str) -> str:
    """Where a run by dates begins: after runs by reference, no later than the last run by dates began."""
    if state.last_route == "references" and state.last_dates_from is not None:
        return min(after, state.last_dates_from.isoformat())
    return after


@dataclass(frozen=True)
class ReferenceAsk:
    ids: list[int]   # the recent plays' reference ids
    stored: int      # stored plays that share them: all must come back
    newest: int      # the newest stored play id
    before: int      # Tautulli's history size at the last run


def reference_ask(store: Store, state: RouteState, settings: Settings) -> ReferenceAsk | None:
    """What to ask for (read from the store, in the caller's thread); None when it is too much to be cheaper."""
    since = state.newest_started - timedelta(hours=settings.tautulli.overlap_hours / REFERENCE_SHARE)
    refs, stored = store.execute("ingest/overlap_references", {"since": since})[0]
    refs = [r for r in refs or [] if r <= state.newest_play_id]
    if len(refs) + FIRST_NEW > MAX_IDS:
        log.info("Tautulli history: %s reference ids are too many; reading by dates", f"{len(refs):,}")
        return None
    return ReferenceAsk(refs, stored, state.newest_play_id, state.tautulli_rows)


def fetch_by_references(client: TautulliClient, ask: ReferenceAsk, query: dict) -> tuple[list, int] | None:
    """The recent plays and the new ones, at most CHUNK ids a request, two at a time: (rows, recordsTotal), or
    None when the answer does not account for every change (the caller then reads the overlap by dates)."""
    from concurrent.futures import ThreadPoolExecutor

    def get(ids) -> tuple[list, int]:
        return page(client.call_form("get_history", **query, reference_id=",".join(map(str, ids))), 1)

    # Tautulli answers each request in its own thread; most of one is SQLite, which leaves the GIL to the other.
    first = range(ask.newest + 1, ask.newest + 1 + FIRST_NEW)
    chunks = [first] + [ask.ids[at:at + CHUNK] for at in range(0, len(ask.ids), CHUNK)]
    with ThreadPoolExecutor(2, thread_name_prefix="tautulli-references") as pool:
        answers = list(pool.map(get, chunks))
        total = answers[0][1]  # asked first: plays that arrive later are not counted, nor (mostly) returned
        grew = total - ask.before
        end = ask.newest + 1 + grew + grew // 10 + 10  # the new ids, with room for gaps (deleted rows)
        if total <= 0 or grew < 0 or len(ask.ids) + (end - ask.newest) > MAX_IDS:
            log.info("Tautulli history: its history grew by %s plays since the last run; reading by dates",
                     f"{grew:,}")
            return None
        answers += pool.map(get, [range(at, min(at + CHUNK, end)) for at in range(first.stop, end, CHUNK)])
    rows = [row for part, _ in answers for row in part]
    new = sum(1 for r in rows if isinstance(r, dict) and _id(r) > ask.newest)
    old = len(rows) - new
    if new != grew or old != ask.stored:
        log.info("Tautulli history: %s new by reference id, but its history grew by %s (%s of %s stored plays came"
                 " back); reading by dates", f"{new:,}", f"{grew:,}", f"{old:,}", f"{ask.stored:,}")
        return None
    return rows, total


def _id(row: dict) -> int:
    try:
        return int(row.get("id") or 0)
    except (TypeError, ValueError):
        return 0
