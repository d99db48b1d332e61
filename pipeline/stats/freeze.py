"""Decide which newsletter issues to freeze, compute them, and freeze them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.errors import RefusedToAct
from pipeline.settings import Settings
from pipeline.stats.issue import compute_issue
from pipeline.stats.periods import Period, latest_complete, parse_period, periods_between
from pipeline.stats.snapshots import issue_meta, list_snapshots, save_snapshot
from pipeline.store import Store

log = logging.getLogger(__name__)


@dataclass
class FreezeResult:
    frozen: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)       # already frozen, left as published
    skipped: list[str] = field(default_factory=list)    # reason lines


def periods_to_build(store: Store, settings: Settings, now: datetime, period_key: str | None) -> list[Period]:
    """The requested period, or every complete period since the newest issue (a backfill on the first run),
    then the year just ended when newsletter.yearly wants it."""
    if period_key:
        return [parse_period(period_key, settings.server.timezone)]
    return _regular(store, settings, now) + _year_in_review(store, settings, now)


def _year_in_review(store: Store, settings: Settings, now: datetime) -> list[Period]:
    """The latest complete year, once: not when frozen already, nor when the store holds no play from it."""
    if not settings.newsletter.yearly:
        return []
    year = latest_complete("yearly", now, settings.server.timezone)
    if issue_meta(store, year.issue_key) is not None:
        return []
    first_play = store.execute("issues/play_span")[0][0]
    return [year] if first_play is not None and first_play < year.end else []


def _regular(store: Store, settings: Settings, now: datetime) -> list[Period]:
    tz, kind = settings.server.timezone, settings.newsletter.period
    latest = latest_complete(kind, now, tz)
    issued = [row["period_key"] for row in list_snapshots(store, kind)]
    if issued:
        first = parse_period(issued[0], tz, kind).next()
        return periods_between(kind, first.key, latest.key, tz) if first.start <= latest.start else []
    first_play = store.execute("issues/play_span")[0][0]
    if first_play is None:
        return [latest]
    wanted = [latest]
    while len(wanted) <= settings.newsletter.backfill and wanted[-1].previous().end > first_play:
        wanted.append(wanted[-1].previous())
    return wanted[::-1]


def freeze_issues(store: Store, settings: Settings, now: datetime, *, period_key: str | None = None,
                  data_as_of: datetime | None = None, rebuild: bool = False,
                  require_ingest: bool = False) -> FreezeResult:
    """Compute and freeze each period's issue; past issues are never changed unless `rebuild`.

    data_as_of: when the last successful ingest finished; a period ending after it is not frozen.
    require_ingest: with data_as_of None (no ingest ever succeeded), freeze nothing.
    """
    result = FreezeResult()
    for period in periods_to_build(store, settings, now, period_key):
        key = period.issue_key
        if not period.is_complete(now):
            result.skipped.append(f"{key}: the period has not ended yet ({period.end:%Y-%m-%d %H:%M} UTC)")
            continue
        if require_ingest and data_as_of is None:
            # Frozen now, the issue would stay empty for good: the first real ingest could not change it.
            result.skipped.append(f"{key}: no ingest has succeeded yet, so nothing is known about the period; "
                                  "set TAUTULLI_URL and TAUTULLI_API_KEY, then run `invoke build`")
            continue
        if data_as_of is not None and data_as_of < period.end:
            result.skipped.append(f"{key}: the last ingest ({data_as_of:%Y-%m-%d %H:%M} UTC) is older than "
                                  "the end of the period; run `invoke ingest` first")
            continue
        if issue_meta(store, key) is not None and not rebuild:
            result.kept.append(key)
            continue
        snapshot = compute_issue(store, period, settings, now)
        if snapshot["empty"] and settings.newsletter.skip_empty:
            result.skipped.append(f"{key}: nothing was played or added (newsletter.skip_empty)")
            continue
        try:
            save_snapshot(store, key, period, snapshot, replace=rebuild)
        except RefusedToAct:
            result.kept.append(key)
            continue
        result.frozen.append(key)
        log.info("froze issue %s%s", key, " (nothing new)" if snapshot["empty"] else "")
    return result
