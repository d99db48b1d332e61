"""History in date windows against the sandbox Tautulli's cost model: what a real Tautulli would have to load."""

import copy
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from pipeline.clients.tautulli import TautulliClient
from pipeline.ingest.history import ingest_history
from pipeline.logs import Progress
from pipeline.sandbox.seed import add_plays, generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.store.db import memory_store

PAGE = 1000


@pytest.fixture(scope="module")
def worlds():
    return {n: generate(seed=3, plays=n, days=365) for n in (4000, 16000)}


def at(world, days=0.0):
    return datetime.fromtimestamp(world.now, timezone.utc) + timedelta(days=days)


def settings_for(url, world):
    return load_settings(environ={"TAUTULLI_URL": url, "TAUTULLI_API_KEY": world.tautulli_api_key,
                                  "MARQUEE__SERVER__TIMEZONE": world.timezone,
                                  "MARQUEE__TAUTULLI__PAGE_SIZE": str(PAGE)}, dotenv_path=None)


def ingest(store, server, world, days=0.0, progress=None):
    client = TautulliClient(settings_for(server.url, world).tautulli, backoff_seconds=0)
    with store.transaction():
        return ingest_history(store, client, settings_for(server.url, world), at(world, days), progress=progress)


def stored_ids(store):
    return [r[0] for r in store.con.execute("SELECT play_id FROM tautulli_history ORDER BY 1").fetchall()]


@pytest.mark.parametrize("n", [4000, 16000])
def test_a_first_ingest_makes_tautulli_load_its_history_once_not_once_per_page(worlds, n):
    world = copy.deepcopy(worlds[n])
    with TautulliSandbox(world) as server:
        result = ingest(memory_store(), server, world)
        windows = server.cost
        assert result.new == n
        # Every row loaded exactly once, whatever the size: O(1) full-history queries.
        assert windows.full_history_queries == 1.0 and windows.rows_loaded == n
        # Tautulli never holds much more than a page of rows at once (its memory), and the requests stay
        # near N / page: the few extra ones are the first week and the growth towards a full window.
        assert windows.biggest < 2 * PAGE and windows.requests <= n // PAGE + 6

        # The regression the model exists to catch: start/length paging loads the whole history per page.
        server.cost = type(windows)()
        client = TautulliClient(settings_for(server.url, world).tautulli)
        for start in range(0, n, PAGE):
            client.call("get_history", grouping=0, start=start, length=PAGE)
        assert server.cost.full_history_queries == n // PAGE and server.cost.biggest == n


def test_plays_arriving_mid_ingest_are_neither_lost_nor_doubled(worlds):
    """New plays land while the windows walk back: some newer than all, one that started 30 hours before the
    newest (a long session that ended late, in a window already fetched). The run stores each play it saw
    once; the next run, through the overlap, stores the rest; nothing is doubled."""
    world = copy.deepcopy(worlds[4000])
    n = len(world.plays)

    class Busy(TautulliSandbox):
        def cmd_get_history(self, q):
            answer = super().cmd_get_history(q)
            if self.cost.requests == 3:
                newest = int(self.world.plays.cols["started"].max())
                add_plays(self.world, 20)
                late_play(self.world, newest - 30 * 3600)
            return answer

    with Busy(world) as server:
        store = memory_store()
        first = ingest(store, server, world)
        assert first.new == first.fetched and stored_ids(store) == list(range(1, n + 1))
        second = ingest(store, server, world, days=1)
        assert second.new == 21
        assert stored_ids(store) == sorted(world.plays.cols["id"].tolist())
        assert len(stored_ids(store)) == len(set(stored_ids(store))) == n + 21


def late_play(world, started):
    """One more play, written last (the highest id) but started at `started`: a session that ended late."""
    cols = world.plays.cols
    last = int(np.argmax(cols["id"]))
    length = int(cols["stopped"][last] - cols["started"][last])
    add_plays(world, 1, rng_seed=9)
    cols = world.plays.cols
    cols["started"][-1], cols["stopped"][-1] = started, started + length
    order = np.argsort(cols["started"], kind="stable")  # the world keeps plays sorted by start
    world.plays.cols = {name: column[order] for name, column in cols.items()}


def test_progress_says_what_tautulli_is_preparing_before_rows_arrive(worlds):
    world = copy.deepcopy(worlds[4000])
    with TautulliSandbox(world) as server:
        with Progress("history", unit="plays") as progress:
            result = ingest(memory_store(), server, world, progress=progress)
    assert len(progress.notes) == result.pages
    assert progress.notes[0].startswith("Tautulli is preparing the plays since ")
    # Once Tautulli said how big its history is, each note says how much of it is left.
    assert re.search(r"^Tautulli is preparing the plays of \S+ – \S+ \(about [\d,]+ of the [\d,]+ left\)…$",
                     progress.notes[1])
    assert progress.total == progress.done == len(world.plays)


def test_a_catch_up_ingest_walks_back_only_to_the_overlap(worlds):
    world = copy.deepcopy(worlds[16000])
    with TautulliSandbox(world) as server:
        store = memory_store()
        ingest(store, server, world)
        add_plays(world, 3000, advance=120 * 86400)  # four months without an ingest
        server.clear_log()
        server.cost = type(server.cost)()
        result = ingest(store, server, world, days=121)
        queries = [r.query for r in server.requests_to("/api/v2") if r.query.get("cmd") == "get_history"]
    assert result.new == 3000 and len(queries) > 1
    newest = min(q["after"] for q in queries)
    assert all("after" in q for q in queries) and newest == queries[-1]["after"]
    assert server.cost.rows_loaded == result.fetched < 3000 + 2 * PAGE


def test_users_and_libraries_are_asked_while_tautulli_prepares_the_history(worlds, tmp_path):
    # A real Tautulli spends a no-change run's time scanning its history table; the two small requests
    # must go out beside it, not after it. The sandbox answers get_history only once both have come.
    from pipeline.clock import FixedClock
    from pipeline.ingest.run import run_ingest
    from pipeline.store import open_store

    world = copy.deepcopy(worlds[4000])
    with TautulliSandbox(world) as server:
        settings = load_settings(environ={
            "TAUTULLI_URL": server.url, "TAUTULLI_API_KEY": world.tautulli_api_key,
            "MARQUEE__SERVER__TIMEZONE": world.timezone, "MARQUEE__TAUTULLI__PAGE_SIZE": str(PAGE),
            "MARQUEE_DATA_DIR": str(tmp_path)}, dotenv_path=None)
        server.hold_history_until("get_users", "get_libraries_table")
        with open_store(settings) as store:
            summary = run_ingest(store, settings, FixedClock(at(world)))
            users = store.con.execute("SELECT count(*) FROM tautulli_users WHERE removed_at IS NULL").fetchall()
    assert server.holds and all(server.holds)
    assert summary.plays_new == len(world.plays) and summary.libraries == 3
    assert summary.requests == summary.pages + 2 and users == [(summary.users + 1,)]  # Local is not counted
