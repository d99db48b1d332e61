"""The daemon for real: its health endpoint over HTTP on loopback, and a subprocess stopped by a signal."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from pipeline.clock import FixedClock
from pipeline.run.health import Health, HealthServer

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def wait_for(predicate, what, limit=60.0):
    """Poll until true; the limit only guards against a hang, nothing here is timed."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def health():
    clock = FixedClock(T0)
    state = Health(clock, window=timedelta(minutes=60), starting=timedelta(minutes=30))
    server = HealthServer(state, "127.0.0.1", 0).start()
    yield clock, state, server
    server.stop()


def test_health_answers_json_with_200_while_fresh_and_503_when_stale(health):
    clock, state, server = health
    assert server._httpd.server_address[0] == "127.0.0.1"
    first = requests.get(server.url, timeout=10)
    assert first.status_code == 200 and first.json()["status"] == "starting"
    assert first.headers["Content-Type"] == "application/json"

    state.ran("all", clock.now(), counts=True)
    state.scheduled(clock.now() + timedelta(minutes=5))
    ok = requests.get(server.url, timeout=10)
    assert ok.status_code == 200 and ok.json() == {
        "status": "ok", "last_success_at": "2026-03-02T09:00:00+00:00", "last_run_at": "2026-03-02T09:00:00+00:00",
        "last_error": None, "last_refusal": None, "last_scope": "all", "next_run_at": "2026-03-02T09:05:00+00:00"}

    clock.advance(minutes=45)
    state.ran("new_users", clock.now(), counts=False, error="BadResponse: plex.tv answered 502")
    failing = requests.get(server.url, timeout=10)
    assert failing.status_code == 200 and failing.json()["status"] == "failing"

    clock.advance(minutes=16)  # 61 minutes after the last full success
    stale = requests.get(server.url, timeout=10)
    assert stale.status_code == 503 and stale.json()["status"] == "failing"
    assert stale.json()["last_error"] == "BadResponse: plex.tv answered 502"
    assert requests.head(server.url, timeout=10).status_code == 503


@pytest.mark.parametrize("method, path", [("GET", "/"), ("GET", "/healthz"), ("GET", "/health/x"),
                                          ("POST", "/health"), ("DELETE", "/health"), ("GET", "/metrics")])
def test_anything_but_get_health_is_404(health, method, path):
    _, _, server = health
    url = server.url.replace("/health", path)
    assert requests.request(method, url, timeout=10).status_code == 404


def test_a_port_in_use_is_one_line_saying_what_to_fix(health):
    from pipeline.errors import ConfigError

    _, state, server = health
    port = server._httpd.server_address[1]
    with pytest.raises(ConfigError, match=rf"daemon.health_port: cannot listen on 127.0.0.1:{port}"):
        HealthServer(state, "127.0.0.1", port).start()


# -- a real daemon process ----------------------------------------------------------------------------
CHILD = textwrap.dedent("""
    import sys, time, types
    from pathlib import Path
    from pipeline import logs
    from pipeline.clock import SystemClock
    from pipeline.run.daemon import run_daemon
    from pipeline.settings import load_settings

    work = Path(sys.argv[1])
    logs.setup()

    def job(store, settings, clock, *, apply, scope):
        with open(work / "calls", "a") as fh:
            fh.write(scope + "\\n")
        (work / "started").touch()
        while not (work / "go").exists():  # the test says when this run may finish
            time.sleep(0.01)
        (work / "finished").touch()
        return types.SimpleNamespace(run_id=1, lines=[], refusals=[], failures=0)

    settings = load_settings(environ={}, dotenv_path=None, overrides={
        "data.dir": str(work / "data"), "daemon.ingest": False, "daemon.health_port": 0})
    run_daemon(settings, SystemClock(), apply=True, job=job)
""")


class Child:
    def __init__(self, work: Path) -> None:
        self.work = work
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, str(work)], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines)

    def health_url(self) -> str:
        wait_for(lambda: "health check at " in self.log(), "the health URL in the log")
        return self.log().split("health check at ", 1)[1].split()[0]

    def finish(self) -> int:
        code = self.proc.wait(timeout=60)
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def child(tmp_path):
    proc = Child(tmp_path)
    yield proc
    proc.kill()


def test_sigterm_during_a_run_lets_it_finish_then_exits_0(child, tmp_path):
    wait_for(lambda: (tmp_path / "started").exists(), "the first run to start")
    child.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: "SIGTERM received" in child.log(), "the daemon to notice the signal")
    (tmp_path / "go").touch()
    assert child.finish() == 0, child.log()
    assert (tmp_path / "finished").exists()  # the run in progress was completed, not cut
    assert (tmp_path / "calls").read_text().split() == ["all"]  # and no other started
    assert "daemon: stopped" in child.log()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_between_runs_exits_0(child, tmp_path, sig):
    (tmp_path / "go").touch()
    url = child.health_url()
    assert url.startswith("http://127.0.0.1:") and url.endswith("/health")
    wait_for(lambda: requests.get(url, timeout=10).json()["last_run_at"] is not None, "the first run")
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200 and answer.json()["status"] == "ok" and answer.json()["last_scope"] == "all"
    child.proc.send_signal(sig)
    assert child.finish() == 0, child.log()
    assert "Traceback" not in child.log()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=10)  # the health endpoint went with it
