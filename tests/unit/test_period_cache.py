"""The period cache: an issue's stats read sessions and titles grouped once, and get the very same rows."""

import re
from pathlib import Path

import pytest
from tests.fixtures.stats_world import PERIOD, TZ, build

from pipeline.stats.period_cache import shared_period
from pipeline.stats.periods import parse_period
from pipeline.stats.queries import run, stats_queries

SQL = Path(__file__).resolve().parents[2] / "pipeline" / "sql"
YEAR = parse_period("2026", TZ)
QUIET = parse_period("2020-W10", TZ)


def params(period) -> dict:
    return {"start": period.start, "end": period.end, "prev_start": period.previous().start, "tz": period.tz,
            "limit": 10, "min_viewers": 2}


def test_stats_files_ask_only_for_the_bounds_the_cache_holds():
    """The cache holds sessions for [start, end) and [prev_start, start), titles for [start, end): nothing else."""
    wanted = {"play_sessions": {"$start, $end", "$prev_start, $start"}, "user_titles": {"$start, $end"},
              "top_titles": {"$start, $end"}}
    # Every file but the macros' own definitions: a query anywhere may come to run inside an issue's cache.
    files = sorted(f for f in SQL.rglob("*.sql") if f.parent.name not in ("schema", "period_cache"))
    calls = [(f.name, name, args) for f in files
             for name, args in re.findall(r"\b(play_sessions|user_titles|top_titles)\(([^)]*)\)", f.read_text())]
    assert calls, "no stats file reads the staging macros any more: this test reads the wrong folder"
    odd = [(file, name, args) for file, name, args in calls
           if not any(args == b or args.startswith(b + ",") for b in wanted[name])]
    assert not odd, f"these read periods the cache does not hold (pipeline/stats/period_cache.py): {odd}"


@pytest.mark.parametrize("period", [PERIOD, YEAR, QUIET], ids=["week", "year", "quiet"])
def test_every_stats_file_gives_the_same_rows_with_the_cache(period):
    store = build()
    alone = {name: run(store, f"stats/{name}", params(period)) for name in stats_queries()}
    with shared_period(store, period):
        cached = {name: run(store, f"stats/{name}", params(period)) for name in stats_queries()}
    assert cached == alone
    assert any(alone.values())


def test_the_staging_macros_are_back_after_the_issue_even_when_it_fails():
    store = build()
    other = parse_period("2026-W44", TZ)  # Dave's Andor E4: neither the issue's week nor the one before it
    before = run(store, "stats/server_totals", params(other))
    assert before[0]["plays"] > 0
    with shared_period(store, PERIOD):
        assert run(store, "stats/server_totals", params(other))[0]["plays"] == 0  # only the issue's bounds are held
    assert run(store, "stats/server_totals", params(other)) == before
    with pytest.raises(RuntimeError):
        with shared_period(store, PERIOD):
            raise RuntimeError("a query failed")
    assert run(store, "stats/server_totals", params(other)) == before
    temp = store.con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0]
    assert temp == 0
