"""One ingest run: Tautulli in one transaction, then the Plex inventory in another, then a summary."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from pipeline.clock import Clock
from pipeline.errors import ConfigError, MarqueeError, SourceError
from pipeline.logs import Progress, counted
from pipeline.settings import Settings
from pipeline.store import Store

log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    run_id: int
    plays_fetched: int
    plays_new: int
    users: int
    libraries: int
    items: int | None          # None when the inventory was skipped
    plex_skipped: str | None   # why, in one line
    requests: int              # every Tautulli call: history pages, users, libraries
    seconds: float
    pages: int = 0             # get_history pages, as the history log line counts them
    notes: list[str] = field(default_factory=list)  # optional sources: "Seerr: 12 requests ..."

    def lines(self) -> list[str]:
        # The same words as the history log line above it: plays are fetched in pages; requests are all calls.
        out = [
            f"plays: {self.plays_new:,} new ({self.plays_fetched:,} fetched in {counted(self.pages, 'page')} "
            f"of history; {counted(self.requests, 'Tautulli request')} in all)",
            f"users: {self.users:,}   libraries: {self.libraries:,}",
        ]
        if self.plex_skipped:
            out.append(f"Plex inventory skipped: {self.plex_skipped}")
        else:
            out.append(f"Plex items listed: {self.items:,}")
        out += self.notes
        out.append(f"took {self.seconds:.1f}s")
        return out


def run_ingest(store: Store, settings: Settings, clock: Clock, *,
               tautulli_session=None, plex_session=None, calendars: bool = False,
               by_dates: bool = False) -> IngestSummary:
    """Copy Tautulli (required) and Plex (optional) into the store; all-or-nothing per source.

    calendars: also read Sonarr's and Radarr's calendars (coming soon): `invoke ingest` and `invoke build` do;
    the ingest before an enforcement run does not need them. by_dates: read the whole overlap by dates, never by
    reference id (`invoke build`, which may freeze an issue from this ingest: every edit in the overlap counts).
    """
    from pipeline.ingest.history import ingest_history
    from pipeline.ingest.inbox import take_inbox
    from pipeline.ingest.people import People, store_libraries, store_users
    from pipeline.clients.tautulli import TautulliClient

    if not settings.tautulli.configured:
        raise ConfigError("tautulli.url: ingest needs TAUTULLI_URL and TAUTULLI_API_KEY")
    began, now = time.monotonic(), clock.now()
    client = TautulliClient(settings.tautulli, session=tautulli_session)
    # Users and libraries come over their own connection while Tautulli prepares the history.
    people_client = TautulliClient(settings.tautulli, session=tautulli_session)
    people = People(people_client)
    try:
        take_inbox(store, settings, now)  # readers' actions first, as every run does
        run_id = store.execute("ingest/next_run_id")[0][0]
    except BaseException:
        people.wait()
        raise
    try:
        with store.transaction():
            try:
                with Progress("Tautulli history", unit="plays") as progress:
                    history = ingest_history(store, client, settings, now, progress=progress, by_dates=by_dates)
            finally:
                people.wait()
            user_rows, library_rows = people.result()
            users = store_users(store, user_rows, now)
            libraries = store_libraries(store, library_rows, now)
            store.execute("ingest/record_run", dict(
                run_id=run_id, started_at=now, finished_at=clock.now(), status="ok",
                plays_fetched=history.fetched, plays_new=history.new, users=users, items=None,
                plex_skipped=None, error=None, tautulli_rows=history.total, history_route=history.route,
                history_from=history.after))
    except MarqueeError as exc:
        _record_failure(store, run_id, now, clock, str(exc))
        raise

    items, skipped = _ingest_plex(store, settings, now, plex_session)
    store.execute("ingest/record_plex_outcome", dict(
        run_id=run_id, items=items, plex_skipped=skipped, finished_at=clock.now()))
    from pipeline.ingest.calendar import ingest_calendars
    from pipeline.ingest.plex_watch import ingest_watch_state
    from pipeline.ingest.seerr import ingest_seerr_line

    seerr = ingest_seerr_line(store, settings, clock.now())
    # For media_assignments as the last queue refresh or `invoke assign` left them (docs/retention.md).
    watch = ingest_watch_state(store, settings, clock.now(), session=plex_session, skipped=skipped)
    notes = [n for n in (seerr, watch.line() if watch and (watch.users or watch.unread) else None) if n]
    notes += ingest_calendars(store, settings, clock.now()) if calendars else []
    return IngestSummary(run_id, history.fetched, history.new, users, libraries, items, skipped,
                         client.requests + people_client.requests, time.monotonic() - began, history.pages,
                         notes)


def _ingest_plex(store: Store, settings: Settings, now, session) -> tuple[int | None, str | None]:
    """The inventory is optional for the newsletter: a failure is reported, never fatal."""
    if not settings.plex.configured:
        return None, "PLEX_URL and PLEX_TOKEN are not set"
    from pipeline.ingest.plex import ingest_plex

    try:
        with store.transaction():
            with Progress("Plex inventory", unit="items") as progress:
                result = ingest_plex(store, settings, now, progress=progress, session=session)
    except (SourceError, ConfigError) as exc:
        log.warning("Plex inventory skipped: %s", exc)
        return None, str(exc)
    return result.items_listed, None


def _record_failure(store: Store, run_id: int, now, clock: Clock, error: str) -> None:
    store.execute("ingest/record_run", dict(
        run_id=run_id, started_at=now, finished_at=clock.now(), status="failed", plays_fetched=None,
        plays_new=None, users=None, items=None, plex_skipped=None, error=error, tautulli_rows=None,
        history_route=None, history_from=None))
