"""Issue 11, item 9: bad configuration and a bad store are one line on stderr and exit code 2, through the real
CLI (`invoke` in a fresh process whose working directory holds the admin's files), and nothing is changed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.sandbox.seed import generate
from pipeline.sandbox.tautulli import TautulliSandbox

ROOT = Path(__file__).resolve().parents[2]


def invoke(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MARQUEE", "TAUTULLI", "PLEX"))}
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, capture_output=True, text=True,
                          env={**base, "PYTHONPATH": str(ROOT), **env}, timeout=300)


@pytest.fixture
def admin(tmp_path: Path) -> Path:
    """A working directory as an admin has it: tasks.py and a marquee.toml."""
    (tmp_path / "tasks.py").symlink_to(ROOT / "tasks.py")
    (tmp_path / "marquee.toml").write_text('[server]\nname = "Home"\n')
    return tmp_path


def one_error(out: subprocess.CompletedProcess, *, progress: bool = False) -> str:
    """The one line the admin reads; exit code 2 (configuration), no traceback, nothing else on stderr
    (progress: the run's own INFO lines may come first, as they do on a terminal)."""
    assert out.returncode == 2, out.stderr[-2000:]
    lines = [l for l in out.stderr.splitlines() if not (progress and " INFO " in l)]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr[-2000:]
    return lines[0]


def a_store(admin: Path) -> Path:
    """A real store, made by a first command."""
    assert invoke(admin, "status").returncode == 0
    store = admin / "data" / "marquee.duckdb"
    assert store.stat().st_size > 16_384
    return store


def test_a_marquee_toml_that_is_not_utf8(admin):
    """Item 9: a marquee.toml saved as Latin-1 is one line naming the file; no store is made."""
    config = admin / "marquee.toml"
    config.write_bytes('[server]\nname = "Café"\n'.encode("latin-1"))
    before = config.read_bytes()
    line = one_error(invoke(admin, "status"))
    assert "marquee.toml: not UTF-8" in line
    assert config.read_bytes() == before and not (admin / "data").exists()


@pytest.mark.parametrize("damage", ["truncated", "corrupt block", "cut to nothing"])
def test_a_damaged_store_is_named_and_left_untouched(admin, damage):
    """Item 9: a truncated or corrupt DuckDB file says so in one line and is never rewritten."""
    store = a_store(admin)
    data = bytearray(store.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "corrupt block":
        data[4200:4220] = b"\xff" * 20  # inside the second header block: its checksum fails
    else:
        data = bytearray()
    store.write_bytes(bytes(data))
    for task in ("status", "ingest", "queue"):
        line = one_error(invoke(admin, task))
        assert "data/marquee.duckdb is damaged" in line and "untouched" in line, line
        assert store.read_bytes() == bytes(data)


def test_a_data_path_that_is_a_file(admin):
    """Item 9: data.dir pointing at a file is one line naming data.dir; the file stays as it was."""
    (admin / "data").write_text("not a folder\n")
    line = one_error(invoke(admin, "status"))
    assert line.startswith("error: data.dir: data is a file, not a folder")
    assert (admin / "data").read_text() == "not a folder\n"
    line = one_error(invoke(admin, "status", MARQUEE_DATA_DIR=str(admin / "data" / "deeper")))
    assert "data.dir: cannot use" in line


def test_an_sqlite_file_given_as_the_store(admin):
    """Item 9: an SQLite file where the store belongs: one line, not DuckDB's extension help; never rewritten."""
    (admin / "data").mkdir()
    store = admin / "data" / "marquee.duckdb"
    con = sqlite3.connect(store)
    con.execute("CREATE TABLE plays (id INTEGER)")
    con.commit()
    con.close()
    before = store.read_bytes()
    line = one_error(invoke(admin, "status"))
    assert "is an SQLite database, not Marquee's DuckDB store" in line
    assert "extension" not in line.lower()
    assert store.read_bytes() == before


def test_a_wrong_tautulli_key_is_configuration(admin):
    """Item 9: Tautulli refusing the API key exits 2 (configuration), not 1, with one line naming the setting."""
    world = generate(seed=3, users=4, plays=50)
    a_store(admin)
    with TautulliSandbox(world) as tautulli:
        out = invoke(admin, "ingest", TAUTULLI_URL=tautulli.url, TAUTULLI_API_KEY="x" * 32)
    line = one_error(out, progress=True)
    assert "Invalid apikey" in line and "TAUTULLI_API_KEY" in line and "x" * 32 not in out.stdout + out.stderr


def test_enforce_without_plex_is_configuration(admin):
    """Item 9: `invoke enforce` with no Plex configured exits 2 and says which settings it needs."""
    a_store(admin)
    line = one_error(invoke(admin, "enforce"))
    assert "PLEX_URL" in line and "PLEX_TOKEN" in line
