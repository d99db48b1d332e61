"""media_inputs reads a hand-built store (rows inserted with SQL) into exactly the policy's inputs."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.policy.media import Assignment, Keep, Watch
from pipeline.policy.media_rules import Rule
from pipeline.media import media_inputs
from pipeline.policy.media import MediaPolicy
from pipeline.store.db import memory_store
from tests.fixtures.retention_shelf import ALICE, BOB, CAROL, DAY, GB, T0, Shelf, at, settings_for


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
    policy = MediaPolicy.from_settings(settings_for(tmp_path, **{"retention.deletion_delay_hours": 48,
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
