"""media_inputs reads a hand-built store (rows inserted with SQL) into exactly the policy's inputs.

The `Shelf` builder here is shared by the other retention tests: a tiny server with two libraries.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.policy.media import Assignment, Keep, Watch
from pipeline.policy.media_rules import Rule
from pipeline.media import media_inputs, media_policy
from pipeline.settings import load_settings
from pipeline.store.db import memory_store

T0 = datetime(2026, 11, 16, 12, tzinfo=timezone.utc)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
GB = 1_000_000_000
ALICE, BOB, CAROL = 11, 12, 13


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def settings_for(tmp_path: Path, toml: str | None = None, **overrides):
    """Settings whose retention.toml lives in tmp_path (written when `toml` is given)."""
    path = tmp_path / "retention.toml"
    if toml is not None:
        path.write_text(toml)
    return load_settings(environ={}, dotenv_path=None, overrides={
        "retention.file": str(path), "server.timezone": "America/New_York", **overrides})


class Shelf:
    """A memory store with Movies (1) and TV Shows (2), three users, and helpers that insert rows with SQL."""

    def __init__(self) -> None:
        self.store = memory_store()
        self.con = self.store.con
        self._play = 0
        self.con.execute("INSERT INTO plex_sections (section_id, title, type, last_listed_at) VALUES "
                         "(1, 'Movies', 'movie', $t), (2, 'TV Shows', 'show', $t)", {"t": T0})
        for uid, username, title, email in [(ALICE, "alice", "Alice Liddell", "alice@example.org"),
                                            (BOB, "bob", "Bobby Tables", "bob@example.org"),
                                            (CAROL, "carol", "Carol", "carol@example.org")]:
            self.user(uid, username, title, email)

    def user(self, uid: int, username: str, title: str, email: str | None = None) -> None:
        self.con.execute("INSERT INTO plex_users (user_id, username, title, email, is_owner, is_home, is_restricted, "
                         "first_seen_at, last_listed_at) VALUES (?, ?, ?, ?, false, false, false, ?, ?)",
                         [uid, username, title, email, at(-400), T0])

    def item(self, rk: int, section: int, kind: str, title: str, *, year: int | None = None, size: int | None = None,
             added: datetime | None = None, labels=(), collections=None, show: int | None = None,
             season: int | None = None, index: int | None = None, removed: datetime | None = None) -> int:
        show_title = self.con.execute("SELECT title FROM plex_items WHERE rating_key = ?", [show]).fetchall() \
            if show else []
        self.con.execute(
            'INSERT INTO plex_items (rating_key, section_id, type, title, year, size_bytes, added_at, labels, '
            'collections, grandparent_rating_key, grandparent_title, parent_index, "index", first_seen_at, '
            'last_listed_at, removed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [rk, section, kind, title, year, size, added or at(-400), list(labels),
             None if collections is None else list(collections), show, show_title[0][0] if show_title else None,
             season, index, at(-400), T0 if removed is None else removed, removed])
        return rk

    def movie(self, rk: int, title: str, year: int | None = 2001, size: int | None = 4 * GB, **kw) -> int:
        return self.item(rk, 1, "movie", title, year=year, size=size, **kw)

    def show(self, rk: int, title: str, year: int | None = 2020, **kw) -> int:
        return self.item(rk, 2, "show", title, year=year, **kw)

    def episode(self, rk: int, show: int, season: int, index: int, size: int = GB, **kw) -> int:
        return self.item(rk, 2, "episode", f"Episode {index}", size=size, show=show, season=season, index=index, **kw)

    def play(self, uid: int, rk: int, stopped: datetime, *, watched: bool = True) -> None:
        self._play += 1
        self.con.execute("INSERT INTO tautulli_history (play_id, user_id, rating_key, started_at, stopped_at, "
                         "watched_status, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [self._play, uid, rk, stopped - 2 * HOUR, stopped, 1.0 if watched else 0.5, T0])

    def assign(self, target: int, uid: int, source: str = "cli", when: datetime | None = None) -> None:
        self.con.execute("INSERT INTO media_assignments VALUES (?, ?, ?, ?)", [target, uid, source, when or at(-300)])

    def deleted(self, rk: int, title: str, size: int, deleted_at: datetime | None, *, state: str = "done",
                plex_deleted: bool = True, attempts: int = 1, error: str | None = None) -> None:
        self.con.execute("INSERT INTO media_deletions (rating_key, title, media_type, size_bytes, state, plex_deleted, "
                         "attempts, last_error, started_at, deleted_at, updated_at) "
                         "VALUES (?, ?, 'movie', ?, ?, ?, ?, ?, ?, ?, ?)",
                         [rk, title, size, state, plex_deleted, attempts, error,
                          deleted_at or T0, deleted_at, deleted_at or T0])

    def rows(self, sql: str, *params) -> list[tuple]:
        return self.con.execute(sql, list(params)).fetchall()

    def queued(self) -> dict[int, datetime]:
        return dict(self.rows("SELECT rating_key, scheduled_at FROM media_queue ORDER BY rating_key"))


@pytest.fixture
def shelf() -> Shelf:
    return Shelf()


def test_items_carry_everything_the_policy_reads(shelf, tmp_path):
    shelf.movie(1, "Heat", 1995, size=5 * GB, added=at(-30), labels=["4k"], collections=["Crime"])
    shelf.movie(2, "Gone Movie", removed=at(-2))
    shelf.movie(3, "Deleted", 2002)
    shelf.show(100, "Severance", labels=["keep"], collections=["Comfort TV"])
    shelf.episode(101, 100, 1, 2, labels=["favorite"])
    shelf.item(102, 2, "season", "Season 1", show=100)
    shelf.play(ALICE, 1, at(-3), watched=False)
    shelf.play(BOB, 1, at(-1))
    shelf.deleted(3, "Deleted (2002)", 4 * GB, at(-4))
    inputs = media_inputs(shelf.store, settings_for(tmp_path), T0)
    items = {i.rating_key: i for i in inputs.items}
    assert set(items) == {1, 2, 3, 101}  # movies and episodes only, removed ones included
    heat = items[1]
    assert (heat.type, heat.title, heat.size_bytes, heat.added_at, heat.library) == (
        "movie", "Heat (1995)", 5 * GB, at(-30), "Movies")
    assert heat.labels == {"4k"} and heat.collections == {"Crime"}
    assert heat.last_played_at == at(-1) and heat.exists and heat.deleted_by_us_at is None
    assert not items[2].exists
    assert items[3].deleted_by_us_at == at(-4)
    episode = items[101]
    assert (episode.show_rating_key, episode.title, episode.library) == (100, "Severance - S01E02 - Episode 2",
                                                                         "TV Shows")
    assert episode.labels == {"favorite", "keep"} and episode.collections == {"Comfort TV"}
    assert episode.last_played_at is None
    assert inputs.plain_titles[101] == ("Episode 2", "Severance") and inputs.plain_titles[1] == ("Heat", None)


def test_assignments_merge_sources_and_watches_are_the_last_watched_play_of_assigned_users(shelf, tmp_path):
    shelf.movie(1, "Heat")
    shelf.show(100, "Severance")
    shelf.episode(101, 100, 1, 1)
    shelf.episode(102, 100, 1, 2)
    shelf.assign(1, ALICE, "cli", at(-10))
    shelf.assign(1, ALICE, "label", at(-20))
    shelf.assign(100, BOB, "file", at(-5))
    shelf.play(ALICE, 1, at(-6))
    shelf.play(ALICE, 1, at(-2))           # a rewatch: the later one counts
    shelf.play(ALICE, 1, at(-1), watched=False)  # not watched (watched_status < 1): not a watch
    shelf.play(BOB, 101, at(-3))           # an episode of the show assigned to Bob
    shelf.play(CAROL, 1, at(-1))           # Carol is not assigned: her watch is not an input
    shelf.con.execute("INSERT INTO media_keeps VALUES (102, 'Severance: Episode 2', ?, 'favourite')", [at(-1)])
    shelf.con.execute("INSERT INTO media_queue (rating_key, first_queued_at, scheduled_at, source, reason, updated_at) "
                      "VALUES (101, ?, ?, 'assigned', 'r', ?)", [at(-2), at(-1), at(-2)])
    inputs = media_inputs(shelf.store, settings_for(tmp_path), T0)
    assert inputs.assignments == [Assignment(1, ALICE, at(-20)), Assignment(100, BOB, at(-5))]
    assert inputs.watches == [Watch(ALICE, 1, at(-2)), Watch(BOB, 101, at(-3))]
    assert inputs.keeps == [Keep(102, at(-1))]
    assert inputs.first_queued_at == {101: at(-2)}
    assert inputs.names[ALICE] == "Alice Liddell" and inputs.names[BOB] == "Bobby Tables"
    assert inputs.rules == []


def test_rules_come_from_retention_toml_and_must_name_a_real_library(shelf, tmp_path):
    settings = settings_for(tmp_path, """
[[rule]]
name = "old movies"
library = "movies"
added_before_days = 365
min_size_gb = 2.5
exclude_collections = ["Criterion"]
""")
    (rule,) = media_inputs(shelf.store, settings, T0).rules
    assert rule == Rule(name="old movies", library="movies", added_before_days=365, min_size_bytes=2_500_000_000,
                        exclude_labels=frozenset({"keep"}), exclude_collections=frozenset({"Criterion"}))
    settings = settings_for(tmp_path, '[[rule]]\nname = "tv"\nlibrary = "TV"\nadded_before_days = 9\n')
    with pytest.raises(ConfigError, match=r"\[\[rule\]\] #1 \('tv'\): library 'TV' is not a Plex library "
                                          r"\(libraries: Movies, TV Shows\)"):
        media_inputs(shelf.store, settings, T0)


def test_media_policy_follows_the_retention_settings(tmp_path):
    policy = media_policy(settings_for(tmp_path, **{"retention.deletion_delay_hours": 48,
                                                    "retention.max_deletions_per_run": 3,
                                                    "retention.max_bytes_per_run": 10 * GB}))
    assert (policy.deletion_delay_hours, policy.max_deletions_per_run, policy.max_bytes_per_run) == (48, 3, 10 * GB)


def test_collections_are_ingested_from_plex_collection_children():
    from xml.etree.ElementTree import fromstring

    import pipeline.clients.plex_rows as rows
    elem = fromstring('<Directory ratingKey="7" type="show" title="S"><Label tag="keep"/>'
                      '<Collection id="1" tag="Comfort TV"/><Collection id="2" tag="Anime"/><Collection id="3"/>'
                      '</Directory>')
    row = rows.item_row(elem, 2)
    assert row["collections"] == ["Comfort TV", "Anime"] and row["labels"] == ["keep"]
    bare = rows.item_row(fromstring('<Video ratingKey="8" type="movie" title="m"/>'), 1)
    store = memory_store()
    store.con.register("plex_item_rows", rows.table([row, bare], rows.ITEM_SCHEMA))
    store.execute("ingest/merge_plex_items", {"now": T0})
    store.con.unregister("plex_item_rows")
    assert store.con.execute("SELECT rating_key, collections FROM plex_items ORDER BY 1").fetchall() == [
        (7, ["Comfort TV", "Anime"]), (8, [])]
    row["collections"] = ["Anime"]
    store.con.register("plex_item_rows", rows.table([row], rows.ITEM_SCHEMA))
    store.execute("ingest/merge_plex_items", {"now": T0 + DAY})
    assert store.con.execute("SELECT collections FROM plex_items WHERE rating_key = 7").fetchall() == [(["Anime"],)]
