"""Plex's agent <Guid> children as unmodified plexapi reads them, and agent_ids() leading to Sonarr/Radarr."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

import pytest
import requests
from plexapi.video import Episode, Movie, Show

from pipeline.clients.arr import RadarrClient, SonarrClient, agent_ids
from pipeline.clients.plex import connect_server
from pipeline.sandbox.seed import generate
from pipeline.settings import PlexSettings
from tests.fixtures.arr_sandbox import arr_settings


@pytest.fixture(scope="module")
def world():
    return generate(seed=1, users=6, plays=200)


@pytest.fixture
def server(world, pms):
    """PlexServer as Marquee builds it (autoreload off, so nothing is fetched behind our back)."""
    return connect_server(PlexSettings(url=pms.url, token=world.owner_token, timeout_seconds=5))


def first(world, type_):
    return min((i for i in world.items.values() if i.type == type_), key=lambda i: i.rating_key)


def test_metadata_carries_the_agent_guids_without_being_asked(world, pms):
    movie, show, episode = first(world, "movie"), first(world, "show"), first(world, "episode")
    found = {}
    for item in (movie, show, episode):
        xml = requests.get(f"{pms.url}/library/metadata/{item.rating_key}",
                           headers={"X-Plex-Token": world.owner_token}, timeout=5).content
        found[item.type] = [g.get("id") for g in fromstring(xml)[0].iter("Guid")]
    assert found == {"movie": [f"imdb://{movie.imdb_id}", f"tmdb://{movie.tmdb_id}"],
                     "show": [f"tvdb://{show.tvdb_id}"], "episode": [f"tvdb://{episode.tvdb_id}"]}


def test_plexapi_parses_them_on_fetched_items(world, server):
    movie, show, episode = first(world, "movie"), first(world, "show"), first(world, "episode")
    fetched = server.fetchItem(movie.rating_key)
    assert isinstance(fetched, Movie)
    assert [g.id for g in fetched.guids] == [f"imdb://{movie.imdb_id}", f"tmdb://{movie.tmdb_id}"]
    assert agent_ids(fetched) == {"imdb": movie.imdb_id, "tmdb": movie.tmdb_id}
    assert isinstance(server.fetchItem(show.rating_key), Show)
    assert agent_ids(server.fetchItem(show.rating_key)) == {"tvdb": show.tvdb_id}
    assert isinstance(server.fetchItem(episode.rating_key), Episode)
    assert agent_ids(server.fetchItem(episode.rating_key)) == {"tvdb": episode.tvdb_id}


def test_listings_carry_them_because_plexapi_asks_with_include_guids(world, server, pms):
    pms.clear_log()
    shows = server.library.section("TV Shows").all()
    assert pms.requests_to("/library/sections/2/all")[0].query.get("includeGuids") == "1"
    by_key = {int(s.ratingKey): s for s in shows}
    assert all(agent_ids(s) == {"tvdb": world.items[k].tvdb_id} for k, s in by_key.items())
    episodes = shows[0].episodes()
    assert [agent_ids(e)["tvdb"] for e in episodes] == [world.items[int(e.ratingKey)].tvdb_id for e in episodes]


def test_music_has_no_agent_ids(world, server):
    assert agent_ids(server.fetchItem(first(world, "track").rating_key)) == {}
    assert agent_ids(server.fetchItem(first(world, "artist").rating_key)) == {}


@pytest.mark.parametrize("xml, expected", [
    ('<Video type="movie" ratingKey="9" guid="com.plexapp.agents.imdb://tt0111161?lang=en"/>', {"imdb": "tt0111161"}),
    ('<Video type="movie" ratingKey="9" guid="com.plexapp.agents.themoviedb://278?lang=en"/>', {"tmdb": 278}),
    ('<Directory type="show" ratingKey="9" guid="com.plexapp.agents.thetvdb://81189?lang=en"/>', {"tvdb": 81189}),
    # a legacy episode guid names the show (81189/1/2), not the episode: no episode id to give
    ('<Video type="episode" ratingKey="9" guid="com.plexapp.agents.thetvdb://81189/1/2?lang=en"/>', {}),
    ('<Video type="movie" ratingKey="9" guid="plex://movie/5d776"><Guid id="tmdb://0"/><Guid id="imdb://x1"/>'
     '<Guid id="tvdb://abc"/></Video>', {}),
    ('<Video type="movie" ratingKey="9" guid="com.plexapp.agents.imdb://tt1?lang=en"><Guid id="tmdb://5"/></Video>',
     {"tmdb": 5}),  # new-agent Guids win over the item's own legacy guid
])
def test_agent_ids_of_legacy_agents_and_junk(server, xml, expected):
    cls = Show if xml.startswith("<Directory") else (Episode if 'type="episode"' in xml else Movie)
    item = server._manuallyLoadXML(xml, cls)
    assert agent_ids(item) == expected


def test_plex_ids_lead_to_the_same_items_sonarr_and_radarr_hold(world, server, sonarr, radarr):
    """What media acting does: read the ids from Plex, then ask the app; every known item is found."""
    sc, rc = SonarrClient(arr_settings(sonarr)), RadarrClient(arr_settings(radarr))
    shows = sorted((i for i in world.items.values() if i.type == "show"), key=lambda i: i.rating_key)
    for show in shows[:6]:  # five Sonarr has (one with tvdb-less episodes) and one it lacks
        show_ids = agent_ids(server.fetchItem(show.rating_key))
        for plex_ep in server.fetchItem(show.rating_key).episodes():
            ids = agent_ids(plex_ep)
            target = sc.find_episode(tvdb_id=ids.get("tvdb"), show_tvdb_id=show_ids.get("tvdb"),
                                     season=plex_ep.parentIndex, episode=plex_ep.index)
            theirs = sonarr.episode_for(int(plex_ep.ratingKey))
            assert (target.item_id if target else None) == (theirs["id"] if theirs else None)
    assert any(sonarr.episode_for(e.rating_key) and sonarr.episode_for(e.rating_key)["tvdbId"] == 0
               for s in shows[:6] for e in world.leaves(s.rating_key))
    for plex_movie in server.library.section("Movies").all():
        ids = agent_ids(plex_movie)
        target = rc.find_movie(tmdb_id=ids.get("tmdb"), imdb_id=ids.get("imdb"))
        theirs = radarr.movie_for(int(plex_movie.ratingKey))
        assert (target.item_id if target else None) == (theirs["id"] if theirs else None)
    sc.close()
    rc.close()
