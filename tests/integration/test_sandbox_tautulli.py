"""The sandbox Tautulli over real HTTP: the envelope, errors, paging, filters and stats Marquee relies on."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import requests

from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox

DAY = 86_400


@pytest.fixture(scope="module")
def world():
    return generate(seed=1)


@pytest.fixture(scope="module")
def server(world):
    with TautulliSandbox(world) as t:
        yield t


@pytest.fixture
def call(server, world):
    def call(cmd: str, method: str = "GET", apikey: str | None = None, **params: object):
        query = {"apikey": apikey or world.tautulli_api_key, "cmd": cmd}
        if method == "POST":
            r = requests.post(f"{server.url}/api/v2", params=query, data=params, timeout=30)
        else:
            r = requests.get(f"{server.url}/api/v2", params={**query, **params}, timeout=30)
        return r.status_code, r.json()["response"]
    return call


def history(call, **params) -> dict:
    status, body = call("get_history", **params)
    assert status == 200 and body["result"] == "success", body
    return body["data"]


def all_rows(call, **params) -> list[dict]:
    return history(call, length=10**9, **params)["data"]


def by_note(world, note):
    return next(u for u in world.users if u.note == note)


# -- envelope and errors ------------------------------------------------------------------------------

def test_envelope(call):
    status, body = call("get_history")
    assert status == 200
    assert set(body) == {"result", "message", "data"}
    assert body["result"] == "success" and body["message"] is None
    assert set(body["data"]) == {"recordsFiltered", "recordsTotal", "draw", "filter_duration", "total_duration",
                                 "data"}
    assert len(body["data"]["data"]) == 25


def test_post_works_like_get(call):
    assert call("get_history", method="POST", length=3, grouping=0)[1]["data"] == \
        call("get_history", length=3, grouping=0)[1]["data"]


def test_wrong_key(call):
    status, body = call("get_history", apikey="x" * 32)
    assert (status, body["result"], body["message"]) == (400, "error", "Invalid apikey")


def test_missing_key(server):
    r = requests.get(f"{server.url}/api/v2", params={"cmd": "get_history"}, timeout=10)
    assert r.status_code == 400
    assert r.json()["response"]["message"] == "Parameter apikey is required"


def test_unknown_command(call):
    status, body = call("get_everything")
    assert status == 400 and body["result"] == "error"
    assert body["message"].startswith("Unknown command: get_everything. Possible commands are: ")
    assert "get_history" in body["message"] and "arnold" in body["message"]


def test_a_crashing_parameter_is_a_500(call):
    status, body = call("get_history", start="abc")
    assert (status, body["result"], body["message"], body["data"]) == (500, "error", "Check the logs for errors", {})


@pytest.mark.parametrize("params", [{"after": "abc"}, {"start_date": "16/11/2026"}, {"user_id": "abc"}])
def test_bad_filters_give_no_rows(call, params):
    data = history(call, **params)
    assert data["recordsFiltered"] == 0 and data["data"] == []
    assert data["recordsTotal"] == 6000


def test_v1_api_answers_200_with_an_error(server):
    r = requests.get(f"{server.url}/api", params={"cmd": "get_history"}, timeout=10)
    assert r.status_code == 200 and r.json()["response"]["result"] == "error"


def test_the_key_never_reaches_the_request_log(server, world, call):
    server.clear_log()
    call("arnold")
    logged = server.requests_to("/api/v2")
    assert logged and all(world.tautulli_api_key not in repr(r) for r in logged)


# -- paging ----------------------------------------------------------------------------------------------

def test_pages_cover_every_row_once(call, world):
    seen = []
    for start in range(0, 6000, 1000):
        seen += [r["id"] for r in history(call, grouping=0, start=start, length=1000)["data"]]
    assert sorted(seen) == list(range(1, 6001))
    started = [r["started"] for r in all_rows(call, grouping=0)]
    assert started == sorted(started, reverse=True)


def test_past_the_end(call):
    data = history(call, grouping=0, start=6000, length=50)
    assert data["data"] == [] and data["recordsFiltered"] == 6000 and data["recordsTotal"] == 6000


def test_length_minus_one_drops_the_last_row(call):
    rows = history(call, grouping=0, length=-1)["data"]
    assert len(rows) == 5999
    assert 1 not in {r["id"] for r in rows}  # newest first, so the oldest row is the one lost


def test_no_upper_limit_on_length(call):
    assert len(history(call, grouping=0, length=100000)["data"]) == 6000


def test_order_ascending_and_unknown_columns(call):
    rows = history(call, grouping=0, order_dir="asc", length=10)["data"]
    assert [r["id"] for r in rows] == list(range(1, 11))
    rows = history(call, grouping=0, order_column="watched_status", length=10)["data"]
    assert [r["id"] for r in rows] == list(range(1, 11))  # no valid column: no ORDER BY at all
    rows = all_rows(call, grouping=0, order_column="friendly_name", order_dir="asc")
    names = [r["friendly_name"] for r in rows]
    assert names == sorted(names, key=lambda n: n.lower())


# -- rows ---------------------------------------------------------------------------------------------------

def test_row_fields(call, world):
    row = history(call, grouping=0, length=1)["data"][0]
    expected = {"reference_id", "row_id", "id", "date", "started", "stopped", "duration", "play_duration",
                "paused_counter", "user_id", "user", "friendly_name", "user_thumb", "platform", "product", "player",
                "ip_address", "live", "machine_id", "location", "secure", "relayed", "media_type", "rating_key",
                "parent_rating_key", "grandparent_rating_key", "full_title", "title", "parent_title",
                "grandparent_title", "original_title", "year", "media_index", "parent_media_index", "thumb",
                "originally_available_at", "guid", "transcode_decision", "percent_complete", "watched_status",
                "group_count", "group_ids", "state", "session_key"}
    assert set(row) == expected
    cols = world.plays.cols
    n = row["id"] - 1
    assert row["started"] == cols["started"][n] and row["stopped"] == cols["stopped"][n]
    assert row["play_duration"] == cols["stopped"][n] - cols["started"][n] - cols["paused"][n]
    assert row["ip_address"].startswith(("10.", "192.168."))


def test_movies_have_empty_strings_for_parents_and_raw_titles(call, world):
    script = next(i for i in world.items.values() if i.title == "<script>alert(1)</script>")
    rows = all_rows(call, grouping=0, rating_key=script.rating_key)
    assert rows, "the script movie was played"
    row = rows[0]
    assert row["title"] == row["full_title"] == "<script>alert(1)</script>"
    assert (row["parent_rating_key"], row["grandparent_rating_key"], row["media_index"],
            row["parent_media_index"]) == ("", "", "", "")
    tom = next(i for i in world.items.values() if i.title == "Tom & Jerry")
    assert all(r["title"] == "Tom & Jerry" for r in all_rows(call, grouping=0, rating_key=tom.rating_key))


def test_episode_rows(call, world):
    row = history(call, grouping=0, media_type="episode", length=1)["data"][0]
    item = world.items[row["rating_key"]]
    assert row["full_title"] == f"{item.grandparent_title} - {item.title}"
    assert (row["parent_rating_key"], row["grandparent_rating_key"]) == \
        (item.parent_rating_key, item.grandparent_rating_key)
    assert (row["media_index"], row["parent_media_index"]) == (item.index, item.parent_index)


def test_watched_status_and_percent_come_through(call, world):
    cols = world.plays.cols
    for row in all_rows(call, grouping=0)[:500]:
        n = row["id"] - 1
        assert row["percent_complete"] == cols["percent"][n]
        assert row["watched_status"] == pytest.approx(float(cols["watched_status"][n]))


def test_blank_friendly_name_falls_back_to_username(call, world):
    user = by_note(world, "blank name")
    rows = all_rows(call, grouping=0, user_id=user.user_id)
    assert rows and {r["friendly_name"] for r in rows} == {user.username}
    listed = next(u for u in call("get_users")[1]["data"] if u["user_id"] == user.user_id)
    assert listed["friendly_name"] == user.friendly_name  # untrimmed whitespace


# -- filters -----------------------------------------------------------------------------------------------

def test_user_filters(call, world):
    user = by_note(world, "idle 27d")
    cols = world.plays.cols
    expected = int((cols["user_id"] == user.user_id).sum())
    data = history(call, grouping=0, user_id=user.user_id, length=0)
    assert data["recordsFiltered"] == expected and data["recordsTotal"] == 6000
    assert history(call, grouping=0, user=user.username, length=0)["recordsFiltered"] == expected
    assert history(call, grouping=0, user=user.friendly_name, length=0)["recordsFiltered"] == 0
    other = by_note(world, "idle 10d")
    both = history(call, grouping=0, user_id=f"{user.user_id}, {other.user_id}", length=0)["recordsFiltered"]
    assert both == expected + int((cols["user_id"] == other.user_id).sum())


def test_item_filters(call, world):
    cols = world.plays.cols
    items = world.items
    types = Counter(items[k].type for k in cols["rating_key"].tolist())
    assert history(call, grouping=0, media_type="movie,track", length=0)["recordsFiltered"] == \
        types["movie"] + types["track"]
    sections = Counter(items[k].section_id for k in cols["rating_key"].tolist())
    assert history(call, grouping=0, section_id=2, length=0)["recordsFiltered"] == sections[2]
    episode = next(items[k] for k in cols["rating_key"].tolist() if items[k].type == "episode")
    for name, key in (("parent_rating_key", episode.parent_rating_key),
                      ("grandparent_rating_key", episode.grandparent_rating_key)):
        rows = all_rows(call, grouping=0, **{name: key})
        expected = sum(1 for k in cols["rating_key"].tolist() if getattr(items[k], name) == key)
        assert len(rows) == expected and all(r[name] == key for r in rows)


def test_dates_are_inclusive_local_days(call, world):
    zone = ZoneInfo(world.timezone)
    local = Counter(datetime.fromtimestamp(t, zone).date().isoformat() for t in world.plays.cols["started"].tolist())
    day = "2026-10-31"
    assert history(call, grouping=0, start_date=day, length=0)["recordsFiltered"] == local[day]
    assert history(call, grouping=0, after=day, before=day, length=0)["recordsFiltered"] == local[day]
    week = [f"2026-10-{d:02d}" for d in range(25, 32)]
    assert history(call, grouping=0, after=week[0], before=week[-1], length=0)["recordsFiltered"] == \
        sum(local[d] for d in week)
    assert history(call, grouping=0, after="2026-11-01", length=0)["recordsFiltered"] == \
        sum(n for d, n in local.items() if d >= "2026-11-01")
    # A play just after local midnight belongs to that local day, not to the UTC one.
    rows = all_rows(call, grouping=0, start_date=day)
    assert all(datetime.fromtimestamp(r["started"], zone).date().isoformat() == day for r in rows)


# -- grouping -----------------------------------------------------------------------------------------

def test_grouping_joins_resumed_sessions(call, world):
    cols = world.plays.cols
    joined = int((cols["reference_id"] != cols["id"]).sum())
    assert history(call, length=0)["recordsFiltered"] == 6000 - joined
    assert history(call, grouping=1, length=0)["recordsFiltered"] == 6000 - joined
    second = int(np.flatnonzero(cols["reference_id"] != cols["id"])[0])
    first = int(cols["reference_id"][second]) - 1
    rows = all_rows(call, grouping=1, user_id=int(cols["user_id"][second]))
    row = next(r for r in rows if r["reference_id"] == first + 1)
    assert row["group_count"] == 2 and row["group_ids"] == f"{first + 1},{second + 1}"
    assert row["started"] == cols["started"][first] and row["date"] == cols["started"][second]
    assert row["row_id"] == second + 1
    assert row["play_duration"] == sum(int(cols["stopped"][i] - cols["started"][i] - cols["paused"][i])
                                       for i in (first, second))
    assert row["percent_complete"] == max(cols["percent"][first], cols["percent"][second])


# -- users and libraries ---------------------------------------------------------------------------------

def test_get_users(call, world):
    users = call("get_users")[1]["data"]
    ids = {u["user_id"] for u in users}
    assert 0 in ids  # Local
    assert by_note(world, "deleted").user_id not in ids
    assert by_note(world, "pending").user_id not in ids
    assert world.owner.user_id in ids
    assert "last_seen" not in users[0]
    deleted = by_note(world, "deleted")
    assert {r["user"] for r in all_rows(call, grouping=0, user_id=deleted.user_id)} == {deleted.username}


def test_get_users_table(call, world):
    status, body = call("get_users_table", length=100)
    assert status == 200
    rows = {r["user_id"]: r for r in body["data"]["data"]}
    cols = world.plays.cols
    for uid in (world.owner.user_id, by_note(world, "idle 30d").user_id):
        mine = cols["user_id"] == uid
        assert rows[uid]["last_seen"] == cols["started"][mine].max()
        assert rows[uid]["plays"] == len(np.unique(cols["reference_id"][mine]))
    assert rows[by_note(world, "never watched").user_id]["last_seen"] is None
    names = [r["friendly_name"] for r in body["data"]["data"]]
    assert names == sorted(names, key=str.lower, reverse=True)  # default: friendly_name desc


def test_get_user(call, world):
    user = by_note(world, "idle 45d")
    data = call("get_user", user_id=user.user_id, include_last_seen=1)[1]["data"]
    assert data["username"] == user.username and data["last_seen"] == world.now - 45 * DAY
    assert call("get_user", user_id="abc")[1]["data"]["username"] == "Local"


def test_libraries(call, world):
    libs = call("get_libraries")[1]["data"]
    assert [lib["section_name"] for lib in libs] == ["Movies", "TV Shows", "Music"]
    movies = sum(1 for i in world.items.values() if i.type == "movie")
    assert libs[0]["count"] == str(movies)
    names = call("get_library_names")[1]["data"]
    assert {n["section_id"] for n in names} == {1, 2, 3}
    table = call("get_libraries_table")[1]["data"]
    assert table["recordsTotal"] == 3
    assert sum(r["plays"] for r in table["data"]) == history(call, length=0)["recordsFiltered"]


def test_recently_added(call, world):
    rows = call("get_recently_added", count=5)[1]["data"]["recently_added"]
    added = [int(r["added_at"]) for r in rows]
    assert len(rows) == 5 and added == sorted(added, reverse=True)
    assert added[0] == max(i.added_at for i in world.items.values() if i.type in ("movie", "episode", "album"))
    movies = call("get_recently_added", count=3, media_type="movie")[1]["data"]["recently_added"]
    assert {r["media_type"] for r in movies} == {"movie"}
    assert call("get_recently_added")[1]["data"] == {"recently_added": []}  # count defaults to 0


def test_plex_down(world):
    with TautulliSandbox(world) as t:
        t.plex_connected = False
        q = {"apikey": world.tautulli_api_key}
        body = requests.get(f"{t.url}/api/v2", params={**q, "cmd": "get_libraries"}, timeout=10).json()["response"]
        assert (body["result"], body["data"]) == ("success", [])
        body = requests.get(f"{t.url}/api/v2", params={**q, "cmd": "get_recently_added", "count": 5},
                            timeout=10).json()["response"]
        assert body["data"] == {"recently_added": []}


# -- home stats ----------------------------------------------------------------------------------------

def sessions_since(world, seconds):
    """Tautulli's inner query, done by hand: rows stopped in the window, grouped by reference_id."""
    cols = world.plays.cols
    keep = cols["stopped"] >= world.now - seconds
    groups = defaultdict(list)
    for n in np.flatnonzero(keep).tolist():
        groups[int(cols["reference_id"][n])].append(n)
    return cols, groups


def test_home_stats_shape(call):
    stats = call("get_home_stats")[1]["data"]
    ids = [s["stat_id"] for s in stats]
    for card in ("top_movies", "popular_movies", "top_tv", "popular_tv", "top_music", "top_users",
                 "top_platforms", "most_concurrent"):
        assert card in ids
    top = next(s for s in stats if s["stat_id"] == "top_movies")
    assert top["stat_type"] == "total_plays" and 0 < len(top["rows"]) <= 10
    assert "stat_type" not in next(s for s in stats if s["stat_id"] == "popular_movies")
    single = call("get_home_stats", stat_id="top_users", stats_count=3)[1]["data"]
    assert single["stat_id"] == "top_users" and len(single["rows"]) == 3


def test_top_users_match_the_raw_plays(call, world):
    cols, groups = sessions_since(world, 30 * DAY)
    plays, duration = Counter(), Counter()
    for members in groups.values():
        uid = int(cols["user_id"][members[-1]])
        plays[uid] += 1
        duration[uid] += sum(int(cols["stopped"][n] - cols["started"][n] - cols["paused"][n]) for n in members)
    rows = call("get_home_stats", stat_id="top_users", stats_count=100)[1]["data"]["rows"]
    assert {r["user_id"]: r["total_plays"] for r in rows} == dict(plays)
    assert [r["total_plays"] for r in rows] == sorted(plays.values(), reverse=True)
    by_duration = call("get_home_stats", stat_id="top_users", stats_count=100, stats_type="duration",
                       time_range=30)[1]["data"]
    assert by_duration["stat_type"] == "total_duration"
    assert {r["user_id"]: r["total_duration"] for r in by_duration["rows"]} == dict(duration)


def test_top_movies_and_shows_match_the_raw_plays(call, world):
    cols, groups = sessions_since(world, 90 * DAY)
    movies, shows, show_users = Counter(), Counter(), defaultdict(set)
    for members in groups.values():
        item = world.items[int(cols["rating_key"][members[-1]])]
        if item.type == "movie":
            movies[(item.title, item.year)] += 1
        elif item.type == "episode":
            shows[item.grandparent_title] += 1
            show_users[item.grandparent_title].add(int(cols["user_id"][members[-1]]))
    stats = {s["stat_id"]: s for s in call("get_home_stats", time_range=90, stats_count=1000)[1]["data"]}
    assert {(r["title"], r["year"]): r["total_plays"] for r in stats["top_movies"]["rows"]} == dict(movies)
    assert {r["title"]: r["total_plays"] for r in stats["top_tv"]["rows"]} == dict(shows)
    popular = stats["popular_tv"]["rows"]
    assert {r["title"]: r["users_watched"] for r in popular} == {k: len(v) for k, v in show_users.items()}
    assert [r["users_watched"] for r in popular] == sorted((len(v) for v in show_users.values()), reverse=True)


def test_most_concurrent_matches_tautullis_sweep(call, world):
    cols = world.plays.cols
    keep = np.flatnonzero(cols["stopped"] >= world.now - 30 * DAY)
    times = sorted([(f"{cols['started'][n]}B", 1) for n in keep] + [(f"{cols['stopped'][n]}A", -1) for n in keep])
    count = last_count = 0
    last_start = ""
    best = {}
    for t, d in times:  # calc_most_concurrent, as written in Tautulli
        if d == 1:
            count += 1
            if count >= last_count:
                last_start = t
        else:
            if count >= last_count:
                last_count = count
                best = {"title": "Concurrent Streams", "count": count, "started": last_start[:-1],
                        "stopped": t[:-1]}
            count -= 1
    rows = call("get_home_stats", stat_id="most_concurrent")[1]["data"]["rows"]
    assert rows[0] == best
    assert {r["title"] for r in rows} <= {"Concurrent Streams", "Concurrent Transcodes",
                                          "Concurrent Direct Streams", "Concurrent Direct Plays"}


def test_home_stats_with_dates_fail_as_in_tautulli(call):
    status, body = call("get_home_stats", after="2026-11-01")
    assert status == 400 and body["result"] == "error"


# -- transport -----------------------------------------------------------------------------------------

def test_gzip_is_honoured(server, world):
    params = {"apikey": world.tautulli_api_key, "cmd": "get_history", "length": 500}
    zipped = requests.get(f"{server.url}/api/v2", params=params, headers={"Accept-Encoding": "gzip"}, timeout=10)
    plain = requests.get(f"{server.url}/api/v2", params=params, headers={"Accept-Encoding": "identity"}, timeout=10)
    assert zipped.headers.get("Content-Encoding") == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert zipped.json() == plain.json()


def test_faults(world):
    with TautulliSandbox(world) as t:
        params = {"apikey": world.tautulli_api_key, "cmd": "status"}
        t.fail("status", status=503, times=1)
        assert requests.get(f"{t.url}/api/v2", params=params, timeout=10).status_code == 503
        assert requests.get(f"{t.url}/api/v2", params=params, timeout=10).status_code == 200
        t.fail("down")
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{t.url}/api/v2", params=params, timeout=10)
        t.heal()
        t.fail("malformed", path="/api/v2")
        with pytest.raises(ValueError):
            requests.get(f"{t.url}/api/v2", params={**params, "cmd": "get_users"}, timeout=10).json()


# -- changes ----------------------------------------------------------------------------------------------

def test_delete_all_user_history():
    world = generate(seed=4, plays=2000)
    user = by_note(world, "idle 26d")
    kept = world.plays.cols["id"][world.plays.cols["user_id"] != user.user_id]
    with TautulliSandbox(world) as t:
        url, q = f"{t.url}/api/v2", {"apikey": world.tautulli_api_key}
        get = lambda **p: requests.get(url, params={**q, **p}, timeout=10)  # noqa: E731
        assert get(cmd="get_history", user_id=user.user_id, length=0).json()["response"]["data"]["recordsFiltered"] > 0
        body = requests.post(url, params={**q, "cmd": "delete_all_user_history", "user_id": user.user_id},
                             timeout=10).json()["response"]
        assert (body["result"], body["message"]) == ("success", "Deleted user history.")
        assert get(cmd="get_history", user_id=user.user_id, length=0).json()["response"]["data"]["recordsFiltered"] == 0
        ids = [r["id"] for r in get(cmd="get_history", grouping=0, length=10**6).json()["response"]["data"]["data"]]
        assert sorted(ids) == kept.tolist()  # other rows keep their ids
        assert any(u["user_id"] == user.user_id for u in get(cmd="get_users").json()["response"]["data"])
        assert get(cmd="delete_all_user_history", user_id=12345).json()["response"]["result"] == "success"
        missing = get(cmd="delete_all_user_history").json()["response"]
        assert (missing["result"], missing["message"]) == ("error", "No user id or row ids received.")


def test_activity_shows_in_history_unless_excluded():
    world = generate(seed=4, plays=500)
    episode = next(i for i in world.items.values() if i.type == "episode")
    world.activity.append({"session_key": "42", "user_id": world.owner.user_id, "rating_key": episode.rating_key,
                           "state": "playing", "view_offset": 60_000, "started": world.now - 300})
    with TautulliSandbox(world) as t:
        url, q = f"{t.url}/api/v2", {"apikey": world.tautulli_api_key}
        act = requests.get(url, params={**q, "cmd": "get_activity"}, timeout=10).json()["response"]["data"]
        assert act["stream_count"] == "1" and act["sessions"][0]["rating_key"] == episode.rating_key
        rows = requests.get(url, params={**q, "cmd": "get_history", "length": 1}, timeout=10).json()
        first = rows["response"]["data"]["data"][0]
        assert (first["id"], first["state"], first["session_key"]) == (None, "playing", "42")
        assert rows["response"]["data"]["recordsTotal"] == 500
        plain = requests.get(url, params={**q, "cmd": "get_history", "length": 1, "include_activity": 0},
                             timeout=10).json()["response"]["data"]
        assert plain["data"][0]["id"] is not None


def test_before_compares_date_strings_like_tautulli(call):
    # 'abc' sorts after every 'YYYY-MM-DD', so before=abc keeps every row while after=abc keeps none.
    assert history(call, grouping=0, before="abc", length=0)["recordsFiltered"] == 6000


def test_search_box(call, world):
    rows = all_rows(call, grouping=0, search="tom & j")
    assert rows and all("tom & j" in r["full_title"].lower() for r in rows)
    data = history(call, grouping=0, search="tom & j", length=0)
    assert data["recordsTotal"] == 6000 and data["recordsFiltered"] == len(rows)


def test_new_plays_show_up_and_removed_items_keep_their_titles():
    from pipeline.sandbox.seed import add_plays

    world = generate(seed=6, plays=1000)
    with TautulliSandbox(world) as t:
        url, q = f"{t.url}/api/v2", {"apikey": world.tautulli_api_key, "cmd": "get_history", "grouping": 0}
        newest = requests.get(url, params={**q, "length": 1}, timeout=10).json()["response"]["data"]["data"][0]
        played = newest["rating_key"]
        title = world.items[played].title
        del world.items[played]  # deleted from Plex: Tautulli keeps the metadata it stored
        ids = add_plays(world, 25, rng_seed=3)
        data = requests.get(url, params={**q, "length": 10**6}, timeout=10).json()["response"]["data"]
        assert data["recordsTotal"] == 1025
        assert {r["id"] for r in data["data"]} >= set(ids.tolist())
        assert data["data"][0]["id"] == ids[-1]
        assert {r["title"] for r in data["data"] if r["rating_key"] == played} == {title}
