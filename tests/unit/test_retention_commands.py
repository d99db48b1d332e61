"""assign / unassign / keep change the store and the audit trail; queue and status read as an admin expects."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipeline.store.audit import trail
from pipeline.clock import FixedClock
from pipeline.errors import ConfigError
from pipeline.media.commands import assign, keep, queue_lines, status_lines, unassign
from tests.fixtures.retention_shelf import ALICE, BOB, CAROL, DAY, GB, HOUR, T0, Shelf, at, settings_for


@pytest.fixture
def shelf() -> Shelf:
    s = Shelf()
    s.movie(1, "Heat", 1995, size=5 * GB)
    s.movie(2, "Dune", 1984)
    s.movie(3, "Dune", 2021)
    s.show(100, "Severance", 2022)
    for n in (1, 2, 3):
        s.episode(100 + n, 100, 1, n, size=2 * GB)
    return s


def assignments(shelf: Shelf) -> list[tuple]:
    return shelf.rows("SELECT target_rating_key, user_id, source FROM media_assignments ORDER BY 1, 2, 3")


def test_assign_records_audits_and_says_who_now_has_it(shelf, tmp_path):
    settings = settings_for(tmp_path)
    lines = assign(shelf.store, settings, FixedClock(T0), "heat", ["alice", "Bobby Tables"])
    assert assignments(shelf) == [(1, ALICE, "cli"), (1, BOB, "cli")]
    assert lines[0] == "Assigned Heat (1995, movie, rating key 1) to Alice Liddell, Bobby Tables."
    assert "Heat (1995) is assigned to: Alice Liddell (invoke assign); Bobby Tables (invoke assign)." in lines
    assert lines[-1] == "Not queued for deletion now (`invoke queue` lists what is)."
    (row,) = trail(shelf.store, "media", 1)
    assert (row["action"], row["phase"], row["subject_name"]) == ("assign", "done", "Heat (1995)")
    assert row["inputs"] == {"users": [ALICE, BOB], "source": "cli", "type": "movie"}
    run = shelf.rows("SELECT applied, scope, status FROM enforce_runs WHERE run_id = ?", row["run_id"])
    assert run == [(True, "media", "ok")]
    again = assign(shelf.store, settings, FixedClock(T0 + HOUR), "#1", ["alice"])
    assert again[:2] == ["Nothing changed for Heat (1995, movie, rating key 1).",
                         "Already assigned with invoke assign: Alice Liddell."]
    assert len(trail(shelf.store, "media", 1)) == 1  # nothing changed, nothing audited


def test_assigning_a_user_without_access_says_what_that_means(shelf, tmp_path):
    shelf.con.execute("UPDATE plex_users SET removed_at = ? WHERE user_id = ?", [at(-1), CAROL])
    lines = assign(shelf.store, settings_for(tmp_path), FixedClock(T0), "Heat", ["carol"])
    assert "Note: Carol has no access to this server now; Heat (1995) stays until they watch it or are unassigned." \
        in lines


def test_assign_writes_nothing_when_any_name_fails(shelf, tmp_path):
    settings = settings_for(tmp_path)
    with pytest.raises(ConfigError, match=r"'dune' matches 2 titles: Dune \(1984, movie, rating key 2\); "
                                          r"Dune \(2021, movie, rating key 3\)"):
        assign(shelf.store, settings, FixedClock(T0), "dune", ["alice"])
    with pytest.raises(ConfigError, match=r"unknown user 'bbo' \(did you mean bob \(Bobby Tables, id 12\)\?\)"):
        assign(shelf.store, settings, FixedClock(T0), "Dune (2021)", ["alice", "bbo"])
    assert assignments(shelf) == []
    assert shelf.rows("SELECT count(*) FROM audit") == [(0,)]


def test_a_show_assignment_reports_its_queued_episodes(shelf, tmp_path):
    settings = settings_for(tmp_path)
    shelf.play(ALICE, 101, at(-3))
    shelf.play(ALICE, 102, at(-2))
    lines = assign(shelf.store, settings, FixedClock(T0), "Severance", ["alice"])
    assert "covers its current and future episodes" in lines[-2]
    assert lines[-1] == "2 of its episodes are queued for deletion, the first on 2026-11-17 07:00 EST (`invoke queue`)."


def test_unassign_drops_cli_rows_and_says_where_file_and_label_ones_live(shelf, tmp_path):
    settings = settings_for(tmp_path, '[[assign]]\ntitle = "Heat"\nusers = ["bob"]\n')
    shelf.con.execute("UPDATE plex_items SET labels = ['marquee:carol'] WHERE rating_key = 1")
    assign(shelf.store, settings, FixedClock(T0), "Heat", ["alice", "bob"])
    lines = unassign(shelf.store, settings, FixedClock(T0), "Heat", ["alice", "bob", "carol"])
    assert lines[0] == "Unassigned Alice Liddell, Bobby Tables from Heat (1995, movie, rating key 1)."
    assert f"Bobby Tables is still assigned in {tmp_path / 'retention.toml'}: remove them there." in lines
    assert "Carol is assigned by the Plex label 'marquee:carol': remove it in Plex." in lines
    assert assignments(shelf) == [(1, BOB, "file"), (1, CAROL, "label")]
    assert [r["action"] for r in trail(shelf.store, "media", 1)] == ["assign", "unassign"]
    nobody = unassign(shelf.store, settings, FixedClock(T0), "Dune (1984)", ["alice"])
    assert nobody[:2] == ["Nothing changed for Dune (1984, movie, rating key 2).",
                          "Alice Liddell was not assigned to Dune (1984)."]


def test_unassign_without_users_drops_every_cli_assignment_of_the_item(shelf, tmp_path):
    settings = settings_for(tmp_path)
    assign(shelf.store, settings, FixedClock(T0), "Severance", ["alice", "bob", "carol"])
    unassign(shelf.store, settings, FixedClock(T0), "severance", [])
    assert assignments(shelf) == []


def test_keep_records_audits_and_empties_the_queue_of_the_item_at_once(shelf, tmp_path):
    settings = settings_for(tmp_path)
    for n in (1, 2):
        shelf.play(ALICE, 100 + n, at(-3))
    assign(shelf.store, settings, FixedClock(T0), "Severance", ["alice"])
    assert set(shelf.queued()) == {101, 102}
    lines = keep(shelf.store, settings, FixedClock(T0 + HOUR), "Severance", note="Alice rewatches it yearly")
    assert lines == ["Kept Severance (2022, show, rating key 100) for good: Marquee will never delete it or any of "
                     "its episodes.", "Removed 2 entries from the deletion queue."]
    assert shelf.queued() == {}
    assert shelf.rows("SELECT rating_key, title, kept_at, note FROM media_keeps") == [
        (100, "Severance (2022)", T0 + HOUR, "Alice rewatches it yearly")]
    audit = trail(shelf.store, "media", 100)[-1]
    assert (audit["action"], audit["phase"], audit["reason"]) == (
        "keep", "done", "kept for good with invoke keep: Alice rewatches it yearly")
    assert audit["inputs"]["dequeued"] == [101, 102]
    assert keep(shelf.store, settings, FixedClock(T0 + DAY), "100") == [
        "Severance (2022, show, rating key 100) was already kept (since 2026-11-16)."]
    assert len(trail(shelf.store, "media", 100)) == 2


def test_keep_refuses_an_item_plex_no_longer_lists(shelf, tmp_path):
    shelf.movie(9, "Gone", 2000, removed=at(-1))
    with pytest.raises(ConfigError, match=r"Plex no longer lists Gone \(2000, movie, rating key 9\) \(gone since "
                                          r"2026-11-15\); nothing to keep"):
        keep(shelf.store, settings_for(tmp_path), FixedClock(T0), "Gone")


def test_queue_lines_list_every_pending_deletion_in_the_server_time_zone(shelf, tmp_path):
    settings = settings_for(tmp_path, **{"retention.max_deletions_per_run": 1})
    shelf.assign(1, ALICE)
    shelf.assign(1, BOB)
    shelf.assign(100, CAROL)
    shelf.play(ALICE, 1, at(-6))
    shelf.play(BOB, 1, at(-5))
    shelf.play(CAROL, 101, at(-4))
    queue_lines(shelf.store, settings, FixedClock(T0 - 2 * DAY))  # queued two days ago: the notice is over
    shelf.play(CAROL, 102, at(-0.5))
    lines = queue_lines(shelf.store, settings, FixedClock(T0))
    assert lines[0] == ("Deletion queue: 3 items, 9.0 GB; 2 due now, 1 waiting (times in America/New_York).")
    assert lines[1].startswith("  due              2026-11-15 07:00 EST     5.0 GB  Heat (1995)  (for Alice Liddell, "
                               "Bobby Tables: every assigned user watched it (Alice Liddell at 2026-11-10 12:00 UTC, "
                               "Bobby Tables at 2026-11-11 12:00 UTC); notice period until 2026-11-15 12:00 UTC)")
    assert lines[2].startswith("  due              2026-11-15 07:00 EST     2.0 GB  Severance - S01E01 - Episode 1"
                               "  (for Carol: every assigned user watched it (Carol at 2026-11-12 12:00 UTC)")
    assert lines[3] == ("  waiting 1 day    2026-11-17 07:00 EST     2.0 GB  Severance - S01E02 - Episode 2  (for "
                        "Carol: every assigned user watched it (Carol at 2026-11-16 00:00 UTC); notice period until "
                        "2026-11-17 12:00 UTC)")
    assert lines[4] == ("The next `invoke enforce --apply` deletes at most 1 of the 2 due items "
                        "(retention.max_deletions_per_run); the rest follow on later runs.")


def test_an_empty_queue_says_how_items_get_queued(shelf, tmp_path):
    lines = queue_lines(shelf.store, settings_for(tmp_path), FixedClock(T0))
    assert lines[0] == "Nothing is queued for deletion."
    assert "'marquee:alice'" in lines[1]


def test_status_shows_space_freed_per_local_month_and_what_needs_a_look(shelf, tmp_path):
    settings = settings_for(tmp_path)
    shelf.deleted(50, "Old One", 3 * GB, datetime(2026, 10, 2, 12, tzinfo=timezone.utc))
    shelf.deleted(51, "Late October", 2 * GB, datetime(2026, 11, 1, 3, 30, tzinfo=timezone.utc))  # Oct 31 23:30 EDT
    shelf.deleted(52, "November", 1 * GB, datetime(2026, 11, 1, 4, 30, tzinfo=timezone.utc))  # Nov 1 00:30 EDT
    shelf.deleted(53, "Severance - S01E09 - Episode 9", GB, at(-1), state="partial",
                  attempts=2, error="Plex deleted, Sonarr unreachable")
    shelf.deleted(54, "Half Done", GB, None, state="failed", plex_deleted=False, error="Plex delete: 500")
    shelf.movie(50, "Old One", 2001)  # Plex lists it again after we deleted it
    shelf.assign(1, ALICE)
    shelf.play(ALICE, 1, at(-2))
    shelf.con.execute("UPDATE plex_users SET removed_at = ? WHERE user_id = ?", [at(-1), BOB])
    shelf.assign(2, BOB)
    shelf.assign(3, BOB)
    queue_lines(shelf.store, settings, FixedClock(T0))
    lines = status_lines(shelf.store, settings, FixedClock(T0))
    assert lines[:5] == [
        "Space freed by Marquee, per month (America/New_York):",
        "  2026-10       2 items      5.0 GB",
        "  2026-11       2 items      2.0 GB",
        "  total         4 items      7.0 GB",
        "Deletion queue: 1 pending (5.0 GB), 0 due now; next on 2026-11-17 07:00 EST (as computed 2026-11-16 "
        "07:00 EST; `invoke queue` recomputes and lists it).",
    ]
    assert lines[5:7] == ["Assignments: 3 (cli 3); kept for good: 0.",
                          "Assigned users who no longer have access (what is theirs stays until you unassign them): "
                          "Bobby Tables (2 titles)."]
    lines = lines[:6] + lines[7:]
    assert lines[6:9] == [
        "Unfinished deletions (the next `invoke enforce --apply` retries them):",
        "  Severance - S01E09 - Episode 9: partial after 2 attempts (Plex deleted): Plex deleted, Sonarr unreachable",
        "  Half Done: failed after 1 attempt (still in Plex): Plex delete: 500",
    ]
    assert lines[9].startswith("Plex lists these again after Marquee deleted them")
    assert lines[10] == "  Old One: deleted 2026-10-02 08:00 EDT, listed again 2026-11-16 07:00 EST"


def test_status_of_a_fresh_store(shelf, tmp_path):
    assert status_lines(shelf.store, settings_for(tmp_path), FixedClock(T0)) == [
        "Space freed by Marquee, per month (America/New_York):", "  nothing deleted yet",
        "Deletion queue: empty (`invoke queue` recomputes it).", "Assignments: 0; kept for good: 0."]
