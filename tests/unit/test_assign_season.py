"""Assigning one season (`invoke assign "Show" --season 2`, `season = 2` in retention.toml) covers that season only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.clock import FixedClock
from pipeline.errors import ConfigError
from pipeline.media.commands import assign
from pipeline.media.queue import refresh_queue
from tests.fixtures.retention_shelf import ALICE, BOB, GB, T0, Shelf, at, settings_for

SHOW, S1, S2 = 100, 110, 120
S1_EPISODES, S2_EPISODES = (111, 112), (121, 122)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shelf() -> Shelf:
    """Severance with seasons 1 and 2, two episodes each, every episode watched by alice and bob."""
    s = Shelf()
    s.show(SHOW, "Severance", 2022)
    for season, number, episodes in ((S1, 1, S1_EPISODES), (S2, 2, S2_EPISODES)):
        s.item(season, 2, "season", f"Season {number}", show=SHOW, index=number)
        for n, rk in enumerate(episodes, 1):
            s.episode(rk, SHOW, number, n, size=2 * GB)
            s.con.execute("UPDATE plex_items SET parent_rating_key = ? WHERE rating_key = ?", [season, rk])
            for uid in (ALICE, BOB):
                s.play(uid, rk, at(-3))
    s.con.execute("UPDATE plex_items SET parent_rating_key = ?, parent_title = 'Severance' WHERE type = 'season'",
                  [SHOW])
    return s


def state(shelf: Shelf) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Assignments, the queue and the audit: what a failed command must leave as it was."""
    return (shelf.rows("SELECT target_rating_key, user_id, source FROM media_assignments ORDER BY ALL"),
            shelf.rows("SELECT rating_key FROM media_queue ORDER BY 1"),
            shelf.rows("SELECT count(*) FROM audit"))


def test_assigning_a_season_queues_only_that_season_s_watched_episodes(shelf, tmp_path):
    lines = assign(shelf.store, settings_for(tmp_path), FixedClock(T0), "Severance", ["alice", "bob"], season="2")
    assert shelf.rows("SELECT target_rating_key, user_id FROM media_assignments ORDER BY ALL") == \
        [(S2, ALICE), (S2, BOB)]
    assert lines[0] == "Assigned Severance: Season 2 (2022, season, rating key 120) to Alice Liddell, Bobby Tables."
    assert "covers that season's episodes" in lines[-2]
    assert lines[-1].startswith("2 of its episodes are queued for deletion")
    assert sorted(shelf.queued()) == list(S2_EPISODES)


def test_a_season_is_queued_only_once_every_assignee_watched_each_episode(shelf, tmp_path):
    shelf.con.execute("DELETE FROM tautulli_history WHERE user_id = ? AND rating_key = ?", [BOB, S2_EPISODES[1]])
    assign(shelf.store, settings_for(tmp_path), FixedClock(T0), "Severance", ["alice", "bob"], season=2)
    assert sorted(shelf.queued()) == [S2_EPISODES[0]]


def test_an_unknown_season_is_one_line_and_changes_nothing(shelf, tmp_path):
    before = state(shelf)
    with pytest.raises(ConfigError) as caught:
        assign(shelf.store, settings_for(tmp_path), FixedClock(T0), "Severance", ["alice"], season=5)
    assert str(caught.value) == ("Severance (2022) has no season 5 in Plex (seasons listed: 1, 2); check the number, "
                                 "or run `invoke ingest` if it is new")
    with pytest.raises(ConfigError, match=r"^--season takes a season number such as 2, not 'two'$"):
        assign(shelf.store, settings_for(tmp_path), FixedClock(T0), "Severance", ["alice"], season="two")
    shelf.movie(1, "Heat", 1995)
    with pytest.raises(ConfigError, match=r"^a season number needs a show, and Heat \(1995, movie, rating key 1\) "
                                          r"is a movie$"):
        assign(shelf.store, settings_for(tmp_path), FixedClock(T0), "Heat", ["alice"], season=1)
    assert state(shelf) == before


def test_a_season_in_retention_toml_assigns_that_season(shelf, tmp_path):
    settings = settings_for(tmp_path, '[[assign]]\ntitle = "Severance"\nseason = 1\nusers = ["alice", "bob"]\n')
    refresh_queue(shelf.store, settings, T0)
    assert shelf.rows("SELECT target_rating_key, user_id, source FROM media_assignments ORDER BY ALL") == \
        [(S1, ALICE, "file"), (S1, BOB, "file")]
    assert sorted(shelf.queued()) == list(S1_EPISODES)


@pytest.mark.parametrize("entry, message", [
    ('season = 7', r"retention.toml \[\[assign\]\] #1 \(title = 'Severance', season = 7\): Severance \(2022\) "
                   r"has no season 7 in Plex \(seasons listed: 1, 2\)"),
    ('season = "2"', r"retention.toml \[\[assign\]\] #1: season must be a whole number >= 0 \(a season of the "
                     r"show\), not '2'"),
])
def test_a_bad_season_in_retention_toml_is_one_line_and_changes_nothing(shelf, tmp_path, entry, message):
    settings = settings_for(tmp_path, f'[[assign]]\ntitle = "Severance"\n{entry}\nusers = ["alice"]\n')
    before = state(shelf)
    with pytest.raises(ConfigError, match=message) as caught:
        refresh_queue(shelf.store, settings, T0)
    assert "\n" not in str(caught.value)
    assert state(shelf) == before


def test_invoke_assign_takes_a_season():
    out = subprocess.run([sys.executable, "-m", "invoke", "--help", "assign"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert "--season=STRING" in out and "assign one season of the show" in out
