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

from pipeline.errors import StoreError
from pipeline.settings import Settings
from pipeline.store.lock import WriterLock
from pipeline.store.migrate import migrate

log = logging.getLogger(__name__)


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
    lock = WriterLock(path.with_name("marquee.lock"),
                      settings.data.lock_wait_seconds if wait_seconds is None else wait_seconds).acquire()
    try:
        con = duckdb.connect(str(path))
        con.execute("SET TimeZone = 'UTC'")
        migrate(con)
        make_private(path)  # DuckDB creates its files with the umask's mode
    except duckdb.Error as exc:
        lock.release()
        raise StoreError(f"cannot open {path}: {exc}") from exc
    except BaseException:
        lock.release()
        raise
    return Store(con, lock, path)


def memory_store() -> Store:
    """A fresh, migrated in-memory store for tests and benchmarks."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    migrate(con)
    return Store(con)
