"""The notice a deletion waits for: every concerned reader told `notice_days` before it (pure, like policy.media)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.policy.media import QueueEntry


def utc_text(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def wait_for_notice(entry: "QueueEntry", concerned: set[int], noticed: Mapping[tuple[int, int], datetime],
                    unreachable: set[int], now: datetime, notice: timedelta,
                    names: Mapping[int, str]) -> "QueueEntry":
    """Move scheduled_at to notice_days after the last concerned reader's notice (or after now, if one is unsent)."""
    told = tuple((u, noticed.get((u, entry.rating_key))) for u in sorted(concerned - unreachable))
    entry = replace(entry, notices=told)
    if unreachable & concerned:
        who = ", ".join(names.get(u, f"user {u}") for u in sorted(unreachable & concerned))
        entry = replace(entry, reason=f"{entry.reason}; no notice can reach {who} (no e-mail address)")
    if not told:
        return entry
    sent = [at for _, at in told if at is not None]
    floor = (now if len(sent) < len(told) else max(sent)) + notice
    if floor <= entry.scheduled_at:
        return entry
    return replace(entry, scheduled_at=floor, reason=f"{entry.reason}; waits for notice until {utc_text(floor)}")
