"""get_history for the sandbox Tautulli: filters, grouping, ordering and paging over numpy columns.

Filters narrow a range found by binary search on `started`, masks do the rest, and dicts are
built only for the rows of the requested page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import zip_longest

import numpy as np

from pipeline.sandbox.tautulli_index import (DECISIONS, DEFAULT_USER_THUMB, MEDIA_TYPES, PlayIndex, ip_address, machine_id, nocase,
                             platform_rank, sql_number)
from pipeline.sandbox.world import PLATFORMS

HISTORY_COLUMNS = ["date", "friendly_name", "ip_address", "platform", "product", "player", "full_title", "started",
                   "paused_counter", "stopped", "duration", "watched_status"]
# watched_status is computed after the query, so ORDER BY cannot use it and Tautulli drops it.
HISTORY_SORTABLE = set(HISTORY_COLUMNS) - {"watched_status"}


def split_strip(value: object) -> list[str]:
    return [x.strip() for x in str(value).split(",") if x.strip()]


def bool_true(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.lower() in ("1", "true", "t", "yes", "y", "on")


def datatable_params(q: dict, columns: list[str], default_column: str) -> tuple[list[tuple[str, bool]], int, int, str]:
    """Order, start, length and search as Tautulli reads them; a bad start or length raises (HTTP 500)."""
    order = []
    names = [c.strip() for c in q.get("order_column", default_column).split(",")]
    dirs = [d.strip() for d in q.get("order_dir", "desc").split(",")]
    for name, direction in zip_longest(names, dirs, fillvalue=""):
        if name in columns:
            order.append((name, direction.lower() != "asc"))
    return order, int(q.get("start", 0)), int(q.get("length", 25)), q.get("search", "")


def like(pattern: str) -> re.Pattern:
    """SQLite's LIKE '%pattern%': % and _ are wildcards, ASCII case folds."""
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def human_duration(seconds: int | None) -> str:
    """Tautulli's helpers.human_duration(units='s'): days, hours and minutes; seconds under five minutes."""
    if seconds is None or seconds <= 0:
        return "0"
    ms = seconds * 1000
    sig = "dhms" if ms < 300000 else "dhm"
    unit = {"m": 60000, "s": 1000}[sig[-1]]
    ms = round(ms / unit) * unit
    d, rest = divmod(ms, 86400000)
    h, rest = divmod(rest, 3600000)
    m, rest = divmod(rest, 60000)
    s = rest // 1000
    parts = []
    if d > 0:
        parts.append(f"{d} day" + ("s" if d > 1 else ""))
    if h > 0:
        parts.append(f"{h} hr" + ("s" if h > 1 else ""))
    if m > 0:
        parts.append(f"{m} min" + ("s" if m > 1 else ""))
    if sig == "dhms" and s > 0:
        parts.append(f"{s} sec" + ("s" if s > 1 else ""))
    return " ".join(parts)


def watched_tier(percent: np.ndarray) -> np.ndarray:
    """The partial watched_status below the watched threshold (85% by default)."""
    return np.where(percent >= 63.75, 0.75, np.where(percent >= 42.5, 0.5, np.where(percent >= 21.25, 0.25, 0.0)))


@dataclass
class Rows:
    """History groups (or single rows) plus live sessions, in one set of columns."""

    rep: np.ndarray          # play position of the representative row; -1 - i for live session i
    user_id: np.ndarray
    item: np.ndarray
    platform: np.ndarray
    date: np.ndarray
    started: np.ndarray
    stopped: np.ndarray
    paused: np.ndarray
    played: np.ndarray
    percent: np.ndarray
    watched: np.ndarray
    count: np.ndarray
    members: np.ndarray      # play positions grouped; a group's are members[first:first+count]
    first: np.ndarray

    def take(self, idx: np.ndarray) -> "Rows":
        return Rows(*(getattr(self, f)[idx] if f != "members" else self.members
                      for f in self.__dataclass_fields__))


def select(ix: PlayIndex, q: dict) -> np.ndarray:
    """Play positions that pass get_history's WHERE clause (everything but the search box)."""
    n = len(ix.ids)
    after, before, on = split_strip(q.get("after", "")), split_strip(q.get("before", "")), \
        split_strip(q.get("start_date", ""))
    lo, hi, mask = 0, n, None
    if after or before or on:
        dates = ix.date_mask(ix.started, after, before, on)
        if isinstance(dates, tuple):
            lo, hi = np.searchsorted(ix.started, dates[0]), np.searchsorted(ix.started, dates[1])
        else:
            mask = dates
    keep = np.ones(max(0, hi - lo), dtype=bool) if mask is None else mask.copy()
    part = slice(lo, hi) if mask is None else slice(0, n)

    def numeric(column: np.ndarray, values: list[str]) -> None:
        nonlocal keep
        nums = [v for v in (sql_number(x) for x in values) if v is not None and float(v).is_integer()]
        keep &= np.isin(column[part], np.array([int(v) for v in nums], dtype=np.int64))

    if q.get("user_id"):
        if split_strip(q["user_id"]):
            numeric(ix.user_id, split_strip(q["user_id"]))
    elif q.get("user"):
        names = set(split_strip(q["user"]))
        numeric(ix.user_id, [str(uid) for uid, name in ix.username_by_id.items() if name in names])
    for name, column in (("rating_key", ix.rating_key), ("reference_id", ix.reference_id),
                         ("section_id", ix.section)):
        if split_strip(q.get(name, "")):
            numeric(column, split_strip(q[name]))
    for name, per_item in (("parent_rating_key", ix.item_parent), ("grandparent_rating_key", ix.item_grandparent)):
        values = split_strip(q.get(name, ""))
        if values:
            nums = [int(v) for v in (sql_number(x) for x in values) if v is not None and float(v).is_integer()]
            keep &= np.isin(per_item, nums)[ix.item[part]]
    types = split_strip(q.get("media_type", ""))
    if types and "all" not in types:
        keep &= np.isin(ix.media_type[part], [MEDIA_TYPES.index(t) for t in types if t in MEDIA_TYPES])
    decisions = split_strip(q.get("transcode_decision", ""))
    if decisions and "all" not in decisions:
        keep &= np.isin(ix.decision[part], [DECISIONS.index(d) for d in decisions if d in DECISIONS])
    guids = split_strip(q.get("guid", "").split("?")[0])
    if guids:
        patterns = [like(g + "%") for g in guids]
        item_ok = np.array([any(p.fullmatch(m.guid) for p in patterns) for m in ix.meta], dtype=bool)
        keep &= item_ok[ix.item[part]]
    return (part.start or 0) + np.flatnonzero(keep)


def group(ix: PlayIndex, sel: np.ndarray, grouping: bool) -> Rows:
    """GROUP BY reference_id (grouping) or id; aggregates as Tautulli's SELECT computes them."""
    if not grouping or len(sel) == 0:
        ones = np.ones(len(sel), dtype=np.int64)
        return Rows(sel, ix.user_id[sel], ix.item[sel], ix.platform[sel], ix.started[sel], ix.started[sel],
                    ix.stopped[sel], ix.paused[sel], ix.played[sel], ix.percent[sel].astype(np.int64),
                    ix.watched[sel].astype(float), ones, sel, np.arange(len(sel)))
    ref = ix.reference_id[sel]
    order = np.argsort(ref, kind="stable")  # members stay in id order, as GROUP_CONCAT lists them
    members = sel[order]
    ref_sorted = ref[order]
    first = np.flatnonzero(np.concatenate([[True], ref_sorted[1:] != ref_sorted[:-1]]))
    count = np.diff(np.append(first, len(members)))
    rep = members[first + count - 1]
    percent = np.maximum.reduceat(ix.percent[members].astype(np.int64), first)
    # view_offset is a bare column (the last member's); percent_complete is the group's maximum.
    rep_watched = ix.watched[rep].astype(float)
    watched = np.where(rep_watched == 1, 1.0, watched_tier(percent))
    return Rows(rep, ix.user_id[rep], ix.item[rep], ix.platform[rep],
                np.maximum.reduceat(ix.started[members], first), np.minimum.reduceat(ix.started[members], first),
                np.maximum.reduceat(ix.stopped[members], first), np.add.reduceat(ix.paused[members], first),
                np.add.reduceat(ix.played[members], first), percent, watched, count, members, first)


def live_rows(ix: PlayIndex, sessions: list[dict], now: int) -> Rows:
    """The current sessions as history rows (include_activity); they have no id."""
    pos = {int(k): i for i, k in enumerate(ix.item_keys)}
    keep = sessions
    n = len(keep)
    item = np.array([pos[int(s["rating_key"])] for s in keep], dtype=np.int32)
    started = np.array([int(s["started"]) for s in keep], dtype=np.int64)
    paused = np.array([int(s.get("paused_counter", 0)) for s in keep], dtype=np.int64)
    offset = np.array([int(s.get("view_offset", 0)) for s in keep], dtype=np.int64)
    duration = ix.item_duration[item] if n else np.zeros(0, dtype=np.int64)
    percent = np.where(duration > 0, offset * 100.0 / np.maximum(duration, 1), 0.1)
    watched = np.where(percent >= 85, 1.0, watched_tier(percent))
    return Rows(-1 - np.arange(n), np.array([int(s["user_id"]) for s in keep], dtype=np.int64), item,
                np.array([int(s.get("platform", 0)) for s in keep], dtype=np.int8), started, started,
                np.full(n, -1, dtype=np.int64), paused, now - started - paused, percent, watched,
                np.zeros(n, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(n, dtype=np.int64))


def concat(a: Rows, b: Rows) -> Rows:
    if len(b.rep) == 0:
        return a
    fields = {f: np.concatenate([getattr(a, f), getattr(b, f)]) for f in a.__dataclass_fields__ if f != "members"}
    return Rows(members=a.members, **fields)


def sort_keys(ix: PlayIndex, rows: Rows, column: str) -> np.ndarray:
    if column in ("date", "started", "stopped", "paused_counter"):
        return {"date": rows.date, "started": rows.started, "stopped": rows.stopped,
                "paused_counter": rows.paused}[column]
    if column == "duration":  # the outer query's `duration` is the media's length, not the play's
        return ix.item_duration[rows.item]
    if column in ("platform", "product", "player"):
        return platform_rank()[("platform", "product", "player").index(column)][rows.platform]
    if column == "full_title":
        return title_rank(ix)[rows.item]
    if column == "ip_address":
        codes = rows.user_id * 64 + rows.platform
        texts = {c: nocase(ip_address(ix.user_by_id.get(c // 64), c // 64, c % 64)) for c in set(codes.tolist())}
    else:  # friendly_name; a play without a users row has NULL, which sorts first
        codes = rows.user_id
        texts = {c: (nocase(ix.user_by_id[c].display_name) if c in ix.user_by_id else None)
                 for c in set(codes.tolist())}
    vocab = {t: i for i, t in enumerate(sorted({t for t in texts.values() if t is not None}))}
    keys = np.array(sorted(texts), dtype=np.int64)
    ranks = np.array([-1 if texts[c] is None else vocab[texts[c]] for c in sorted(texts)], dtype=np.int64)
    return ranks[np.searchsorted(keys, codes)] if len(keys) else np.zeros(0, dtype=np.int64)


def title_rank(ix: PlayIndex) -> np.ndarray:
    cached = getattr(ix, "_title_rank", None)
    if cached is None:
        titles = [nocase(m.full_title) for m in ix.meta]
        vocab = {t: i for i, t in enumerate(sorted(set(titles)))}
        cached = np.array([vocab[t] for t in titles], dtype=np.int64)
        ix._title_rank = cached  # type: ignore[attr-defined]
    return cached


def order_rows(ix: PlayIndex, rows: Rows, order: list[tuple[str, bool]]) -> np.ndarray:
    """ORDER BY the valid columns; ties keep the GROUP BY order. No valid column: no ORDER BY at all."""
    n = len(rows.rep)
    keys = [np.arange(n)]
    for column, desc in reversed([(c, d) for c, d in order if c in HISTORY_SORTABLE]):
        key = sort_keys(ix, rows, column).astype(np.int64)
        keys.append(-key if desc else key)
    if len(keys) == 1:
        return np.arange(n)
    return np.lexsort(keys)


# get_history parameters that become custom WHERE conditions, each value one `=` term ORed with the others.
WHERE_PARAMS = ("user_id", "user", "rating_key", "parent_rating_key", "grandparent_rating_key", "start_date",
                "before", "after", "reference_id", "section_id", "media_type", "transcode_decision", "guid")
SQLITE_MAX_EXPR_DEPTH = 1000
FAILED_QUERY = {"recordsFiltered": 0, "recordsTotal": 0, "draw": 0, "data": [], "filter_duration": "0",
                "total_duration": "0"}


def too_deep(q: dict) -> bool:
    """Whether SQLite refuses the WHERE clause: "Expression tree is too large (maximum depth 1000)".

    Tautulli chains one term per value (`reference_id = ? OR reference_id = ? ...`) and ANDs the conditions,
    each chain one level deeper than the last; SQLite parses that as a tree as deep as the chain is long.
    """
    chains = [len(split_strip(q[name])) for name in WHERE_PARAMS if split_strip(q.get(name, ""))]
    return bool(chains) and max(chains) + len(chains) >= SQLITE_MAX_EXPR_DEPTH


def history(ix: PlayIndex, q: dict, sessions: list[dict], now: int) -> dict:
    if too_deep(q):  # datafactory.get_datatables_history logs the error and answers this, as a success
        return dict(FAILED_QUERY)
    order, start, length, search = datatable_params(q, HISTORY_COLUMNS, "date")
    sel = select(ix, q)
    rows = group(ix, sel, bool_true(q.get("grouping"), True))
    live: list[dict] = []
    if bool_true(q.get("include_activity"), True) and sessions:
        live = filter_sessions(ix, q, sessions)
        rows = concat(rows, live_rows(ix, live, now))
    if search:
        rows = rows.take(np.flatnonzero(search_mask(ix, rows, like(search))))
    ordered = order_rows(ix, rows, order)
    page = ordered[start:start + length]
    total = int(ix.played[sel].sum()) if len(sel) else None
    return {"recordsFiltered": len(rows.rep), "recordsTotal": len(ix.ids),
            "data": history_dicts(ix, rows, page, live), "draw": 1,
            "filter_duration": human_duration(int(rows.played.sum())), "total_duration": human_duration(total)}


def filter_sessions(ix: PlayIndex, q: dict, sessions: list[dict]) -> list[dict]:
    """The custom WHERE applied to the sessions table (Tautulli strips the table prefixes)."""
    out = []
    for s in sessions:
        meta = ix.meta_by_key.get(int(s["rating_key"]))
        user = ix.user_by_id.get(int(s["user_id"]))
        if meta is None:
            continue
        checks = {"user_id": str(s["user_id"]), "rating_key": str(s["rating_key"]),
                  "section_id": str(meta.section_id if meta else ""),
                  "parent_rating_key": str(meta.parent_rating_key if meta else ""),
                  "grandparent_rating_key": str(meta.grandparent_rating_key if meta else "")}
        ok = all(not split_strip(q.get(k, "")) or v in split_strip(q[k]) for k, v in checks.items())
        if not q.get("user_id") and q.get("user"):
            ok &= user is not None and user.username in split_strip(q["user"])
        types = split_strip(q.get("media_type", ""))
        if types and "all" not in types:
            ok &= meta.media_type in types
        if ok:
            out.append(s)
    return out


def search_mask(ix: PlayIndex, rows: Rows, pattern: re.Pattern) -> np.ndarray:
    """The search box: LIKE over friendly_name, ip_address, platform, product, player and full_title."""
    hit = lambda text: bool(text) and pattern.search(text) is not None  # noqa: E731
    item_ok = np.array([hit(m.full_title) for m in ix.meta], dtype=bool)
    plat_ok = np.array([any(hit(x) for x in p) for p in PLATFORMS], dtype=bool)
    user_ok = {}
    for uid, plat in set(zip(rows.user_id.tolist(), rows.platform.tolist())):
        user = ix.user_by_id.get(uid)
        user_ok[(uid, plat)] = (user is not None and hit(user.display_name)) or \
            hit(ip_address(user, uid, plat))
    person = np.array([user_ok[(u, p)] for u, p in zip(rows.user_id.tolist(), rows.platform.tolist())], dtype=bool)
    return item_ok[rows.item] | plat_ok[rows.platform] | person


def history_dicts(ix: PlayIndex, rows: Rows, page: np.ndarray, live_sessions: list[dict]) -> list[dict]:
    """The JSON rows for one page, field for field as Tautulli sends them."""
    if len(page) == 0:
        return []
    reps = rows.rep[page]
    safe = np.maximum(reps, 0) if len(ix.ids) else np.zeros(0, dtype=np.int64)
    if len(safe) < len(reps):  # live sessions on an empty history
        return [_live_only(ix, rows, k, live_sessions) for k in page.tolist()]
    cols = zip(reps.tolist(), rows.user_id[page].tolist(), rows.platform[page].tolist(), rows.item[page].tolist(),
               rows.date[page].tolist(), rows.started[page].tolist(), rows.stopped[page].tolist(),
               rows.paused[page].tolist(), rows.played[page].tolist(), rows.percent[page].tolist(),
               rows.watched[page].tolist(), rows.count[page].tolist(), rows.first[page].tolist(),
               ix.ids[safe].tolist(), ix.reference_id[safe].tolist(), ix.decision[safe].tolist())
    heads: dict[tuple[int, int], dict] = {}
    out = []
    for rep, uid, plat, item, date, started, stopped, paused, played, percent, watched, count, first, row_id, \
            ref, decision in cols:
        head = heads.get((uid, plat))
        if head is None:
            head = heads[(uid, plat)] = _person(ix, uid, plat)
        session = live_sessions[-1 - rep] if rep < 0 else None
        if session is None:
            group_ids = ",".join(map(str, ix.ids[rows.members[first:first + count]].tolist())) if count > 1 \
                else str(row_id)
            decision_text = DECISIONS[decision]
        else:
            ref = row_id = group_ids = count = stopped = None
            decision_text = session.get("transcode_decision", "direct play")
        out.append({
            "reference_id": ref, "row_id": row_id, "id": row_id, "date": date, "started": started,
            "stopped": stopped, "duration": played, "play_duration": played, "paused_counter": paused, **head,
            **ix.meta[item].fields, "transcode_decision": decision_text, "percent_complete": int(round(percent)),
            "watched_status": 1 if watched == 1 else (0 if watched == 0 else watched),
            "group_count": count, "group_ids": group_ids,
            "state": session.get("state", "playing") if session else None,
            "session_key": str(session["session_key"]) if session else None,
        })
    return out


def _live_only(ix: PlayIndex, rows: Rows, k: int, live_sessions: list[dict]) -> dict:
    session = live_sessions[-1 - int(rows.rep[k])]
    played = int(rows.played[k])
    return {"reference_id": None, "row_id": None, "id": None, "date": int(rows.date[k]),
            "started": int(rows.started[k]), "stopped": None, "duration": played, "play_duration": played,
            "paused_counter": int(rows.paused[k]), **_person(ix, int(rows.user_id[k]), int(rows.platform[k])),
            **ix.meta[int(rows.item[k])].fields, "transcode_decision": session.get("transcode_decision", "direct play"),
            "percent_complete": int(round(float(rows.percent[k]))), "watched_status": float(rows.watched[k]),
            "group_count": None, "group_ids": None, "state": session.get("state", "playing"),
            "session_key": str(session["session_key"])}


def _person(ix: PlayIndex, uid: int, plat: int) -> dict:
    """The user and device fields of a history row, from user_id to relayed."""
    user = ix.user_by_id.get(uid)
    platform, product, player = PLATFORMS[plat]
    return {"user_id": uid, "user": ix.username_by_id.get(uid, ""),
            "friendly_name": user.display_name if user else None,
            "user_thumb": user.thumb if user and user.thumb else DEFAULT_USER_THUMB,
            "platform": platform, "product": product, "player": player, "ip_address": ip_address(user, uid, plat),
            "live": 0, "machine_id": machine_id(uid, plat),
            "location": "lan" if user is not None and user.lan else "wan",
            "secure": 1, "relayed": 0}
