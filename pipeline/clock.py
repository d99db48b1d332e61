"""Time is injected: policy and stats take a Clock instead of calling now(). The ISO forms of a moment live here too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
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


# ISO 8601 text of a moment. The forms differ on purpose, each because something already depends on it; one
# function per form, so a caller picks the form by name and nothing formats a time on its own.

def utc_iso(t: datetime) -> str:
    """'2026-11-16T12:00:00+00:00': the form inside e-mail ledger keys (stored keys must never change)."""
    return t.astimezone(timezone.utc).isoformat()


def utc_iso_z(t: datetime) -> str:
    """'2026-11-16T12:00:00Z': the form of an issue snapshot's times (frozen issues already hold it)."""
    return utc_iso(t).replace("+00:00", "Z")


def utc_iso_seconds(t: datetime) -> str:
    """'2026-11-16T12:00:00+00:00' to the second: for people and health checks reading it, not for keys."""
    return t.astimezone(timezone.utc).isoformat(timespec="seconds")


def iso_day(value: date | datetime | str | None) -> str:
    """'2026-11-16': the day of a date, of a datetime as given (no zone change), or of an ISO string; '' for none."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    return str(value or "")[:10]
