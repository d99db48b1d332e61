"""Tautulli ingest against the sandbox Tautulli over real HTTP: full, incremental, idempotent, all-or-nothing."""

import copy
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pipeline.errors import BadResponse, Unreachable
from pipeline.ingest.history import ingest_history
from pipeline.ingest.people import ingest_libraries, ingest_users
from pipeline.clients.tautulli import TautulliClient
from pipeline.logs import Progress
from pipeline.sandbox.seed import add_plays, generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.store import open_store
from pipeline.store.db import memory_store

PAGE = 1000
TABLES = ("tautulli_history", "tautulli_users", "tautulli_libraries")


@pytest.fixture(scope="module")
def base_world():
    return generate(seed=1)


@pytest.fixture
def world(base_world):
    return copy.deepcopy(base_world)


@pytest.fixture
def sandbox(world):
    with TautulliSandbox(world) as server:
        yield server


def at(world, days=0.0):
    return datetime.fromtimestamp(world.now, timezone.utc) + timedelta(days=days)


def settings_for(url, world, data_dir=None, key=None):
    env = {"TAUTULLI_URL": url, "TAUTULLI_API_KEY": key or world.tautulli_api_key,
           "MARQUEE__SERVER__TIMEZONE": world.timezone, "MARQUEE__TAUTULLI__PAGE_SIZE": str(PAGE),
           "MARQUEE__TAUTULLI__RETRIES": "2"}
    if data_dir is not None:
        env["MARQUEE_DATA_DIR"] = str(data_dir)
    return load_settings(environ=env, dotenv_path=None)


def run(store, settings, now, progress=None):
    """One Tautulli run the way run.py does it: everything in one transaction the caller owns."""
    client = TautulliClient(settings.tautulli, backoff_seconds=0)
    with store.transaction():
        history = ingest_history(store, client, settings, now, progress=progress)
        users = ingest_users(store, client, now)
        libraries = ingest_libraries(store, client, now)
    return history, users, libraries, client


def snapshot(store):
    return {t: store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def history_queries(server):
    return [r.query for r in server.requests_to("/api/v2") if r.query.get("cmd") == "get_history"]


def assert_windows_tile_the_calendar(queries, floor=None):
    """The newest window is open-ended, the oldest reaches back to `floor` (None: unbounded), and each
    window ends the day before the previous one began: no day is asked twice or skipped."""
    assert "before" not in queries[0] and queries[-1].get("after") == floor
    for newer, older in zip(queries, queries[1:]):
        assert date.fromisoformat(older["before"]) == date.fromisoformat(newer["after"]) - timedelta(days=1)


def test_a_full_ingest_copies_every_play(world, sandbox):
    store = memory_store()
    history, users, libraries, _ = run(store, settings_for(sandbox.url, world), at(world))

    n = len(world.plays)
    queries = history_queries(sandbox)
    assert (history.fetched, history.new, history.pages) == (n, n, len(queries))
    ids = [r[0] for r in store.con.execute("SELECT play_id FROM tautulli_history ORDER BY 1").fetchall()]
    assert ids == list(range(1, n + 1))  # sandbox row i has history id i + 1
    for query in queries:
        assert query["grouping"] == "0" and query["include_activity"] == "0" and query["start"] == "0"
        assert (query["order_column"], query["order_dir"]) == ("date", "desc")
    assert_windows_tile_the_calendar(queries)
    # Each play was loaded by Tautulli once: no window repeated another's rows, none was a full-history page.
    assert sandbox.cost.rows_loaded == n and sandbox.cost.biggest < 2 * PAGE

    watched = int((world.plays.cols["watched_status"] == 1).sum())
    assert store.con.execute("SELECT count(*) FILTER (watched) FROM plays").fetchall()[0][0] == watched
    types = dict(store.con.execute("SELECT column_name, data_type FROM information_schema.columns"
                                   " WHERE table_name = 'plays'").fetchall())
    assert types["watched"] == "BOOLEAN" and types["started_at"] == "TIMESTAMP WITH TIME ZONE"
    assert not store.con.execute("SELECT table_name, column_name FROM information_schema.columns"
                                 " WHERE regexp_matches(column_name, '(^|_)ip(_|$)')").fetchall()
    assert store.con.execute("SELECT count(*) FROM tautulli_history WHERE media_type = 'movie'"
                             " AND (parent_rating_key IS NOT NULL OR media_index IS NOT NULL)").fetchall() == [(0,)]
    assert store.con.execute("SELECT count(*) FROM tautulli_history WHERE media_type = 'episode'"
                             " AND (grandparent_rating_key IS NULL OR media_index IS NULL)").fetchall() == [(0,)]

    listed = [u for u in world.users if u.in_tautulli]
    assert users == len(listed) and libraries == 3
    stored = dict(store.con.execute("SELECT user_id, friendly_name FROM tautulli_users").fetchall())
    assert stored[0] == "Local" and set(stored) == {0} | {u.user_id for u in listed}
    assert stored[next(u.user_id for u in world.users if u.note == "blank name")] == "   "
    deleted = next(u for u in world.users if u.note == "deleted")
    plays_of_deleted = int((world.plays.cols["user_id"] == deleted.user_id).sum())
    assert plays_of_deleted and store.con.execute("SELECT count(*) FROM tautulli_history WHERE user_id = ?",
                                                  [deleted.user_id]).fetchall() == [(plays_of_deleted,)]


def test_the_next_run_fetches_only_new_plays(world, sandbox):
    store = memory_store()
    settings = settings_for(sandbox.url, world)
    run(store, settings, at(world))
    newest = store.con.execute("SELECT max(started_at) FROM tautulli_history").fetchall()[0][0]
    add_plays(world, 40)
    sandbox.clear_log()

    history, *_ , client = run(store, settings, at(world, 1))

    after = (newest - timedelta(hours=48)).astimezone(ZoneInfo(world.timezone)).date()
    local_days = [datetime.fromtimestamp(s, ZoneInfo(world.timezone)).date() for s in world.plays.cols["started"]]
    assert history.new == 40
    assert history.fetched == sum(d >= after for d in local_days) < len(world.plays)
    assert [q["after"] for q in history_queries(sandbox)] == [after.isoformat()]
    assert client.requests == 3  # one history page, get_users, get_libraries_table
    assert store.con.execute("SELECT count(*) FROM tautulli_history").fetchall() == [(len(world.plays),)]


def test_a_rerun_changes_nothing(world, sandbox):
    store = memory_store()
    settings = settings_for(sandbox.url, world)
    run(store, settings, at(world))
    before = snapshot(store)

    history, *_ = run(store, settings, at(world))
    assert history.new == 0 and history.fetched > 0
    assert snapshot(store) == before

    run(store, settings, at(world, 2))  # later: plays stay byte-identical, users are listed again
    after = snapshot(store)
    assert after["tautulli_history"] == before["tautulli_history"]
    assert store.con.execute("SELECT DISTINCT last_listed_at, first_seen_at FROM tautulli_users").fetchall() == \
        [(at(world, 2), at(world))]


def test_a_500_is_retried_and_the_run_succeeds(world, sandbox):
    store = memory_store()
    sandbox.fail("status", status=500, times=1)
    history, _, _, client = run(store, settings_for(sandbox.url, world), at(world))
    assert history.new == len(world.plays)
    assert client.requests == history.pages + 2 + 1  # pages, users, libraries, and the retry


def _faults():
    # (name, how to break the sandbox, settings key override, error class, message start)
    return [
        ("persistent 500", lambda s: s.fail("status", status=500), None, BadResponse,
         "Tautulli get_history failed: HTTP 500 after 3 attempts"),
        ("malformed page", lambda s: s.fail("malformed"), None, BadResponse,
         "Tautulli get_history answered with broken JSON"),
        ("invalid key", lambda s: None, "f" * 32, BadResponse,
         "Tautulli get_history failed: Invalid apikey — check TAUTULLI_API_KEY"),
        ("down", lambda s: s.fail("down"), None, Unreachable, "Tautulli at http://127.0.0.1:"),
        ("lost after the history", lambda s: s.fail("down", skip=1), None, Unreachable,
         "Tautulli at http://127.0.0.1:"),
    ]


@pytest.mark.parametrize("name, breaks, key, error, message", _faults(), ids=[f[0] for f in _faults()])
def test_a_failed_run_leaves_the_store_as_it_was(world, sandbox, name, breaks, key, error, message):
    store = memory_store()
    run(store, settings_for(sandbox.url, world), at(world))
    add_plays(world, 25)  # so a partial run would have had something to write
    before = snapshot(store)

    breaks(sandbox)
    with pytest.raises(error) as err:
        run(store, settings_for(sandbox.url, world, key=key), at(world, 1))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    assert world.tautulli_api_key not in str(err.value)
    assert snapshot(store) == before

    sandbox.heal()
    history, *_ = run(store, settings_for(sandbox.url, world), at(world, 1))
    assert history.new == 25


def test_a_run_that_dies_on_page_3_then_a_healthy_run_equals_a_clean_run(world, sandbox):
    settings = settings_for(sandbox.url, world)
    broken = memory_store()
    sandbox.fail("malformed", skip=2)
    with pytest.raises(BadResponse, match="broken JSON"):
        run(broken, settings, at(world))
    assert len(history_queries(sandbox)) == 3
    assert all(not rows for rows in snapshot(broken).values())

    sandbox.heal()
    run(broken, settings, at(world))
    clean = memory_store()
    run(clean, settings, at(world))
    assert snapshot(broken) == snapshot(clean)
    assert len(snapshot(clean)["tautulli_history"]) == len(world.plays)


def test_a_file_store_keeps_its_last_good_state_across_a_failure(world, sandbox, tmp_path):
    settings = settings_for(sandbox.url, world, data_dir=tmp_path)
    with open_store(settings) as store:
        run(store, settings, at(world))
        before = snapshot(store)
    add_plays(world, 10)
    sandbox.fail("down", skip=1)
    with open_store(settings) as store:
        with pytest.raises(Unreachable):
            run(store, settings, at(world, 1))
    with open_store(settings) as store:
        assert snapshot(store) == before
        sandbox.heal()
        assert run(store, settings, at(world, 1))[0].new == 10


class ShiftingSandbox(TautulliSandbox):
    """New plays land right after the first history page is served, as on a busy server."""

    def __init__(self, world, new_plays):
        super().__init__(world)
        self.new_plays, self.pages = new_plays, 0

    def cmd_get_history(self, q):
        answer = super().cmd_get_history(q)
        self.pages += 1
        if self.pages == 1:
            add_plays(self.world, self.new_plays)
        return answer


def test_plays_arriving_while_paging_are_neither_missed_nor_doubled(world):
    before = len(world.plays)
    with ShiftingSandbox(world, 30) as server:
        store = memory_store()
        settings = settings_for(server.url, world)
        history, *_ = run(store, settings, at(world))
        assert history.new == history.fetched == before  # windows never repeat a row
        ids = [r[0] for r in store.con.execute("SELECT play_id FROM tautulli_history ORDER BY 1").fetchall()]
        assert ids == list(range(1, before + 1))
        assert run(store, settings, at(world, 1))[0].new == 30  # the next run picks them up


class BlankingSandbox(TautulliSandbox):
    """Page 2 comes back with a row whose `started` is empty: the answer is unusable."""

    def __init__(self, world):
        super().__init__(world)
        self.pages = 0

    def cmd_get_history(self, q):
        answer = super().cmd_get_history(q)
        self.pages += 1
        if self.pages == 2:
            answer["data"][5]["started"] = ""
        return answer


def test_a_page_with_an_unusable_row_fails_the_run_cleanly(world):
    with BlankingSandbox(world) as server:
        store = memory_store()
        with pytest.raises(BadResponse, match=r"^Tautulli get_history page 2: row 5 has no usable 'started' \(''\)$"):
            run(store, settings_for(server.url, world), at(world))
        assert all(not rows for rows in snapshot(store).values())


def test_live_sessions_are_not_plays(world, sandbox):
    movie = next(i for i in world.items.values() if i.type == "movie")
    world.activity = [{"session_key": 7, "rating_key": movie.rating_key, "user_id": world.owner.user_id,
                       "started": world.now - 600, "view_offset": 60_000, "state": "playing", "platform": 0}]
    store = memory_store()
    assert run(store, settings_for(sandbox.url, world), at(world))[0].new == len(world.plays)


def test_users_removed_in_tautulli_keep_their_history_and_can_come_back(world, sandbox):
    store = memory_store()
    run(store, settings_for(sandbox.url, world), at(world))
    user = next(u for u in world.users if u.in_tautulli and u.user_id and
                (world.plays.cols["user_id"] == u.user_id).any())
    plays = store.con.execute("SELECT count(*) FROM tautulli_history WHERE user_id = ?", [user.user_id]).fetchall()

    def state():
        return store.con.execute("SELECT first_seen_at, last_listed_at, removed_at FROM tautulli_users"
                                 " WHERE user_id = ?", [user.user_id]).fetchall()[0]

    user.in_tautulli = False
    sandbox.delete_user_history([user.user_id])  # "delete user" in Tautulli also purges their history
    with TautulliSandbox(world) as gone:
        run(store, settings_for(gone.url, world), at(world, 1))
    assert state() == (at(world), at(world), at(world, 1))
    assert store.con.execute("SELECT in_tautulli FROM users WHERE user_id = ?", [user.user_id]).fetchall() == [(False,)]
    assert store.con.execute("SELECT count(*) FROM tautulli_history WHERE user_id = ?",
                             [user.user_id]).fetchall() == plays

    user.in_tautulli = True
    with TautulliSandbox(world) as back:
        run(store, settings_for(back.url, world), at(world, 2))
    assert state() == (at(world), at(world, 2), None)


def test_libraries_come_from_the_database_even_without_plex(world, sandbox):
    sandbox.plex_connected = False
    store = memory_store()
    client = TautulliClient(settings_for(sandbox.url, world).tautulli)
    assert client.call("get_libraries") == []
    with store.transaction():
        assert ingest_libraries(store, client, at(world)) == 3
    rows = store.con.execute("SELECT section_id, section_name, section_type FROM tautulli_libraries"
                             " ORDER BY 1").fetchall()
    assert rows == [(s.section_id, s.title, s.type) for s in world.sections]


def test_progress_counts_rows_against_records_filtered(world, sandbox):
    store = memory_store()
    with Progress("history", unit="plays") as progress:
        history, *_ = run(store, settings_for(sandbox.url, world), at(world), progress=progress)
    assert progress.total == len(world.plays) and progress.done == history.fetched


def test_a_bigger_world_pages_exactly(world):
    # A history that is an exact multiple of the page size stops on the count, not on an empty page.
    extra = (-len(world.plays)) % PAGE
    add_plays(world, extra)
    assert len(world.plays) % PAGE == 0
    with TautulliSandbox(world) as server:
        history, *_ = run(memory_store(), settings_for(server.url, world), at(world))
        assert history.pages == len(history_queries(server)) and history.fetched == len(world.plays)


def test_a_play_tautulli_changed_in_the_overlap_is_updated_and_only_it_moves(world, sandbox):
    store = memory_store()
    run(store, settings_for(sandbox.url, world), at(world))
    newest = int(world.plays.cols["started"].argmax())
    rating_key = int(world.plays.cols["rating_key"][newest])
    world.items[rating_key].title = "Renamed <b>& Co</b>"  # Tautulli refreshed its metadata copy
    before = dict(store.con.execute("SELECT play_id, ingested_at FROM tautulli_history").fetchall())

    with TautulliSandbox(world) as refreshed:
        history, *_ = run(store, settings_for(refreshed.url, world), at(world, 1))

    changed = dict(store.con.execute("SELECT play_id, ingested_at FROM tautulli_history"
                                     " WHERE title = 'Renamed <b>& Co</b>'").fetchall())
    assert newest + 1 in changed and history.new == 0
    assert set(changed.values()) == {at(world, 1)}
    after = dict(store.con.execute("SELECT play_id, ingested_at FROM tautulli_history").fetchall())
    assert {k: v for k, v in after.items() if k not in changed} == {k: v for k, v in before.items() if k not in changed}
