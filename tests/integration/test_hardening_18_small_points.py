"""Issue #11, item 18: small points (CJK initials, the default server name, the README's packages, private files)."""

import os
import re
import stat
from contextlib import contextmanager
from datetime import datetime, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from pipeline.clock import FixedClock
from pipeline.render.email.digest import DigestRenderer
from pipeline.render.privacy import public_name
from pipeline.run import commands
from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox
from pipeline.settings import load_settings
from tests.fixtures import email_issue as fx

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int):
    """The usual 022, so a file is private only because Marquee made it so."""
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("name, shown", [
    ("渡辺 健", "渡 健"),
    ("山田 太郎", "山 太"),
    ("김 민수", "김 민"),
    ("やまだ たろう", "や た"),
    ("Alice 山田", "A. 山"),
    ("ＡＢＣ def", "Ａ. D."),   # full-width Latin is still Latin: it keeps its dot
])
def test_cjk_initials_carry_no_dot(name, shown):
    """Item 18: '渡. 健.' is wrong; a CJK character is not abbreviated with a dot."""
    assert public_name(name, "initials") == shown


def _footer(server: str | None) -> str:
    overrides = {} if server is None else {"server.name": server}
    settings = fx.settings(**overrides)
    if server is None:  # the shipped default, as an admin who never set it has it
        settings = load_settings(environ={}, dotenv_path=None, overrides={
            "server.timezone": fx.TZ, "email.from_address": "news@kino.example.org"})
    snap = fx.snapshot()
    snap.pop("server", None)  # the footer names the configured server
    renderer = DigestRenderer(snap, settings, clock=FixedClock(fx.NOW))
    msg = message_from_bytes(renderer.render(fx.recipient(fx.ALICE)).mime, policy=policy.default)
    return msg.get_body(("plain",)).get_content()


def test_the_default_server_name_does_not_say_plex_twice():
    """Item 18: with server.name left at "Plex" the footer read "you share Plex, a Plex server"."""
    text = _footer(None)
    why = next(line for line in text.splitlines() if "getting this because" in line)
    assert why == "You're getting this because Plex is shared with you."
    named = next(line for line in _footer("Kino").splitlines() if "getting this because" in line)
    assert named == "You're getting this because Kino, a Plex server, is shared with you."


def _packages(text: str) -> set[str]:
    line = re.search(r"apt-get install ([^`\n>]+)", text)
    assert line, "no apt-get install line"
    return {w for w in line.group(1).split() if not w.startswith("-")}


def test_the_readme_names_every_package_ci_installs():
    """Item 18: the README named only chromium while .ci/run also installs the fonts the pages are measured with."""
    readme = _packages((ROOT / "README.md").read_text())
    ci = _packages((ROOT / ".ci/run").read_text())
    assert "fonts-noto-cjk" in ci and readme == ci


def test_the_store_and_its_folder_are_private(tmp_path):
    """Item 18: the DuckDB file (and its WAL) are 0600 and the data folder 0700, under the usual umask 022."""
    world = generate(seed=5, users=8, plays=300)
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    data = tmp_path / "data"
    with umask(0o022), TautulliSandbox(world) as tautulli:
        settings = load_settings(environ={
            "TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key,
            "MARQUEE_DATA_DIR": str(data)}, dotenv_path=None, overrides={"server.timezone": world.timezone})
        commands.ingest(settings, clock)
    assert mode(data) == 0o700
    files = sorted(data.glob("marquee.*"))
    assert data / "marquee.duckdb" in files
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_an_existing_store_is_made_private_when_opened(tmp_path):
    """Item 18: a store created by an older Marquee (0644 in a 0755 folder) is tightened on the next run."""
    from pipeline.store import open_store

    data = tmp_path / "data"
    settings = load_settings(environ={"MARQUEE_DATA_DIR": str(data)}, dotenv_path=None)
    with umask(0o022):
        open_store(settings).close()
        os.chmod(data, 0o755)
        os.chmod(data / "marquee.duckdb", 0o644)
        open_store(settings).close()
    assert (mode(data), mode(data / "marquee.duckdb")) == (0o700, 0o600)


def test_dry_run_emails_are_private(tmp_path):
    """Item 18: each reader's .eml file is 0600 in a 0700 folder (umask 022), as `invoke send` writes it."""
    from pipeline.run.send_issue import send_issue
    from pipeline.stats.freeze import freeze_issues
    from pipeline.store import open_store

    world = generate(seed=5, users=8, plays=600)
    clock = FixedClock(datetime.fromtimestamp(world.now, timezone.utc))
    outbox = tmp_path / "outbox"
    with umask(0o022), TautulliSandbox(world) as tautulli:
        settings = load_settings(environ={
            "TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key,
            "MARQUEE_DATA_DIR": str(tmp_path / "data")}, dotenv_path=None, overrides={
            "server.timezone": world.timezone, "newsletter.backfill": 0, "email.from_address": "news@example.org",
            "email.outbox_dir": str(outbox)})
        commands.ingest(settings, clock)
        with open_store(settings) as store:
            assert freeze_issues(store, settings, clock.now()).frozen
            summary = send_issue(store, settings, clock)
    files = sorted(outbox.rglob("*.eml"))
    assert files and summary.dry_run_files == len(files)
    assert {mode(p) for p in files} == {0o600}
    assert {mode(p.parent) for p in files} == {0o700}
