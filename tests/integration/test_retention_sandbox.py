"""The sandbox world, ingested over loopback, gives the retention policy the queue its labels and plays imply."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from pipeline.clock import FixedClock
from pipeline.ingest.run import run_ingest
from pipeline.media import media_inputs, refresh_queue
from pipeline.media.commands import queue_lines
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import RETENTION_PREFIX, generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.store.db import memory_store


def ingested(world, tmp_path):
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    with TautulliSandbox(world) as t, PlexSandbox(world) as pms, PlexTvSandbox(world, pms_url=pms.url) as tv:
        env = {"TAUTULLI_URL": t.url, "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_URL": pms.url,
               "PLEX_TOKEN": world.owner_token}
        settings = load_settings(environ=env, dotenv_path=None, overrides={
            "plex.plextv_url": tv.url, "server.timezone": world.timezone,
            "retention.file": str(tmp_path / "retention.toml"),
            "retention.notice_days": 0})  # the queue as policy derives it; the notice wait has its own tests
        store = memory_store()
        run_ingest(store, settings, clock)
    return store, settings, clock


def expected_queue(world) -> dict[int, tuple[int, ...]]:
    """The oracle: each labelled movie, or each episode of a labelled show, every labelled user finished."""
    by_name = {u.username: u.user_id for u in world.users}
    cols = world.plays.cols
    watched = cols["watched_status"] >= 1
    finished = set(zip(cols["user_id"][watched].tolist(), cols["rating_key"][watched].tolist()))
    out = {}
    for item in world.items.values():
        users = tuple(sorted(by_name[label[len(RETENTION_PREFIX):]] for label in item.labels
                             if label.startswith(RETENTION_PREFIX)))
        if not users:
            continue
        leaves = [item] if item.type == "movie" else world.leaves(item.rating_key)
        for leaf in leaves:
            if all((u, leaf.rating_key) in finished for u in users):
                out[leaf.rating_key] = users
    return out


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    world = generate(seed=1)
    return (world, *ingested(world, tmp_path_factory.mktemp("retention")))


def test_collections_and_labels_arrive_through_the_ingest(sandbox):
    world, store, _, _ = sandbox
    stored = dict(store.con.execute("SELECT rating_key, collections FROM plex_items "
                                    "WHERE len(collections) > 0").fetchall())
    assert stored == {i.rating_key: list(i.collections) for i in world.items.values() if i.collections}
    assert len(stored) >= 3


def test_the_seeded_world_has_the_queue_its_labels_and_plays_imply(sandbox):
    world, store, settings, clock = sandbox
    now = clock.now()
    expected = expected_queue(world)
    entries = refresh_queue(store, settings, now)
    assert {e.rating_key: e.users for e in entries} == expected
    assert store.con.execute("SELECT count(*) FROM media_assignments WHERE source = 'label'").fetchall()[0][0] >= 5
    kinds = {world.items[k].type for k in expected}
    assert kinds == {"movie", "episode"}
    # The partway show: some episodes queued, its later ones not.
    show = next(i for i in world.items.values() if i.type == "show"
                and any(label.startswith(RETENTION_PREFIX) for label in i.labels))
    leaves = [leaf.rating_key for leaf in world.leaves(show.rating_key)]
    assert any(k in expected for k in leaves) and leaves[-1] not in expected
    # A movie two viewers both finished, and one finished less than a day ago (still inside the delay).
    movies = [e for e in entries if world.items[e.rating_key].type == "movie"]
    assert any(len(e.users) == 2 for e in movies)
    delay = timedelta(hours=settings.retention.deletion_delay_hours)
    assert any(e.matched_at + delay > now for e in entries)
    assert any(e.matched_at + delay <= now for e in entries)
    # Queued just now: everyone gets the notice period, then the finished ones are due.
    assert all(e.scheduled_at == now + delay for e in entries)
    later = refresh_queue(store, settings, now + delay + timedelta(hours=1))
    assert {e.rating_key for e in later} == set(expected)
    assert all(e.scheduled_at <= now + delay + timedelta(hours=1) for e in later)


def test_media_inputs_match_the_world(sandbox):
    world, store, settings, clock = sandbox
    inputs = media_inputs(store, settings, clock.now())
    items = {i.rating_key: i for i in inputs.items}
    leaves = {k: i for k, i in world.items.items() if i.type in ("movie", "episode")}
    assert set(items) == set(leaves)
    for key, leaf in leaves.items():
        item = items[key]
        assert item.size_bytes == leaf.size_bytes and item.exists
        show = world.items.get(leaf.grandparent_rating_key) if leaf.type == "episode" else None
        assert item.labels == set(leaf.labels) | set(show.labels if show else ())
        assert item.collections == set(leaf.collections) | set(show.collections if show else ())
    cols = world.plays.cols
    key = next(int(k) for k in cols["rating_key"][::-1] if int(k) in leaves)
    assert items[key].last_played_at == datetime.fromtimestamp(
        int(cols["stopped"][cols["rating_key"] == key].max()), timezone.utc)


@pytest.mark.parametrize("now", [None, 1_800_000_000])
def test_the_demo_world_ends_with_a_queue(tmp_path, now):
    world = generate(seed=7, users=24, plays=6000, now=now)
    store, settings, clock = ingested(world, tmp_path)
    lines = queue_lines(store, settings, clock)
    assert lines[0].startswith("Deletion queue: ") and len(lines) >= 4
    assert set(expected_queue(world)) == {r[0] for r in store.con.execute("SELECT rating_key FROM media_queue")
                                          .fetchall()}
    assert np.all([line.startswith("  waiting 1 day") for line in lines[1:]])
