"""Issue 11, item 11: `invoke demo` on a fresh clone keeps its world apart from a real setup, and the commands it
suggests at the end read the demo's own store. Real `invoke` processes in a temporary working directory."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.run.publish import local_files

pytestmark = pytest.mark.slow  # the whole demo runs once for the module
ROOT = Path(__file__).resolve().parents[2]


def invoke(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARQUEE", "TAUTULLI", "PLEX"))}
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT)}, timeout=600)


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A fresh working directory, as a clone has it, after the README's first command: `invoke demo`."""
    cwd = tmp_path_factory.mktemp("clone")
    (cwd / "tasks.py").symlink_to(ROOT / "tasks.py")
    out = invoke(cwd, "demo")
    assert out.returncode == 0, out.stderr[-3000:]
    return cwd, out


def hints(out: str) -> list[list[str]]:
    """The arguments of every `invoke ...` command the demo's output suggests."""
    return [shlex.split(found) for found in re.findall(r"`invoke ([^`]*)`", out)]


def hint(out: str, task: str) -> list[str]:
    found = [h for h in hints(out) if h[0] == task]
    assert found, f"the demo suggests no `invoke {task}`"
    return found[0]


def test_the_demo_writes_nothing_a_real_setup_reads_or_publishes(clone):
    """Item 11: the demo's site, store and e-mails stay in data/demo/; output/ and data/marquee.duckdb stay free."""
    cwd, out = clone
    assert (cwd / "data" / "demo" / "output" / "index.html").is_file()
    assert len(list((cwd / "data" / "demo" / "output" / "issues").iterdir())) >= 3
    assert not (cwd / "output").exists() and not (cwd / "data" / "marquee.duckdb").exists()
    assert "The demo's archive site: data/demo/output/index.html" in out.stdout

    # A real setup begins: its build and its publish listing hold none of the sandbox's issues or posters.
    built = invoke(cwd, "build", "--no-ingest")
    assert built.returncode == 0, built.stderr[-3000:]
    published = local_files(cwd / "output", "", 300)
    assert published and not [k for k in published if k.startswith(("issues/", "images/"))]


def test_the_demo_suggests_commands_that_show_its_own_queue_and_plan(clone):
    """Item 11: the hints (`invoke queue ...`, `invoke enforce ...`) read the demo's store, not an empty one."""
    cwd, out = clone
    suggested = hints(out.stdout)
    assert {h[0] for h in suggested} >= {"queue", "enforce", "serve"}
    assert all(h[1:3] == ["--config", "data/demo/marquee.toml"] for h in suggested), suggested
    queue = invoke(cwd, *hint(out.stdout, "queue"))
    assert queue.returncode == 0, queue.stderr[-3000:]
    first = queue.stdout.splitlines()[0]
    assert first.startswith("Deletion queue: ") and f"  {first}" in out.stdout  # the queue the demo printed

    plan = invoke(cwd, *hint(out.stdout, "enforce"))
    assert plan.returncode == 0, plan.stderr[-3000:]
    counts = next(line for line in plan.stdout.splitlines() if line.startswith("plan: "))
    assert f"  {counts}" in out.stdout and "users with access" in plan.stdout

    with socket.socket() as probe:  # a free port for `invoke serve`
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARQUEE", "TAUTULLI", "PLEX"))}
    server = subprocess.Popen([sys.executable, "-m", "invoke", *hint(out.stdout, "serve"), "--port", str(port)],
                              cwd=cwd, env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        page = fetch(f"http://127.0.0.1:{port}/", server)
    finally:
        server.terminate()
        server.wait(30)
    assert (cwd / "data" / "demo" / "output" / "index.html").read_bytes() == page  # the demo's site, not output/


def fetch(url: str, server: subprocess.Popen) -> bytes:
    """GET url once the server answers; the limit only guards against a hang, nothing here is timed."""
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return answer.read()
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "invoke serve did not answer"
            time.sleep(0.2)
