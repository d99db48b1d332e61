"""The daemon through the real ingest and run_enforce, against the sandbox servers and a loopback Discord."""

from datetime import datetime, timezone

import pytest

from pipeline.clock import FixedClock
from pipeline.run.daemon import ALL, NEW_USERS, Daemon, run_daemon
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.send.ledger import counts
from pipeline.settings import load_settings
from pipeline.store.db import open_store
from tests.fixtures.mail_drop import MailDrop

ADMIN = "admin@example.org"


@pytest.fixture
def sandbox(tmp_path, discord):
    world = generate(seed=1)
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    with TautulliSandbox(world) as t, PlexSandbox(world) as pms, PlexTvSandbox(world, pms_url=pms.url) as tv, \
            MailDrop(tmp_path / "outbox") as mail:  # delivered mail is filed under tmp_path/outbox/<key>/
        env = {"TAUTULLI_URL": t.url, "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_URL": pms.url,
               "PLEX_TOKEN": world.owner_token, "DISCORD_WEBHOOK_URL": discord.url}
        settings = load_settings(environ=env, dotenv_path=None, overrides={
            "plex.plextv_url": tv.url, "server.timezone": world.timezone, "data.dir": str(tmp_path / "data"),
            **mail.settings(), "email.outbox_dir": str(tmp_path / "outbox"),
            "email.from_address": "news@example.org", "email.admin_email": ADMIN, "daemon.ingest": True})
        yield settings, clock, tv


def runs(settings):
    with open_store(settings) as store:
        enforce = store.con.execute("SELECT scope, applied, status FROM enforce_runs ORDER BY run_id").fetchall()
        ingests = store.con.execute("SELECT status FROM ingest_runs ORDER BY run_id").fetchall()
    return enforce, ingests


def test_a_dry_run_daemon_ingests_plans_and_tells_nobody(sandbox, discord):
    settings, clock, tv = sandbox
    run_daemon(settings, clock, apply=False, once=True)
    enforce, ingests = runs(settings)
    assert enforce == [("all", False, "ok")] and ingests == [("ok",)]
    assert discord.attempts == 0
    assert [r for r in tv.requests if r.method == "DELETE"] == []


def test_applied_ticks_welcome_and_warn_once_and_tell_the_admin(sandbox, discord, tmp_path):
    settings, clock, tv = sandbox
    daemon = Daemon(settings, clock, apply=True)
    assert daemon.tick(ALL) == "ok"
    enforce, _ = runs(settings)
    assert enforce == [("all", True, "ok")]
    with open_store(settings) as store:
        run_id = store.con.execute("SELECT max(run_id) FROM enforce_runs").fetchall()[0][0]
        assert counts(store, f"admin-enforce-{run_id}") == {"sent": 1}
    assert (tmp_path / "outbox" / f"admin-enforce-{run_id}" / f"{ADMIN}.eml").is_file()
    posted = len(discord.messages)
    content = "\n".join(m["content"] for m in discord.messages)  # one post, split only above 2000 characters
    assert content.startswith("**Plex · enforcement run ") and "**Welcomed**" in content and "**Warned**" in content
    assert all(m["allowed_mentions"] == {"parse": []} for m in discord.messages)
    assert [r for r in tv.requests if r.method == "DELETE"] == []  # nobody is removed on a first run
    assert daemon.health.snapshot().body["status"] == "ok"

    emails = sorted(p.relative_to(tmp_path / "outbox") for p in (tmp_path / "outbox").rglob("*.eml"))
    clock.advance(minutes=5)
    assert daemon.tick(NEW_USERS) == "ok"
    enforce, ingests = runs(settings)
    assert enforce == [("all", True, "ok"), ("new_users", True, "ok")] and len(ingests) == 2
    assert sorted(p.relative_to(tmp_path / "outbox") for p in (tmp_path / "outbox").rglob("*.eml")) == emails
    assert len(discord.messages) == posted  # nothing new happened: no second post
