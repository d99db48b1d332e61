"""`invoke login` against the plex.tv sandbox on loopback: plexapi's MyPlexPinLogin, the servers, the .env it writes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from pipeline.clients.plex_login import PinGone
from pipeline.errors import ConfigError, MarqueeError
from pipeline.run.login import login
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.plextv import PlexTvSandbox
from pipeline.sandbox.seed import generate
from pipeline.settings import PlexSettings, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
OLD_ENV = "# my own notes\nTAUTULLI_API_KEY=0123456789abcdef0123456789abcdef\nexport PLEX_URL=http://old:32400\n\nX=1\n"


@pytest.fixture
def world():
    return generate(seed=1, users=24, plays=300)


@pytest.fixture
def one_server(world, pms):
    with PlexTvSandbox(world, pms_url=pms.url, other_servers=0) as server:
        yield server


def settings_for(plextv) -> Settings:
    return Settings(plex=PlexSettings(plextv_url=plextv.url, timeout_seconds=5))


def run_login(plextv, env: Path, **kwargs) -> list[str]:
    lines: list[str] = []
    login(settings_for(plextv), env, out=lines.append, poll_seconds=0, **kwargs)
    return lines


def test_approved_pin_writes_token_and_url_keeping_other_lines(world, pms, one_server, tmp_path):
    env = tmp_path / ".env"
    env.write_text(OLD_ENV)
    env.chmod(0o644)
    one_server.pins.script("approved", after_polls=3)

    lines = run_login(one_server, env)

    pin = next(iter(one_server.pins.pins.values()))
    assert pin.polls == 3
    assert f"enter the code:  {pin.code}" in lines[0] and "https://plex.tv/link" in lines[0]
    assert not any(world.owner_token in line for line in lines)
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    text = env.read_text()
    assert text.splitlines() == ["# my own notes", "TAUTULLI_API_KEY=0123456789abcdef0123456789abcdef",
                                 f"PLEX_URL={pms.url}", "", "X=1", f"PLEX_TOKEN={world.owner_token}"]
    # What Marquee then reads is the new pair.
    settings = load_settings(None, environ={}, dotenv_path=env)
    assert settings.plex.url == pms.url and settings.plex.token.get_secret_value() == world.owner_token
    # plexapi asked plex.tv the way plex.tv wants: the pin bound to its client identifier, no token needed.
    posts = [r for r in one_server.requests if r.method == "POST" and r.path == "/api/v2/pins"]
    assert len(posts) == 1 and posts[0].headers["x-plex-product"] == "Marquee"


def test_expired_pin_writes_nothing(world, one_server, tmp_path):
    env = tmp_path / ".env"
    env.write_text(OLD_ENV)
    one_server.pins.script("expired", after_polls=2)
    with pytest.raises(PinGone, match="expired or was cancelled"):
        run_login(one_server, env)
    assert env.read_text() == OLD_ENV


def test_pin_cancelled_on_plextv_writes_nothing(world, one_server, tmp_path):
    one_server.pins.script("cancelled", after_polls=1)
    with pytest.raises(PinGone):
        run_login(one_server, tmp_path / ".env")
    assert not (tmp_path / ".env").exists()


def test_ctrl_c_while_waiting_cancels_and_writes_nothing(world, one_server, tmp_path):
    """The real command: it prints the code, waits with a progress line, and Ctrl-C ends it cleanly."""
    env = {**os.environ, "MARQUEE__PLEX__PLEXTV_URL": one_server.url, "PYTHONUNBUFFERED": "1"}
    env.pop("PLEX_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "-r", str(ROOT), "login"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        code = first.rsplit(None, 1)[-1]
        assert "https://plex.tv/link" in first and code in {p.code for p in one_server.pins.pins.values()}
        seen = ""
        while "(Ctrl-C cancels)" not in seen:  # the progress line: it is polling now
            seen += proc.stderr.read(1) or pytest.fail(f"login ended early: {seen}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Waiting for the code to be entered" in seen and "login cancelled; nothing was written" in err
    assert not (tmp_path / ".env").exists()


def test_no_server_on_the_account_writes_nothing(world, one_server, tmp_path):
    one_server.owns_servers = False
    one_server.pins.script("approved")
    with pytest.raises(MarqueeError, match=f"signed in as {world.owner.username}, but that account owns no Plex"):
        run_login(one_server, tmp_path / ".env")
    assert not (tmp_path / ".env").exists()


def test_several_servers_need_a_choice(world, pms, plextv, tmp_path):
    env = tmp_path / ".env"
    plextv.pins.script("approved")
    cabin = plextv.other_servers[0].name
    with pytest.raises(ConfigError, match=rf"owns 2 servers \('{world.server_name}', '{cabin}'\); run `invoke "
                                          r"login --server NAME`"):
        run_login(plextv, env)
    with pytest.raises(ConfigError, match="no server of that name"):
        run_login(plextv, env, server="Nope")
    assert not env.exists()

    lines = run_login(plextv, env, server=world.server_name.upper())
    assert f"  1. {world.server_name}  {pms.url}" in lines and f"  2. {cabin}  (no address plex.tv knows of)" in lines
    assert f"PLEX_URL={pms.url}" in env.read_text()


def test_several_servers_interactive_choice(world, pms, plextv, tmp_path):
    plextv.pins.script("approved")
    answers = iter(["7", "x", "1"])  # out of range and nonsense are asked again
    chosen = login(settings_for(plextv), tmp_path / ".env", ask=lambda _: next(answers), out=lambda _: None,
                   poll_seconds=0)
    assert chosen.name == world.server_name and f"PLEX_URL={pms.url}" in (tmp_path / ".env").read_text()


def test_choosing_a_server_without_an_address_writes_nothing(world, plextv, tmp_path):
    plextv.pins.script("approved")
    with pytest.raises(MarqueeError, match="plex.tv knows no address for"):
        run_login(plextv, tmp_path / ".env", server=plextv.other_servers[0].name)
    assert not (tmp_path / ".env").exists()


def test_pin_routes_answer_as_plextv(one_server):
    """No client identifier: 400. Another client's pin, or an unknown one: 404. DELETE forgets a pin."""
    assert requests.post(f"{one_server.url}/api/v2/pins", timeout=5).status_code == 400
    made = requests.post(f"{one_server.url}/api/v2/pins", headers={"X-Plex-Client-Identifier": "a"}, timeout=5)
    assert made.status_code == 201 and made.headers["Content-Type"].startswith("application/xml")
    pin = next(iter(one_server.pins.pins.values()))
    url = f"{one_server.url}/api/v2/pins/{pin.id}"
    assert requests.get(url, headers={"X-Plex-Client-Identifier": "b"}, timeout=5).status_code == 404
    assert 'authToken=""' in requests.get(url, headers={"X-Plex-Client-Identifier": "a"}, timeout=5).text
    one_server.pins.approve(pin.code)
    assert one_server.world.owner_token in requests.get(url, headers={"X-Plex-Client-Identifier": "a"}).text
    assert requests.delete(url, headers={"X-Plex-Client-Identifier": "a"}, timeout=5).status_code == 204
    assert requests.get(url, headers={"X-Plex-Client-Identifier": "a"}, timeout=5).status_code == 404
