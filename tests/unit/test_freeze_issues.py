"""Which issues get frozen, and that frozen issues stay as published."""

from datetime import datetime, timezone

import pytest

from pipeline.stats.freeze import freeze_issues, periods_to_build
from pipeline.settings import load_settings
from pipeline.stats.snapshots import list_snapshots, load_snapshot
from tests.fixtures.stats_world import TZ, build

# Monday Nov 16 2026, noon in New York: W46 (Nov 9-15) has just ended.
MONDAY = datetime(2026, 11, 16, 17, 0, tzinfo=timezone.utc)
NEXT_MONDAY = datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc)


def settings(**newsletter):
    env = {"MARQUEE__SERVER__TIMEZONE": TZ}
    env.update({f"MARQUEE__NEWSLETTER__{k.upper()}": str(v).lower() for k, v in newsletter.items()})
    return load_settings(environ=env, dotenv_path=None)


@pytest.mark.parametrize("backfill, period_key, expected", [
    (8, None, ["2026-W44", "2026-W45", "2026-W46"]),   # stops at the week of the first play
    (1, None, ["2026-W45", "2026-W46"]),
    (0, None, ["2026-W46"]),
    (8, "2026-W40", ["2026-W40"]),                     # an explicit period, even before any play
    (8, "2026-10", ["2026-10"]),
])
def test_first_run_backfills_to_the_first_play(backfill, period_key, expected):
    periods = periods_to_build(build(), settings(backfill=backfill), MONDAY, period_key)
    assert [p.key for p in periods] == expected


def test_later_runs_build_only_periods_after_the_newest_issue():
    store, s = build(), settings(backfill=1)
    assert freeze_issues(store, s, MONDAY).frozen == ["weekly-2026-W45", "weekly-2026-W46"]
    assert periods_to_build(store, s, MONDAY, None) == []
    assert [p.key for p in periods_to_build(store, s, NEXT_MONDAY, None)] == ["2026-W47"]
    skipped_a_week = datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)
    assert [p.key for p in periods_to_build(store, s, skipped_a_week, None)] == ["2026-W47", "2026-W48"]


def test_a_frozen_issue_is_kept_unless_rebuilt():
    store, s = build(), settings(backfill=0)
    freeze_issues(store, s, MONDAY)
    before = load_snapshot(store, "weekly-2026-W46")
    store.con.execute("DELETE FROM tautulli_history")  # history gone upstream
    again = freeze_issues(store, s, MONDAY, period_key="2026-W46")
    assert again.kept == ["weekly-2026-W46"] and again.frozen == []
    assert load_snapshot(store, "weekly-2026-W46") == before
    rebuilt = freeze_issues(store, s, MONDAY, period_key="2026-W46", rebuild=True)
    assert rebuilt.frozen == ["weekly-2026-W46"]
    assert load_snapshot(store, "weekly-2026-W46")["totals"]["plays"] == 0


def test_unfinished_period_and_stale_data_are_not_frozen():
    store, s = build(), settings(backfill=0)
    mid_week = datetime(2026, 11, 12, 17, 0, tzinfo=timezone.utc)
    result = freeze_issues(store, s, mid_week, period_key="2026-W46")
    assert result.frozen == [] and "has not ended yet" in result.skipped[0]
    stale = datetime(2026, 11, 15, 12, 0, tzinfo=timezone.utc)
    result = freeze_issues(store, s, MONDAY, data_as_of=stale)
    assert result.frozen == [] and "run `invoke ingest` first" in result.skipped[0]
    assert list_snapshots(store) == []


@pytest.mark.parametrize("skip_empty, frozen", [(False, ["weekly-2026-W50"]), (True, [])])
def test_empty_period_is_frozen_saying_so_or_skipped(skip_empty, frozen):
    store = build()
    later = datetime(2026, 12, 14, 17, 0, tzinfo=timezone.utc)
    result = freeze_issues(store, settings(skip_empty=skip_empty), later, period_key="2026-W50")
    assert result.frozen == frozen
    if frozen:
        assert load_snapshot(store, frozen[0])["empty"] is True
    else:
        assert "nothing was played or added" in result.skipped[0]


def test_an_admin_can_exclude_a_user_by_e_mail():
    from pipeline.run.build import resolve_exclusions
    from tests.fixtures.stats_world import BOB

    store = build()
    store.con.execute("UPDATE plex_users SET email = 'Bob@Example.org' WHERE user_id = ?", [BOB])
    s = load_settings(environ={}, dotenv_path=None, overrides={"site.exclude_users": ["bob@example.org", "dave"]})
    resolved = resolve_exclusions(store, s)
    assert resolved.site.exclude_users == ["bob@example.org", "dave", str(BOB)]
    assert s.site.exclude_users == ["bob@example.org", "dave"]  # the caller's settings are not changed
