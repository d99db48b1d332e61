"""Our top lists against Tautulli's own get_home_stats, computed by the sandbox Tautulli from the same plays.

The one deliberate difference in the window (Tautulli keeps plays that *stopped* in the last N days, we keep
plays that *started* in the period) is taken out by removing the few plays that straddle the cut.
"""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from pipeline.ingest.history import ingest_history
from pipeline.ingest.people import ingest_users
from pipeline.clients.tautulli import TautulliClient
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.stats.queries import run
from pipeline.store.db import memory_store

DAYS = 30


@pytest.fixture(scope="module")
def both():
    world = generate(seed=3, users=40, plays=9000, days=90)
    cut = world.now - DAYS * 86_400
    cols = world.plays.cols
    keep = ~((cols["started"] < cut) & (cols["stopped"] >= cut))
    assert (~keep).sum() > 0  # the test really removes straddling plays
    for name in cols:
        cols[name] = cols[name][keep]
    with TautulliSandbox(world) as server:
        settings = load_settings(environ={"TAUTULLI_URL": server.url, "TAUTULLI_API_KEY": world.tautulli_api_key,
                                          "MARQUEE__SERVER__TIMEZONE": world.timezone}, dotenv_path=None)
        client = TautulliClient(settings.tautulli)
        store = memory_store()
        now = datetime.fromtimestamp(world.now, timezone.utc)
        with store.transaction():
            ingest_history(store, client, settings, now)
            ingest_users(store, client, now)

        def oracle(stats_type):
            cards = client.call("get_home_stats", time_range=DAYS, stats_type=stats_type, stats_count=10)
            return {card["stat_id"]: card["rows"] for card in cards}

        tautulli = {"plays": oracle("plays"), "duration": oracle("duration")}
    params = {"start": datetime.fromtimestamp(cut, timezone.utc), "end": now + timedelta(seconds=1), "limit": 10}
    return store, params, tautulli


def ours(store, name, params, rank):
    rows = sorted((r for r in run(store, f"stats/{name}", params) if r[rank] <= 10), key=lambda r: r[rank])
    return rows


def test_top_movies_by_plays_match(both):
    store, params, tautulli = both
    mine = [(r["title"], r["year"], r["plays"]) for r in ours(store, "top_movies", params, "rank_by_plays")]
    theirs = [(r["title"], r["year"], r["total_plays"]) for r in tautulli["plays"]["top_movies"]]
    assert mine == theirs and len(mine) == 10


def test_top_movies_by_hours_match(both):
    store, params, tautulli = both
    mine = [(r["title"], r["seconds"]) for r in ours(store, "top_movies", params, "rank_by_hours")]
    theirs = [(r["title"], r["total_duration"]) for r in tautulli["duration"]["top_movies"]]
    assert mine == theirs


def test_top_shows_by_plays_match(both):
    store, params, tautulli = both
    mine = [(r["title"], r["plays"]) for r in ours(store, "top_shows", params, "rank_by_plays")]
    theirs = [(r["title"], r["total_plays"]) for r in tautulli["plays"]["top_tv"]]
    assert mine == theirs and mine


def test_popular_shows_by_viewers_match(both):
    store, params, tautulli = both
    mine = [(r["title"], r["viewers"]) for r in ours(store, "top_shows", params, "rank_by_viewers")]
    theirs = [(r["title"], r["users_watched"]) for r in tautulli["plays"]["popular_tv"]]
    assert mine == theirs


def test_most_active_viewers_match(both):
    store, params, tautulli = both
    mine = [(r["user_id"], r["plays"], r["seconds"]) for r in ours(store, "top_viewers", params, "rank")]
    # Local (user_id 0) is never a viewer in Marquee, by design.
    theirs = [(r["user_id"], r["total_plays"], r["total_duration"])
              for r in tautulli["duration"]["top_users"] if r["user_id"] != 0]
    assert mine[: len(theirs)] == theirs and theirs
