"""refresh_queue end to end through the store: the issue's scenarios, the persisted queue, the synced sources."""

from __future__ import annotations

import logging

import pytest

from pipeline.clock import FixedClock
from pipeline.errors import ConfigError
from pipeline.media import refresh_queue
from pipeline.media.commands import assign, keep, unassign
from pipeline.media.queue import refresh as refresh_with_notes
from tests.fixtures.retention_shelf import ALICE, BOB, CAROL, DAY, GB, HOUR, T0, Shelf, at, settings_for


@pytest.fixture
def shelf() -> Shelf:
    return Shelf()


def refresh(shelf: Shelf, settings, now=T0) -> dict[int, object]:
    return {e.rating_key: e for e in refresh_queue(shelf.store, settings, now)}


def stored(shelf: Shelf) -> dict[int, tuple]:
    return {r[0]: r[1:] for r in shelf.rows("SELECT rating_key, first_queued_at, scheduled_at FROM media_queue")}


def test_the_queue_is_stored_and_first_queued_at_survives_recomputation(shelf, tmp_path):
    settings = settings_for(tmp_path)
    shelf.movie(1, "Heat", 1995, size=5 * GB)
    shelf.assign(1, ALICE)
    shelf.assign(1, BOB)
    shelf.play(ALICE, 1, at(-5))
    shelf.play(BOB, 1, at(-2))
    refresh(shelf, settings, T0)
    # Queued now: the notice period runs from now, although the last viewer finished two days ago.
    assert stored(shelf) == {1: (T0, T0 + DAY)}
    row = shelf.rows("SELECT source, rule, title, show_title, media_type, size_bytes, user_ids, reason "
                     "FROM media_queue")[0]
    assert row[:7] == ("assigned", None, "Heat", None, "movie", 5 * GB, [ALICE, BOB])
    assert "Alice Liddell at" in row[7] and "Bobby Tables at" in row[7]
    refresh(shelf, settings, T0 + 3 * HOUR)
    assert stored(shelf) == {1: (T0, T0 + DAY)}  # recomputed, not re-queued
    assert shelf.rows("SELECT updated_at FROM media_queue") == [(T0 + 3 * HOUR,)]


def test_unassigned_and_kept_items_leave_the_stored_queue(shelf, tmp_path):
    settings = settings_for(tmp_path)
    clock = FixedClock(T0)
    for rk in (1, 2):
        shelf.movie(rk, f"Movie {rk}")
        shelf.assign(rk, ALICE)
        shelf.play(ALICE, rk, at(-3))
    refresh(shelf, settings)
    assert set(stored(shelf)) == {1, 2}
    unassign(shelf.store, settings, clock, "Movie 1", ["alice"])
    keep(shelf.store, settings, clock, "Movie 2")
    assert stored(shelf) == {}
    assert refresh(shelf, settings) == {}


# Each scenario: steps of (day, what happens) and, after each step, the queued keys at that day.
def movie_two_viewers(s: Shelf, settings, clock):
    s.movie(1, "Heat")
    s.assign(1, ALICE)
    s.assign(1, BOB)
    s.play(ALICE, 1, at(-5))
    yield set()  # Bob has not watched
    s.play(BOB, 1, at(-1))
    yield {1}


def episodes_one_by_one(s: Shelf, settings, clock):
    s.show(100, "Severance")
    for n in (1, 2, 3):
        s.episode(100 + n, 100, 1, n)
    s.assign(100, ALICE)  # a show assignment covers each episode
    s.play(ALICE, 101, at(-3))
    s.play(ALICE, 102, at(-2))
    s.play(ALICE, 103, at(-1), watched=False)  # stopped halfway
    yield {101, 102}


def new_episode_after_the_show_was_watched(s: Shelf, settings, clock):
    s.show(100, "Severance")
    for n in (1, 2):
        s.episode(100 + n, 100, 1, n)
        s.play(ALICE, 100 + n, at(-3))
    s.assign(100, ALICE)
    yield {101, 102}
    s.episode(103, 100, 1, 3, added=at(-0.5))
    yield {101, 102}  # the new one stays until Alice watched it
    s.play(ALICE, 103, at(-0.2))
    yield {101, 102, 103}


def user_added_late(s: Shelf, settings, clock):
    s.movie(1, "Heat")
    s.assign(1, ALICE)
    s.play(ALICE, 1, at(-4))
    yield {1}
    assign(s.store, settings, clock, "Heat", ["carol"])
    assert s.queued() == {}  # out of the stored queue at once, so no notice lists it
    yield set()
    s.play(CAROL, 1, at(-0.5))
    yield {1}


def unassigning(s: Shelf, settings, clock):
    s.movie(1, "Heat")
    s.assign(1, ALICE)
    s.assign(1, BOB)
    s.play(ALICE, 1, at(-4))
    yield set()
    unassign(s.store, settings, clock, "heat", ["Bobby Tables"])
    yield {1}


def keeping(s: Shelf, settings, clock):
    s.movie(1, "Heat")
    s.show(100, "Severance")
    s.episode(101, 100, 1, 1)
    for rk, target in ((1, 1), (101, 100)):
        s.assign(target, ALICE)
        s.play(ALICE, rk, at(-4))
    yield {1, 101}
    keep(s.store, settings, clock, "Severance")  # keeping a show keeps every episode
    yield {1}
    keep(s.store, settings, clock, "1")
    yield set()


def rule_with_exclusions(s: Shelf, settings, clock):
    old = at(-800)
    s.movie(1, "Old and Big", size=3 * GB, added=old)
    s.movie(2, "Favourite", size=3 * GB, added=old, labels=["Favorite"])
    s.movie(3, "Kept by label", size=3 * GB, added=old, labels=["keep"])
    s.movie(4, "In a collection", size=3 * GB, added=old, collections=["Criterion"])
    s.movie(5, "Small", size=1 * GB, added=old)
    s.movie(6, "Played lately", size=3 * GB, added=old)
    s.play(CAROL, 6, at(-10), watched=False)
    s.movie(7, "New", size=3 * GB, added=at(-30))
    s.movie(8, "Assigned", size=3 * GB, added=old)
    s.assign(8, BOB)  # an assignment wins over rules: Bob has not watched it
    s.show(100, "Old Show", added=old)
    s.episode(101, 100, 1, 1, size=3 * GB, added=old)  # another library
    yield {1}


RULES = """
[[rule]]
name = "old movies"
library = "Movies"
added_before_days = 365
not_played_by_anyone_days = 5
min_size_gb = 2
exclude_labels = ["favorite"]
exclude_collections = ["criterion"]
exclude_played_within_days = 30
"""


@pytest.mark.parametrize("scenario", [movie_two_viewers, episodes_one_by_one, new_episode_after_the_show_was_watched,
                                      user_added_late, unassigning, keeping, rule_with_exclusions])
def test_scenarios(shelf, tmp_path, scenario):
    settings = settings_for(tmp_path, RULES)
    clock = FixedClock(T0)
    for step, expected in enumerate(scenario(shelf, settings, clock)):
        assert set(refresh(shelf, settings)) == expected, f"step {step}"
        assert set(shelf.queued()) == expected, f"step {step}"


def test_a_rule_match_is_queued_with_its_rule_and_reason(shelf, tmp_path):
    settings = settings_for(tmp_path, RULES)
    list(rule_with_exclusions(shelf, settings, None))
    entry = refresh(shelf, settings)[1]
    assert (entry.source, entry.rule, entry.users) == ("rule", "old movies", ())
    assert entry.reason.startswith("rule 'old movies' matched: added more than 365 days ago, never played")
    assert shelf.rows("SELECT source, rule, user_ids FROM media_queue") == [("rule", "old movies", [])]


def test_labels_assign_and_follow_plex(shelf, tmp_path):
    settings = settings_for(tmp_path)
    shelf.movie(1, "Heat", labels=["marquee:alice", "MARQUEE:Bobby Tables", "keep"])
    shelf.play(ALICE, 1, at(-3))
    assert refresh(shelf, settings) == {}
    assert shelf.rows("SELECT user_id, source FROM media_assignments ORDER BY 1") == [(ALICE, "label"),
                                                                                     (BOB, "label")]
    shelf.con.execute("UPDATE plex_items SET labels = ['marquee:alice'] WHERE rating_key = 1")  # Bob's removed
    assert set(refresh(shelf, settings)) == {1}
    assert shelf.rows("SELECT user_id, source FROM media_assignments") == [(ALICE, "label")]
    off = settings_for(tmp_path, **{"retention.label_prefix": ""})
    assert refresh(shelf, off) == {}  # labels switched off: no assignment, and no rule either
    assert shelf.rows("SELECT count(*) FROM media_assignments") == [(0,)]


def test_a_label_for_an_unknown_user_holds_that_item_only(shelf, tmp_path):
    """Issue 11, item 5: a stale marquee:<user> label is a problem with its one item, not a failure: the item (a
    show: each of its episodes) stays out of the queue and is named; every other item is queued as before."""
    settings = settings_for(tmp_path, '[[assign]]\ntitle = "Heat"\nusers = ["carol"]\n')
    shelf.movie(1, "Heat")
    shelf.movie(2, "Alien", labels=["marquee:alcie", "marquee:bob"])
    shelf.movie(3, "Dune", labels=["marquee:bob"])
    shelf.show(100, "Severance", labels=["marquee:zed"])
    shelf.episode(101, 100, 1, 1, labels=["marquee:bob"])
    for uid, rk in ((CAROL, 1), (BOB, 2), (BOB, 3), (BOB, 101)):
        shelf.play(uid, rk, at(-3))
    entries, synced, _ = refresh_with_notes(shelf.store, settings, T0)
    # Bob watched Alien, but its other label meant someone else: deleting it now could take it from them.
    assert {e.rating_key for e in entries} == {1, 3} and set(stored(shelf)) == {1, 3}
    assert [(h.rating_key, h.name) for h in synced.held] == [(2, "Alien (2001)"), (100, "Severance (2020)")]
    assert synced.held[0].reason.startswith("Plex label 'marquee:alcie' on Alien (2001) (rating key 2): unknown "
                                            "user 'alcie' (did you mean alice")
    assert synced.held[0].reason.endswith("not queued until the label is fixed in Plex and ingested again")
    assert shelf.rows("SELECT target_rating_key, user_id FROM media_assignments WHERE source = 'label' "
                      "ORDER BY 1") == [(2, BOB), (3, BOB), (101, BOB)]  # the labels that name someone still count

    shelf.con.execute("UPDATE plex_items SET labels = ['marquee:alice', 'marquee:bob'] WHERE rating_key = 2")
    shelf.play(ALICE, 2, at(-1))
    assert set(refresh(shelf, settings)) == {1, 2, 3}  # fixed in Plex: queued like any other


def test_the_file_is_the_truth_for_its_own_rows(shelf, tmp_path, caplog):
    shelf.movie(1, "Heat", 1995)
    shelf.movie(2, "Gone", 2002, removed=at(-1))
    shelf.assign(1, CAROL, "cli")
    settings = settings_for(tmp_path, '[[assign]]\ntitle = "heat (1995)"\nusers = ["alice", "bob"]\n')
    refresh(shelf, settings)
    rows = "SELECT user_id, source FROM media_assignments ORDER BY 1, 2"
    assert shelf.rows(rows) == [(ALICE, "file"), (BOB, "file"), (CAROL, "cli")]
    first = shelf.rows("SELECT assigned_at FROM media_assignments WHERE user_id = ? AND source = 'file'", ALICE)
    settings_for(tmp_path, '[[assign]]\nrating_key = 1\nusers = ["alice"]\n'
                           '[[assign]]\ntitle = "Gone"\nusers = ["bob"]\n')  # a title Plex deleted: a note
    refresh(shelf, settings, T0 + DAY)
    assert shelf.rows(rows) == [(ALICE, "file"), (CAROL, "cli")]
    assert shelf.rows("SELECT assigned_at FROM media_assignments WHERE user_id = ? AND source = 'file'",
                      ALICE) == first  # kept, not re-made
    settings_for(tmp_path, '[[assign]]\ntitle = "Heat"\nusers = ["alice", "nobody"]\n')
    with pytest.raises(ConfigError, match=r"retention\.toml \[\[assign\]\] #1 \(title = 'Heat'\): unknown user "
                                          r"'nobody'"):
        refresh(shelf, settings)
    assert shelf.rows(rows) == [(ALICE, "file"), (CAROL, "cli")]  # nothing written
    (tmp_path / "retention.toml").unlink()
    with caplog.at_level(logging.WARNING, logger="pipeline.media.assignments"):
        refresh(shelf, settings)
    assert shelf.rows(rows) == [(CAROL, "cli")]
    assert "not found: dropping the 1 assignments it made earlier" in caplog.text
