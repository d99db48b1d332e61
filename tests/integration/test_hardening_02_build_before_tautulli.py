"""Issue 11, item 2: `invoke build` before Tautulli is configured freezes nothing that real data cannot fill."""

from __future__ import annotations

from datetime import datetime, timezone

from pipeline.clock import FixedClock
from pipeline.run import commands
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.stats.snapshots import list_snapshots, load_snapshot
from pipeline.store import open_store


def test_a_build_before_the_first_ingest_freezes_nothing_and_the_first_real_build_backfills(tmp_path, capsys):
    """Item 2: build without Tautulli, then configure it and build again: the issues get the real plays."""
    world = generate(seed=2, users=12, plays=3000, days=60)
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    base = {"MARQUEE_DATA_DIR": str(tmp_path / "data")}
    overrides = {"server.timezone": world.timezone, "site.output_dir": str(tmp_path / "site"),
                 "site.posters": False, "newsletter.backfill": 3}

    bare = load_settings(environ=base, dotenv_path=None, overrides=overrides)
    assert not bare.tautulli.configured
    commands.build(bare, clock)
    first = capsys.readouterr().out
    assert "no ingest has succeeded yet" in first and "TAUTULLI_URL" in first, first
    with open_store(bare) as store:
        assert list_snapshots(store) == []  # nothing frozen that the first real data could not change

    with TautulliSandbox(world) as tautulli:
        settings = load_settings(environ={**base, "TAUTULLI_URL": tautulli.url,
                                          "TAUTULLI_API_KEY": world.tautulli_api_key},
                                 dotenv_path=None, overrides=overrides)
        commands.build(settings, clock)
    second = capsys.readouterr().out
    assert "plays: 3,000 new" in second and "new issues:" in second, second
    with open_store(settings) as store:
        issues = list_snapshots(store)
        snapshots = [load_snapshot(store, row["issue_key"]) for row in issues]
    assert len(issues) == 4  # the latest week and the 3 before it: the backfill was not skipped
    assert issues[0]["issue_key"] == "weekly-2026-W46"
    assert all(s["totals"]["plays"] > 0 and not s["empty"] for s in snapshots)
    assert sum(s["totals"]["plays"] for s in snapshots) > 500
