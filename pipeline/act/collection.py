"""Keep the Plex collection named by `retention.leaving_soon_collection` equal to the deletion queue.

A collection holds movies and shows, so a queued episode puts its show in. Membership is a collection
tag on each item: plexapi's `addCollection` / `removeCollection` edit that tag and nothing else, and
only items whose membership must change are edited, so a second sync with the same queue sends no PUT.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from pipeline.errors import MarqueeError
from pipeline.clients.plex import plex_errors

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store.db import Store

log = logging.getLogger(__name__)

MEMBER_TYPES = ("movie", "show")  # section types whose collections hold items of the same type


def sync_leaving_collection(server: Any, store: "Store", settings: "Settings", *, apply: bool) -> list[str]:
    """Add queued movies and shows of queued episodes to the collection, remove the rest; lines to print.

    server: a connected plexapi PlexServer (pipeline.clients.plex.connect_server).
    apply=False: read Plex and say what would change; no PUT is sent.
    """
    name = settings.retention.leaving_soon_collection
    if not name.strip():
        return []
    wanted = {int(r["rating_key"]): r for r in store.records("act/collection_wanted")}
    with _plex(settings, name, "reading its members"):
        members = _members(server, name, settings.plex.page_size)
        missing = [rk for rk in wanted if rk not in members]
        found = _fetch(server, missing)
    to_add = [found[rk] for rk in missing if rk in found]
    to_remove = sorted((item for rk, item in members.items() if rk not in wanted),
                       key=lambda i: (i.type, _title(i).lower(), int(i.ratingKey)))
    gone = len(missing) - len(to_add)
    if gone:
        log.debug("collection %r: queued rating keys not in Plex: %s", name,
                  [rk for rk in missing if rk not in found])

    prefix = f'collection "{name}":'
    lines = []
    for item in to_remove:
        if apply:
            with _plex(settings, name, f"removing {_title(item)}"):
                item.removeCollection(name)
        lines.append(f"{prefix} {'removed' if apply else 'would remove'} {item.type} {_title(item)}")
    for item in to_add:
        if apply:
            # addCollection resends the item's other collections (PMS replaces the list), which is why
            # the item was read in full from /library/metadata/{rk} rather than taken from a listing.
            with _plex(settings, name, f"adding {_title(item)}"):
                item.addCollection(name)
        lines.append(f"{prefix} {'added' if apply else 'would add'} {item.type} {_title(item)}")
    lines.append(_summary(prefix, len(to_add), len(to_remove), len(members) - len(to_remove) + len(to_add),
                          gone, apply))
    return lines


def _members(server: Any, name: str, page_size: int) -> dict[int, Any]:
    """The movies and shows tagged with the collection now, by rating key; none where it does not exist."""
    members: dict[int, Any] = {}
    for section in server.library.sections():
        if section.type not in MEMBER_TYPES:
            continue
        if not any(c.title == name for c in section.collections()):
            continue  # a missing collection has no members, so the section need not be listed
        for item in section.search(libtype=section.type, container_size=page_size):
            if any(tag.tag == name for tag in item.collections):
                members[int(item.ratingKey)] = item
    return members


def _fetch(server: Any, keys: list[int]) -> dict[int, Any]:
    """The movies and shows Plex still has among these rating keys, each read in full on its own.

    One GET per key: a listing may shorten tag lists, and plexapi gives every item of a multi-key
    /library/metadata answer the container's librarySectionID, which would send an edit to the wrong section.
    """
    from plexapi.exceptions import NotFound

    found: dict[int, Any] = {}
    for rk in keys:
        try:
            item = server.fetchItem(rk)
        except NotFound:
            continue
        if item.type in MEMBER_TYPES:
            found[rk] = item
    return found


def _title(item: Any) -> str:
    title = " ".join(str(item.title or "").split())  # one line, whatever Plex holds
    year = getattr(item, "year", None) if item.type == "movie" else None
    return f"{title} ({year})" if year else title


def _summary(prefix: str, added: int, removed: int, size: int, gone: int, apply: bool) -> str:
    if not added and not removed:
        line = f"{prefix} in sync ({size} items)"
    elif apply:
        line = f"{prefix} {added} added, {removed} removed, {size} items now"
    else:
        line = f"{prefix} would add {added}, would remove {removed} (dry run)"
    if gone:
        line += f"; {gone} queued {'title is' if gone == 1 else 'titles are'} no longer in Plex"
    return line


@contextmanager
def _plex(settings: "Settings", name: str, what: str) -> Iterator[None]:
    """plexapi failures as one token-free line that names the collection and the step."""
    try:
        with plex_errors("Plex", settings.plex.url, settings.plex.token.get_secret_value()):
            yield
    except MarqueeError as exc:
        raise type(exc)(f'Plex collection "{name}": {what} failed: {exc}') from None
