"""The sandbox Tautulli's small tables: users, libraries, recently added and current activity."""

from __future__ import annotations

import numpy as np

from pipeline.sandbox.tautulli_history import bool_true, datatable_params, like
from pipeline.sandbox.tautulli_index import DECISIONS, DEFAULT_USER_THUMB, PlayIndex, ip_address, machine_id, nocase, sql_number
from pipeline.sandbox.world import PLATFORMS, World

USERS_COLUMNS = ["user_thumb", "friendly_name", "username", "title", "email", "last_seen", "ip_address", "platform",
                 "player", "last_played", "plays", "duration"]
LIBRARY_COLUMNS = ["library_thumb", "section_name", "section_type", "count", "parent_count", "child_count",
                   "last_accessed", "last_played", "plays", "duration"]
SECTION_ART = {"movie": ("movie", "tv.plex.agents.movie"), "show": ("show", "tv.plex.agents.series"),
               "artist": ("artist", "tv.plex.agents.music")}


def users(ix: PlayIndex) -> list[dict]:
    """get_users: every users row not marked deleted; a blank friendly name comes back untrimmed."""
    return [{"row_id": u.row_id, "user_id": u.user_id, "username": u.username,
             "friendly_name": u.friendly_name or u.username, "thumb": u.thumb, "email": u.email,
             "is_active": u.is_active, "is_admin": u.is_admin, "is_home_user": u.is_home_user,
             "is_allow_sync": u.is_allow_sync, "is_restricted": u.is_restricted, "do_notify": u.do_notify,
             "keep_history": u.keep_history, "allow_guest": u.allow_guest,
             "shared_libraries": list(u.shared_libraries), "filter_all": "" if u.user_id else None,
             "filter_movies": "" if u.user_id else None, "filter_tv": "" if u.user_id else None,
             "filter_music": "" if u.user_id else None, "filter_photos": "" if u.user_id else None}
            for u in ix.users if not u.deleted_user]


def user_details(ix: PlayIndex, user_id: str | None, include_last_seen: bool) -> dict:
    """get_user: one users row (deleted ones too); anything unknown gets the 'Local' default."""
    user = None
    if user_id not in (None, "") and str(user_id).isdigit():
        user = ix.user_by_id.get(int(user_id))
    if user is None:
        return {"row_id": 0, "user_id": 0, "username": "Local", "friendly_name": "Local",
                "user_thumb": DEFAULT_USER_THUMB, "email": "", "is_active": 1, "is_admin": "", "is_home_user": 0,
                "is_allow_sync": 0, "is_restricted": 0, "do_notify": 0, "keep_history": 1, "allow_guest": 0,
                "deleted_user": 0, "shared_libraries": [], "last_seen": None}
    last_seen = None
    if include_last_seen:
        mine = ix.user_id == user.user_id
        last_seen = int(ix.started[mine].max()) if mine.any() else None
    return {"row_id": user.row_id, "user_id": user.user_id, "username": user.username,
            "friendly_name": user.friendly_name or user.username, "user_thumb": user.thumb or DEFAULT_USER_THUMB,
            "email": user.email, "is_active": user.is_active, "is_admin": user.is_admin,
            "is_home_user": user.is_home_user, "is_allow_sync": user.is_allow_sync,
            "is_restricted": user.is_restricted, "do_notify": user.do_notify, "keep_history": user.keep_history,
            "deleted_user": user.deleted_user, "allow_guest": user.allow_guest,
            "shared_libraries": list(user.shared_libraries), "last_seen": last_seen}


def per_group(ix: PlayIndex, column: str, grouping: bool) -> dict[int, dict]:
    """Plays, duration, last start and the last row's position per user or section (cached per index)."""
    cache = ix.__dict__.setdefault("_per_group", {})
    if (column, grouping) in cache:
        return cache[(column, grouping)]
    keys = getattr(ix, column)
    out: dict[int, dict] = {}
    if len(keys):
        uniq, inverse = np.unique(keys, return_inverse=True)
        played = np.bincount(inverse, weights=ix.played, minlength=len(uniq)).astype(np.int64)
        _, first_from_end = np.unique(keys[::-1], return_index=True)
        last_pos = len(keys) - 1 - first_from_end  # plays are sorted by start: the last row is the newest
        counted = ix.reference_id if grouping else ix.ids
        pairs = np.unique(inverse.astype(np.int64) << 40 | counted)
        plays = np.bincount((pairs >> 40).astype(np.int64), minlength=len(uniq))
        for i, key in enumerate(uniq.tolist()):
            pos = int(last_pos[i])
            out[key] = {"plays": int(plays[i]), "duration": int(played[i]), "last": int(ix.started[pos]), "pos": pos}
    cache[(column, grouping)] = out
    return out


def users_table(ix: PlayIndex, q: dict) -> dict:
    order, start, length, search = datatable_params(q, USERS_COLUMNS, "friendly_name")
    stats = per_group(ix, "user_id", bool_true(q.get("grouping"), True))
    wanted = sql_number(q["user_id"]) if q.get("user_id") else None
    rows = []
    for u in ix.users:
        if u.deleted_user or (q.get("user_id") and wanted != u.user_id):
            continue
        s = stats.get(u.user_id)
        last = _last_play(ix, s["pos"]) if s else {}
        plat = PLATFORMS[int(ix.platform[s["pos"]])] if s else (None, None, None)
        rows.append({
            "row_id": u.row_id, "user_id": u.user_id, "username": u.username, "friendly_name": u.display_name,
            "title": u.title, "email": u.email, "user_thumb": u.thumb or DEFAULT_USER_THUMB,
            "plays": s["plays"] if s else 0, "duration": s["duration"] if s else None,
            "last_seen": s["last"] if s else None, "last_played": last.get("full_title"),
            "history_row_id": int(ix.ids[s["pos"]]) if s else None,
            "ip_address": ip_address(u, u.user_id, int(ix.platform[s["pos"]])) if s else None,
            "platform": plat[0], "player": plat[2], "rating_key": last.get("rating_key"),
            "media_type": last.get("media_type"), "thumb": last.get("thumb"), "parent_title": last.get("parent_title"),
            "year": last.get("year"), "media_index": last.get("media_index"),
            "parent_media_index": last.get("parent_media_index"), "live": 0 if s else None,
            "originally_available_at": last.get("originally_available_at"), "guid": last.get("guid"),
            "transcode_decision": DECISIONS[int(ix.decision[s["pos"]])] if s else None,
            "do_notify": u.do_notify, "keep_history": u.keep_history, "allow_guest": u.allow_guest,
            "is_active": u.is_active})
    searchable = ("friendly_name", "username", "title", "email", "ip_address", "platform", "player")
    return _table(rows, len(ix.users), order, start, length, search, searchable)


def _last_play(ix: PlayIndex, pos: int) -> dict:
    return ix.meta[int(ix.item[pos])].fields


def libraries_table(ix: PlayIndex, world: World, q: dict) -> dict:
    order, start, length, search = datatable_params(q, LIBRARY_COLUMNS, "section_name")
    stats = per_group(ix, "section", bool_true(q.get("grouping"), True))
    rows = []
    for row_id, section in enumerate(world.sections, start=1):
        s = stats.get(section.section_id)
        counts = _counts(world, section.section_id, section.type)
        meta = ix.meta[int(ix.item[s["pos"]])] if s else None
        last = meta.fields if meta else {}
        icon = SECTION_ART.get(section.type, ("movie", ""))[0]
        rows.append({
            "row_id": row_id, "server_id": world.machine_identifier, "section_id": section.section_id,
            "section_name": section.title, "section_type": section.type, "count": counts[0],
            "parent_count": counts[1], "child_count": counts[2], "library_thumb": f"/:/resources/{icon}.png",
            "library_art": f"/:/resources/{icon}-fanart.jpg", "plays": s["plays"] if s else 0,
            "duration": s["duration"] if s else None, "last_accessed": s["last"] if s else None,
            "history_row_id": int(ix.ids[s["pos"]]) if s else None, "last_played": last.get("full_title"),
            "rating_key": last.get("rating_key"), "media_type": last.get("media_type"), "thumb": last.get("thumb"),
            "parent_title": last.get("parent_title"), "year": last.get("year"), "media_index": last.get("media_index"),
            "parent_media_index": last.get("parent_media_index"),
            "content_rating": meta.content_rating if meta else None, "labels": meta.labels if meta else [],
            "live": 0 if s else None, "originally_available_at": last.get("originally_available_at"),
            "guid": last.get("guid"), "do_notify": 1, "do_notify_created": 1, "keep_history": 1, "is_active": 1})
    return _table(rows, len(world.sections), order, start, length, search,
                  ("section_name", "section_type", "count", "parent_count", "child_count", "last_played"))


def _counts(world: World, section_id: int, kind: str) -> tuple[int, int | None, int | None]:
    levels = {"movie": ("movie", None, None), "show": ("show", "season", "episode"),
              "artist": ("artist", "album", "track")}.get(kind, (kind, None, None))
    totals = [sum(1 for i in world.items.values() if i.section_id == section_id and i.type == t) if t else None
              for t in levels]
    return totals[0] or 0, totals[1], totals[2]


def _table(rows: list[dict], total: int, order: list[tuple[str, bool]], start: int, length: int, search: str,
           searchable: tuple[str, ...]) -> dict:
    """Search, ORDER BY (NULLs first, NOCASE text) and slice, as DataTables.ssp_query does."""
    if search:
        pattern = like(search)
        rows = [r for r in rows if any(r.get(c) is not None and pattern.search(str(r[c])) for c in searchable)]
    for column, desc in reversed(order):
        if column == "user_thumb" or column == "library_thumb" or rows and column in rows[0]:
            rows.sort(key=lambda r: _sql_key(r.get(column)), reverse=desc)
    return {"recordsFiltered": len(rows), "recordsTotal": total, "data": rows[start:start + length], "draw": 1}


def _sql_key(value: object) -> tuple:
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, nocase(str(value)))


def libraries(world: World) -> list[dict]:
    """get_libraries: what Plex reports per section, as strings (XML attributes)."""
    out = []
    for section in world.sections:
        icon, agent = SECTION_ART.get(section.type, ("movie", ""))
        count, parents, children = _counts(world, section.section_id, section.type)
        row = {"section_id": str(section.section_id), "section_name": section.title, "section_type": section.type,
               "agent": agent, "thumb": f"/:/resources/{icon}.png", "art": f"/:/resources/{icon}-fanart.jpg",
               "count": str(count), "is_active": 1}
        if parents is not None:
            row.update(parent_count=str(parents), child_count=str(children))
        out.append(row)
    return out


def library_names(world: World) -> list[dict]:
    return [{"section_id": s.section_id, "section_name": s.title, "section_type": s.type,
             "agent": SECTION_ART.get(s.type, ("", ""))[1]} for s in world.sections]


def recently_added(world: World, start: int, count: int, media_type: str, section_id: str) -> dict:
    """get_recently_added: newest movies, episodes and albums, as Plex's recently-added lists give them."""
    shown = {"movie": "movie", "show": "episode", "artist": "album"}
    by_section = {s.section_id: s for s in world.sections}
    if media_type in ("movie", "show", "artist", "other_video"):
        types = {shown.get(media_type, "none")}
        sections = set(by_section)
    elif section_id:
        number = sql_number(section_id)
        sections = {int(number)} if number is not None and number.is_integer() else set()
        types = set(shown.values())
    else:
        types, sections = set(shown.values()), set(by_section)
    items = sorted((i for i in world.items.values() if i.type in types and i.section_id in sections),
                   key=lambda i: (i.added_at, i.rating_key), reverse=True)
    rows = []
    for item in items[start:start + count]:
        parent = world.items.get(item.parent_rating_key or -1)
        grand = world.items.get(item.grandparent_rating_key or -1)
        full = f"{item.grandparent_title} - {item.title}" if item.type == "episode" else (
            f"{item.parent_title} - {item.title}" if item.type == "album" else item.title)
        rows.append({
            "added_at": str(item.added_at), "art": f"/library/metadata/{(grand or parent or item).rating_key}/art",
            "duration": str(item.duration_ms or ""), "full_title": full,
            "grandparent_rating_key": str(item.grandparent_rating_key or ""),
            "grandparent_thumb": grand.thumb if grand else "", "grandparent_title": item.grandparent_title,
            "guid": item.guid, "guids": [], "labels": list(item.labels),
            "library_name": by_section[item.section_id].title if item.section_id in by_section else "",
            "media_index": str(item.index or ""), "media_type": item.type, "original_title": "",
            "originally_available_at": f"{item.year or 2000}-{item.rating_key % 12 + 1:02d}-01",
            "parent_media_index": str(item.parent_index or ""),
            "parent_rating_key": str(item.parent_rating_key or ""), "parent_thumb": parent.thumb if parent else "",
            "parent_title": item.parent_title, "rating_key": str(item.rating_key),
            "section_id": str(item.section_id), "sort_title": item.title, "summary": "", "tagline": "",
            "thumb": item.thumb, "title": item.title, "updated_at": str(item.updated_at),
            "year": str(item.year or "")})
    return {"recently_added": rows}


def activity(ix: PlayIndex, world: World, session_key: str | None, session_id: str | None) -> dict:
    """get_activity: world.activity as Tautulli's session list with its stream counts."""
    sessions = []
    for s in world.activity:
        meta = ix.meta_by_key.get(int(s["rating_key"]))
        user = ix.user_by_id.get(int(s["user_id"]))
        plat = int(s.get("platform", 0))
        platform, product, player = PLATFORMS[plat]
        offset = int(s.get("view_offset", 0))
        duration = meta.duration_ms if meta else 0
        fields = dict(meta.fields) if meta else {}
        sessions.append({
            **fields, "session_key": str(s["session_key"]), "session_id": str(s.get("session_id", s["session_key"])),
            "user_id": int(s["user_id"]), "user": user.username if user else "",
            "username": user.username if user else "",
            "friendly_name": user.display_name if user else "", "user_thumb": user.thumb if user else "",
            "email": user.email if user else "", "state": s.get("state", "playing"), "view_offset": str(offset),
            "duration": str(duration), "progress_percent": str(int(offset * 100 / duration) if duration else 0),
            "platform": platform, "product": product, "player": player, "device": player,
            "machine_id": machine_id(int(s["user_id"]), plat), "location": "lan" if user and user.lan else "wan",
            "ip_address": ip_address(user, int(s["user_id"]), plat), "local": 1 if user and user.lan else 0,
            "bandwidth": str(s.get("bandwidth", 8000)),
            "transcode_decision": s.get("transcode_decision", "direct play"),
            "section_id": str(meta.section_id) if meta else "", "live": 0, "started": str(s.get("started", ""))})
    if session_key:
        return next((s for s in sessions if s["session_key"] == session_key), {})
    if session_id:
        return next((s for s in sessions if s["session_id"] == session_id), {})
    counts = {"stream_count_direct_play": 0, "stream_count_direct_stream": 0, "stream_count_transcode": 0,
              "total_bandwidth": 0, "lan_bandwidth": 0, "wan_bandwidth": 0}
    for s in sessions:
        key = {"transcode": "stream_count_transcode", "copy": "stream_count_direct_stream"}.get(
            s["transcode_decision"], "stream_count_direct_play")
        counts[key] += 1
        counts["total_bandwidth"] += int(s["bandwidth"])
        counts["lan_bandwidth" if s["location"] == "lan" else "wan_bandwidth"] += int(s["bandwidth"])
    return {"stream_count": str(len(sessions)), "sessions": sessions, **counts}
