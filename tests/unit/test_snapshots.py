"""Frozen issues: saved once, reloaded identical after the data is gone, never overwritten silently."""

import json
from datetime import datetime, timezone

import pytest
from tests.fixtures.stats_world import PERIOD, TZ, build

from pipeline.errors import RefusedToAct
from pipeline.settings import load_settings
from pipeline.stats.issue import compute_issue
from pipeline.stats.periods import parse_period
from pipeline.stats.snapshots import issue_meta, list_snapshots, load_snapshot, save_snapshot

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=timezone.utc)
SETTINGS = load_settings(environ={}, dotenv_path=None, overrides={"server.timezone": TZ, "server.name": "Kino"})


def frozen():
    store = build()
    snap = compute_issue(store, PERIOD, SETTINGS, NOW)
    save_snapshot(store, PERIOD.issue_key, PERIOD, snap)
    return store, snap


def test_a_frozen_issue_reloads_identical_after_its_sources_are_gone():
    store, snap = frozen()
    text = json.dumps(snap, sort_keys=True)
    for table in ("tautulli_history", "tautulli_users", "plex_users", "plex_items", "plex_sections"):
        store.con.execute(f"DELETE FROM {table}")
    again = load_snapshot(store, PERIOD.issue_key)
    assert again == snap and json.dumps(again, sort_keys=True) == text
    assert again["users"]["3"]["friendly_name"] == "Carol" and again["totals"]["plays"] == 15
    # the live numbers did change: the reload really is the frozen copy
    assert compute_issue(store, PERIOD, SETTINGS, NOW)["empty"] is True


def test_the_row_records_the_period_and_when_it_was_built():
    store, snap = frozen()
    meta = issue_meta(store, "weekly-2026-W46")
    assert meta == {"issue_key": "weekly-2026-W46", "kind": "weekly", "period_key": "2026-W46",
                    "starts_at": PERIOD.start, "ends_at": PERIOD.end, "built_at": NOW, "schema_version": 1}
    assert issue_meta(store, "weekly-2026-W47") is None and load_snapshot(store, "weekly-2026-W47") is None


def test_saving_again_is_refused_and_keeps_the_frozen_issue():
    store, snap = frozen()
    changed = {**snap, "generated_at": "2026-11-20T00:00:00Z", "totals": {**snap["totals"], "plays": 999}}
    with pytest.raises(RefusedToAct, match="weekly-2026-W46 is already frozen .*replace=True"):
        save_snapshot(store, PERIOD.issue_key, PERIOD, changed)
    assert load_snapshot(store, PERIOD.issue_key) == snap
    assert issue_meta(store, PERIOD.issue_key)["built_at"] == NOW


def test_replace_true_overwrites_on_purpose():
    store, snap = frozen()
    changed = {**snap, "generated_at": "2026-11-20T00:00:00Z", "totals": {**snap["totals"], "plays": 999}}
    save_snapshot(store, PERIOD.issue_key, PERIOD, changed, replace=True)
    assert load_snapshot(store, PERIOD.issue_key)["totals"]["plays"] == 999
    assert issue_meta(store, PERIOD.issue_key)["built_at"] == datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert len(list_snapshots(store)) == 1


def test_only_plain_json_under_the_periods_own_key_is_frozen():
    store = build()
    snap = compute_issue(store, PERIOD, SETTINGS, NOW)
    with pytest.raises(ValueError, match="does not name period"):
        save_snapshot(store, "weekly-2026-W45", PERIOD, snap)
    with pytest.raises(ValueError, match="round trip"):
        save_snapshot(store, PERIOD.issue_key, PERIOD, {**snap, "users": {3: {}}})
    with pytest.raises(ValueError, match="round trip"):
        save_snapshot(store, PERIOD.issue_key, PERIOD, {**snap, "extra": (1, 2)})
    with pytest.raises(ValueError, match="not plain JSON"):
        save_snapshot(store, PERIOD.issue_key, PERIOD, {**snap, "extra": NOW})
    with pytest.raises(ValueError, match="not plain JSON"):
        save_snapshot(store, PERIOD.issue_key, PERIOD, {**snap, "extra": float("nan")})
    assert list_snapshots(store) == []


def test_list_is_newest_first_and_filters_by_kind():
    store = build()
    for key in ("2026-W45", "2026-W46", "2026-10"):
        period = parse_period(key, TZ)
        save_snapshot(store, period.issue_key, period, compute_issue(store, period, SETTINGS, NOW))
    assert [r["issue_key"] for r in list_snapshots(store)] == ["weekly-2026-W46", "weekly-2026-W45",
                                                               "monthly-2026-10"]
    assert [r["issue_key"] for r in list_snapshots(store, "monthly")] == ["monthly-2026-10"]
    assert "snapshot" not in list_snapshots(store)[0]
