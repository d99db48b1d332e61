"""Numbered SQL migrations in pipeline/sql/schema/, applied on open, version kept in the database."""

from __future__ import annotations

import logging
import re
from importlib import resources

import duckdb

from pipeline.errors import StoreError

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every migration, in order."""
    found = []
    for entry in resources.files("pipeline.sql").joinpath("schema").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text()))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise StoreError(f"schema migrations are not numbered 001..{len(found):03d}: {versions}")
    return found


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, name VARCHAR NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0]


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply what is missing, each migration in its own transaction; return the version."""
    have = current_version(con)
    todo = migrations()
    if have > len(todo):
        raise StoreError(f"the store is at schema {have}, newer than this Marquee ({len(todo)}); upgrade Marquee")
    for version, name, sql in todo[have:]:
        con.execute("BEGIN")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise StoreError(f"migration {name} failed: {exc}") from exc
        log.info("store: applied migration %s", name)
    return len(todo)
