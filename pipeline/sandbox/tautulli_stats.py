"""get_home_stats for the sandbox Tautulli, computed from the raw plays the way Tautulli's SQL does.

Marquee's own statistics are checked against this, so it follows datafactory.get_home_stats
step by step: filter by `stopped`, group resumed sessions, group again by title, order, page.
"""

from __future__ import annotations

import numpy as np

from pipeline.sandbox.tautulli_history import bool_true
from pipeline.sandbox.tautulli_index import DEFAULT_USER_THUMB, PlayIndex, sql_number
from pipeline.sandbox.world import PLATFORMS, World

DEFAULT_CARDS = ["top_movies", "popular_movies", "top_tv", "popular_tv", "top_music", "popular_music",
                 "last_watched", "top_libraries", "top_users", "top_platforms", "most_concurrent"]
TITLES = {"top_movies": "Most Watched Movies", "popular_movies": "Most Popular Movies",
          "top_tv": "Most Watched TV Shows", "popular_tv": "Most Popular TV Shows",
          "top_music": "Most Played Artists", "popular_music": "Most Popular Artists",
          "last_watched": "Recently Watched", "top_libraries": "Most Active Libraries",
          "top_users": "Most Active Users", "top_platforms": "Most Active Platforms",
          "most_concurrent": "Most Concurrent Streams"}
# common.PLATFORM_NAMES, tried longest key first as Tautulli's reverse-sorted OrderedDict does.
PLATFORM_NAMES = sorted({"android": "android", "apple tv": "atv", "chrome": "chrome", "ios": "ios", "roku": "roku",
                         "samsung": "samsung", "windows": "windows", "tvos": "atv", "tizen": "samsung",
                         "iphone": "ios", "ipad": "ios", "xbox": "xbox", "playstation": "playstation"}.items(),
                        reverse=True)


def home_stats(ix: PlayIndex, world: World, q: dict) -> list | dict | None:
    time_range = _int(q.get("time_range", 30))
    stats_type = {"0": "plays", "1": "duration"}.get(q.get("stats_type", "plays"), q.get("stats_type", "plays"))
    sort = "total_duration" if stats_type == "duration" else "total_plays"
    start, count = _int(q.get("stats_start", 0)), _int(q.get("stats_count", 10))
    cards = [q["stat_id"]] if q.get("stat_id") else DEFAULT_CARDS
    grouping = bool_true(q.get("grouping"), True)
    if q.get("before") or q.get("after"):
        # Tautulli quotes the date placeholder ('?'), so SQLite gets one binding too many and every
        # card's query fails: the command answers an error with no message.
        return None
    in_time = ix.stopped >= world.now - time_range * 86_400
    where = in_time.copy()
    for name, column in (("section_id", ix.section), ("user_id", ix.user_id)):
        if q.get(name):
            value = sql_number(str(q[name]))
            where &= column == (int(value) if value is not None and value.is_integer() else -(1 << 62))
    # A resumed session never mixes items, so grouping once and splitting by media type afterwards
    # gives what Tautulli's per-card queries give.
    sessions = _sessions(ix, where, grouping)
    page = lambda rows: _page(rows, start, count)  # noqa: E731 - LIMIT/OFFSET before rows are built
    out = []
    for card in cards:
        if card in ("top_movies", "popular_movies", "top_tv", "popular_tv", "top_music", "popular_music"):
            kind = {"movies": 0, "tv": 1, "music": 2}[card.split("_")[1]]
            rows = _titles(ix, _of_kind(ix, sessions, (kind,)), kind, sort, card.startswith("popular"), page)
            entry = {"stat_id": card, "stat_type": sort, "stat_title": TITLES[card], "rows": rows}
        elif card in ("top_libraries", "top_users", "top_platforms"):
            rows = {"top_libraries": _libraries, "top_users": _users, "top_platforms": _platforms}[card](
                ix, world, sessions, sort, page)
            entry = {"stat_id": card, "stat_type": sort, "stat_title": TITLES[card], "rows": rows}
        elif card == "last_watched":
            rows = _last_watched(ix, _of_kind(ix, sessions, (0, 1)), page)
            entry = {"stat_id": card, "stat_title": TITLES[card], "rows": rows}
        elif card == "most_concurrent":
            entry = {"stat_id": card, "stat_title": TITLES[card], "rows": _concurrent(ix, in_time)}
        else:
            continue
        if card.startswith("popular"):
            entry.pop("stat_type")
        out.append(entry)
    if q.get("stat_id") and out:
        return out[0]
    return out


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def _page(rows: list, start: int, count: int) -> list:
    """LIMIT count OFFSET start: a negative LIMIT means no limit in SQLite."""
    start = max(0, start)
    return rows[start:] if count < 0 else rows[start:start + count]


def _sessions(ix: PlayIndex, mask: np.ndarray, grouping: bool) -> tuple[np.ndarray, np.ndarray]:
    """The inner GROUP BY: one row per resumed session (its last row) with the summed duration."""
    pos = np.flatnonzero(mask)
    if not grouping or len(pos) == 0:
        return pos, ix.played[pos]
    ref = ix.reference_id[pos]
    order = np.argsort(ref, kind="stable")
    members = pos[order]
    first = np.flatnonzero(np.concatenate([[True], ref[order][1:] != ref[order][:-1]]))
    last = np.append(first[1:], len(members)) - 1
    return members[last], np.add.reduceat(ix.played[members], first)


def _of_kind(ix: PlayIndex, sessions: tuple[np.ndarray, np.ndarray], kinds: tuple[int, ...]) -> tuple:
    rep, d = sessions
    keep = np.isin(ix.media_type[rep], kinds)
    return rep[keep], d[keep]


def _aggregate(ix: PlayIndex, keys: np.ndarray, rep: np.ndarray, d: np.ndarray, sort: str,
               popular: bool = False) -> list[dict]:
    """The outer GROUP BY key: counts, sums, the newest start and that session's row, in Tautulli's order."""
    if len(rep) == 0:
        return []
    uniq, inverse = np.unique(keys, return_inverse=True)
    plays = np.bincount(inverse, minlength=len(uniq))
    duration = np.bincount(inverse, weights=d, minlength=len(uniq)).astype(np.int64)
    started = ix.started[rep]
    order = np.lexsort((started, inverse))
    newest = rep[order[np.append(np.flatnonzero(np.diff(inverse[order])), len(order) - 1)]]
    users = np.zeros(len(uniq), dtype=np.int64)
    if popular:
        pairs = np.unique(inverse.astype(np.int64) * (1 << 40) + ix.user_id[rep])
        users = np.bincount((pairs >> 40).astype(np.int64), minlength=len(uniq))
    groups = [{"key": k, "total_plays": int(plays[i]), "total_duration": int(duration[i]),
               "last_watch": int(ix.started[newest[i]]), "pos": int(newest[i]), "users_watched": int(users[i])}
              for i, k in enumerate(uniq.tolist())]
    if popular:
        groups.sort(key=lambda g: (-g["users_watched"], -g[sort], -g["last_watch"]))
    else:
        groups.sort(key=lambda g: (-g[sort], -g["last_watch"]))
    return groups


def _title_keys(ix: PlayIndex, kind: int) -> np.ndarray:
    """Per item, the id of what Tautulli groups by: (full_title, year), grandparent_title, or the artist."""
    cache = ix.__dict__.setdefault("_stat_keys", {})
    if kind not in cache:
        if kind == 0:
            names = [(m.full_title, -1 if m.year is None else m.year) for m in ix.meta]
        elif kind == 1:
            names = [(m.grandparent_title, 0) for m in ix.meta]
        else:
            names = [(m.original_title, m.grandparent_title) for m in ix.meta]
        # Ids in GROUP BY order (binary collation), which is where ORDER BY ties fall back to.
        vocab = {n: i for i, n in enumerate(sorted(set(names)))}
        cache[kind] = np.array([vocab[n] for n in names], dtype=np.int64)
    return cache[kind]


def _titles(ix: PlayIndex, sessions: tuple, kind: int, sort: str, popular: bool, page) -> list[dict]:
    rep, d = sessions
    keys = _title_keys(ix, kind)[ix.item[rep]]
    out = []
    for g in page(_aggregate(ix, keys, rep, d, sort, popular)):
        m = ix.meta[int(ix.item[g["pos"]])]
        show = kind > 0
        row = {"title": m.full_title if kind == 0 else (m.grandparent_title if kind == 1 else
                                                          m.original_title or m.grandparent_title),
               "year": m.year, "total_plays": g["total_plays"], "total_duration": g["total_duration"],
               "users_watched": g["users_watched"] if popular else "",
               "rating_key": m.grandparent_rating_key if show else m.rating_key,
               "grandparent_rating_key": m.grandparent_rating_key if show else "", "last_play": g["last_watch"],
               "grandparent_thumb": m.grandparent_thumb if show else "",
               "thumb": m.grandparent_thumb if show else m.thumb, "art": m.art, "section_id": m.section_id,
               "media_type": m.media_type, "content_rating": m.content_rating, "rating": m.rating,
               "labels": m.labels, "user": "", "friendly_name": "", "platform": "", "live": 0, "guid": m.guid,
               "row_id": int(ix.ids[g["pos"]])}
        if popular:
            row.pop("total_duration")
        out.append(row)
    return out


def _media_row(ix: PlayIndex, pos: int) -> dict:
    m = ix.meta[int(ix.item[pos])]
    return {"thumb": m.grandparent_thumb or m.thumb, "grandparent_thumb": m.grandparent_thumb, "art": m.art,
            "users_watched": "", "platform": "", "title": m.full_title, "grandparent_title": m.grandparent_title,
            "grandchild_title": m.title, "year": m.year, "media_index": m.media_index,
            "parent_media_index": m.parent_media_index, "rating_key": m.rating_key,
            "grandparent_rating_key": m.grandparent_rating_key, "media_type": m.media_type,
            "content_rating": m.content_rating, "labels": m.labels, "live": 0, "guid": m.guid,
            "row_id": int(ix.ids[pos])}


def _users(ix: PlayIndex, world: World, sessions: tuple, sort: str, page) -> list[dict]:
    rep, d = sessions
    out = []
    for g in page(_aggregate(ix, ix.user_id[rep], rep, d, sort)):
        user = ix.user_by_id.get(g["key"])
        out.append({"user": ix.username_by_id.get(g["key"], ""), "user_id": g["key"],
                    "friendly_name": user.display_name if user else None, "total_plays": g["total_plays"],
                    "total_duration": g["total_duration"], "last_play": g["last_watch"],
                    "user_thumb": (user.thumb if user and user.thumb else DEFAULT_USER_THUMB),
                    **_media_row(ix, g["pos"])})
    return out


def _libraries(ix: PlayIndex, world: World, sessions: tuple, sort: str, page) -> list[dict]:
    rep, d = sessions
    sections = {s.section_id: s for s in world.sections}
    out = []
    for g in page(_aggregate(ix, ix.section[rep], rep, d, sort)):
        section = sections.get(g["key"])
        icon = {"movie": "movie", "show": "show", "artist": "artist"}.get(section.type if section else "", "movie")
        row = {"total_plays": g["total_plays"], "total_duration": g["total_duration"],
               "section_type": section.type if section else None, "section_name": section.title if section else None,
               "section_id": g["key"], "last_play": g["last_watch"], "library_thumb": f"/:/resources/{icon}.png",
               "library_art": f"/:/resources/{icon}-fanart.jpg", "user": "", "friendly_name": "",
               **_media_row(ix, g["pos"])}
        out.append(row)
    return out


def _platforms(ix: PlayIndex, world: World, sessions: tuple, sort: str, page) -> list[dict]:
    rep, d = sessions
    names = sorted({p[0] for p in PLATFORMS})
    platform_key = np.array([names.index(p[0]) for p in PLATFORMS], dtype=np.int64)
    out = []
    for g in page(_aggregate(ix, platform_key[ix.platform[rep]], rep, d, sort)):
        platform = names[g["key"]]
        out.append({"total_plays": g["total_plays"], "total_duration": g["total_duration"],
                    "last_play": g["last_watch"], "platform": platform,
                    "platform_name": next((v for k, v in PLATFORM_NAMES if k in platform.lower()), "default"),
                    "title": "", "thumb": "", "grandparent_thumb": "", "art": "", "users_watched": "",
                    "rating_key": "", "grandparent_rating_key": "", "user": "", "friendly_name": "", "row_id": ""})
    return out


def _last_watched(ix: PlayIndex, sessions: tuple, page) -> list[dict]:
    """Sessions of movies and episodes whose last row reached the watched threshold, newest first."""
    rep, _ = sessions
    rep = rep[ix.watched[rep] == 1]
    rep = rep[np.lexsort((-ix.ids[rep], -ix.started[rep]))]
    out = []
    for pos in page(rep.tolist()):
        user = ix.user_by_id.get(int(ix.user_id[pos]))
        row = _media_row(ix, pos)
        out.append({"row_id": row["row_id"], "user": ix.username_by_id.get(int(ix.user_id[pos]), ""),
                    "friendly_name": user.display_name if user else None, "user_id": int(ix.user_id[pos]),
                    "user_thumb": user.thumb if user else None, "title": row["title"],
                    "grandparent_title": row["grandparent_title"], "grandchild_title": row["grandchild_title"],
                    "year": row["year"], "media_index": row["media_index"],
                    "parent_media_index": row["parent_media_index"], "rating_key": row["rating_key"],
                    "grandparent_rating_key": row["grandparent_rating_key"], "thumb": row["thumb"],
                    "grandparent_thumb": row["grandparent_thumb"], "art": row["art"],
                    "section_id": int(ix.section[pos]), "media_type": row["media_type"],
                    "content_rating": row["content_rating"], "rating": ix.meta[int(ix.item[pos])].rating,
                    "labels": row["labels"], "last_watch": int(ix.started[pos]), "live": 0, "guid": row["guid"],
                    "player": PLATFORMS[int(ix.platform[pos])][2]})
    return out


def _concurrent(ix: PlayIndex, in_time: np.ndarray) -> list[dict]:
    """Tautulli's sweep over start ('B') and stop ('A') events, per transcode decision."""
    out = []
    for title, decision in (("Concurrent Streams", None), ("Concurrent Transcodes", 2),
                            ("Concurrent Direct Streams", 1), ("Concurrent Direct Plays", 0)):
        mask = in_time if decision is None else in_time & (ix.decision == decision)
        if mask.any():
            out.append(sweep(title, ix.started[mask], ix.stopped[mask]))
    return out


def sweep(title: str, started: np.ndarray, stopped: np.ndarray) -> dict:
    """calc_most_concurrent, vectorised: at equal times stops ('A') sort before starts ('B')."""
    times = np.concatenate([stopped, started]).astype(np.int64)
    delta = np.concatenate([np.full(len(stopped), -1), np.ones(len(started), dtype=np.int64)])
    # Tautulli sorts the strings 'secondsA'/'secondsB'; all epochs here have ten digits, so this matches.
    order = np.lexsort((delta, times))
    times, delta = times[order], delta[order]
    after = np.cumsum(delta)
    is_stop = delta < 0
    at_stop = np.where(is_stop, after + 1, 0)         # count just before each stop
    best_before = np.concatenate([[0], np.maximum.accumulate(at_stop)[:-1]])
    peak = int(at_stop.max())
    final_stop = int(np.flatnonzero(is_stop & (at_stop == peak))[-1])
    starts_ok = np.flatnonzero(~is_stop & (after >= best_before) & (np.arange(len(times)) < final_stop))
    return {"title": title, "count": peak, "started": str(int(times[starts_ok[-1]])),
            "stopped": str(int(times[final_stop]))}
