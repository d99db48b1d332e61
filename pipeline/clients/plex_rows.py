"""The Plex boundary: plexapi objects and PMS / plex.tv XML in, plain rows and Arrow tables out.

Library listings arrive as the XML elements plexapi's query() parsed: building a plexapi object per
item cost 4x the download and parse (59k items: 41 s against 10 s), and the rows need only attributes.
Nothing past this module touches plexapi or XML; every datetime leaves here aware UTC.
"""

from __future__ import annotations

from typing import Any, Iterable
from xml.etree.ElementTree import Element

import pyarrow as pa

from pipeline.clock import utc_from_epoch
from pipeline.text import clean_or_none, clean_text

# What a section of each type holds, listed one libtype at a time (parents before children).
LIBTYPES: dict[str, tuple[str, ...]] = {
    "movie": ("movie",),
    "show": ("show", "season", "episode"),
    "artist": ("artist", "album", "track"),
}
LEAVES = {"movie", "episode", "track"}
ITEM_TYPES = {t for kinds in LIBTYPES.values() for t in kinds}

UTC_TS = pa.timestamp("us", tz="UTC")

ITEM_SCHEMA = pa.schema([
    ("rating_key", pa.int64()), ("section_id", pa.int64()), ("type", pa.string()), ("title", pa.string()),
    ("parent_rating_key", pa.int64()), ("grandparent_rating_key", pa.int64()),
    ("parent_title", pa.string()), ("grandparent_title", pa.string()),
    ("index", pa.int32()), ("parent_index", pa.int32()), ("year", pa.int32()),
    ("added_at", UTC_TS), ("updated_at", UTC_TS), ("duration_ms", pa.int64()), ("size_bytes", pa.int64()),
    ("guid", pa.string()), ("thumb", pa.string()), ("labels", pa.list_(pa.string())),
    ("collections", pa.list_(pa.string())), ("genres", pa.list_(pa.string())),
])

USER_SCHEMA = pa.schema([
    ("user_id", pa.int64()), ("username", pa.string()), ("title", pa.string()), ("email", pa.string()),
    ("is_owner", pa.bool_()), ("is_home", pa.bool_()), ("is_restricted", pa.bool_()),
    ("share_id", pa.int64()), ("invited_at", UTC_TS), ("accepted_at", UTC_TS), ("pending", pa.bool_()),
    ("all_libraries", pa.bool_()), ("section_ids", pa.list_(pa.int64())),
])

SECTION_SCHEMA = pa.schema([
    ("section_id", pa.int64()), ("title", pa.string()), ("type", pa.string()),
    ("content_changed", pa.string()), ("item_count", pa.int64()), ("locations", pa.list_(pa.string())),
])


def _int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _flag(value: Any) -> bool | None:
    """plex.tv sends "0"/"1"; plexapi sometimes casts, sometimes passes the string through."""
    if value in (None, ""):
        return None
    return value in (True, 1, "1", "true")


def _text(value: Any) -> str | None:
    """Text less control characters (plexapi drops only those XML forbids), or None for an absent value."""
    return None if value in (None, "") else clean_text(str(value))


# -- server and sections -------------------------------------------------------------------------------

def server_row(server: Any) -> dict:
    """plex_server columns from a connected PlexServer."""
    return dict(machine_identifier=server.machineIdentifier, name=clean_or_none(server.friendlyName),
                version=server.version, allow_media_deletion=bool(server.allowMediaDeletion))


def section_row(elem: Element) -> dict:
    """plex_sections columns from a /library/sections <Directory>."""
    # PMS bumps contentChangedAt (a change counter, not a time) on every add, edit or removal in the
    # section; plexapi does not model it. updatedAt is the fallback for servers that lack it.
    changed = _text(elem.get("contentChangedAt")) or _text(elem.get("updatedAt"))
    return dict(section_id=int(elem.get("key")), title=clean_or_none(elem.get("title")), type=elem.get("type"),
                content_changed=changed, item_count=None)


def section_locations(elem: Element) -> list[str]:
    """The library's folders, from its <Location path="..."/> children (where Sonarr/Radarr folders are matched)."""
    return [path for path in (loc.get("path") for loc in elem.iterfind("Location")) if path]


# -- items ---------------------------------------------------------------------------------------------

def _size(elem: Element) -> int | None:
    """Sum of the sizes of every Part of every Media; None when the listing carried none."""
    sizes = [_int(part.get("size")) for media in elem.iterfind("Media") for part in media.iterfind("Part")]
    sizes = [s for s in sizes if s is not None]
    return sum(sizes) if sizes else None


def _tags(elem: Element, child: str) -> list[str]:
    """The tag= of each <Label>, <Collection> or <Genre> child, in the order PMS sent them."""
    return [clean_text(tag.get("tag")) for tag in elem.iterfind(child) if tag.get("tag")]


def item_row(elem: Element, section_id: int) -> dict | None:
    """plex_items columns from one element of a section listing; None for anything that is not an
    item (a collection a listing may mix in).

    Attributes are read as PMS sends them: epoch seconds become aware UTC here, with no trip through
    plexapi's naive local datetimes.
    """
    a = elem.attrib
    kind = a.get("type")
    if kind not in ITEM_TYPES or not a.get("ratingKey"):
        return None
    return dict(
        rating_key=int(a["ratingKey"]),
        section_id=section_id,
        type=kind,
        title=clean_or_none(a.get("title")),
        parent_rating_key=_int(a.get("parentRatingKey")),
        grandparent_rating_key=_int(a.get("grandparentRatingKey")),
        parent_title=_text(a.get("parentTitle")),
        grandparent_title=_text(a.get("grandparentTitle")),
        index=_int(a.get("index")),
        parent_index=_int(a.get("parentIndex")),
        year=_int(a.get("year")),
        added_at=utc_from_epoch(_int(a.get("addedAt"))),
        updated_at=utc_from_epoch(_int(a.get("updatedAt"))),
        duration_ms=_int(a.get("duration")),
        size_bytes=_size(elem) if kind in LEAVES else None,
        guid=_text(a.get("guid")),
        thumb=_text(a.get("thumb")),
        labels=_tags(elem, "Label"),
        collections=_tags(elem, "Collection"),
        genres=_tags(elem, "Genre"),  # movies, shows and artists; a listing of episodes or tracks has none
    )


def has_sizes(rows: list[dict]) -> bool:
    """False when a listing of leaves came back without any Media/Part sizes."""
    leaves = [r for r in rows if r["type"] in LEAVES]
    return not leaves or any(r["size_bytes"] is not None for r in leaves)


# -- users and shares ----------------------------------------------------------------------------------

def share_rows(container: Element | None) -> dict[int, dict]:
    """shared_servers for this server, keyed by plex.tv user id (plexapi does not model it).

    <SharedServer id userID username email invitedAt acceptedAt allLibraries>
      <Section id key title type shared/>  -- key is the PMS library section id
    """
    shares: dict[int, dict] = {}
    for elem in (container if container is not None else ()):
        if elem.tag != "SharedServer":
            continue
        user_id = _int(elem.get("userID"))
        if not user_id:  # an invitation to an address with no plex.tv account yet
            continue
        sections = [_int(s.get("key")) or _int(s.get("id")) for s in elem.iter("Section")
                    if _flag(s.get("shared"))]
        accepted = utc_from_epoch(_int(elem.get("acceptedAt")))
        shares[user_id] = dict(
            share_id=_int(elem.get("id")), username=_text(elem.get("username")),
            email=_text(elem.get("email")), invited_at=utc_from_epoch(_int(elem.get("invitedAt"))),
            accepted_at=accepted, pending=accepted is None,
            all_libraries=_flag(elem.get("allLibraries")), section_ids=sorted(s for s in sections if s))
    return shares


SHARE_COLUMNS = ("share_id", "invited_at", "accepted_at", "pending", "all_libraries", "section_ids")


def _share_columns(share: dict | None, **without: Any) -> dict:
    """The share columns from this server's share, or `without` (else NULL) for someone who has none."""
    return {k: share[k] if share is not None else without.get(k) for k in SHARE_COLUMNS}


def user_rows(account: Any, users: Iterable[Any], shares: dict[int, dict]) -> list[dict]:
    """Everyone with access to this server: the owner, home members, and share holders.

    account: the owner's MyPlexAccount; users: account.users(); shares: share_rows() of this server.
    """
    # plex.tv marks the owner home="1" as the Home's admin; is_home means a member the owner invited.
    owner = dict(user_id=int(account.id), username=_text(account.username), title=_text(account.title),
                 email=_text(account.email), is_owner=True, is_home=False, is_restricted=False,
                 **_share_columns(None, pending=False, all_libraries=True))
    rows = {owner["user_id"]: owner}
    for user in users:
        user_id, share, home = int(user.id), shares.get(int(user.id)), bool(user.home)
        if user_id in rows or (share is None and not home):
            continue  # a friend with shares on the owner's other servers only, or none at all
        # Managed home users have no plex.tv login: no username, no e-mail, only a title.
        rows[user_id] = dict(user_id=user_id, username=_text(user.username), title=_text(user.title),
                             email=_text(user.email), is_owner=False, is_home=home,
                             is_restricted=bool(_flag(user.restricted)),
                             **_share_columns(share, pending=False))
    # A pending invitation to an existing account can be in shared_servers and not yet in /api/users.
    for user_id, share in shares.items():
        if user_id not in rows:
            rows[user_id] = dict(user_id=user_id, username=share["username"], title=share["username"],
                                 email=share["email"], is_owner=False, is_home=False, is_restricted=False,
                                 **_share_columns(share))
    return list(rows.values())


# -- Arrow tables ----------------------------------------------------------------------------------------

def table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Columns for a bulk INSERT ... SELECT; the schema keeps empty lists and NULLs typed."""
    return pa.Table.from_pylist(rows, schema=schema)
