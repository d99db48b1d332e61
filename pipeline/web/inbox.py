"""The web app's durable inbox: readers' actions, appended to SQLite before the reader is answered.

DuckDB has one writer and a long build holds it, so the web app never opens the store. It appends here
(WAL, synchronous=FULL: a commit is on disk before the answer goes out), and every run takes the rows in
first (pipeline/ingest/inbox.py). Concurrent answers share one commit (group commit): one fsync for a batch.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

INBOX_FILE = "inbox.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    acted_at TEXT NOT NULL,      -- ISO UTC
    reader   INTEGER NOT NULL,
    action   TEXT NOT NULL,      -- unsubscribe | resubscribe | keep | done | still_here
    target   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS actions_reader ON actions (reader, action, target);
CREATE TABLE IF NOT EXISTS meta (uid TEXT NOT NULL);  -- one row: this file's identity (ids restart in a new file)
INSERT INTO meta (uid) SELECT lower(hex(randomblob(16))) WHERE NOT EXISTS (SELECT 1 FROM meta);
"""
TOGGLES = {"unsubscribe": "subscription", "resubscribe": "subscription"}
DONE, ALREADY, LIMIT = "done", "already", "limit"


@dataclass(frozen=True)
class Request:
    """One action a reader asked for; keeps_per_month limits "keep" (0: no keeps)."""

    reader: int
    action: str
    target: str
    at: datetime
    keeps_per_month: int = 0


def connect(path: Path, *, readonly: bool = False, fsync: bool = True) -> sqlite3.Connection:
    """The inbox, created when missing (WAL; synchronous=FULL, or NORMAL without fsync); readonly for the run that
    takes it in. NORMAL still survives a killed process (the WAL is written before COMMIT returns), not a power cut."""
    if readonly:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        con.execute("PRAGMA query_only = ON")
        return con
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL" if fsync else "PRAGMA synchronous = NORMAL")
    con.executescript(SCHEMA)
    return con


def _state(con: sqlite3.Connection, r: Request) -> str:
    """DONE when this request changes something, ALREADY when it was done before, LIMIT when over the limit."""
    if r.action in TOGGLES:
        row = con.execute("SELECT action FROM actions WHERE reader = ? AND target = ? AND action IN "
                          "('unsubscribe', 'resubscribe') ORDER BY id DESC LIMIT 1", (r.reader, r.target)).fetchone()
        last = row[0] if row else "resubscribe"
        return ALREADY if last == r.action else DONE
    if con.execute("SELECT 1 FROM actions WHERE reader = ? AND action = ? AND target = ? LIMIT 1",
                   (r.reader, r.action, r.target)).fetchone():
        return ALREADY
    if r.action == "keep":
        month = r.at.astimezone(timezone.utc).strftime("%Y-%m")
        used = con.execute("SELECT count(*) FROM actions WHERE reader = ? AND action = 'keep' AND acted_at >= ?",
                           (r.reader, month + "-01")).fetchone()[0]
        if used >= r.keeps_per_month:
            return LIMIT
    return DONE


def record(con: sqlite3.Connection, r: Request) -> str:
    """Check and append one request inside the caller's transaction; DONE, ALREADY or LIMIT."""
    outcome = _state(con, r)
    if outcome == DONE:
        con.execute("INSERT INTO actions (acted_at, reader, action, target) VALUES (?, ?, ?, ?)",
                    (r.at.astimezone(timezone.utc).isoformat(), r.reader, r.action, r.target))
    return outcome


def current(con: sqlite3.Connection, reader: int, action: str, target: str) -> str | None:
    """What the inbox already has for a page: 'unsubscribe'/'resubscribe' state, or the action if done; else None."""
    if action == "unsubscribe":
        row = con.execute("SELECT action FROM actions WHERE reader = ? AND target = ? AND action IN "
                          "('unsubscribe', 'resubscribe') ORDER BY id DESC LIMIT 1", (reader, target)).fetchone()
        return row[0] if row else None
    row = con.execute("SELECT 1 FROM actions WHERE reader = ? AND action = ? AND target = ? LIMIT 1",
                      (reader, action, target)).fetchone()
    return action if row else None


class Writer:
    """One thread owns the inbox's writes; requests that arrive together share one transaction and one fsync.

    deliver(settled) gets each batch's [(done, outcome)] once it is committed (or failed), in the writer thread:
    the web app hands the whole batch to its event loop with one wake-up. Without it, each done(outcome) is called.
    """

    def __init__(self, path: Path, max_batch: int = 256, *, fsync: bool = True,
                 deliver: Callable[[list[tuple[Any, str | BaseException]]], None] | None = None) -> None:
        self.con = connect(path, fsync=fsync)
        self.max_batch = max_batch
        self.deliver = deliver or _call_each
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()  # C-level put: no Condition to notify per request
        self._thread = threading.Thread(target=self._loop, name="inbox-writer", daemon=True)
        self._thread.start()

    def submit(self, request: Request, done: Any) -> None:
        """Queue a request; its outcome goes to deliver (or done(outcome)) once committed (or failed)."""
        self._jobs.put((request, done))

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)
        self.con.close()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch = [job]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._jobs.put(None)
                    break
                batch.append(nxt)
            self._commit(batch)

    def _commit(self, batch: list) -> None:
        outcomes: list[str | BaseException] = []
        try:
            self.con.execute("BEGIN IMMEDIATE")
            for request, _ in batch:
                outcomes.append(record(self.con, request))
            self.con.execute("COMMIT")  # written (and with fsync on disk) before anyone is answered
        except sqlite3.Error as exc:
            if self.con.in_transaction:
                self.con.execute("ROLLBACK")
            outcomes = [exc] * len(batch)
        self.deliver([(done, outcome) for (_, done), outcome in zip(batch, outcomes)])


def _call_each(settled: list[tuple[Any, str | BaseException]]) -> None:
    for done, outcome in settled:
        done(outcome)


def uid(con: sqlite3.Connection) -> str:
    """This inbox file's identity."""
    return con.execute("SELECT uid FROM meta").fetchone()[0]


COLUMNS = ("id", "acted_at", "reader", "action", "target")


def taken_since(con: sqlite3.Connection, after: int) -> tuple[int, list[str]]:
    """How many actions have id > after, and each column of them as one JSON array (SQLite builds the text, so no
    Python object per row; every array walks the same rows, so the i-th elements are one action)."""
    arrays = ", ".join(f"json_group_array({c})" for c in COLUMNS)
    row = con.execute(f"SELECT count(*), {arrays} FROM (SELECT * FROM actions WHERE id > ? ORDER BY id)",
                      (after,)).fetchone()
    return row[0], list(row[1:])
