"""The Sonarr and Radarr sandboxes, driven with plain requests over loopback as the v3 APIs are documented."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests

from pipeline.sandbox.arr import RadarrSandbox, SonarrSandbox
from pipeline.sandbox.arr_seed import api_key
from pipeline.sandbox.seed import generate
from pipeline.sandbox.world import Item


@pytest.fixture(scope="module")
def world():
    return generate(seed=1, users=6, plays=200)


def api(server, method, route, *, key=None, **kw):
    headers = {"X-Api-Key": server.api_key if key is None else key}
    return requests.request(method, f"{server.url}/api/v3/{route}", headers=headers, timeout=5, **kw)


def shows(world):
    return sorted((i for i in world.items.values() if i.type == "show"), key=lambda i: i.rating_key)


def movies(world):
    return sorted((i for i in world.items.values() if i.type == "movie"), key=lambda i: i.rating_key)


# -- authentication, status, routing ---------------------------------------------------------------------
@pytest.mark.parametrize("cls, app", [(SonarrSandbox, "Sonarr"), (RadarrSandbox, "Radarr")])
def test_only_the_x_api_key_header_is_accepted(world, cls, app):
    with cls(world) as server:
        assert server.api_key == api_key(world, app.lower()) and len(server.api_key) == 32
        bare = requests.get(f"{server.url}/api/v3/system/status", timeout=5)
        wrong = api(server, "GET", "system/status", key="0" * 32)
        in_url = requests.get(f"{server.url}/api/v3/system/status", params={"apikey": server.api_key}, timeout=5)
        assert [r.status_code for r in (bare, wrong, in_url)] == [401, 401, 401]
        assert bare.content == b"" and server.keys_in_urls == 1
        ok = api(server, "GET", "system/status")
        assert ok.status_code == 200 and ok.json()["appName"] == app
        assert ok.json()["version"] == server.version
        # the key is kept out of the request log, whichever way it came
        assert server.api_key not in repr(server.requests)


@pytest.mark.parametrize("cls", [SonarrSandbox, RadarrSandbox])
def test_health_lists_the_issues_a_test_adds(world, cls):
    with cls(world) as server:
        assert api(server, "GET", "health").json() == []
        server.health_issues.append({"source": "RootFolderCheck", "type": "error",
                                     "message": "Missing root folder: /data/media", "wikiUrl": ""})
        assert api(server, "GET", "health").json() == [{"id": 1, **server.health_issues[0]}]


def test_unknown_routes_404_wrong_methods_405_and_bad_queries_400(sonarr):
    assert api(sonarr, "GET", "nothing").status_code == 404
    assert api(sonarr, "DELETE", "series").status_code == 405
    assert api(sonarr, "GET", "episode").status_code == 400
    assert api(sonarr, "GET", "episode", params={"seriesId": "x"}).status_code == 400
    assert api(sonarr, "GET", "SERIES/").status_code == 200  # ASP.NET routing ignores case and a trailing slash
    form = api(sonarr, "PUT", "episode/monitor", data={"episodeIds": 1, "monitored": "false"})
    assert form.status_code == 415 and sonarr.data.episodes[1]["monitored"] is True


# -- Sonarr -------------------------------------------------------------------------------------------------
def test_sonarr_has_a_series_per_show_except_every_sixth(world, sonarr):
    all_shows = shows(world)
    assert sonarr.data.left_out == [s.rating_key for n, s in enumerate(all_shows) if n % 6 == 5]
    assert len(sonarr.data.left_out) == 2
    listed = api(sonarr, "GET", "series").json()
    assert [(s["title"], s["tvdbId"]) for s in listed] == [
        (s.title, s.tvdb_id) for s in all_shows if s.rating_key not in sonarr.data.left_out]
    for show in all_shows:
        found = api(sonarr, "GET", "series", params={"tvdbId": show.tvdb_id}).json()
        if show.rating_key in sonarr.data.left_out:
            assert found == [] and sonarr.series_for(show.rating_key) is None
        else:
            assert [s["id"] for s in found] == [sonarr.series_for(show.rating_key)["id"]]
            assert found[0]["monitored"] is True and sonarr.episode_for(show.rating_key) is None
            assert found[0]["statistics"]["episodeFileCount"] == len(world.leaves(show.rating_key))


def test_sonarr_episodes_and_files_mirror_the_plex_episodes(world, sonarr):
    show = shows(world)[0]
    series = sonarr.series_for(show.rating_key)
    episodes = api(sonarr, "GET", "episode", params={"seriesId": series["id"]}).json()
    leaves = world.leaves(show.rating_key)
    assert [(e["seasonNumber"], e["episodeNumber"]) for e in episodes] == [(i.parent_index, i.index) for i in leaves]
    assert all(e["monitored"] and e["hasFile"] and e["seriesId"] == series["id"] for e in episodes)
    files = {f["id"]: f for f in api(sonarr, "GET", "episodefile", params={"seriesId": series["id"]}).json()}
    for ep, item in zip(episodes, leaves):
        assert ep["tvdbId"] in (item.tvdb_id, 0)
        assert (files[ep["episodeFileId"]]["path"], files[ep["episodeFileId"]]["size"]) == (item.file, item.size_bytes)
    season_one = api(sonarr, "GET", "episode", params={"seriesId": series["id"], "seasonNumber": 1}).json()
    assert {e["seasonNumber"] for e in season_one} == {1} and 0 < len(season_one) <= len(episodes)


def test_every_ninth_known_episode_has_no_tvdb_id_in_sonarr(world, sonarr):
    known = [e for e in sorted(sonarr.data.episodes.values(), key=lambda e: e["id"])]
    zero = [e["id"] for e in known if e["tvdbId"] == 0]
    assert zero == [e["id"] for n, e in enumerate(known) if n % 9 == 4] and zero


def test_unmonitoring_one_episode_leaves_the_series_and_its_other_episodes_alone(world, sonarr):
    show = shows(world)[0]
    first, second = world.leaves(show.rating_key)[:2]
    eid = sonarr.episode_for(first.rating_key)["id"]
    answer = api(sonarr, "PUT", "episode/monitor", json={"episodeIds": [eid], "monitored": False})
    assert answer.status_code == 202 and [(e["id"], e["monitored"]) for e in answer.json()] == [(eid, False)]
    assert sonarr.episode_for(first.rating_key)["monitored"] is False
    assert sonarr.episode_for(second.rating_key)["monitored"] is True
    assert sonarr.series_for(show.rating_key)["monitored"] is True
    assert api(sonarr, "PUT", "episode/monitor", json={"episodeIds": [99_999], "monitored": False}).status_code == 404
    back = api(sonarr, "PUT", f"episode/{eid}", json={"monitored": True})
    assert back.status_code == 202 and back.json()["monitored"] is True


def test_deleting_an_episode_file_twice_is_200_then_404(world, sonarr):
    item = world.leaves(shows(world)[0].rating_key)[2]
    before = sonarr.episode_for(item.rating_key)
    first = api(sonarr, "DELETE", f"episodefile/{before['episodeFileId']}")
    again = api(sonarr, "DELETE", f"episodefile/{before['episodeFileId']}")
    assert (first.status_code, again.status_code) == (200, 404)
    assert again.json() == {"message": "Episode file not found"}
    after = sonarr.episode_for(item.rating_key)
    assert (after["hasFile"], after["episodeFileId"], after["monitored"]) == (False, 0, True)
    assert api(sonarr, "GET", f"episodefile/{before['episodeFileId']}").status_code == 404


def test_calls_are_method_and_path_in_order(sonarr):
    sonarr.clear_log()
    api(sonarr, "GET", "series", params={"tvdbId": 1})
    api(sonarr, "PUT", "episode/monitor", json={"episodeIds": [1], "monitored": False})
    api(sonarr, "DELETE", "episodefile/1")
    assert sonarr.calls == [("GET", "/api/v3/series"), ("PUT", "/api/v3/episode/monitor"),
                            ("DELETE", "/api/v3/episodefile/1")]
    assert sonarr.requests[0].query == {"tvdbId": "1"}
    assert json.loads(sonarr.requests[1].body) == {"episodeIds": [1], "monitored": False}


# -- Radarr ---------------------------------------------------------------------------------------------------
def test_radarr_has_a_movie_per_plex_movie_except_every_tenth(world, radarr):
    all_movies = movies(world)
    assert radarr.data.left_out == [m.rating_key for n, m in enumerate(all_movies) if n % 10 == 9]
    listed = {m["tmdbId"]: m for m in api(radarr, "GET", "movie").json()}
    for item in all_movies:
        found = api(radarr, "GET", "movie", params={"tmdbId": item.tmdb_id}).json()
        if item.rating_key in radarr.data.left_out:
            assert found == [] and item.tmdb_id not in listed
            continue
        (movie,) = found
        assert (movie["title"], movie["year"], movie["imdbId"], movie["monitored"], movie["hasFile"]) == (
            item.title, item.year, item.imdb_id, True, True)
        assert (movie["movieFile"]["path"], movie["movieFile"]["size"]) == (item.file, item.size_bytes)
        assert movie["movieFileId"] == movie["movieFile"]["id"] and listed[item.tmdb_id] == movie
        assert api(radarr, "GET", f"movie/{movie['id']}").json() == movie


def test_radarr_editor_unmonitors_only_the_movies_named(world, radarr):
    a, b = (radarr.movie_for(m.rating_key) for m in movies(world)[:2])
    answer = api(radarr, "PUT", "movie/editor", json={"movieIds": [a["id"]], "monitored": False})
    assert answer.status_code == 202 and [(m["id"], m["monitored"]) for m in answer.json()] == [(a["id"], False)]
    assert radarr.movie_for(movies(world)[1].rating_key)["monitored"] is True
    assert api(radarr, "PUT", "movie/editor", json={"movieIds": [99_999], "monitored": False}).json() == []
    back = api(radarr, "PUT", f"movie/{a['id']}", json={**a, "monitored": True})
    assert back.status_code == 202 and back.json()["monitored"] is True and b["monitored"] is True


def test_deleting_a_movie_file_keeps_the_movie_without_its_file(world, radarr):
    item = movies(world)[3]
    movie = radarr.movie_for(item.rating_key)
    fid = movie["movieFile"]["id"]
    codes = [api(radarr, "DELETE", f"moviefile/{fid}").status_code for _ in range(2)]
    assert codes == [200, 404]
    after = radarr.movie_for(item.rating_key)
    assert (after["hasFile"], after["movieFileId"], after["sizeOnDisk"], "movieFile" in after) == (False, 0, 0, False)
    assert after["monitored"] is True
    assert api(radarr, "GET", "moviefile", params={"movieId": movie["id"]}).json() == []


def test_exclusions_are_added_once_and_a_repeat_is_a_400(world, radarr):
    item = movies(world)[4]
    payload = {"tmdbId": item.tmdb_id, "movieTitle": item.title, "movieYear": item.year}
    added = api(radarr, "POST", "exclusions", json=payload)
    assert added.status_code == 201 and added.json() == {"id": 1, **payload}
    repeat = api(radarr, "POST", "exclusions", json=payload)
    assert repeat.status_code == 400
    assert repeat.json()[0]["errorMessage"] == "This exclusion has already been added."
    untitled = api(radarr, "POST", "exclusions", json={"tmdbId": 7, "movieTitle": "", "movieYear": 2000})
    assert untitled.status_code == 400 and untitled.json()[0]["propertyName"] == "MovieTitle"
    assert api(radarr, "GET", "exclusions").json() == [{"id": 1, **payload}] == radarr.exclusions
    assert radarr.movie_for(item.rating_key)["isExcluded"] is True
    assert api(radarr, "DELETE", "exclusions/1").status_code == 200 and radarr.exclusions == []


def test_faults_apply_as_in_every_sandbox(radarr):
    radarr.fail("status", status=503, path="/api/v3/movie", times=1)
    assert api(radarr, "GET", "movie").status_code == 503
    assert api(radarr, "GET", "movie").status_code == 200
    radarr.fail("malformed", path="/api/v3/movie")
    with pytest.raises(ValueError):
        api(radarr, "GET", "movie").json()
    radarr.heal()
    assert api(radarr, "GET", "movie").json()


def test_sync_adds_what_the_world_gained_and_keeps_state(world):
    world = generate(seed=1, users=6, plays=200)
    with SonarrSandbox(world) as server:
        show = shows(world)[0]
        last = world.leaves(show.rating_key)[-1]
        server.data.episodes[server.episode_for(last.rating_key)["id"]]["monitored"] = False
        new = Item(rating_key=99_001, section_id=last.section_id, type="episode", title="New one",
                   added_at=world.now, updated_at=world.now, parent_rating_key=last.parent_rating_key,
                   grandparent_rating_key=show.rating_key, index=(last.index or 0) + 1,
                   parent_index=last.parent_index, size_bytes=123, file="/data/media/TV/new.mkv")
        world.items[new.rating_key] = new
        server.data.sync()
        added = server.episode_for(new.rating_key)
        assert (added["episodeNumber"], added["hasFile"], added["monitored"]) == (new.index, True, True)
        assert server.episode_for(last.rating_key)["monitored"] is False


def test_the_sandbox_cli_serves_sonarr_and_radarr_too(tmp_path):
    info_file = tmp_path / "info.json"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.sandbox", "--users", "4", "--plays", "50",
                             "--info-file", str(info_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not info_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert info_file.exists(), proc.stderr.read().decode() if proc.poll() is not None else "no info file"
        info = json.loads(info_file.read_text())
        for app in ("sonarr", "radarr"):
            answer = requests.get(f"{info[app + '_url']}/api/v3/system/status",
                                  headers={"X-Api-Key": info[app + "_api_key"]}, timeout=5)
            assert answer.json()["appName"] == app.capitalize()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
