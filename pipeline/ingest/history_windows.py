"""get_history in date windows: every play once, while Tautulli prepares only about `rows` of them at a time.

Tautulli answers any get_history by loading every row its filters match into Python, then slicing one page
out of them (plexpy/datatables.py). Paging a million plays therefore loads the whole history once per page:
quadratic time, and gigabytes of Tautulli's memory. A date filter (`after` / `before`) is applied in SQLite
before that load, so a window costs one table scan (cheap, in C) plus only its own rows. Windows walk back
from today, each sized from the play rate of the last one, so each holds about `rows` plays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable, Iterator

from pipeline.errors import BadResponse

EARLIEST = date(2007, 1, 1)  # before Plex existed: no play is older, whatever remains uncounted
GROWTH, EMPTY_GROWTH = 4, 8  # a window spans at most this many times the last one's days


@dataclass(frozen=True)
class Window:
    """Plays started on `after` .. `before` (dates in Tautulli's local zone, inclusive); None: unbounded."""

    after: date | None
    before: date | None

    def params(self) -> dict[str, str]:
        out = {}
        if self.after is not None:
            out["after"] = self.after.isoformat()
        if self.before is not None:
            out["before"] = self.before.isoformat()
        return out

    def describe(self) -> str:
        if self.after is None:
            return f"plays up to {self.before}" if self.before else "every play"
        return f"plays since {self.after}" if self.before is None else f"plays of {self.after} – {self.before}"

    @property
    def days(self) -> int:
        return (self.before - self.after).days + 1 if self.after and self.before else 0


class WindowPlan:
    """The next window from what the last one held; `floor` is the oldest date wanted (None: all history).

    Windows meet exactly (the next ends the day before the last began), so none overlaps or leaves a gap
    whatever zone Tautulli reads the dates in. The newest is open-ended, so plays dated later are not lost.
    """

    def __init__(self, rows: int, today: date, floor: date | None = None, first_days: int = 7) -> None:
        self.rows, self.today, self.floor = rows, today, floor
        self.first_days = first_days
        self.fetched = 0
        self.total: int | None = None   # recordsTotal: every history row Tautulli has, unfiltered
        self.last: Window | None = None

    def first(self) -> Window:
        after = self.today - timedelta(days=self.first_days - 1)
        if self.floor is not None and self.floor >= after:
            after = self.floor
        self.last = Window(after, None)
        return self.last

    def next(self, count: int, total: int) -> Window | None:
        """The window after the last one, which returned `count` rows of a `total`-row history; None: done."""
        last = self.last
        self.fetched += count
        self.total = total
        if last is None or last.after is None or (self.floor is not None and last.after <= self.floor):
            return None
        end = last.after - timedelta(days=1)
        if self.floor is None and (total - self.fetched <= self.rows or end < EARLIEST):
            # What is left fits in one window (or predates Plex): one open-ended sweep takes all of it.
            self.last = Window(None, end)
            return self.last
        days = (last.days or (self.today - last.after).days + 1)
        if count == 0:
            span = days * EMPTY_GROWTH
        else:
            span = min(max(1, int(self.rows * days / count)), days * GROWTH)
        after = end - timedelta(days=span - 1)
        if self.floor is not None and after <= self.floor:
            after = self.floor
        self.last = Window(after, end)
        return self.last

    def remaining(self) -> int | None:
        """Rows still to come, as far as Tautulli's count tells (it also counts rows get_history omits)."""
        return None if self.total is None else max(self.total - self.fetched, 0)


def history_windows(call: Callable[..., object], plan: WindowPlan, base: dict,
                    before_request: Callable[[Window, int], None] | None = None) -> Iterator[tuple[list, int]]:
    """Yield (rows, recordsTotal) per window until the plan is done; `before_request(window, n)` announces it."""
    window, n = plan.first(), 0
    while window is not None:
        n += 1
        if before_request is not None:
            before_request(window, n)
        rows, total = page(call("get_history", **base, **window.params()), n)
        count = len(rows)
        yield rows, total
        del rows
        window = plan.next(count, total)


def page(data: object, n: int) -> tuple[list, int]:
    """One answer's rows and recordsTotal, or BadResponse naming request `n`."""
    if not isinstance(data, dict):
        raise BadResponse(f"Tautulli get_history page {n}: data is not an object")
    rows, total = data.get("data"), data.get("recordsTotal")
    if not isinstance(rows, list):
        raise BadResponse(f"Tautulli get_history page {n}: no row list in data")
    if not isinstance(total, int) or isinstance(total, bool):
        raise BadResponse(f"Tautulli get_history page {n}: recordsTotal is missing or not a number")
    return rows, total
