"""Issue 11, item 19: plays.section_id names the library of every play Plex has listed the item of."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.clock import FixedClock
from pipeline.run import commands
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.store import open_store


def test_every_play_gets_its_library_from_the_plex_inventory_and_keeps_it_after_the_item_is_deleted(tmp_path,
                                                                                                       capsys):
    """Item 19: ingest from the sandbox Tautulli (no section_id in get_history rows) and Plex."""
    world = generate(seed=19, users=12, plays=4000, days=60)
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    with TautulliSandbox(world) as tautulli, PlexSandbox(world) as plex, \
            PlexTvSandbox(world, pms_url=plex.url) as plextv:
        settings = load_settings(environ={
            "TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_URL": plex.url,
            "PLEX_TOKEN": world.owner_token, "MARQUEE_DATA_DIR": str(tmp_path / "data")}, dotenv_path=None,
            overrides={"server.timezone": world.timezone, "plex.plextv_url": plextv.url})
        commands.ingest(settings, clock)
        with open_store(settings) as store:
            plays = store.con.execute("SELECT play_id, rating_key, grandparent_rating_key, section_id FROM plays"
                                      ).fetchall()
        expected = {pid: library(world, rk, gp) for pid, rk, gp, _ in plays}
        assert len(plays) == 4000 and {pid: sid for pid, *_, sid in plays} == expected
        assert {1, 2, 3} <= set(expected.values())  # movies, TV shows, music
        assert sum(sid is None for sid in expected.values()) < 40  # only plays of items Plex never listed

        # An episode leaves Plex; its plays keep their library on the next runs.
        gone = next(world.items[rk] for _, rk, *_ in plays if rk in world.items
                    and world.items[rk].type == "episode")
        del world.items[gone.rating_key]
        for section in world.sections:
            section.updated_at += 60
        commands.ingest(settings, FixedClock(clock.now() + timedelta(hours=1)))
        with open_store(settings) as store:
            after = dict(store.con.execute("SELECT play_id, section_id FROM plays").fetchall())
            removed = store.con.execute("SELECT removed_at IS NOT NULL FROM plex_items WHERE rating_key = ?",
                                        [gone.rating_key]).fetchall()
    capsys.readouterr()
    assert removed == [(True,)]
    assert after == expected


def library(world, rating_key, grandparent_key):
    """The section the sandbox put the item in (or its show or artist); None for an item Plex never had."""
    item = world.items.get(rating_key) or world.items.get(grandparent_key)
    return item.section_id if item else None
