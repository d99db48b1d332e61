"""The Plex inventory: server, users with access, sections and items, into the plex_* tables.

The caller holds the transaction; anything raised here rolls the whole inventory back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

import requests
from plexapi.myplex import MyPlexAccount
from plexapi.server import PlexServer
from plexapi.utils import searchType

from pipeline.errors import BadResponse, ConfigError
from pipeline.settings import PlexSettings, Settings
from pipeline.store import Store
import pipeline.clients.plex_rows as rows
from pipeline.clients.plex import connect, plex_errors

log = logging.getLogger(__name__)


@dataclass
class PlexResult:
    users: int              # users with access now (owner, home members, share holders)
    sections: int           # sections on the server now
    items_listed: int       # items read this run, from the sections listed again
    items_changed: int      # new, changed, returned or removed items
    sections_skipped: int   # sections not listed again: unchanged since the last run, or photo libraries


def ingest_plex(store: Store, settings: Settings, now: datetime, progress: Any = None,
                session: requests.Session | None = None) -> PlexResult:
    """Copy the Plex inventory into the store; only sections whose content changed are listed again."""
    plex = settings.plex
    server, account = connect(plex, session=session)
    server_row = rows.server_row(server)
    stored = store.execute("ingest/stored_server")
    if stored and stored[0][0] != server_row["machine_identifier"]:
        # One store per server: mixing two servers' rating keys and shares would make enforce act on the wrong one.
        raise ConfigError(f"PLEX_URL reaches Plex server {server_row['name']!r} ({server_row['machine_identifier']}), "
                          f"but this store describes {stored[0][1]!r} ({stored[0][0]}); point PLEX_URL back, "
                          "or use another data.dir for the other server")
    with _errors(plex, "plex.tv"):
        friends, shared = _plextv_users(account, server_row["machine_identifier"])
    users = rows.user_rows(account, friends, rows.share_rows(shared))
    with _errors(plex, "Plex"):
        listing = [{**rows.section_row(elem), "locations": rows.section_locations(elem)}
                   for elem in _query(server, plex, "/library/sections") if elem.tag == "Directory"]

    store.execute("ingest/merge_plex_server", {**server_row, "now": now})
    _merge(store, "plex_user_rows", rows.table(users, rows.USER_SCHEMA),
           ["ingest/merge_plex_users", "ingest/mark_removed_plex_users"], now)

    stored = {sid: (changed, removed) for sid, changed, removed in store.execute("ingest/plex_sections_stored")}
    current = {row["section_id"] for row in listing}
    gone = [sid for sid, (_, removed) in stored.items() if removed is None and sid not in current]
    listed = changed = skipped = 0
    for row in listing:
        if row["type"] not in rows.LIBTYPES or not _changed(row, stored.get(row["section_id"])):
            skipped += 1
            continue
        with _errors(plex, "Plex"):
            items, top = _list_section(server, plex, row, progress)
        row["item_count"] = top
        listed += len(items)
        changed += _write_items(store, items, [row["section_id"]], now)
    if gone:  # a deleted library takes its items along
        changed += _write_items(store, [], gone, now)
    _merge(store, "plex_section_rows", rows.table(listing, rows.SECTION_SCHEMA),
           ["ingest/merge_plex_sections", "ingest/mark_removed_plex_sections"], now)
    filled = store.execute("ingest/fill_play_sections")[0][0]
    log.debug("Plex inventory: %d plays got their library", filled)

    log.info("Plex inventory: %d users, %d sections (%d not listed again), %d items listed, %d changed",
             len(users), len(listing), skipped, listed, changed)
    return PlexResult(len(users), len(listing), listed, changed, skipped)


def _errors(plex: PlexSettings, what: str):
    """Failures after connecting become Unreachable / BadResponse, like connecting's own."""
    url = plex.url if what == "Plex" else plex.plextv_url
    return plex_errors(what, url, plex.token.get_secret_value())


def _plextv_users(account: MyPlexAccount, machine_identifier: str) -> tuple[list, Any]:
    """Friends and home users, and this server's shares with their dates (which plexapi does not model)."""
    friends = account.users()
    shared = account.query(MyPlexAccount.FRIENDINVITE.format(machineId=machine_identifier))
    return friends, shared


def _changed(row: dict, stored: tuple | None) -> bool:
    """List a section again when it is new, came back, or PMS says its content changed."""
    if stored is None or stored[1] is not None or row["content_changed"] is None:
        return True
    return stored[0] != row["content_changed"]


def _list_section(server: PlexServer, plex: PlexSettings, section: dict,
                  progress: Any) -> tuple[list[dict], int]:
    """Every item of a section, one libtype at a time; return the rows and the top-level count."""
    items: dict[int, dict] = {}
    top = 0
    for libtype in rows.LIBTYPES[section["type"]]:
        found = _list(server, plex, section, libtype, progress)
        if libtype == rows.LIBTYPES[section["type"]][0]:
            top = len({r["rating_key"] for r in found})
        # An item added mid-listing shifts the pages, so one can be listed twice; the merge must
        # see each once. (One can also be missed; contentChangedAt then differs next run, which lists again.)
        items.update((r["rating_key"], r) for r in found)
    return list(items.values()), top


def _list(server: PlexServer, plex: PlexSettings, section: dict, libtype: str, progress: Any) -> list[dict]:
    """Page through one libtype of a section as plexapi's section.search() does, keeping the XML."""
    key = f"/library/sections/{section['section_id']}/all?type={searchType(libtype)}&includeCollections=0"
    found: list[dict] = []
    start, total, size = 0, None, plex.page_size
    while True:
        page = _query(server, plex, key, {"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(size)})
        got = [r for r in (rows.item_row(elem, section["section_id"]) for elem in page) if r is not None]
        found.extend(got)
        if start == 0:
            total = int(page.get("totalSize")) if page.get("totalSize", "").isdigit() else None
            if progress is not None and total:
                progress.set_total((progress.total or 0) + total)
        if progress is not None:
            progress.advance(len(got))
        start += size
        # totalSize ends the paging, as in plexapi's fetchItems; without it, a short page does.
        if len(page) == 0 or (start >= total if total is not None else len(page) < size):
            break
    if not rows.has_sizes(found):
        log.warning("Plex listed the %ss of %r without file sizes; their size_bytes stay empty",
                    libtype, section["title"])
    return found


def _query(server: PlexServer, plex: PlexSettings, key: str, headers: dict | None = None) -> Element:
    """plexapi's own request (token header, status mapping, XML parsing); an empty body is an error."""
    elem = server.query(key, headers=headers)
    if elem is None:
        raise BadResponse(f"Plex at {plex.url} sent an empty answer to {key.split('?')[0]}; check its logs")
    return elem


def _write_items(store: Store, items: list[dict], section_ids: list[int], now: datetime) -> int:
    """Merge the listed items of these sections and mark the ones not listed; return how many changed."""
    con = store.con
    con.register("plex_item_rows", rows.table(items, rows.ITEM_SCHEMA))
    try:
        changed = store.execute("ingest/count_changed_plex_items")[0][0]
        store.execute("ingest/merge_plex_items", {"now": now})
        removed = store.execute("ingest/mark_removed_plex_items", {"now": now, "sections": section_ids})[0][0]
    finally:
        con.unregister("plex_item_rows")
    return changed + removed


def _merge(store: Store, name: str, table: Any, queries: list[str], now: datetime) -> None:
    """Register a table of rows under `name`, run the queries that read it, unregister."""
    store.con.register(name, table)
    try:
        for query in queries:
            store.execute(query, {"now": now})
    finally:
        store.con.unregister(name)
