"""Open the store: take the writer lock, connect, migrate; run named SQL files."""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Sequence

import duckdb

from pipeline.errors import ConfigError, StoreError
from pipeline.settings import Settings
from pipeline.store.lock import WriterLock
from pipeline.store.migrate import migrate

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB file
# What DuckDB says when the file is cut short or its checksums fail.
DAMAGED = ("not a valid DuckDB database file", "Could not read enough bytes", "Corrupt database file")


@cache
def sql(name: str) -> str:
    """The text of pipeline/sql/<name>.sql; one query per file, named for what it produces."""
    path = resources.files("pipeline.sql").joinpath(f"{name}.sql")
    try:
        return path.read_text()
    except FileNotFoundError:
        raise StoreError(f"no SQL file pipeline/sql/{name}.sql") from None


class Store:
    """A migrated DuckDB connection held under the single-writer lock."""

    def __init__(self, con: duckdb.DuckDBPyConnection, lock: WriterLock | None = None,
                 path: Path | None = None) -> None:
        self.con = con
        self._lock = lock
        self._path = path

    def execute(self, name: str, params: Sequence[Any] | dict | None = None) -> list[tuple]:
        """Run pipeline/sql/<name>.sql with bound parameters; return every row."""
        return self.con.execute(sql(name), params or []).fetchall()

    def records(self, name: str, params: Sequence[Any] | dict | None = None) -> list[dict]:
        """Like execute, as dicts keyed by column name."""
        cur = self.con.execute(sql(name), params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]

    def df(self, name: str, params: Sequence[Any] | dict | None = None):
        return self.con.execute(sql(name), params or []).df()

    @contextmanager
    def registered(self, **tables: Any) -> Iterator[None]:
        """Rows (Arrow tables) readable by name in SQL for the block's length, then forgotten."""
        try:
            for name, table in tables.items():
                self.con.register(name, table)
            yield
        finally:
            for name in tables:
                self.con.unregister(name)

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: a failure or a kill leaves the previous consistent state."""
        self.con.execute("BEGIN")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()
        if self._path is not None:
            make_private(self._path)  # a WAL the run left behind (a checkpoint normally removes it)
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_private(db_path: Path) -> None:
    """Only the owner may read the store (it holds readers' names and addresses): 0700 folder, 0600 files."""
    for path, mode in ((db_path.parent, 0o700), (db_path, 0o600), (db_path.with_name(db_path.name + ".wal"), 0o600),
                       (db_path.with_name("marquee.lock"), 0o600)):
        try:
            if path.exists() and (path.stat().st_mode & 0o777) != mode:
                os.chmod(path, mode)
        except OSError as exc:  # not the owner (a shared mount): the store still works, so say it and go on
            log.warning("store: cannot make %s private (%s)", path, exc.strerror)


def open_store(settings: Settings, *, wait_seconds: float | None = None) -> Store:
    """Take the writer lock (bounded wait), open and migrate the DuckDB file."""
    path = settings.data.db_path
    check_store_path(settings.data.dir, path)
    try:
        lock = WriterLock(path.with_name("marquee.lock"),
                          settings.data.lock_wait_seconds if wait_seconds is None else wait_seconds).acquire()
    except OSError as exc:  # the folder cannot be made (a file on the way, no permission)
        raise ConfigError(f"data.dir: cannot use {settings.data.dir} ({exc.strerror}); point data.dir (or "
                          "MARQUEE_DATA_DIR) at a folder Marquee may write") from None
    try:
        con = duckdb.connect(str(path))
        con.execute("SET TimeZone = 'UTC'")
        migrate(con)
        make_private(path)  # DuckDB creates its files with the umask's mode
    except duckdb.Error as exc:
        lock.release()
        if any(sign in str(exc) for sign in DAMAGED):
            raise damaged(path, str(exc).splitlines()[0]) from exc
        raise StoreError(f"cannot open {path}: {exc}") from exc
    except BaseException:
        lock.release()
        raise
    return Store(con, lock, path)


def check_store_path(data_dir: Path, path: Path) -> None:
    """A one-line ConfigError, before anything is created or written, when data.dir cannot hold the store."""
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"data.dir: {data_dir} is a file, not a folder; point data.dir (or MARQUEE_DATA_DIR) at a "
                          "folder for Marquee's store")
    if path.is_dir():
        raise ConfigError(f"data.dir: {path} is a folder, where Marquee's store file belongs; move it away")
    if not path.exists():
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise ConfigError(f"data.dir: cannot read {path} ({exc.strerror})") from None
    if head.startswith(SQLITE_MAGIC):
        # DuckDB would try to download its SQLite extension and print that extension's help instead.
        raise ConfigError(f"{path} is an SQLite database, not Marquee's DuckDB store; move it away, or point "
                          "data.dir (or MARQUEE_DATA_DIR) at another folder")
    if head[8:12] != DUCKDB_MAGIC:
        raise damaged(path, f"only {len(head)} bytes" if len(head) < 16 else "it does not start like a DuckDB file")


def damaged(path: Path, detail: str) -> ConfigError:
    """The store is truncated or corrupt: say so; it is left as it is (nothing here rewrites it)."""
    return ConfigError(f"{path} is damaged: truncated, corrupt or not a DuckDB file ({detail}); Marquee left it "
                       "untouched: restore it from a backup, or move it away and `invoke ingest` starts a new store")


def memory_store() -> Store:
    """A fresh, migrated in-memory store for tests and benchmarks."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    migrate(con)
    return Store(con)
