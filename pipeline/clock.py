"""Time is injected: policy and stats take a Clock instead of calling now()."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, always aware UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class FixedClock:
    """A clock for tests and replays; `advance` moves it forward."""

    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**delta)


def utc_from_epoch(seconds: int | float | None) -> datetime | None:
    """Tautulli and plex.tv send epoch seconds; store aware UTC."""
    if seconds in (None, "", 0):
        return None
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc)
