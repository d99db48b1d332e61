"""Unmodified plexapi 4.18.3 against the Plex and plex.tv sandboxes over real loopback HTTP."""

from __future__ import annotations

import io

import pytest
import requests
from plexapi.exceptions import BadRequest, NotFound
from PIL import Image

from pipeline.clients.plex import connect
from pipeline.sandbox.seed import SPECIAL_ARTISTS, SPECIAL_MOVIES, SPECIAL_SHOWS, generate
from pipeline.settings import PlexSettings
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox


@pytest.fixture
def world():
    return generate(seed=1, users=24, plays=6000)


@pytest.fixture
def settings(world, pms, plextv):
    return PlexSettings(url=pms.url, token=world.owner_token, plextv_url=plextv.url, timeout_seconds=5)


@pytest.fixture
def plex(settings):
    """(PlexServer, MyPlexAccount) exactly as Marquee builds them."""
    return connect(settings)


def part_sizes(item) -> int:
    return sum(p.size for media in item.media for p in media.parts)


# -- the server and its library ---------------------------------------------------------------------------
def test_server_attributes_come_from_the_world(plex, pms, world):
    server, _ = plex
    assert server.friendlyName == world.server_name
    assert server.machineIdentifier == world.machine_identifier
    assert server.version == world.version
    assert server.allowMediaDeletion is True
    assert server.myPlex is True and server.myPlexUsername == world.owner.email
    assert server.identity().machineIdentifier == world.machine_identifier
    assert [r.path for r in pms.requests] == ["/", "/identity"]


def test_sections_list_with_locations_and_change_marker(plex, world):
    server, _ = plex
    sections = server.library.sections()
    assert [(s.key, s.title, s.type) for s in sections] == [(s.section_id, s.title, s.type) for s in world.sections]
    movies = sections[0]
    assert movies.locations == [world.sections[0].location]
    assert movies.agent == "tv.plex.agents.movie" and movies.scanner == "Plex Movie"
    assert len(movies.uuid) == 36 and movies.createdAt < movies.updatedAt
    assert movies._data.attrib["contentChangedAt"]


def test_section_all_pages_with_container_headers(plex, pms, world):
    server, _ = plex
    episodes = server.library.sectionByID(2).all(libtype="episode")
    expected = world.section_items(2, "episode")
    assert [e.ratingKey for e in episodes] == [i.rating_key for i in expected]
    pages = pms.requests_to("/library/sections/2/all")
    assert len(expected) > 300 and len(pages) == len(expected) // 100 + 1
    assert [r.headers["x-plex-container-start"] for r in pages] == [str(n * 100) for n in range(len(pages))]
    assert {r.headers["x-plex-container-size"] for r in pages} == {"100"}
    assert {e.ratingKey: part_sizes(e) for e in episodes} == {i.rating_key: i.size_bytes for i in expected}
    assert all(e.librarySectionID == 2 and e.addedAt and e.updatedAt for e in episodes)
    assert all(e.media[0].parts[0].file for e in episodes)


def test_container_size_as_query_parameters_gives_the_total(plex, pms, world):
    server, _ = plex
    section = server.library.sectionByID(1)
    assert section.totalViewSize() == len(world.section_items(1, "movie"))
    assert section.totalViewSize(libtype="episode") == 0
    assert pms.requests_to("/library/sections/1/all")[0].query["X-Plex-Container-Size"] == "0"
    assert server.library.sectionByID(2).totalViewSize(libtype="episode") == len(world.section_items(2, "episode"))


def test_awkward_titles_survive_escaping(plex, pms, world):
    server, _ = plex
    for section_id, names in ((1, SPECIAL_MOVIES), (2, SPECIAL_SHOWS), (3, SPECIAL_ARTISTS)):
        titles = {i.title for i in server.library.sectionByID(section_id).all()}
        assert set(names) <= titles
    script = next(i for i in world.items.values() if i.title.startswith("<script>"))
    body = requests.get(f"{pms.url}/library/metadata/{script.rating_key}",
                        headers={"X-Plex-Token": world.owner_token}).text
    assert "&lt;script&gt;" in body and "<script>" not in body
    assert server.fetchItem(script.rating_key).title == "<script>alert(1)</script>"


def test_labels_and_sorting(plex, world):
    server, _ = plex
    kept = next(i for i in world.items.values() if i.labels)
    assert [label.tag for label in server.fetchItem(kept.rating_key).labels] == list(kept.labels)
    newest = server.library.sectionByID(1).search(sort="addedAt:desc", maxresults=3)
    expected = sorted(world.section_items(1, "movie"), key=lambda i: (i.added_at, i.rating_key), reverse=True)
    assert [m.ratingKey for m in newest] == [i.rating_key for i in expected[:3]]


def test_show_episodes_come_from_all_leaves(plex, pms, world):
    server, _ = plex
    show = max(world.section_items(2, "show"), key=lambda s: len(world.children(s.rating_key)))
    remote = server.fetchItem(show.rating_key)
    leaves = world.leaves(show.rating_key)
    assert (remote.childCount, remote.leafCount) == (len(world.children(show.rating_key)), len(leaves))
    episodes = remote.episodes()
    assert [e.ratingKey for e in episodes] == [i.rating_key for i in leaves]
    assert pms.requests_to(f"/library/metadata/{show.rating_key}/allLeaves")
    assert sum(part_sizes(e) for e in episodes) == sum(i.size_bytes for i in leaves)
    assert [s.index for s in remote.seasons()] == [s.index for s in world.children(show.rating_key)]
    assert episodes[0].grandparentTitle == show.title and episodes[0].grandparentRatingKey == show.rating_key


def test_music_albums_and_tracks(plex, world):
    server, _ = plex
    artist = world.section_items(3, "artist")[0]
    remote = server.fetchItem(artist.rating_key)
    # albums() is a section search (artist.id filter), so it comes back in title order, not album order
    assert sorted(a.ratingKey for a in remote.albums()) == sorted(a.rating_key for a in world.children(
        artist.rating_key))
    tracks = remote.tracks()
    assert [t.ratingKey for t in tracks] == [t.rating_key for t in world.leaves(artist.rating_key)]
    assert [part_sizes(t) for t in tracks] == [t.size_bytes for t in world.leaves(artist.rating_key)]


def test_history_uses_account_one_for_the_owner(plex, world):
    server, _ = plex
    cols = world.plays.cols
    watched = cols["watched_status"] >= 1.0
    history = server.history()
    assert len(history) == int(watched.sum())
    viewed = [h.viewedAt for h in history]
    assert viewed == sorted(viewed, reverse=True)
    owner_plays = int((watched & (cols["user_id"] == world.owner.user_id)).sum())
    assert owner_plays and len(server.history(accountID=1)) == owner_plays
    assert world.owner.user_id not in {h.accountID for h in history}
    assert {h.accountID for h in history} - {1} <= {u.user_id for u in world.users}


def test_history_of_a_deleted_item_has_no_rating_key(plex, world):
    server, _ = plex
    rk = int(world.plays.cols["rating_key"][world.plays.cols["watched_status"] >= 1.0][0])
    before = len(server.history(ratingKey=rk))
    server.fetchItem(rk).delete()
    assert server.history(ratingKey=rk) and len(server.history(ratingKey=rk)) == before
    assert {(h.ratingKey, h.key) for h in server.history(ratingKey=rk)} <= {(None, ""), (None, None)}


def test_accounts_sessions_recently_added_and_collections(plex, world):
    server, _ = plex
    accounts = {a.id: a.name for a in server.systemAccounts()}
    assert accounts[1] == world.owner.username and world.owner.user_id not in accounts
    assert all(accounts[u.user_id] == u.username for u in world.users if not u.is_owner)
    assert server.sessions() == []
    recent = server.library.recentlyAdded()
    assert {i.type for i in recent} <= {"movie", "season", "album"}
    assert [i.addedAt for i in recent] == sorted((i.addedAt for i in recent), reverse=True)
    assert server.library.sectionByID(1).collections() == []


def test_poster_is_a_cached_deterministic_jpeg(plex, world):
    server, _ = plex
    first_movie, second_movie = world.section_items(1, "movie")[:2]
    movie = server.fetchItem(first_movie.rating_key)
    first = requests.get(movie.thumbUrl)
    assert first.status_code == 200 and first.headers["Content-Type"] == "image/jpeg"
    assert requests.get(movie.thumbUrl).content == first.content
    image = Image.open(io.BytesIO(first.content))
    assert image.format == "JPEG" and image.size == (200, 300)
    other = Image.open(io.BytesIO(requests.get(server.fetchItem(second_movie.rating_key).thumbUrl).content))
    assert image.getpixel((2, 2)) != other.getpixel((2, 2))


# -- deleting media -----------------------------------------------------------------------------------------
def test_delete_removes_the_item_and_moves_the_change_marker(plex, pms, world):
    server, _ = plex
    victim = world.section_items(1, "movie")[7].rating_key
    before = server.library.sectionByID(1)._data.attrib["contentChangedAt"]
    untouched = server.library.sectionByID(2)._data.attrib["contentChangedAt"]
    server.fetchItem(victim).delete()
    assert pms.requests_to(f"/library/metadata/{victim}", "DELETE") and pms.deleted == [victim]
    with pytest.raises(NotFound):
        server.fetchItem(victim)
    server.library._invalidateCachedProperties()
    section = server.library.sectionByID(1)
    assert section._data.attrib["contentChangedAt"] != before
    assert server.library.sectionByID(2)._data.attrib["contentChangedAt"] == untouched
    assert victim not in {m.ratingKey for m in section.all()}
    assert section.totalViewSize() == len(world.section_items(1, "movie"))


def test_deleting_a_show_takes_its_seasons_and_episodes(plex, pms, world):
    server, _ = plex
    show = world.section_items(2, "show")[0]
    family = {show.rating_key} | {s.rating_key for s in world.children(show.rating_key)} | {
        e.rating_key for e in world.leaves(show.rating_key)}
    episodes = len(world.section_items(2, "episode"))
    lost = len(world.leaves(show.rating_key))
    server.fetchItem(show.rating_key).delete()
    assert set(pms.deleted) == family and not family & set(world.items)
    assert server.library.sectionByID(2).totalViewSize(libtype="episode") == episodes - lost


def test_listings_reuse_one_index_until_the_library_changes(plex, pms, world):
    server, _ = plex
    section = server.library.sectionByID(1)
    section.all()
    index = pms.index()
    section.all()
    assert pms.index() is index
    victim = world.section_items(1, "movie")[3].rating_key
    server.fetchItem(victim).delete()
    assert pms.index() is not index
    assert victim not in {i.rating_key for i in pms.index().by_section[(1, "movie")]}


def test_delete_refused_when_media_deletion_is_off(world):
    with PlexSandbox(world, allow_media_deletion=False) as pms, PlexTvSandbox(world) as tv:
        server, _ = connect(PlexSettings(url=pms.url, token=world.owner_token, plextv_url=tv.url))
        assert server.allowMediaDeletion is False
        rk = world.section_items(1, "movie")[0].rating_key
        with pytest.raises(BadRequest, match=r"\(403\)"):
            server.fetchItem(rk).delete()
        assert rk in world.items and pms.deleted == []


def test_delete_unknown_item_is_not_found(plex):
    server, _ = plex
    with pytest.raises(NotFound):
        server.query("/library/metadata/424242", method=server._session.delete)


# -- the token ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/library", "/library/sections", "/library/sections/1/all",
                                  "/library/metadata/{rk}", "/library/metadata/{rk}/thumb/1",
                                  "/status/sessions/history/all", "/accounts", "/status/sessions"])
def test_plex_routes_need_the_token(pms, world, path):
    url = pms.url + path.format(rk=world.section_items(1, "movie")[0].rating_key)
    assert requests.get(url).status_code == 401
    assert requests.get(url, headers={"X-Plex-Token": "wrong"}).status_code == 401
    assert requests.get(url, params={"X-Plex-Token": world.owner_token}).status_code == 200


def test_delete_needs_the_token(pms, world):
    rk = world.section_items(1, "movie")[0].rating_key
    assert requests.delete(f"{pms.url}/library/metadata/{rk}").status_code == 401
    assert rk in world.items and pms.deleted == []


# -- each user's own watch state (issue #13) ----------------------------------------------------------------
def test_each_token_sees_and_marks_its_own_view_state(plex, pms, world):
    from plexapi.exceptions import Unauthorized
    from plexapi.server import PlexServer

    server, account = plex
    shared = [u for u in world.users if not u.is_owner and u.has_share and u.share_id and u.all_libraries][:2]
    alice, bob = (account.user(u.username) for u in shared)
    as_alice = PlexServer(pms.url, alice.get_token(world.machine_identifier), session=server._session)
    as_bob = PlexServer(pms.url, bob.get_token(world.machine_identifier), session=server._session)
    played = set(world.plays.cols["rating_key"].tolist())
    movie = next(i for i in sorted(world.items.values(), key=lambda i: i.rating_key)
                 if i.type == "movie" and i.rating_key not in played)

    as_alice.fetchItem(movie.rating_key).markWatched()
    seen = as_alice.fetchItem(movie.rating_key)
    assert seen.viewCount == 1 and seen.isWatched and seen.lastViewedAt is not None
    assert as_bob.fetchItem(movie.rating_key).viewCount == 0, "bob's state is his own"
    assert server.fetchItem(movie.rating_key).viewCount == 0, "so is the owner's"
    [marked] = [r for r in pms.requests if r.path == "/:/scrobble"]
    assert marked.query == {"key": str(movie.rating_key), "identifier": "com.plexapp.plugins.library"}

    as_alice.fetchItem(movie.rating_key).markUnwatched()
    assert as_alice.fetchItem(movie.rating_key).viewCount == 0

    # An unfinished play leaves its offset, as PMS keeps it; a watched one its count (both from the world's plays).
    cols = world.plays.cols
    row = next(i for i in range(len(world.plays)) if cols["user_id"][i] == shared[0].user_id
               and cols["watched_status"][i] < 1 and cols["percent"][i] > 0
               and not ((cols["user_id"] == shared[0].user_id) & (cols["rating_key"] == cols["rating_key"][i])
                        & (cols["watched_status"] >= 1)).any())
    partial = as_alice.fetchItem(int(cols["rating_key"][row]))
    assert partial.viewCount == 0 and partial.viewOffset > 0

    with pytest.raises(Unauthorized):  # a shared user browses and marks; deleting is the owner's
        as_alice.fetchItem(movie.rating_key).delete()
    assert movie.rating_key in world.items


def test_a_shared_token_sees_only_the_libraries_its_share_opens(plex, pms, world):
    from plexapi.server import PlexServer

    server, account = plex
    user = next(u for u in world.users if not u.is_owner and u.has_share and u.share_id and not u.all_libraries)
    as_user = PlexServer(pms.url, account.user(user.username).get_token(world.machine_identifier),
                         session=server._session)
    assert {int(s.key) for s in as_user.library.sections()} == set(user.section_ids)
    hidden = next(i for i in world.items.values() if i.type in ("movie", "episode", "track")
                  and i.section_id not in user.section_ids)
    with pytest.raises(NotFound):
        as_user.fetchItem(hidden.rating_key)
    assert as_user.fetchItem(next(i.rating_key for i in world.items.values()
                                  if i.section_id in user.section_ids)).ratingKey
