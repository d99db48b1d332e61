"""Tautulli's users and libraries into tautulli_users / tautulli_libraries, inside the caller's transaction."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from pipeline.errors import BadResponse
from pipeline.store import Store
from pipeline.clients.tautulli import TautulliClient
from pipeline.text import clean_or_none

log = logging.getLogger(__name__)

LIBRARY_PAGE = 1000  # get_libraries_table defaults to 25 rows; servers have tens of libraries


def user_schema():
    import pyarrow as pa  # here, not at the top: pyarrow loads while Tautulli answers (see People)

    return pa.schema([
        ("user_id", pa.int64()), ("username", pa.string()), ("friendly_name", pa.string()),
        ("email", pa.string()), ("thumb", pa.string()), ("is_active", pa.bool_()), ("is_admin", pa.bool_()),
        ("is_home_user", pa.bool_()), ("is_restricted", pa.bool_()), ("shared_libraries", pa.list_(pa.string()))])


def library_schema():
    import pyarrow as pa

    return pa.schema([
        ("section_id", pa.int64()), ("section_name", pa.string()), ("section_type", pa.string()),
        ("item_count", pa.int64()), ("parent_count", pa.int64()), ("child_count", pa.int64()),
        ("is_active", pa.bool_())])


def __getattr__(name: str):
    """USER_SCHEMA and LIBRARY_SCHEMA, made on first use."""
    if name == "USER_SCHEMA":
        return user_schema()
    if name == "LIBRARY_SCHEMA":
        return library_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class People:
    """get_users and get_libraries_table, fetched in a thread while the history is prepared.

    A real Tautulli answers each request in its own thread, and most of a get_history's time is SQLite
    scanning the history table (the GIL released): the two small requests cost no wall time beside it.
    `result()` waits and returns (users, libraries) rows, or raises what the requests raised.
    """

    def __init__(self, client: TautulliClient) -> None:
        self.client = client
        self._out: tuple[dict, dict] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._fetch, name="tautulli-people", daemon=True)
        self._thread.start()

    def _fetch(self) -> None:
        try:
            self._out = fetch_users(self.client), fetch_libraries(self.client)
        except BaseException as exc:  # raised in the caller's thread by result()
            self._error = exc

    def result(self) -> tuple[dict, dict]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._out

    def wait(self) -> None:
        """Let the requests finish (after a failure elsewhere), so none outlives the run."""
        self._thread.join()


def ingest_users(store: Store, client: TautulliClient, now: datetime) -> int:
    """Upsert get_users; mark users it no longer lists as removed. Returns users listed (Local not counted)."""
    return store_users(store, fetch_users(client), now)


def fetch_users(client: TautulliClient) -> dict[int, dict]:
    """get_users as tautulli_users rows by user_id; BadResponse if unusable."""
    listed = client.call("get_users")
    if not isinstance(listed, list):
        raise BadResponse("Tautulli get_users: data is not a list of users")
    rows: dict[int, dict] = {}
    for i, user in enumerate(listed):
        row = user_row(user)
        if row is None:
            raise BadResponse(f"Tautulli get_users: user {i} has no usable user_id")
        rows[row["user_id"]] = row
    return rows


def store_users(store: Store, rows: dict[int, dict], now: datetime) -> int:
    """Merge fetched users into tautulli_users; mark the unlisted removed. Returns users listed (not Local)."""
    import pyarrow as pa

    table = pa.Table.from_pylist(list(rows.values()), schema=user_schema())
    store.con.register("tautulli_user_rows", table)
    try:
        store.execute("ingest/merge_tautulli_users", {"now": now})
        if rows:
            store.execute("ingest/mark_removed_tautulli_users", {"now": now})
        else:
            # Tautulli always lists at least Local and the owner: an empty list is a glitch, not mass deletion.
            log.warning("Tautulli get_users listed nobody; leaving the stored users as they are")
    finally:
        store.con.unregister("tautulli_user_rows")
    return sum(1 for user_id in rows if user_id != 0)


def user_row(user: Any) -> dict | None:
    """One get_users entry as a tautulli_users row; None without a user_id. Names are kept as sent (see as_text)."""
    if not isinstance(user, dict) or as_int(user.get("user_id")) is None:
        return None
    shared = user.get("shared_libraries") or []
    if isinstance(shared, str):  # older Tautulli sent the raw "1;2;3"
        shared = shared.split(";")
    return {
        "user_id": as_int(user["user_id"]),
        "username": as_text(user.get("username")),
        "friendly_name": as_text(user.get("friendly_name")),
        "email": as_text(user.get("email")),
        "thumb": as_text(user.get("thumb")),
        "is_active": as_bool(user.get("is_active")),
        "is_admin": as_bool(user.get("is_admin")),
        "is_home_user": as_bool(user.get("is_home_user")),
        "is_restricted": as_bool(user.get("is_restricted")),
        "shared_libraries": [str(s) for s in shared if str(s).strip()] if isinstance(shared, (list, tuple)) else [],
    }


def ingest_libraries(store: Store, client: TautulliClient, now: datetime) -> int:
    """Upsert get_libraries_table (it works from Tautulli's database, even while Plex is down)."""
    return store_libraries(store, fetch_libraries(client), now)


def fetch_libraries(client: TautulliClient) -> dict[int, dict]:
    """get_libraries_table, every page, as tautulli_libraries rows by section_id; BadResponse if unusable."""
    rows: dict[int, dict] = {}
    start = 0
    while True:
        data = client.call("get_libraries_table", start=start, length=LIBRARY_PAGE, order_column="section_name",
                           order_dir="asc")
        page = data.get("data") if isinstance(data, dict) else None
        total = data.get("recordsFiltered") if isinstance(data, dict) else None
        if not isinstance(page, list) or not isinstance(total, int):
            raise BadResponse("Tautulli get_libraries_table: data has no row list or no recordsFiltered")
        for i, library in enumerate(page):
            row = library_row(library)
            if row is None:
                raise BadResponse(f"Tautulli get_libraries_table: row {start + i} has no usable section_id")
            old = rows.get(row["section_id"])
            # One row per (server, section): after a Plex server move the old server's section may linger.
            if old is None or (row["is_active"] and not old["is_active"]):
                rows[row["section_id"]] = row
        start += len(page)
        if len(page) < LIBRARY_PAGE or start >= total:
            break
    return rows


def store_libraries(store: Store, rows: dict[int, dict], now: datetime) -> int:
    """Merge fetched libraries into tautulli_libraries; returns how many."""
    import pyarrow as pa

    table = pa.Table.from_pylist(list(rows.values()), schema=library_schema())
    store.con.register("tautulli_library_rows", table)
    try:
        store.execute("ingest/merge_tautulli_libraries", {"now": now})
    finally:
        store.con.unregister("tautulli_library_rows")
    return len(rows)


def library_row(library: Any) -> dict | None:
    """One get_libraries_table entry as a tautulli_libraries row; None without a section_id."""
    if not isinstance(library, dict) or as_int(library.get("section_id")) is None:
        return None
    return {
        "section_id": as_int(library["section_id"]),
        "section_name": as_text(library.get("section_name")),
        "section_type": as_text(library.get("section_type")),
        "item_count": as_int(library.get("count")),
        "parent_count": as_int(library.get("parent_count")),
        "child_count": as_int(library.get("child_count")),
        "is_active": as_bool(library.get("is_active")),
    }


def as_int(value: Any) -> int | None:
    """Tautulli's numbers may be "", None or text: an int, or None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_bool(value: Any) -> bool | None:
    number = as_int(value) if not isinstance(value, bool) else int(value)
    return None if number is None else number != 0


def as_text(value: Any) -> str | None:
    """Text as sent, less control characters (they break the feeds, the charts and e-mail)."""
    return clean_or_none(value)
