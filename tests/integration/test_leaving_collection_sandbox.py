"""The Plex sandbox's collection tag edit (PUT /library/sections/{id}/all) as plexapi and raw clients send it."""

import pytest
import requests

from pipeline.clients.plex import connect_server
from pipeline.sandbox.plex import PlexSandbox, TagEdit
from pipeline.sandbox.seed import generate
from pipeline.settings import load_settings


@pytest.fixture
def world():
    return generate(seed=1)


@pytest.fixture
def pms(world):
    with PlexSandbox(world) as server:
        yield server


@pytest.fixture
def server(world, pms):
    settings = load_settings(environ={"PLEX_URL": pms.url, "PLEX_TOKEN": world.owner_token}, dotenv_path=None)
    return connect_server(settings.plex)


def movies(world):
    return sorted(world.section_items(1, "movie"), key=lambda i: i.rating_key)


def put(world, pms, path, query, token=True):
    headers = {"X-Plex-Token": world.owner_token} if token else {}
    # plexapi leaves the brackets of a tag key unquoted; so do we, to send what it sends.
    url = pms.url + path + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return requests.put(url, headers=headers, timeout=5)


def test_plexapi_add_and_remove_show_up_in_the_item_and_the_collection_list(world, pms, server):
    movie = movies(world)[0]
    movie.collections = ("Favourites",)
    pms.invalidate()
    section_before = world.sections[0].updated_at

    item = server.fetchItem(movie.rating_key)
    item.addCollection("Leaving soon")
    assert movie.collections == ("Favourites", "Leaving soon")
    assert [c.tag for c in server.fetchItem(movie.rating_key).collections] == ["Favourites", "Leaving soon"]
    assert "Leaving soon" in [c.title for c in server.library.sectionByID(1).collections()]
    assert world.sections[0].updated_at > section_before   # an ingest sees the section changed

    server.fetchItem(movie.rating_key).removeCollection("Leaving soon")
    assert movie.collections == ("Favourites",)
    assert pms.edits == [TagEdit(1, "movie", (movie.rating_key,), ("Favourites", "Leaving soon"), (), True),
                         TagEdit(1, "movie", (movie.rating_key,), None, ("Leaving soon",), True)]


def test_several_ids_in_one_edit_each_get_the_list(world, pms, server):
    a, b = movies(world)[:2]
    b.collections = ("Old",)
    pms.invalidate()
    section = server.library.sectionByID(1)
    items = server.fetchItems([a.rating_key, b.rating_key])

    section.multiEdit(items, **{"collection[0].tag.tag": "Leaving soon", "collection.locked": 0})

    assert a.collections == b.collections == ("Leaving soon",)   # an indexed list replaces the item's own
    assert pms.edits[-1] == TagEdit(1, "movie", (a.rating_key, b.rating_key), ("Leaving soon",), (), False)
    last = pms.requests_to("/library/sections/1/all", "PUT")[-1]
    assert last.query["id"] == f"{a.rating_key},{b.rating_key}" and last.body == b""


def test_removing_several_quoted_names_leaves_the_others(world, pms):
    movie = movies(world)[0]
    movie.collections = ("A, B", "Keep", "100% done")
    pms.invalidate()

    answer = put(world, pms, "/library/sections/1/all",
                 {"type": "1", "id": movie.rating_key, "collection[].tag.tag-": "A%252C%2520B%2C100%2525%2520done"})

    assert answer.status_code == 200 and answer.content == b""
    assert movie.collections == ("Keep",)


@pytest.mark.parametrize("query", [
    {"id": "{rk}", "collection[0].tag.tag": "X"},                                  # no type
    {"type": "1", "collection[0].tag.tag": "X"},                                   # no id
    {"type": "1", "id": "{rk}x", "collection[0].tag.tag": "X"},                    # not a rating key
    {"type": "77", "id": "{rk}", "collection[0].tag.tag": "X"},                    # unknown type
    {"type": "2", "id": "{rk}", "collection[0].tag.tag": "X"},                     # a movie is not a show
    {"type": "1", "id": "{rk}", "collection.locked": "yes"},
    {"type": "1", "id": "{rk}", "collection[a].tag.tag": "X"},
    {"type": "1", "id": "{rk}", "collection[0].tag.tag": ""},
    {"type": "1", "id": "{rk}", "title.value": "Renamed"},                         # not a collection edit
])
def test_malformed_edits_are_400_and_change_nothing(world, pms, query):
    before = {rk: i.collections for rk, i in world.items.items()}
    rk = str(movies(world)[0].rating_key)
    answer = put(world, pms, "/library/sections/1/all", {k: v.replace("{rk}", rk) for k, v in query.items()})
    assert answer.status_code == 400
    assert pms.edits == [] and {rk: i.collections for rk, i in world.items.items()} == before


def test_unknown_section_or_item_is_404_and_no_token_is_401(world, pms):
    show, movie = world.section_items(2, "show")[0], movies(world)[0]
    assert put(world, pms, "/library/sections/9/all", {"type": "1", "id": movie.rating_key}).status_code == 404
    assert put(world, pms, "/library/sections/1/all", {"type": "1", "id": "987654"}).status_code == 404
    assert put(world, pms, "/library/sections/1/all",          # the show is in section 2
               {"type": "2", "id": show.rating_key, "collection[0].tag.tag": "X"}).status_code == 400
    assert put(world, pms, "/library/sections/1/all", {"type": "1", "id": movie.rating_key},
               token=False).status_code == 401
    assert put(world, pms, "/library/sections/1/collections", {}).status_code == 405
    assert pms.edits == []
