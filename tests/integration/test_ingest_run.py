"""`invoke ingest` as an admin runs it: a real process against the sandbox servers over loopback."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow  # every test is a real `invoke ingest` process
ROOT = Path(__file__).resolve().parents[2]
# Each table, less the columns that record when a run saw a row (they differ between runs by design).
TABLES = {"tautulli_history": "ingested_at", "tautulli_users": "first_seen_at, last_listed_at",
          "tautulli_libraries": "last_listed_at", "plex_users": "first_seen_at, last_listed_at",
          "plex_sections": "last_listed_at", "plex_server": "last_listed_at"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """The sandbox in its own process, as the benchmarks run it; a fixed world so runs compare."""
    info_file = tmp_path_factory.mktemp("sandbox") / "info.json"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.sandbox", "--plays", "30000", "--users", "40",
                             "--info-file", str(info_file)], cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not info_file.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "sandbox did not start"
        time.sleep(0.1)
    yield json.loads(info_file.read_text())
    proc.terminate()
    proc.wait(10)


def env_for(info, data_dir, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARQUEE", "TAUTULLI", "PLEX"))}
    env.update(TAUTULLI_URL=info["tautulli_url"], TAUTULLI_API_KEY=info["tautulli_api_key"],
               PLEX_URL=info["plex_url"], PLEX_TOKEN=info["plex_token"], MARQUEE_DATA_DIR=str(data_dir),
               MARQUEE__PLEX__PLEXTV_URL=info["plextv_url"], MARQUEE__SERVER__TIMEZONE=info["timezone"],
               MARQUEE__TAUTULLI__PAGE_SIZE="1000", PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def invoke(env, *args, **kw):
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def tables(data_dir):
    con = duckdb.connect(str(data_dir / "marquee.duckdb"), read_only=True)
    try:
        out = {t: con.execute(f"SELECT * EXCLUDE ({volatile}) FROM {t} ORDER BY ALL").fetchall()
               for t, volatile in TABLES.items()}
        out["plex_items"] = con.execute("SELECT rating_key, type, title, size_bytes, removed_at FROM plex_items "
                                        "ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def clean_run(sandbox, tmp_path_factory):
    data = tmp_path_factory.mktemp("clean")
    out = invoke(env_for(sandbox, data), "ingest")
    assert out.returncode == 0, out.stderr
    return data, out


def test_a_run_prints_a_summary_and_fills_every_source(sandbox, clean_run):
    data, out = clean_run
    assert "plays: 30,000 new" in out.stdout and "Plex items listed:" in out.stdout and "took" in out.stdout
    got = tables(data)
    assert len(got["tautulli_history"]) == 30000 and got["plex_users"] and got["plex_items"]
    assert sandbox["tautulli_api_key"] not in out.stdout + out.stderr
    assert sandbox["plex_token"] not in out.stdout + out.stderr


def test_a_second_run_changes_nothing(sandbox, clean_run):
    data, _ = clean_run
    before = tables(data)
    again = invoke(env_for(sandbox, data), "ingest")
    assert again.returncode == 0, again.stderr
    assert "plays: 0 new" in again.stdout
    assert tables(data) == before


def test_a_run_killed_halfway_leaves_the_store_as_it_was_and_the_next_run_converges(sandbox, clean_run, tmp_path):
    env = env_for(sandbox, tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "ingest"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Wait until it is visibly paging through history, then kill it without warning.
    seen = ""
    while "Tautulli history" not in seen:
        line = proc.stdout.readline()
        assert line, f"ingest ended before paging: {seen}"
        seen += line
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    con = duckdb.connect(str(tmp_path / "marquee.duckdb"), read_only=True)
    try:  # the killed run's transaction never committed: no partial history
        assert con.execute("SELECT count(*) FROM tautulli_history").fetchall() == [(0,)]
    finally:
        con.close()
    rerun = invoke(env, "ingest")
    assert rerun.returncode == 0, rerun.stderr
    assert tables(tmp_path) == tables(clean_run[0])


def test_an_overlapping_run_waits_then_exits_75_changing_nothing(sandbox, clean_run, tmp_path):
    import fcntl

    env = env_for(sandbox, tmp_path, MARQUEE__DATA__LOCK_WAIT_SECONDS="1")
    tmp_path.mkdir(exist_ok=True)
    with open(tmp_path / "marquee.lock", "w") as held:  # as a running ingest holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        out = invoke(env, "ingest")
    assert out.returncode == 75
    assert "another Marquee run holds" in out.stderr and out.stderr.count("\n") == 1
    assert not (tmp_path / "marquee.duckdb").exists()


@pytest.mark.parametrize("env_change, message", [
    ({"TAUTULLI_API_KEY": "x" * 32}, "Invalid apikey"),
    ({"TAUTULLI_URL": "http://127.0.0.1:9"}, "not reachable"),
    ({"TAUTULLI_API_KEY": "short"}, "tautulli.api_key: must be 32 letters or digits"),
])
def test_bad_input_is_one_clear_line_and_changes_nothing(sandbox, clean_run, env_change, message):
    data, _ = clean_run
    before = tables(data)
    env = env_for(sandbox, data, MARQUEE__TAUTULLI__RETRIES="0")
    env.update(env_change)
    out = invoke(env, "ingest")
    assert out.returncode != 0
    errors = [l for l in out.stderr.splitlines() if l.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], out.stderr
    assert "Traceback" not in out.stderr and sandbox["tautulli_api_key"] not in out.stderr
    assert tables(data) == before


def test_plex_down_keeps_the_tautulli_part_and_says_so(sandbox, tmp_path):
    out = invoke(env_for(sandbox, tmp_path, PLEX_URL="http://127.0.0.1:9"), "ingest")
    assert out.returncode == 0, out.stderr
    assert "Plex inventory skipped: Plex at http://127.0.0.1:9 is not reachable" in out.stdout
    assert len(tables(tmp_path)["tautulli_history"]) == 30000


def test_the_demo_builds_the_site_with_no_network(tmp_path):
    (tmp_path / "tasks.py").symlink_to(ROOT / "tasks.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARQUEE", "TAUTULLI", "PLEX"))}
    out = subprocess.run([sys.executable, "-m", "invoke", "demo"], cwd=tmp_path, capture_output=True, text=True,
                         env={**env, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    site = tmp_path / "data" / "demo" / "output"  # the demo's world stays apart from a real output/ (issue 11)
    assert (site / "index.html").is_file()
    assert len(list((site / "issues").iterdir())) >= 3
    assert "The demo's archive site:" in out.stdout
    assert len(list((tmp_path / "data" / "demo" / "outbox" / "dry-run").rglob("*.eml"))) >= 10  # not in the site
    assert list((tmp_path / "output").rglob("*.eml")) == []

    # The leak scan over everything `invoke publish` would upload (it never uploads the outbox).
    from pipeline.sandbox.arr import RadarrSandbox, SonarrSandbox
    from pipeline.sandbox.seed import generate
    from pipeline.sandbox.seerr import SeerrSandbox
    from tests.fixtures.leaks import leak_scan

    world = generate(seed=7, users=24, plays=60)  # the demo's seed: the same key and token
    config = (tmp_path / "data" / "demo" / "marquee.toml").read_text()
    urls = [line.split('"')[1] for line in config.splitlines() if line.startswith(("url", "plextv_url"))]
    assert len(urls) == 6  # Tautulli, Plex, plex.tv, Sonarr, Radarr, Seerr
    keys = [SonarrSandbox(world).api_key, RadarrSandbox(world).api_key, SeerrSandbox(world).api_key]
    usernames = [u.username for u in world.users if u.username]
    found = leak_scan(site, secrets=[world.tautulli_api_key, world.owner_token, *keys, *urls],
                      words=usernames, exclude=["outbox"])
    assert found == []
