"""Issue periods: ISO weeks, months and years cut at local midnight in the server's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterator, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.errors import ConfigError

Kind = Literal["weekly", "monthly", "yearly"]
KINDS: tuple[str, ...] = ("weekly", "monthly", "yearly")

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_KEY_HELP = 'use "2026-W46" (ISO week), "2026-10" (month) or "2026" (year)'


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(f"unknown time zone {tz!r} (use an IANA name like Europe/Paris)") from None


def _local_midnight(day: date, tz: str) -> datetime:
    """The first instant of a local day, in UTC.

    fold=0 gives the right answer even where midnight falls in a DST gap (e.g. America/Santiago):
    the pre-transition offset maps the missing 00:00 onto the day's first real instant.
    """
    local = datetime(day.year, day.month, day.day, tzinfo=_zone(tz))
    return local.astimezone(timezone.utc)


def _first_day(kind: str, key: str) -> date:
    """The local date a period starts on; raises ConfigError for a malformed key."""
    if key[:4] == "0000":
        raise ConfigError(f"period {key!r}: the year must be 0001 or later")
    if kind == "weekly" and (m := _WEEK.match(key)):
        year, week = int(m.group(1)), int(m.group(2))
        try:
            return date.fromisocalendar(year, week, 1)
        except ValueError:
            weeks = date(year, 12, 28).isocalendar().week  # Dec 28 is always in the year's last ISO week
            raise ConfigError(f"period {key!r}: {year} has ISO weeks 01..{weeks}") from None
    if kind == "monthly" and (m := _MONTH.match(key)):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise ConfigError(f"period {key!r}: month must be 01..12")
        return date(int(m.group(1)), month, 1)
    if kind == "yearly" and _YEAR.match(key):
        return date(int(key), 1, 1)
    raise ConfigError(f"period {key!r} is not a {kind} key; {_KEY_HELP}")


def _key_for(kind: str, day: date) -> str:
    """The key of the period of `kind` that contains a local date."""
    if kind == "weekly":
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if kind == "monthly":
        return f"{day.year}-{day.month:02d}"
    if kind == "yearly":
        return f"{day.year}"
    raise ConfigError(f"unknown period kind {kind!r}; use one of {', '.join(KINDS)}")


def _next_first_day(kind: str, first: date) -> date:
    if kind == "weekly":
        return first + timedelta(days=7)
    if kind == "monthly":
        return date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return date(first.year + 1, 1, 1)


def _prev_first_day(kind: str, first: date) -> date:
    if kind == "weekly":
        return first - timedelta(days=7)
    if kind == "monthly":
        return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return date(first.year - 1, 1, 1)


@dataclass(frozen=True)
class Period:
    """One issue's time span: [start, end) in aware UTC, cut at local midnight in `tz`."""

    kind: str
    key: str
    start: datetime
    end: datetime
    tz: str

    @classmethod
    def _build(cls, kind: str, first: date, tz: str) -> "Period":
        after = _next_first_day(kind, first)
        return cls(kind, _key_for(kind, first), _local_midnight(first, tz), _local_midnight(after, tz), tz)

    @property
    def issue_key(self) -> str:
        """The issue's primary key, e.g. "weekly-2026-W46"."""
        return f"{self.kind}-{self.key}"

    @property
    def first_day(self) -> date:
        """The first local date in the period."""
        return self.start.astimezone(_zone(self.tz)).date()

    @property
    def last_day(self) -> date:
        """The last local date in the period (inclusive)."""
        return self.end.astimezone(_zone(self.tz)).date() - timedelta(days=1)

    @property
    def hours(self) -> float:
        """Real elapsed hours: 167 or 169 for a week with a DST change."""
        return (self.end - self.start).total_seconds() / 3600

    @property
    def label(self) -> str:
        """A human title: "Week 46, 2026 (Nov 9–15)", "October 2026", "2026 in review"."""
        first, last = self.first_day, self.last_day
        if self.kind == "weekly":
            year, week = self.key.split("-W")
            span = (f"{first:%b} {first.day}–{last.day}" if first.month == last.month
                    else f"{first:%b} {first.day}–{last:%b} {last.day}")
            return f"Week {int(week)}, {year} ({span})"
        if self.kind == "monthly":
            return f"{first:%B %Y}"
        return f"{first.year} in review"

    def previous(self) -> "Period":
        """The period of the same kind just before this one."""
        return Period._build(self.kind, _prev_first_day(self.kind, self.first_day), self.tz)

    def next(self) -> "Period":
        """The period of the same kind just after this one."""
        return Period._build(self.kind, _next_first_day(self.kind, self.first_day), self.tz)

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def is_complete(self, now: datetime) -> bool:
        """True once the period's last instant has passed."""
        return _aware(now) >= self.end


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("periods need an aware datetime (use pipeline.clock)")
    return at


def _kind_of(key: str) -> str:
    for kind, pattern in (("weekly", _WEEK), ("monthly", _MONTH), ("yearly", _YEAR)):
        if pattern.match(key):
            return kind
    raise ConfigError(f"period {key!r} is not a period key; {_KEY_HELP}")


def parse_period(key: str, tz: str, kind: str | None = None) -> Period:
    """The period a key names; `kind` (optional) must agree with the key's shape."""
    key = str(key).strip()
    found = _kind_of(key)
    if kind is not None and kind != found:
        _key_for(kind, date(2000, 1, 1))  # rejects an unknown kind with its own message
        raise ConfigError(f"period {key!r} is {found}, not {kind}; {_KEY_HELP}")
    return Period._build(found, _first_day(found, key), tz)


def period_containing(kind: str, at: datetime, tz: str) -> Period:
    """The period of `kind` that contains the instant `at`."""
    local_day = _aware(at).astimezone(_zone(tz)).date()
    return parse_period(_key_for(kind, local_day), tz, kind)


def latest_complete(kind: str, now: datetime, tz: str) -> Period:
    """The most recent period of `kind` that has fully ended at `now` (end <= now)."""
    current = period_containing(kind, now, tz)
    # `now` exactly at a boundary belongs to the new period, so the one before it is complete.
    return current.previous()


def periods_between(kind: str, first: datetime | str, last: datetime | str, tz: str) -> list[Period]:
    """Every period of `kind` from the one containing `first` to the one containing `last`, in order.

    `first` and `last` are aware instants or period keys of `kind`.
    """
    lo = parse_period(first, tz, kind) if isinstance(first, str) else period_containing(kind, first, tz)
    hi = parse_period(last, tz, kind) if isinstance(last, str) else period_containing(kind, last, tz)
    return list(_walk(lo, hi))


def _walk(lo: Period, hi: Period) -> Iterator[Period]:
    current = lo
    while current.start <= hi.start:
        yield current
        current = current.next()
