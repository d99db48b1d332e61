"""Issue 11, item 4: without Plex, a user Tautulli marks inactive (their share ended) gets no newsletter."""

from __future__ import annotations

from datetime import datetime, timezone

from pipeline.clock import FixedClock
from pipeline.run import commands
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from pipeline.store import open_store


def test_without_plex_a_user_tautulli_marks_inactive_gets_no_digest(tmp_path, capsys):
    """Item 4: the sandbox Tautulli lists former_friend with is_active=0; no Plex is configured."""
    world = generate(seed=4, users=24, plays=3000, days=30)
    friend = next(u for u in world.users if u.note == "" and u.email and not u.is_home and u.in_tautulli)
    friend.username, friend.friendly_name, friend.email = "former_friend", "Former Friend", "former@example.org"
    friend.has_share = False  # unshared on plex.tv: Tautulli keeps listing the user, with is_active 0
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    outbox = tmp_path / "outbox"
    with TautulliSandbox(world) as tautulli:
        settings = load_settings(environ={"TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key,
                                          "MARQUEE_DATA_DIR": str(tmp_path / "data")}, dotenv_path=None, overrides={
            "server.timezone": world.timezone, "site.output_dir": str(tmp_path / "site"), "site.posters": False,
            "newsletter.backfill": 0, "email.from_address": "news@example.org", "email.outbox_dir": str(outbox)})
        assert not settings.plex.configured
        commands.build(settings, clock)
    with open_store(settings) as store:
        listed = store.con.execute("SELECT is_active, removed_at FROM tautulli_users WHERE username = ?",
                                   ["former_friend"]).fetchall()
    assert listed == [(False, None)]  # Tautulli still lists them, as inactive

    commands.send(settings, clock)
    capsys.readouterr()
    mailed = {p.stem for p in (outbox / "dry-run").rglob("*.eml")}
    readers = {u.email.lower() for u in world.users
               if u.email and u.in_tautulli and u.has_share and u.accepted_at is not None}
    assert "former@example.org" not in mailed
    assert readers <= mailed and len(readers) >= 10  # everyone still sharing the server gets it
