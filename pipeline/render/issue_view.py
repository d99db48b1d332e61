"""Turn a frozen issue snapshot into the public data one issue page shows.

This is an allow-list: only the fields named here reach the site. User ids, usernames, e-mail
addresses and Plex thumb paths stay behind; a rating key leaves only inside a title's Plex link
(which opens only for someone signed in to Plex with access to the server); people are named through a `Namer`
(site.names) and anyone in site.exclude_users is dropped from every list. Numbers are
formatted here so the templates stay plain.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable, Mapping

from pipeline.render.plex_links import plex_links
from pipeline.render.privacy import Namer

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ADDED_PER_GROUP = 12      # posters per group in "New on the server"
TOP_ROWS = 10
VIEWER_ROWS = 10
WATCHLIST_ROWS = 12
PLATFORM_ROWS = 6
TOP_MEASURE = "hours watched"  # what "Most watched" ranks by, on the site and in the e-mail alike
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


# -- formatting ---------------------------------------------------------------------------------


def count(n: float | int | None) -> str:
    return f"{int(n or 0):,}"


def hours(h: float | int | None) -> str:
    """'0.4', '8.5', '208' (one decimal below 100 hours)."""
    value = float(h or 0)
    return f"{value:,.1f}".removesuffix(".0") if value < 100 else f"{value:,.0f}"


def plural(n: float | int, word: str, words: str | None = None) -> str:
    return word if n == 1 else (words or word + "s")


def change(percent: float | None, previous: float | int | None, unit: str, kind: str) -> dict | None:
    """A badge like {'text': '+12%', 'direction': 'up', 'label': 'up 12% on last week'}."""
    than = {"weekly": "last week", "monthly": "last month", "yearly": "last year"}.get(kind, "last time")
    if percent is None:
        if not previous:
            return {"text": "new", "direction": "flat", "label": f"nothing the {than.split()[-1]} before"}
        return None
    rounded = round(percent)
    if rounded == 0:
        return {"text": "±0%", "direction": "flat", "label": f"the same as {than}"}
    word = "up" if rounded > 0 else "down"
    return {"text": f"{'+' if rounded > 0 else '−'}{abs(rounded)}%", "direction": word,
            "label": f"{word} {abs(rounded)}% on {than} ({previous:,} {unit})" if isinstance(previous, int)
            else f"{word} {abs(rounded)}% on {than} ({hours(previous)} {unit})"}


def day_span(first: str, last: str) -> str:
    """'9–15 Nov 2026', '28 Dec 2026 – 3 Jan 2027', '1–31 Oct 2026'."""
    fy, fm, fd = (int(x) for x in first.split("-"))
    ly, lm, ld = (int(x) for x in last.split("-"))
    if (fy, fm) == (ly, lm):
        return f"{fd}–{ld} {MONTHS[fm - 1]} {fy}" if fd != ld else f"{fd} {MONTHS[fm - 1]} {fy}"
    if fy == ly:
        return f"{fd} {MONTHS[fm - 1]} – {ld} {MONTHS[lm - 1]} {fy}"
    return f"{fd} {MONTHS[fm - 1]} {fy} – {ld} {MONTHS[lm - 1]} {ly}"


def heading(period: Mapping[str, Any]) -> str:
    """The short page heading: 'Week 46, 2026', 'October 2026', '2026 in review'."""
    label = str(period.get("label", period.get("key", "")))
    return label.split(" (", 1)[0]


# -- sections ---------------------------------------------------------------------------------


def _poster(posters: Mapping[str, Any], rating_key: Any) -> dict | None:
    if rating_key in (None, ""):
        return None
    found = posters.get(str(rating_key))
    return dict(found) if found else None


def _headline(totals: Mapping[str, Any], kind: str) -> list[dict]:
    prev = totals.get("previous") or {}
    pct = totals.get("change") or {}
    return [
        {"name": "Plays", "value": count(totals.get("plays")),
         "change": change(pct.get("plays"), int(prev.get("plays") or 0), "plays", kind)},
        {"name": "Hours watched", "value": hours(totals.get("hours")),
         "change": change(pct.get("seconds"), float(prev.get("hours") or 0), "hours", kind)},
        {"name": "Active viewers", "value": count(totals.get("active_viewers")),
         "change": change(pct.get("active_viewers"), int(prev.get("active_viewers") or 0), "viewers", kind)},
        {"name": "Titles watched", "value": count(totals.get("titles")),
         "change": change(pct.get("titles"), int(prev.get("titles") or 0), "titles", kind)},
    ]


def added_line(t: Mapping[str, Any]) -> str:
    """'3 movies, 24 episodes of 5 shows and 2 albums'."""
    parts = []
    if t.get("movies"):
        parts.append(f"{count(t['movies'])} {plural(t['movies'], 'movie')}")
    if t.get("episodes"):
        shows = int(t.get("shows") or 0)
        of = f" of {count(shows)} {plural(shows, 'show')}" if shows else ""
        parts.append(f"{count(t['episodes'])} {plural(t['episodes'], 'episode')}{of}")
    if t.get("albums"):
        parts.append(f"{count(t['albums'])} {plural(t['albums'], 'album')}")
    elif t.get("tracks"):
        parts.append(f"{count(t['tracks'])} {plural(t['tracks'], 'track')}")
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return parts[0] if parts else ""


def _added_item(item: Mapping[str, Any], posters: Mapping[str, Any], plex: Callable[[Any], str]) -> dict:
    kind = item.get("kind")
    title = str(item.get("title") or "Untitled")
    if kind == "season":
        season = item.get("season")
        episodes = str(item.get("episodes") or "")
        detail = " ".join(x for x in (f"S{season}" if season is not None else "", episodes) if x)
        shape = "poster"
    elif kind == "album":
        detail = " · ".join(str(x) for x in (item.get("artist"), item.get("year")) if x)
        shape = "square"
    else:
        detail = str(item.get("year") or "")
        shape = "poster"
    return {"title": title, "detail": detail, "new_show": bool(item.get("new_show")), "shape": shape,
            "kind": {"season": "TV", "album": "Album"}.get(str(kind), "Movie"),
            "poster": _poster(posters, item.get("rating_key")), "plex": plex(item.get("rating_key"))}


def _added(added: Mapping[str, Any], posters: Mapping[str, Any], plex: Callable[[Any], str]) -> dict | None:
    items = list(added.get("items") or [])
    if not items:
        return None
    groups = []
    # Square album covers get a shelf of their own, so every row of posters lines up.
    for name, kinds in (("Movies & TV", ("movie", "season")), ("Music", ("album",))):
        shown, more = [], 0
        for kind in kinds:  # movies before TV; newest first within each
            rows = [i for i in items if i.get("kind") == kind]
            shown += [_added_item(i, posters, plex) for i in rows[:ADDED_PER_GROUP]]
            more += max(0, len(rows) - ADDED_PER_GROUP)
        if shown:
            groups.append({"name": name, "items": shown, "more": more})
    return {"line": added_line(added.get("totals") or {}), "groups": groups}


def _top(top: Mapping[str, Any], posters: Mapping[str, Any], plex: Callable[[Any], str]) -> list[dict]:
    """Most watched per kind, ranked by hours (a film is one play, a show many): the e-mail ranks the same way."""
    out = []
    for key, name, shape in (("movies", "Movies", "poster"), ("shows", "Shows", "poster"),
                             ("music", "Music", "square")):
        rows = list(((top.get(key) or {}).get("by_hours") or [])[:TOP_ROWS])
        if not rows:
            continue
        most = max(float(r.get("hours") or 0) for r in rows) or 1.0
        items = []
        for rank, r in enumerate(rows, 1):
            plays = int(r.get("plays") or 0)
            extra = ""
            if key == "shows" and r.get("episodes"):
                extra = f"{count(r['episodes'])} {plural(r['episodes'], 'episode')}"
            items.append({"rank": rank, "title": str(r.get("title") or "Untitled"),
                          "year": r.get("year") if key != "music" else None,
                          "plays": f"{count(plays)} {plural(plays, 'play')}",
                          "hours": f"{hours(r.get('hours'))} h", "extra": extra,
                          "share": round(100 * float(r.get("hours") or 0) / most),
                          "poster": _poster(posters, r.get("rating_key")), "plex": plex(r.get("rating_key"))})
        out.append({"id": key, "name": name, "shape": shape, "items": items})
    return out


def _viewers(rows: list[Mapping[str, Any]], namer: Namer) -> list[dict]:
    if namer.hidden:
        return []
    kept = [r for r in rows if not namer.is_excluded(r)][:VIEWER_ROWS]
    most = max((float(r.get("hours") or 0) for r in kept), default=0) or 1
    return [{"rank": rank, "name": namer.name(r), "hours": hours(r.get("hours")),
             "plays": f"{count(r.get('plays'))} {plural(int(r.get('plays') or 0), 'play')}",
             "share": round(100 * float(r.get("hours") or 0) / most)}
            for rank, r in enumerate(kept, 1)]


def _together(phrases: list[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _watchlist(rows: list[Mapping[str, Any]], namer: Namer, posters: Mapping[str, Any],
               plex: Callable[[Any], str]) -> list[dict]:
    out = []
    for r in rows:
        ids = [uid for uid in (r.get("user_ids") or []) if not namer.is_excluded(uid)]
        if len(ids) < 2:  # without the excluded it is no longer a shared watch
            continue
        if namer.hidden:
            who = f"{len(ids)} viewers"
        else:
            names = [namer.name(uid) for uid in ids]
            who = _together(names[:4] + ([f"{len(names) - 4} more"] if len(names) > 4 else []))
        out.append({"title": str(r.get("title") or "Untitled"), "year": r.get("year"),
                    "kind": "Movie" if r.get("title_kind") == "movie" else "Show",
                    "viewers": len(ids), "who": who, "poster": _poster(posters, r.get("rating_key")),
                    "plex": plex(r.get("rating_key"))})
        if len(out) == WATCHLIST_ROWS:
            break
    return out


def heatmap_cells(heatmap: Mapping[str, Any]) -> list[dict]:
    """The snapshot's 7×24 grids as the cells pipeline.render.charts wants (dow 0 = Monday)."""
    plays, seconds = heatmap.get("plays") or [], heatmap.get("seconds") or []
    cells = []
    for d, row in enumerate(plays):
        for h, n in enumerate(row):
            if n:
                secs = seconds[d][h] if d < len(seconds) and h < len(seconds[d]) else 0
                cells.append({"dow": d, "hour": h, "plays": n, "hours": round(secs / 3600, 2)})
    return cells


def _busiest(heatmap: Mapping[str, Any]) -> str:
    """'Busiest hour: Saturday at 21:00 (6.5 hours watched). Busiest day: Saturday (19 hours).'

    By hours, as the snapshot picks its busiest cell: an album is a dozen plays in one hour.
    """
    seconds = heatmap.get("seconds") or []
    best = heatmap.get("busiest")
    if not best or not seconds:
        return ""
    per_day = [sum(row) / 3600 for row in seconds]
    top_day = max(range(len(per_day)), key=lambda i: (per_day[i], -i))
    hour, h = int(best["hour"]), float(best.get("seconds") or 0) / 3600
    return (f"Busiest hour: {DAYS[int(best['dow']) - 1]} at {hour:02d}:00 ({hours(h)} {plural(h, 'hour')} watched). "
            f"Busiest day: {DAYS[top_day]} ({hours(per_day[top_day])} {plural(per_day[top_day], 'hour')}).")


def _platforms(rows: list[Mapping[str, Any]]) -> list[dict]:
    total = sum(int(r.get("plays") or 0) for r in rows) or 1
    shown = list(rows[:PLATFORM_ROWS])
    rest = rows[PLATFORM_ROWS:]
    out = [{"name": str(r.get("platform") or "Unknown"), "plays": int(r.get("plays") or 0),
            "hours": float(r.get("hours") or 0)} for r in shown]
    if rest:
        out.append({"name": "Other", "plays": sum(int(r.get("plays") or 0) for r in rest),
                    "hours": sum(float(r.get("hours") or 0) for r in rest)})
    return [{"name": p["name"], "share": round(100 * p["plays"] / total),
             "plays": f"{count(p['plays'])} {plural(p['plays'], 'play')}", "hours": f"{hours(p['hours'])} h"}
            for p in out]


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def short_day(value: Any) -> str:
    """'Fri 11 Dec' from a YYYY-MM-DD day (already the server's)."""
    if not value:
        return ""
    day = date.fromisoformat(str(value)[:10])
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


def coming_rows(coming: Mapping[str, Any] | None, limit: int | None = None) -> list[dict]:
    """Coming-soon rows as a reader reads them: a show's season with its episodes, or a movie, and when."""
    out = []
    for item in list((coming or {}).get("items") or [])[:limit]:
        first, last = item.get("first_day"), item.get("last_day")
        when = short_day(first) if first == last else f"from {short_day(first)}"
        if item.get("kind") == "season":
            season = item.get("season")
            detail = " ".join(x for x in (f"S{season}" if season is not None else "", str(item.get("episodes") or ""))
                              if x)
        else:
            detail = "Movie"
        out.append({"title": str(item.get("title") or "Untitled"), "year": item.get("year"), "detail": detail,
                    "when": when})
    return out


def issue_view(snapshot: Mapping[str, Any], namer: Namer, *, posters: Mapping[str, Any],
               charts: Mapping[str, Any]) -> dict:
    """The public data of one issue page. posters: rating_key -> {src, width, height};
    charts: name -> {src, alt, width, height}."""
    period = snapshot.get("period") or {}
    kind = str(period.get("kind", "weekly"))
    totals = snapshot.get("totals") or {}
    added = snapshot.get("added") or {}
    heat = snapshot.get("heatmap") or {}
    plex = plex_links(snapshot)
    heatmap = None
    if heat.get("busiest"):
        heatmap = {"text": _busiest(heat), "chart": dict(charts["heatmap"]) if "heatmap" in charts else None}
    view = {
        "kind": kind,
        "key": str(period.get("key", "")),
        "heading": heading(period),
        "label": str(period.get("label", "")),
        "span": day_span(period["first_day"], period["last_day"]) if period.get("first_day") else "",
        "noun": {"weekly": "week", "monthly": "month", "yearly": "year"}.get(kind, "period"),
        "complete": bool(period.get("complete", True)),
        "empty": bool(snapshot.get("empty")),
        "headline": _headline(totals, kind),
        "plays": int(totals.get("plays") or 0),
        "hours": hours(totals.get("hours")),
        "viewers": int(totals.get("active_viewers") or 0),
        "added": _added(added, posters, plex),
        "coming": coming_rows(snapshot.get("coming_soon")),
        "coming_days": int((snapshot.get("coming_soon") or {}).get("days") or 0),
        "top": _top(snapshot.get("top") or {}, posters, plex),
        "top_measure": TOP_MEASURE,
        "top_viewers": _viewers(list(snapshot.get("top_viewers") or []), namer),
        "watchlist": _watchlist(list(snapshot.get("community_watchlist") or []), namer, posters, plex),
        "heatmap": heatmap,
        "platforms": _platforms(list(snapshot.get("platforms") or [])),
        "names_hidden": namer.hidden,
    }
    view["thumbs"] = _thumbs(view)
    return view


def _thumbs(view: Mapping[str, Any], n: int = 3) -> list[dict]:
    """A few posters for the issue's card on the home page and in the archive: most watched first."""
    seen, out = set(), []
    firsts = [g["items"][0] for g in view["top"] if g["items"] and g["shape"] == "poster"]
    rest = [i for g in view["top"] for i in g["items"][1:] if g["shape"] == "poster"]
    added = [i for g in (view.get("added") or {}).get("groups") or [] for i in g["items"]]
    for item in firsts + [a for a in added if a["shape"] == "poster"] + rest:
        poster = item.get("poster")
        if poster and poster["src"] not in seen:
            seen.add(poster["src"])
            out.append({"title": item["title"], "poster": poster})
        if len(out) == n:
            break
    return out


def namer_for(snapshot: Mapping[str, Any], names: str, exclude: list[str]) -> Namer:
    """A Namer that knows everyone the snapshot mentions by id."""
    users = list((snapshot.get("users") or {}).values())
    users += [r for r in snapshot.get("top_viewers") or [] if str(r.get("user_id")) not in
              {str(u.get("user_id")) for u in users}]
    return Namer.build(users, names, exclude)
