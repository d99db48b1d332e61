"""The overlap by reference ids (history_references.py) against the sandbox Tautulli: what it catches, when it
falls back to dates, and that Tautulli scans its history table for none of it."""

import copy
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from pipeline.clock import FixedClock
from pipeline.ingest.run import run_ingest
from pipeline.run import commands
from pipeline.sandbox.seed import add_plays, generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.store import open_store

PAGE = 1000


@pytest.fixture(scope="module")
def base_world():
    return generate(seed=5, plays=4000, days=365)


@pytest.fixture
def world(base_world):
    return copy.deepcopy(base_world)


START = {}  # the first run's clock per world: later runs count hours from it (add_plays moves world.now)


def at(world, hours=0.0):
    start = START.setdefault(id(world), datetime.fromtimestamp(world.now, timezone.utc))
    return start + timedelta(hours=hours)


def settings_for(server, world, data_dir, **extra):
    return load_settings(environ={
        "TAUTULLI_URL": server.url, "TAUTULLI_API_KEY": world.tautulli_api_key,
        "MARQUEE__SERVER__TIMEZONE": world.timezone, "MARQUEE__TAUTULLI__PAGE_SIZE": str(PAGE),
        "MARQUEE__TAUTULLI__OVERLAP_BY_REFERENCE_FROM": "0", "MARQUEE_DATA_DIR": str(data_dir), **extra},
        dotenv_path=None)


def ingest(server, world, data_dir, hours=0.0, by_dates=False, **extra):
    """One whole run (run_ingest, as `invoke ingest` makes it, or `invoke build` with by_dates); (summary, route,
    get_history queries, scanned)."""
    server.clear_log()
    server.cost = type(server.cost)()
    settings = settings_for(server, world, data_dir, **extra)
    with open_store(settings) as store:
        summary = run_ingest(store, settings, FixedClock(at(world, hours)), by_dates=by_dates)
        route = store.con.execute("SELECT history_route FROM ingest_runs ORDER BY run_id DESC LIMIT 1").fetchall()
    queries = [r for r in server.requests_to("/api/v2") if r.query.get("cmd") == "get_history"]
    return summary, route[0][0], queries, server.cost.rows_scanned


def plays(data_dir):
    import duckdb

    con = duckdb.connect(str(data_dir / "marquee.duckdb"), read_only=True)
    try:
        return con.execute("SELECT * EXCLUDE (ingested_at) FROM tautulli_history ORDER BY play_id").fetchall()
    finally:
        con.close()


def clean_copy(world, tmp_path, name):
    """The store a first run makes of the world as it is now: what every later run must converge to."""
    with TautulliSandbox(world) as server:
        ingest(server, world, tmp_path / name)
    return plays(tmp_path / name)


def new_play(world, started, reference_id=None):
    """One more play (the highest id), started at `started`, grouped onto `reference_id` (None: its own id)."""
    add_plays(world, 1, rng_seed=11)
    cols = world.plays.cols
    last = int(np.argmax(cols["id"]))
    length = int(cols["stopped"][last] - cols["started"][last])
    cols["started"][last], cols["stopped"][last] = started, started + length
    cols["reference_id"][last] = cols["id"][last] if reference_id is None else reference_id
    order = np.argsort(cols["started"], kind="stable")  # the world keeps plays sorted by start
    world.plays.cols = {name: column[order] for name, column in cols.items()}
    return int(cols["id"][last])


def test_a_no_change_run_asks_by_reference_and_makes_tautulli_scan_nothing(world, tmp_path):
    with TautulliSandbox(world) as server:
        first = ingest(server, world, tmp_path)
        before = plays(tmp_path)
        summary, route, queries, scanned = ingest(server, world, tmp_path, hours=1)
    assert first[1] == "dates" and first[3] > 0
    assert route == "references" and scanned == 0 and summary.plays_new == 0
    # One request for the ids above the newest stored play, then the overlap's reference ids, 900 at most each.
    assert {q.method for q in queries} == {"POST"} and len(queries) >= 2
    assert all("reference_id" in q.query and "after" not in q.query for q in queries)
    assert max(len(q.query["reference_id"].split(",")) for q in queries) <= 900
    assert summary.requests == len(queries) + 2  # and get_users, get_libraries_table
    assert summary.plays_fetched > 0  # the overlap's plays came back, as by dates
    assert plays(tmp_path) == before


def test_new_and_late_arriving_plays_come_by_reference(world, tmp_path):
    with TautulliSandbox(world) as server:
        ingest(server, world, tmp_path)
        newest = int(world.plays.cols["started"].max())
        add_plays(world, 30)
        late = new_play(world, newest - 30 * 3600)  # a long session that ended after the last run
        summary, route, _, scanned = ingest(server, world, tmp_path, hours=23)
    assert route == "references" and scanned == 0 and summary.plays_new == 31
    assert late in [p[0] for p in plays(tmp_path)]
    assert plays(tmp_path) == clean_copy(world, tmp_path, "clean")


def test_a_play_grouped_onto_one_outside_the_overlap_sends_the_run_back_to_dates(world, tmp_path):
    # A reader resumed a film they paused months ago: Tautulli gives the new row that old play's reference id,
    # which the reference request does not ask for. The history's size tells the run a play is missing.
    with TautulliSandbox(world) as server:
        ingest(server, world, tmp_path)
        old_reference = int(world.plays.cols["reference_id"][10])
        resumed = new_play(world, int(world.plays.cols["started"].max()) + 600, reference_id=old_reference)
        summary, route, queries, scanned = ingest(server, world, tmp_path, hours=23)
    assert route == "dates" and summary.plays_new == 1 and scanned > 0
    assert "reference_id" in queries[0].query and "after" in queries[-1].query
    assert resumed in [p[0] for p in plays(tmp_path)]
    assert plays(tmp_path) == clean_copy(world, tmp_path, "clean")


def test_a_play_tautulli_changed_in_the_overlap_is_updated_by_reference(world, tmp_path):
    with TautulliSandbox(world) as server:
        ingest(server, world, tmp_path)
    newest = int(world.plays.cols["started"].argmax())
    world.items[int(world.plays.cols["rating_key"][newest])].title = "Renamed <b>& Co</b>"
    with TautulliSandbox(world) as refreshed:  # Tautulli refreshed its metadata copy
        summary, route, _, _ = ingest(refreshed, world, tmp_path, hours=1)
    renamed = [p for p in plays(tmp_path) if "Renamed <b>& Co</b>" in p]
    assert route == "references" and summary.plays_new == 0
    assert int(world.plays.cols["id"][newest]) in [p[0] for p in renamed]


def test_a_run_by_dates_comes_at_least_every_half_overlap(world, tmp_path):
    with TautulliSandbox(world) as server:
        ingest(server, world, tmp_path)
        assert ingest(server, world, tmp_path, hours=23)[1] == "references"
        assert ingest(server, world, tmp_path, hours=24)[1] == "dates"  # 24 h after the last run by dates
        assert ingest(server, world, tmp_path, hours=25)[1] == "references"


def test_new_plays_past_one_request_come_in_more_and_past_a_dozen_by_dates(world, tmp_path):
    with TautulliSandbox(world) as server:
        ingest(server, world, tmp_path)
        add_plays(world, 950)
        summary, route, queries, scanned = ingest(server, world, tmp_path, hours=23)
        assert route == "references" and scanned == 0 and summary.plays_new == 950
        assert plays(tmp_path) == clean_copy(world, tmp_path, "clean")
        add_plays(world, 12 * 900)  # a long pause: more requests than the one scan by dates costs
        summary, route, _, _ = ingest(server, world, tmp_path, hours=23.5)
    assert route == "dates" and summary.plays_new == 12 * 900
    assert plays(tmp_path) == clean_copy(world, tmp_path, "clean2")


def test_the_sandbox_fails_a_query_too_deep_for_sqlite_as_tautulli_does(world):
    # Tautulli ORs one term per id; past SQLite's expression depth of 1,000 its query fails, and get_history
    # answers an empty success with recordsTotal 0 (datafactory.get_datatables_history's except branch).
    from pipeline.clients.tautulli import TautulliClient

    with TautulliSandbox(world) as server:
        client = TautulliClient(settings_for(server, world, "/nonexistent").tautulli)
        fine = client.call_form("get_history", grouping=0, reference_id=",".join(map(str, range(1, 999))))
        deep = client.call_form("get_history", grouping=0, reference_id=",".join(map(str, range(1, 1000))))
    assert fine["recordsTotal"] == len(world.plays) and fine["recordsFiltered"] > 0
    assert deep["recordsTotal"] == 0 and deep["data"] == []


def test_after_runs_by_reference_a_run_by_dates_reads_back_to_where_the_last_one_began(world, tmp_path):
    # Runs by reference re-read only the last 6 hours; an edit to an older play in the overlap shows at the next
    # run by dates, even when newer plays have moved the usual overlap past it.
    with TautulliSandbox(world) as server:
        ingest(server, world, tmp_path)
        cols = world.plays.cols
        newest = int(cols["started"].max())
        older = int(np.argmin(np.abs(cols["started"] - (newest - 40 * 3600))))
        older_id, rating_key = int(cols["id"][older]), int(cols["rating_key"][older])
        add_plays(world, 50, advance=40 * 3600)
        assert ingest(server, world, tmp_path, hours=12)[1] == "references"
    world.items[rating_key].title = "Renamed <b>& Co</b>"
    with TautulliSandbox(world) as refreshed:  # Tautulli refreshed its metadata copy
        summary, route, queries, _ = ingest(refreshed, world, tmp_path, hours=24)
    first_from = (datetime.fromtimestamp(newest, timezone.utc) - timedelta(hours=48)).astimezone(
        ZoneInfo(world.timezone)).date().isoformat()
    assert route == "dates" and queries[-1].query["after"] == first_from
    assert older_id in [p[0] for p in plays(tmp_path) if "Renamed <b>& Co</b>" in p]


def test_a_small_history_is_read_by_dates(world, tmp_path):
    with TautulliSandbox(world) as server:
        ingest(server, world, tmp_path)
        route = ingest(server, world, tmp_path, hours=1, MARQUEE__TAUTULLI__OVERLAP_BY_REFERENCE_FROM="100000")[1]
    assert route == "dates"


def test_the_ingest_before_a_build_reads_by_dates_and_back_to_the_last_run_by_dates(world, tmp_path):
    """`invoke build` may freeze an issue from its ingest: the whole overlap by dates, never by reference, so an
    edit to a play older than the reference route's 6 hours is in the issue."""
    with TautulliSandbox(world) as server:
        ingest(server, world, tmp_path)
        cols = world.plays.cols
        newest = int(cols["started"].max())
        older = int(np.argmin(np.abs(cols["started"] - (newest - 20 * 3600))))
        older_id, rating_key = int(cols["id"][older]), int(cols["rating_key"][older])
        assert ingest(server, world, tmp_path, hours=1)[1] == "references"
    world.items[rating_key].title = "Renamed before the issue"
    with TautulliSandbox(world) as refreshed:
        assert ingest(refreshed, world, tmp_path, hours=2)[1] == "references"  # `invoke ingest`: not yet seen
        assert older_id not in [p[0] for p in plays(tmp_path) if "Renamed before the issue" in p]
        refreshed.clear_log()
        settings = settings_for(refreshed, world, tmp_path, MARQUEE__SITE__OUTPUT_DIR=str(tmp_path / "site"),
                                MARQUEE__SITE__POSTERS="false")
        commands.build(settings, FixedClock(at(world, 3)))  # `invoke build`: its ingest, then the issues
        queries = [r for r in refreshed.requests_to("/api/v2") if r.query.get("cmd") == "get_history"]
        with open_store(settings) as store:
            route = store.con.execute("SELECT history_route FROM ingest_runs ORDER BY run_id DESC LIMIT 1").fetchone()[0]
    assert route == "dates" and queries and all("reference_id" not in q.query for q in queries)
    assert older_id in [p[0] for p in plays(tmp_path) if "Renamed before the issue" in p]
