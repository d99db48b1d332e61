"""SonarrClient and RadarrClient over real HTTP against the sandboxes: lookups, the cascade steps, errors."""

from __future__ import annotations

import logging

import pytest
import requests

from pipeline.clients.arr import ArrBadResponse, ArrError, ArrTarget, ArrUnreachable, RadarrClient, SonarrClient
from pipeline.errors import BadResponse, ConfigError, Unreachable
from pipeline.sandbox.seed import generate
from pipeline.settings import ArrSettings
from tests.fixtures.arr_sandbox import arr_settings


@pytest.fixture(scope="module")
def world():
    return generate(seed=1, users=6, plays=200)


@pytest.fixture
def sc(sonarr):
    client = SonarrClient(arr_settings(sonarr))
    yield client
    client.close()


@pytest.fixture
def rc(radarr):
    client = RadarrClient(arr_settings(radarr))
    yield client
    client.close()


def of_type(world, type_):
    return sorted((i for i in world.items.values() if i.type == type_), key=lambda i: i.rating_key)


def episode_args(world, item):
    show = world.items[item.grandparent_rating_key]
    return dict(tvdb_id=item.tvdb_id, show_tvdb_id=show.tvdb_id, season=item.parent_index, episode=item.index)


def known_episode(world, sonarr, *, tvdb_zero=False):
    """A Plex episode Sonarr has, with (tvdb_zero) or without its tvdb id missing there."""
    return next(i for i in of_type(world, "episode")
                if (e := sonarr.episode_for(i.rating_key)) and (e["tvdbId"] == 0) == tvdb_zero)


# -- Sonarr lookups -----------------------------------------------------------------------------------------
def test_find_episode_by_its_tvdb_id(world, sonarr, sc):
    item = known_episode(world, sonarr)
    sonarr.clear_log()
    target = sc.find_episode(**episode_args(world, item))
    theirs = sonarr.episode_for(item.rating_key)
    show = world.items[item.grandparent_rating_key]
    assert target == ArrTarget("sonarr", theirs["id"], theirs["episodeFileId"],
                               f"{show.title} S{item.parent_index:02d}E{item.index:02d}", True)
    assert sonarr.calls == [("GET", "/api/v3/series"), ("GET", "/api/v3/episode")]
    assert [r.query for r in sonarr.requests] == [{"tvdbId": str(show.tvdb_id)},
                                                  {"seriesId": str(sonarr.series_for(show.rating_key)["id"])}]


def test_find_episode_falls_back_to_season_and_episode_numbers(world, sonarr, sc):
    item = known_episode(world, sonarr, tvdb_zero=True)
    target = sc.find_episode(**episode_args(world, item))
    assert target is not None and target.item_id == sonarr.episode_for(item.rating_key)["id"]
    # without the numbers, a tvdb id Sonarr does not have finds nothing
    assert sc.find_episode(**{**episode_args(world, item), "season": None, "episode": None}) is None


def test_find_episode_prefers_the_tvdb_id_over_the_numbers(world, sonarr, sc):
    a, b = [i for i in of_type(world, "episode") if sonarr.episode_for(i.rating_key)
            and sonarr.episode_for(i.rating_key)["tvdbId"]][:2]
    wrong_numbers = {**episode_args(world, a), "season": b.parent_index, "episode": b.index}
    assert sc.find_episode(**wrong_numbers).item_id == sonarr.episode_for(a.rating_key)["id"]


def test_episodes_of_a_show_sonarr_lacks_are_not_found(world, sonarr, sc):
    show = world.items[sonarr.data.left_out[0]]
    item = world.leaves(show.rating_key)[0]
    assert sc.find_episode(**episode_args(world, item)) is None
    sonarr.clear_log()
    assert sc.find_episode(tvdb_id=item.tvdb_id, show_tvdb_id=None, season=1, episode=1) is None
    assert sonarr.calls == []  # no show id: nothing to ask (v3 finds episodes only through their series)


# -- Sonarr steps ----------------------------------------------------------------------------------------------
def test_unmonitor_and_delete_touch_only_that_episode_and_repeat_safely(world, sonarr, sc):
    item = known_episode(world, sonarr)
    show_key = item.grandparent_rating_key
    target = sc.find_episode(**episode_args(world, item))
    sonarr.clear_log()
    for _ in range(2):  # a retry after a lost answer must converge, not fail
        sc.unmonitor(target)
        sc.delete_file(target)
    fid = target.file_id
    assert sonarr.calls == [("PUT", "/api/v3/episode/monitor"), ("DELETE", f"/api/v3/episodefile/{fid}")] * 2
    theirs = sonarr.episode_for(item.rating_key)
    assert (theirs["monitored"], theirs["hasFile"]) == (False, False)
    others = [sonarr.episode_for(i.rating_key) for i in world.leaves(show_key) if i.rating_key != item.rating_key]
    assert others and all(e["monitored"] and e["hasFile"] for e in others)
    assert sonarr.series_for(show_key)["monitored"] is True


def test_a_target_without_a_file_deletes_nothing(sonarr, sc):
    sonarr.clear_log()
    sc.delete_file(ArrTarget("sonarr", 1, None, "x", True))
    assert sonarr.calls == []


def test_unmonitoring_an_episode_sonarr_no_longer_has_is_an_error(sonarr, sc):
    with pytest.raises(ArrBadResponse, match=r"^Sonarr answered 404 to PUT /api/v3/episode/monitor: Episode"):
        sc.unmonitor(ArrTarget("sonarr", 99_999, None, "gone", True))


# -- Radarr ------------------------------------------------------------------------------------------------------
def test_find_movie_by_tmdb_id(world, radarr, rc):
    item = of_type(world, "movie")[0]
    radarr.clear_log()
    target = rc.find_movie(tmdb_id=item.tmdb_id, imdb_id=item.imdb_id)
    theirs = radarr.movie_for(item.rating_key)
    assert target == ArrTarget("radarr", theirs["id"], theirs["movieFile"]["id"], item.title, True,
                               tmdb_id=item.tmdb_id, year=item.year)
    assert radarr.calls == [("GET", "/api/v3/movie")] and radarr.requests[0].query == {"tmdbId": str(item.tmdb_id)}


def test_find_movie_by_imdb_id_lists_the_movies_once(world, radarr, rc):
    first, second = of_type(world, "movie")[1:3]
    radarr.clear_log()
    assert rc.find_movie(tmdb_id=None, imdb_id=first.imdb_id).item_id == radarr.movie_for(first.rating_key)["id"]
    assert rc.find_movie(tmdb_id=None, imdb_id=second.imdb_id).item_id == radarr.movie_for(second.rating_key)["id"]
    ids = [radarr.movie_for(m.rating_key)["id"] for m in (first, second)]
    assert radarr.calls == [("GET", "/api/v3/movie"), ("GET", f"/api/v3/movie/{ids[0]}"),
                            ("GET", f"/api/v3/movie/{ids[1]}")]
    assert radarr.requests[0].query == {}


def test_movies_radarr_lacks_are_not_found(world, radarr, rc):
    for key in radarr.data.left_out:
        item = world.items[key]
        assert rc.find_movie(tmdb_id=item.tmdb_id, imdb_id=item.imdb_id) is None
    assert rc.find_movie(tmdb_id=None, imdb_id=None) is None


def test_radarr_cascade_unmonitors_deletes_and_excludes_once_even_when_repeated(world, radarr, rc):
    item, neighbour = of_type(world, "movie")[:2]
    target = rc.find_movie(tmdb_id=item.tmdb_id, imdb_id=None)
    radarr.clear_log()
    for _ in range(2):
        rc.unmonitor(target)
        rc.delete_file(target)
        rc.add_exclusion(target)
    assert radarr.calls == [("PUT", "/api/v3/movie/editor"), ("DELETE", f"/api/v3/moviefile/{target.file_id}"),
                            ("POST", "/api/v3/exclusions")] * 2
    theirs = radarr.movie_for(item.rating_key)
    assert (theirs["monitored"], theirs["hasFile"], theirs["isExcluded"]) == (False, False, True)
    assert radarr.exclusions == [{"id": 1, "tmdbId": item.tmdb_id, "movieTitle": item.title, "movieYear": item.year}]
    assert radarr.movie_for(neighbour.rating_key)["monitored"] is True


def test_an_exclusion_radarr_rejects_for_another_reason_is_an_error(radarr, rc):
    with pytest.raises(ArrBadResponse, match="'Movie Title' must not be empty"):
        rc.add_exclusion(ArrTarget("radarr", 1, None, "", True, tmdb_id=42, year=2000))
    with pytest.raises(ArrBadResponse, match="no tmdb id"):
        rc.add_exclusion(ArrTarget("radarr", 1, None, "x", True))


# -- health ----------------------------------------------------------------------------------------------------------
def test_health_checks_status_and_collects_error_level_issues(sonarr, sc):
    sonarr.health_issues += [
        {"source": "IndexerStatusCheck", "type": "warning", "message": "Indexers unavailable", "wikiUrl": ""},
        {"source": "RootFolderCheck", "type": "error", "message": "Missing root\nfolder: /tv", "wikiUrl": ""}]
    sonarr.clear_log()
    sc.health()
    assert sonarr.calls == [("GET", "/api/v3/system/status"), ("GET", "/api/v3/health")]
    assert sc.warnings == ["Sonarr health: RootFolderCheck: Missing root folder: /tv"]


def test_health_knows_sonarr_from_radarr(radarr):
    client = SonarrClient(arr_settings(radarr))
    with pytest.raises(ArrBadResponse, match=r"answered GET /api/v3/system/status as Radarr; check SONARR_URL"):
        client.health()


def test_a_wrong_key_is_a_401_named_without_the_key(sonarr):
    wrong = "f" * 32
    client = SonarrClient(arr_settings(sonarr, api_key=wrong))
    with pytest.raises(ArrBadResponse) as caught:
        client.health()
    message = str(caught.value)
    assert message == "Sonarr rejected the API key (401 on GET /api/v3/system/status); check SONARR_API_KEY"
    assert isinstance(caught.value, BadResponse) and isinstance(caught.value, ArrError)


# -- faults: one line, the right class, never the key ---------------------------------------------------------------
FAULTS = [
    (dict(kind="down"), ArrUnreachable, r"^Sonarr at http://127\.0\.0\.1:\d+ is not reachable \(GET /api/v3/series: "
                                        r"the connection closed without an answer\); check SONARR_URL"),
    (dict(kind="status", status=500), ArrBadResponse, r"^Sonarr answered 500 to GET /api/v3/series$"),
    (dict(kind="status", status=302), ArrBadResponse, r"^Sonarr at \S+ redirected GET /api/v3/series \(302\)"),
    (dict(kind="slow", delay=1.5), ArrUnreachable, r"^Sonarr at \S+ did not answer GET /api/v3/series within 0.3 s"),
    (dict(kind="malformed"), ArrBadResponse, r"^Sonarr sent malformed JSON for GET /api/v3/series; check SONARR_URL"),
]


@pytest.mark.parametrize("fault, error, pattern", FAULTS, ids=[f[0]["kind"] + str(f[0].get("status", ""))
                                                               for f in FAULTS])
def test_each_fault_is_one_line_of_the_right_kind(world, sonarr, fault, error, pattern, caplog):
    caplog.set_level(logging.DEBUG)
    client = SonarrClient(arr_settings(sonarr, timeout_seconds=0.3))
    show = world.items[next(iter(sonarr.data.series_by_rk))]
    sonarr.fail(path="/api/v3/series", **fault)
    with pytest.raises(error, match=pattern) as caught:
        client.find_episode(tvdb_id=None, show_tvdb_id=show.tvdb_id, season=1, episode=1)
    message = str(caught.value)
    assert "\n" not in message and sonarr.api_key not in message
    assert isinstance(caught.value, Unreachable if error is ArrUnreachable else BadResponse)
    assert sonarr.api_key not in caplog.text
    sonarr.heal()
    assert client.find_episode(tvdb_id=None, show_tvdb_id=show.tvdb_id, season=1, episode=1) is not None


def test_a_server_that_is_gone_is_unreachable(world):
    from pipeline.sandbox.arr import RadarrSandbox

    with RadarrSandbox(world) as server:
        settings = arr_settings(server)
    client = RadarrClient(settings)
    with pytest.raises(ArrUnreachable, match=r"^Radarr at \S+ is not reachable \(GET /api/v3/system/status: "
                                             r"connection refused\); check RADARR_URL"):
        client.health()


def test_a_failing_delete_is_an_error_not_already_done(world, radarr, rc):
    target = rc.find_movie(tmdb_id=of_type(world, "movie")[0].tmdb_id, imdb_id=None)
    radarr.fail("status", status=500, path="/api/v3/moviefile")
    with pytest.raises(ArrBadResponse, match=rf"^Radarr answered 500 to DELETE /api/v3/moviefile/{target.file_id}$"):
        rc.delete_file(target)


# -- the key -------------------------------------------------------------------------------------------------------
def test_the_key_travels_in_the_header_only(world, sonarr, radarr, caplog):
    caplog.set_level(logging.DEBUG)
    session = requests.Session()
    sc, rc = SonarrClient(arr_settings(sonarr), session), RadarrClient(arr_settings(radarr), session)
    sc.health()
    rc.health()
    item = next(i for i in of_type(world, "episode") if sonarr.episode_for(i.rating_key))
    sc.unmonitor(sc.find_episode(**episode_args(world, item)))
    movie = of_type(world, "movie")[0]
    rc.add_exclusion(rc.find_movie(tmdb_id=None, imdb_id=movie.imdb_id))
    assert sonarr.keys_in_urls == radarr.keys_in_urls == 0
    assert len(sonarr.calls) == 5 and len(radarr.calls) == 5  # all answered: the header was there
    assert "X-Api-Key" not in session.headers  # a shared session never carries either key
    assert sonarr.api_key not in caplog.text and radarr.api_key not in caplog.text
    sc.close()
    rc.close()


def test_an_unconfigured_app_is_a_config_error():
    with pytest.raises(ConfigError, match="set RADARR_URL and RADARR_API_KEY"):
        RadarrClient(ArrSettings())
