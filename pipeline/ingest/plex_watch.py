"""Assignees' own watch state from Plex into plex_watch_state, and who could not be read into plex_watch_unread.

Read for the movies and episodes assigned to each user (a show's episodes one by one), with the owner's token
for the owner and each other user's own server token from plex.tv. Both tables are replaced whole in one
transaction, so a user not read this time counts as not watched per Plex: safe by default.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from pipeline.errors import MarqueeError, Unreachable
from pipeline.logs import REDACTOR
from pipeline.settings import Settings
from pipeline.store import Store

log = logging.getLogger(__name__)
UTC_TS = pa.timestamp("us", tz="UTC")
STATE_SCHEMA = pa.schema([("user_id", pa.int64()), ("rating_key", pa.int64()), ("view_count", pa.int32()),
                          ("view_offset_ms", pa.int64()), ("last_viewed_at", UTC_TS)])
UNREAD_SCHEMA = pa.schema([("user_id", pa.int64()), ("reason", pa.string())])
NO_SHARE = "plex.tv lists no share of this server for them, so there is no token to read with"


@dataclass
class WatchRead:
    users: int = 0                  # assignees read
    items: int = 0                  # (user, item) states stored
    watched: int = 0                # of which viewCount > 0
    unread: dict[int, tuple[str, str]] = field(default_factory=dict)  # user_id -> (name, reason)
    http_requests: int = 0

    def line(self) -> str:
        """One line for the ingest summary (and the log when someone could not be read)."""
        out = (f"Plex watch state: {self.users:,} assignees, {self.items:,} items ({self.watched:,} watched) in "
               f"{self.http_requests:,} requests")
        if self.unread:
            out += f"; {unread_line(self.unread)}"
        return out


def unread_line(unread: dict[int, tuple[str, str]]) -> str:
    """'not read for carol (why), dave (why): counted as not watched per Plex'."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in sorted(unread.values()):
        by_reason.setdefault(reason, []).append(name)
    who = "; ".join(f"{', '.join(names)} ({reason})" for reason, names in by_reason.items())
    return f"not read for {who}: counted as not watched per Plex"


def ingest_watch_state(store: Store, settings: Settings, now: datetime, *, session: Any = None,
                       skipped: str | None = None) -> WatchRead | None:
    """Read every assignee's watch state of their assigned items; `skipped`: why Plex is not to be asked now.

    None (and nothing stored) when retention.watch_sources leaves Plex out or Plex is not set up.
    """
    if "plex" not in settings.retention.watch_sources or not settings.plex.configured:
        _save(store, [], {}, now)
        return None
    targets = store.records("ingest/watch_state_targets")
    result = WatchRead()
    states: list[dict] = []
    if targets and skipped is not None:
        result.unread = {t["user_id"]: (t["name"], f"Plex not read: {skipped}") for t in targets}
    elif targets:
        states = _read(targets, settings, session, result)
    _save(store, states, result.unread, now)
    if result.unread:
        log.warning("Plex watch state %s", unread_line(result.unread))
    return result


def _read(targets: list[dict], settings: Settings, session: Any, result: WatchRead) -> list[dict]:
    """Connect as the owner, get the users' tokens from plex.tv, then read each user's items in batches."""
    from pipeline.clients.plex import make_session, connect_server, connect_account, plex_errors
    from pipeline.clients.plex_watch import TokenRefused, connect_as, read_views, share_tokens

    plex = settings.plex
    session = session or make_session(plex)
    counter = _Counter()
    session.hooks["response"].append(counter)
    try:
        try:
            owner = connect_server(plex, session)
        except MarqueeError as exc:
            result.unread = {t["user_id"]: (t["name"], f"Plex not read: {exc}") for t in targets}
            return []
        tokens: dict[int, str] = {}
        tv_problem = None
        if any(not t["is_owner"] for t in targets):
            try:
                with plex_errors("plex.tv", plex.plextv_url, plex.token.get_secret_value()):
                    tokens = share_tokens(connect_account(plex, session), owner.machineIdentifier)
            except MarqueeError as exc:
                tv_problem = f"no token: {exc}"
        states = []
        gone: str | None = None  # Plex stopped answering: the rest are not tried, each would wait a timeout
        for t in targets:
            user_id, name = t["user_id"], t["name"]
            token = None if t["is_owner"] else tokens.get(user_id)
            if gone is not None or (not t["is_owner"] and token is None):
                result.unread[user_id] = (name, gone or tv_problem or NO_SHARE)
                continue
            try:
                with plex_errors("Plex", plex.url, token or plex.token.get_secret_value()):
                    server = owner if token is None else connect_as(plex, token, session)
                    views = read_views(server, t["rating_keys"])
            except TokenRefused as exc:
                result.unread[user_id] = (name, str(exc))
                continue
            except Unreachable as exc:
                gone = f"Plex not read: {REDACTOR.redact(str(exc))}"
                result.unread[user_id] = (name, gone)
                continue
            except MarqueeError as exc:
                result.unread[user_id] = (name, REDACTOR.redact(str(exc)))
                continue
            result.users += 1
            states += [dict(user_id=user_id, rating_key=v.rating_key, view_count=v.view_count,
                            view_offset_ms=v.view_offset_ms, last_viewed_at=v.last_viewed_at) for v in views]
        result.items = len(states)
        result.watched = sum(1 for s in states if s["view_count"] > 0)
        return states
    finally:
        session.hooks["response"].remove(counter)
        result.http_requests = counter.n


class _Counter:
    """A response hook counting the HTTP requests this read made (for the summary and the bench)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, response: Any, *args: object, **kwargs: object) -> None:
        self.n += 1


def _save(store: Store, states: list[dict], unread: dict[int, tuple[str, str]], now: datetime) -> None:
    """Replace both tables with this read, in one transaction."""
    state_rows = pa.Table.from_pylist(states, schema=STATE_SCHEMA)
    unread_rows = pa.Table.from_pylist([dict(user_id=u, reason=r) for u, (_, r) in sorted(unread.items())],
                                       schema=UNREAD_SCHEMA)
    with store.transaction(), store.registered(watch_state_rows=state_rows, watch_unread_rows=unread_rows):
        store.execute("ingest/clear_watch_state")
        store.execute("ingest/insert_watch_state", {"now": now})
        store.execute("ingest/clear_watch_unread")
        store.execute("ingest/insert_watch_unread", {"now": now})
