"""An issue's sessions and reader titles, grouped once and shared by every stats query of that issue.

Each stats file groups the period's plays into sessions (play_sessions) and titles (user_titles) on its own,
so a year's issue grouped 900k plays some twenty times. While `shared_period` is open, temp tables hold those
rows for the issue's period (and its sessions for the period before), and temp macros of the same names read
them: DuckDB resolves a name in the temp schema first, so the stats files run unchanged, and alone they still
group the history themselves. Only the issue's own bounds are cached; tests/unit/test_period_cache.py checks
that every stats file asks for those, and that an issue's numbers are the same with the cache and without.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import duckdb

from pipeline.store import Store
from pipeline.stats.periods import Period
from pipeline.stats.queries import params_of

_MAKE = ("period_cache/sessions", "period_cache/use_sessions", "period_cache/titles", "period_cache/use_titles")
# macros first: once they are gone, play_sessions and user_titles are the staging macros again
_DROP = ("period_cache/drop_titles_macro", "period_cache/drop_sessions_macro", "period_cache/drop_titles",
         "period_cache/drop_sessions")


@contextmanager
def shared_period(store: Store, period: Period) -> Iterator[None]:
    """Group the period's sessions and titles once; play_sessions and user_titles read them until the block ends."""
    bounds = {"start": period.start, "end": period.end, "prev_start": period.previous().start}
    try:
        for name in _MAKE:
            store.execute(name, {k: bounds[k] for k in params_of(name)})
        yield
    except BaseException:
        _drop(store, quiet=True)  # a failed transaction refuses the drops; its rollback removes them instead
        raise
    _drop(store, quiet=False)


def _drop(store: Store, quiet: bool) -> None:
    for name in _DROP:
        try:
            store.execute(name)
        except duckdb.Error:
            if not quiet:
                raise
