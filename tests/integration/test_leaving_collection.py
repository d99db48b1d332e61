"""The "leaving soon" Plex collection follows media_queue, through unmodified plexapi and the Plex sandbox."""

from datetime import datetime, timezone

import pandas as pd
import pytest

from pipeline.act.collection import sync_leaving_collection
from pipeline.errors import MarqueeError
from pipeline.clients.plex import connect_server
from pipeline.sandbox.plex import PlexSandbox, TagEdit
from pipeline.sandbox.seed import generate
from pipeline.settings import load_settings
from pipeline.store.db import memory_store

NAME = "Leaving soon"
EDIT_PATHS = ("/library/sections/1/all", "/library/sections/2/all")


class Scene:
    """A sandbox world with some collections set by hand and a queue in a memory store."""

    def __init__(self, world, pms, name=NAME):
        self.world, self.pms = world, pms
        movies = sorted(world.section_items(1, "movie"), key=lambda i: i.rating_key)
        shows = sorted(world.section_items(2, "show"), key=lambda i: i.rating_key)
        self.tom = next(m for m in movies if m.title == "Tom & Jerry")        # queued, in "Favourites": add
        self.plain = movies[6]                                                 # queued, in nothing: add
        self.kept_in = movies[-1]                                              # queued, already in: untouched
        self.leaving = movies[-2]                                              # not queued, in both: remove
        self.idle = movies[-3]                                                 # never queued, in "Favourites"
        self.anime = next(s for s in shows if "Anime" in s.collections)       # episodes queued: add the show
        self.comfort = next(s for s in shows if s.collections == ("Comfort TV",))  # one episode queued: add
        self.old_show = next(s for s in shows if not s.collections)            # not queued, in it: remove
        self.tom.collections = ("Favourites",)
        self.idle.collections = ("Favourites",)
        self.kept_in.collections = (name,)
        self.leaving.collections = (name, "Favourites")
        self.old_show.collections = (name,)
        pms.invalidate()
        self.before = {rk: i.collections for rk, i in world.items.items()}

    def episodes(self, show, n):
        leaves = [i for i in self.world.items.values() if i.grandparent_rating_key == show.rating_key]
        return sorted(leaves, key=lambda i: (i.parent_index, i.index, i.rating_key))[:n]


def fill(store, world, movies, episodes, extra_keys=()):
    """Queue these movies and episodes (plus unknown rating keys) with their plex_items rows, in bulk."""
    now = datetime.fromtimestamp(world.now, timezone.utc)
    items = pd.DataFrame([dict(rating_key=i.rating_key, section_id=i.section_id, type=i.type, title=i.title,
                               grandparent_rating_key=i.grandparent_rating_key, grandparent_title=i.grandparent_title,
                               first_seen_at=now, last_listed_at=now) for i in [*movies, *episodes]])
    queue = pd.DataFrame(
        [dict(rating_key=m.rating_key, title=f"{m.title} ({m.year})", show_title=None, media_type="movie")
         for m in movies]
        + [dict(rating_key=e.rating_key, title=f"{e.grandparent_title} - {e.title}",
                show_title=e.grandparent_title, media_type="episode") for e in episodes]
        + [dict(rating_key=rk, title="Vanished", show_title=None, media_type="movie") for rk in extra_keys])
    con = store.con
    con.register("item_rows", items)
    con.execute("INSERT INTO plex_items (rating_key, section_id, type, title, grandparent_rating_key, "
                "grandparent_title, first_seen_at, last_listed_at) SELECT * FROM item_rows")
    con.unregister("item_rows")
    con.register("queue_rows", queue)
    con.execute("INSERT INTO media_queue (rating_key, first_queued_at, scheduled_at, source, reason, title, "
                "show_title, media_type, updated_at) SELECT rating_key, $now, $now, 'assigned', 'watched', title, "
                "show_title, media_type, $now FROM queue_rows", {"now": now})
    con.unregister("queue_rows")


def settings_for(world, pms, name=NAME):
    return load_settings(environ={"PLEX_URL": pms.url, "PLEX_TOKEN": world.owner_token}, dotenv_path=None,
                         overrides={"retention.leaving_soon_collection": name})


@pytest.fixture
def world():
    return generate(seed=1)


@pytest.fixture
def pms(world):
    with PlexSandbox(world) as server:
        yield server


def setup(world, pms, name=NAME, extra_keys=()):
    scene = Scene(world, pms, name)
    store = memory_store()
    fill(store, world, [scene.tom, scene.plain, scene.kept_in],
         [*scene.episodes(scene.anime, 2), *scene.episodes(scene.comfort, 1)], extra_keys)
    settings = settings_for(world, pms, name)
    server = connect_server(settings.plex)
    pms.clear_log()
    return scene, store, settings, server


def puts(pms):
    return [(r.method, r.path, r.query) for r in pms.requests if r.method != "GET"]


def add_query(item, tags):
    query = {"type": "1" if item.type == "movie" else "2", "id": str(item.rating_key), "collection.locked": "1"}
    query.update({f"collection[{n}].tag.tag": tag for n, tag in enumerate(tags)})
    return query


def remove_query(item, encoded_name):
    return {"type": "1" if item.type == "movie" else "2", "id": str(item.rating_key), "collection.locked": "1",
            "collection[].tag.tag-": encoded_name}


def expected_puts(scene, name, encoded_name):
    path = {"movie": EDIT_PATHS[0], "show": EDIT_PATHS[1]}
    removed = sorted([scene.leaving, scene.old_show], key=lambda i: (i.type, i.title.lower()))
    # adds follow the queue's order: movies then shows, by title
    added = sorted([scene.tom, scene.plain], key=lambda i: f"{i.title} ({i.year})") + \
        sorted([scene.anime, scene.comfort], key=lambda i: i.title)
    return ([("PUT", path[i.type], remove_query(i, encoded_name)) for i in removed]
            + [("PUT", path[i.type], add_query(i, [*scene.before[i.rating_key], name])) for i in added])


@pytest.mark.parametrize("name, encoded", [
    (NAME, "Leaving%20soon"),
    ("Leaving soon, 100% & <gone>", "Leaving%20soon%2C%20100%25%20%26%20%3Cgone%3E"),  # quoted twice by plexapi
])
def test_sync_adds_queued_movies_and_shows_and_removes_what_left(world, pms, name, encoded):
    scene, store, settings, server = setup(world, pms, name)

    lines = sync_leaving_collection(server, store, settings, apply=True)

    assert puts(pms) == expected_puts(scene, name, encoded)
    after = {rk: i.collections for rk, i in world.items.items()}
    changed = {rk for rk in after if after[rk] != scene.before[rk]}
    assert changed == {scene.tom.rating_key, scene.plain.rating_key, scene.anime.rating_key,
                       scene.comfort.rating_key, scene.leaving.rating_key, scene.old_show.rating_key}
    assert after[scene.tom.rating_key] == ("Favourites", name)
    assert after[scene.plain.rating_key] == (name,)
    assert after[scene.anime.rating_key] == ("Anime", name)
    assert after[scene.comfort.rating_key] == ("Comfort TV", name)
    assert after[scene.leaving.rating_key] == ("Favourites",)      # the other collection stays
    assert after[scene.old_show.rating_key] == ()
    assert after[scene.kept_in.rating_key] == (name,)
    assert after[scene.idle.rating_key] == ("Favourites",)
    assert [e.rating_keys for e in pms.edits] == [(int(q["id"]),) for _, _, q in puts(pms)]
    assert pms.edits[0] == TagEdit(1, "movie", (scene.leaving.rating_key,), None, (name,), True)
    prefix = f'collection "{name}":'
    assert f"{prefix} added movie Tom & Jerry ({scene.tom.year})" in lines
    assert f"{prefix} added show {scene.anime.title}" in lines
    assert f"{prefix} removed show {scene.old_show.title}" in lines
    assert lines[-1] == f"{prefix} 4 added, 2 removed, 5 items now"
    assert all("\n" not in line for line in lines)


def test_a_second_sync_sends_no_edit(world, pms):
    _, store, settings, server = setup(world, pms)
    sync_leaving_collection(server, store, settings, apply=True)
    pms.clear_log()

    lines = sync_leaving_collection(server, store, settings, apply=True)

    assert puts(pms) == []
    assert lines == [f'collection "{NAME}": in sync (5 items)']


def test_a_missing_collection_has_no_members_and_its_sections_are_not_listed(world, pms):
    store = memory_store()
    movie = sorted(world.section_items(1, "movie"), key=lambda i: i.rating_key)[5]
    fill(store, world, [movie], [])
    settings = settings_for(world, pms)
    server = connect_server(settings.plex)
    pms.clear_log()

    sync_leaving_collection(server, store, settings, apply=True)

    lists = [r.query.get("type") for r in pms.requests if r.method == "GET" and r.path in EDIT_PATHS]
    assert lists == ["18", "18"]   # the collection lookups only; no section was listed
    assert puts(pms) == [("PUT", EDIT_PATHS[0], add_query(movie, [NAME]))]


def test_an_empty_setting_turns_the_feature_off_without_a_request(world, pms):
    scene, store, _, server = setup(world, pms)
    settings = settings_for(world, pms, "")

    assert sync_leaving_collection(server, store, settings, apply=True) == []
    assert pms.requests == []
    assert {rk: i.collections for rk, i in world.items.items()} == scene.before


def test_a_dry_run_reads_and_says_what_would_change(world, pms):
    scene, store, settings, server = setup(world, pms)

    lines = sync_leaving_collection(server, store, settings, apply=False)

    assert {r.method for r in pms.requests} == {"GET"}
    assert pms.edits == []
    assert {rk: i.collections for rk, i in world.items.items()} == scene.before
    assert f'collection "{NAME}": would add movie Tom & Jerry ({scene.tom.year})' in lines
    assert f'collection "{NAME}": would remove movie {scene.leaving.title} ({scene.leaving.year})' in lines
    assert lines[-1] == f'collection "{NAME}": would add 4, would remove 2 (dry run)'


def test_queued_titles_plex_no_longer_has_are_left_out(world, pms):
    scene, store, settings, server = setup(world, pms, extra_keys=[987_654])

    lines = sync_leaving_collection(server, store, settings, apply=True)

    assert "987654" not in {q["id"] for _, _, q in puts(pms)}
    assert lines[-1] == f'collection "{NAME}": 4 added, 2 removed, 5 items now; 1 queued title is no longer in Plex'


def test_plex_failing_the_edit_is_one_line_without_the_token(world, pms):
    scene, store, settings, server = setup(world, pms)
    sync_leaving_collection(server, store, settings, apply=False)
    reads = len(pms.requests_to(EDIT_PATHS[0]))   # the same reads come first when applying
    pms.clear_log()
    pms.fail("status", status=500, path=EDIT_PATHS[0], skip=reads, times=1)

    with pytest.raises(MarqueeError) as raised:
        sync_leaving_collection(server, store, settings, apply=True)

    message = str(raised.value)
    assert "\n" not in message and world.owner_token not in message
    assert message.startswith(f'Plex collection "{NAME}": removing {scene.leaving.title}')
    assert "500" in message
    assert [(m, p) for m, p, _ in puts(pms)] == [("PUT", EDIT_PATHS[0])]   # nothing after the failure
    assert pms.edits == []

    pms.heal()
    sync_leaving_collection(server, store, settings, apply=True)   # the next run converges
    assert world.items[scene.leaving.rating_key].collections == ("Favourites",)
    assert world.items[scene.comfort.rating_key].collections == ("Comfort TV", NAME)


def test_plex_down_while_reading_is_one_line(world, pms):
    _, store, settings, server = setup(world, pms)
    pms.fail("down")

    with pytest.raises(MarqueeError, match=rf'^Plex collection "{NAME}": reading its members failed: Plex at '):
        sync_leaving_collection(server, store, settings, apply=True)
    assert pms.edits == []
