"""compute_issue: the snapshot's shape, and numbers that agree with each other."""

import json
from datetime import datetime, timezone

import pytest
from tests.fixtures.stats_world import ALICE, BOB, CAROL, DAVE, ERIN, PERIOD, TZ, build

from pipeline.settings import load_settings
from pipeline.stats.issue import SCHEMA_VERSION, Limits, compute_issue
from pipeline.stats.periods import parse_period
from pipeline.store.db import memory_store

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=timezone.utc)
SETTINGS = load_settings(environ={}, dotenv_path=None, overrides={"server.timezone": TZ, "server.name": "Kino"})


@pytest.fixture(scope="module")
def snap():
    return compute_issue(build(), PERIOD, SETTINGS, NOW)


def test_the_snapshot_is_plain_json(snap):
    assert json.loads(json.dumps(snap, allow_nan=False)) == snap


def test_top_level_shape(snap):
    assert set(snap) == {"schema_version", "issue_key", "generated_at", "data_as_of", "server", "period", "limits",
                         "empty", "totals", "added", "top", "top_viewers", "community_watchlist", "heatmap",
                         "platforms", "users"}
    assert snap["schema_version"] == SCHEMA_VERSION and snap["issue_key"] == "weekly-2026-W46"
    assert snap["generated_at"] == "2026-11-16T09:00:00Z" and snap["empty"] is False
    assert snap["server"] == {"name": "Kino", "timezone": TZ}
    assert snap["period"]["label"] == "Week 46, 2026 (Nov 9–15)"
    assert snap["period"]["start"] == "2026-11-09T05:00:00Z" and snap["period"]["complete"] is True
    assert snap["period"]["previous"]["key"] == "2026-W45"


def test_totals_and_their_change(snap):
    t = snap["totals"]
    assert (t["plays"], t["seconds"], t["active_viewers"], t["titles"]) == (15, 40040, 4, 7)
    assert t["previous"] == {"plays": 3, "seconds": 16000, "hours": 4.4, "active_viewers": 3, "titles": 3}
    assert t["change"] == {"plays": 400.0, "seconds": 150.2, "active_viewers": 33.3, "titles": 133.3}


def test_the_parts_add_up_to_the_totals(snap):
    plays = snap["totals"]["plays"]
    assert sum(map(sum, snap["heatmap"]["plays"])) == plays
    assert sum(map(sum, snap["heatmap"]["seconds"])) == snap["totals"]["seconds"]
    assert sum(p["plays"] for p in snap["platforms"]) == plays
    local_plays = 1  # Local's Alien: a play, but no section
    assert sum(u["totals"]["plays"] for u in snap["users"].values()) + local_plays == plays
    assert len(snap["heatmap"]["plays"]) == 7 and {len(day) for day in snap["heatmap"]["plays"]} == {24}


def test_the_heatmap_is_monday_first_and_the_busiest_hour_is_by_hours(snap):
    heat = snap["heatmap"]
    assert heat["days"][0] == "Mon" and heat["plays"][5][23] == 1  # Saturday 23:00 local
    # Thursday and Friday 20:00 both had 6000 s; the earlier wins the tie. Tuesday 08:00 had more plays (two tracks)
    assert heat["busiest"] == {"dow": 4, "hour": 20, "plays": 1, "seconds": 6000}


def test_rankings_are_split_and_cut_to_the_limit():
    snap = compute_issue(build(), PERIOD, SETTINGS, NOW, Limits(top=2))
    movies = snap["top"]["movies"]
    assert [m["title"] for m in movies["by_plays"]] == ["Heat", "Alien"]
    assert [m["title"] for m in movies["by_hours"]] == ["Alien", "Heat"]
    assert [m["title"] for m in movies["by_viewers"]] == ["Heat", "Alien"]
    assert [s["title"] for s in snap["top"]["shows"]["by_hours"]] == ["Severance", "Andor"]
    assert [a["title"] for a in snap["top"]["music"]["by_plays"]] == ["Daft Punk", "Air"]
    assert snap["limits"]["top"] == 2


def test_users_are_keyed_by_string_id_with_names_and_sections(snap):
    users = snap["users"]
    assert set(users) == {str(u) for u in (ALICE, BOB, CAROL, DAVE, ERIN)}
    alice = users[str(ALICE)]
    assert (alice["user_id"], alice["username"], alice["friendly_name"], alice["is_owner"]) == (1, "alice", "Alice", True)
    assert alice["totals"]["rank"] == 1 and alice["totals"]["change"]["plays"] == 500.0
    assert alice["streak"] == {"days_active": 4, "longest": 4, "longest_start": "2026-11-09",
                               "longest_end": "2026-11-12", "current": 0}
    assert [t["title"] for t in alice["top_titles"]] == ["Severance", "Alien", "Heat", "Daft Punk"]
    assert [(t["title"], t["others"]) for t in alice["shared_titles"]] == [("Heat", 2), ("Severance", 1)]
    assert "user_id" not in alice["top_titles"][0]
    erin = users[str(ERIN)]  # watched only last week: a section with zeroes and her previous numbers
    assert erin["played"] is False and erin["totals"]["plays"] == 0 and erin["totals"]["previous"]["plays"] == 1
    assert erin["totals"]["rank"] is None and erin["top_titles"] == [] and erin["streak"]["longest"] == 0
    assert users[str(CAROL)]["has_access"] is False


def test_lists_name_people_by_id_only(snap):
    ids = {int(k) for k in snap["users"]}
    assert {v["user_id"] for v in snap["top_viewers"]} <= ids
    assert {u for row in snap["community_watchlist"] for u in row["user_ids"]} <= ids


def test_an_empty_store_gives_an_empty_issue():
    snap = compute_issue(memory_store(), PERIOD, SETTINGS, NOW)
    assert snap["empty"] is True and snap["users"] == {} and snap["totals"]["plays"] == 0
    assert snap["totals"]["change"] == {"plays": None, "seconds": None, "active_viewers": None, "titles": None}
    assert snap["heatmap"]["busiest"] is None and snap["top"]["movies"]["by_plays"] == []


def test_media_added_alone_makes_an_issue_not_empty():
    store = build()
    store.con.execute("DELETE FROM tautulli_history")
    snap = compute_issue(store, PERIOD, SETTINGS, NOW)
    assert snap["empty"] is False and snap["totals"]["plays"] == 0 and snap["added"]["totals"]["movies"] == 1


def test_an_unfinished_period_says_so_and_a_zone_mismatch_is_refused():
    running = parse_period("2026-W47", TZ)
    assert compute_issue(build(), running, SETTINGS, NOW)["period"]["complete"] is False
    with pytest.raises(ValueError, match="server.timezone is America/New_York"):
        compute_issue(build(), parse_period("2026-W46", "UTC"), SETTINGS, NOW)
    with pytest.raises(ValueError, match="aware"):
        compute_issue(build(), PERIOD, SETTINGS, datetime(2026, 11, 16))


def test_data_as_of_is_the_last_successful_ingest():
    from tests.fixtures.stats_world import insert, utc

    store = build()
    assert compute_issue(store, PERIOD, SETTINGS, NOW)["data_as_of"] is None
    insert(store, "ingest_runs", [
        dict(run_id=1, started_at=utc("2026-11-16 06:00"), finished_at=utc("2026-11-16 06:05"), status="ok"),
        dict(run_id=2, started_at=utc("2026-11-16 08:00"), finished_at=utc("2026-11-16 08:01"), status="failed"),
    ])
    assert compute_issue(store, PERIOD, SETTINGS, NOW)["data_as_of"] == "2026-11-16T06:05:00Z"
