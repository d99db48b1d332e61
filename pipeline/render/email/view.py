"""What a digest e-mail shows, as plain formatted data: the issue's part once, each reader's part per mail.

An allow-list, like issue_view.py: ids, usernames and e-mail addresses of other people never reach
a template; they are named through a `Namer` (site.names), and the reader's own name appears only
in their own mail. Lists are cut for an inbox, and `trim()` drops whole sections, lowest priority
first, when a digest would be clipped.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable, Mapping

from pipeline.render.email.images import EmailImage
from pipeline.render.issue_view import (TOP_MEASURE, added_line, change, coming_rows, count, day_span, heading, hours,
                                        plural)
from pipeline.render.plex_links import plex_links
from pipeline.render.privacy import Namer
from pipeline.text import safe_url

ADDED_POSTERS = 8      # two rows of four
TOP_ROWS = 5
WATCHLIST_ROWS = 6
VIEWER_ROWS = 5
PLATFORM_ROWS = 5
PERSONAL_ROWS = 5
LEAVING_ROWS = 10
COMING_ROWS = 8
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
NOUNS = {"weekly": "week", "monthly": "month", "yearly": "year"}

# What goes first when a digest is too big for the inbox. The reader's own section, the
# notices about them and the headline numbers are never dropped.
DROPS = ("platforms", "viewers", "music", "top_short", "added_short", "watchlist_short", "chart",
         "top", "watchlist", "added")


def short_heading(period: Mapping[str, Any]) -> str:
    """'Week 46', 'October 2026', '2026 in review': what a subject line starts with."""
    text = heading(period)
    return text.split(",", 1)[0] if period.get("kind") == "weekly" else text


def nice_date(value: Any) -> str:
    """'1 Dec 2026' from a date, a datetime or an ISO string; '' for nothing."""
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def new_titles(added: Mapping[str, Any]) -> int:
    """Titles a reader would count as new: movies, shows with new episodes and albums."""
    t = added.get("totals") or {}
    return int(t.get("movies") or 0) + int(t.get("shows") or 0) + int(t.get("albums") or 0)


def added_shown(items: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The added rows a digest shows: movies and new seasons first (posters people know), then albums."""
    return sorted(items, key=lambda i: 0 if i.get("kind") in ("movie", "season") else 1)[:ADDED_POSTERS]


def _added(added: Mapping[str, Any], posters: Mapping[str, EmailImage], plex: Callable[[Any], str]) -> dict | None:
    items = list(added.get("items") or [])
    if not items:
        return None
    shown = []
    for item in added_shown(items):
        kind = item.get("kind")
        if kind == "season":
            season = item.get("season")
            detail = " ".join(x for x in (f"S{season}" if season is not None else "", str(item.get("episodes") or ""))
                              if x)
            badge = "New show" if item.get("new_show") else ""
        elif kind == "album":
            detail, badge = " · ".join(str(x) for x in (item.get("artist"), item.get("year")) if x), ""
        else:
            detail, badge = str(item.get("year") or ""), ""
        shown.append({"title": str(item.get("title") or "Untitled"), "detail": detail, "badge": badge,
                      "square": kind == "album", "poster": posters.get(str(item.get("rating_key"))),
                      "plex": safe_url(plex(item.get("rating_key")))})
    return {"line": added_line(added.get("totals") or {}), "titles": shown,
            "more": max(0, len(items) - len(shown)), "total": new_titles(added)}


def _top(top: Mapping[str, Any], plex: Callable[[Any], str]) -> list[dict]:
    """Most watched per kind, ranked by hours like the site (TOP_MEASURE); the hours lead each row's detail."""
    out = []
    for key, name in (("movies", "Movies"), ("shows", "Shows"), ("music", "Music")):
        rows = list(((top.get(key) or {}).get("by_hours") or [])[:TOP_ROWS])
        if not rows:
            continue
        most = max(float(r.get("hours") or 0) for r in rows) or 1.0
        items = [{"label": str(r.get("title") or "Untitled"), "year": r.get("year") if key != "music" else None,
                  "detail": f"{hours(r.get('hours'))} h · "
                            f"{count(r.get('plays'))} {plural(int(r.get('plays') or 0), 'play')}",
                  "share": max(2, round(100 * float(r.get("hours") or 0) / most)), "me": False,
                  "url": safe_url(plex(r.get("rating_key")))} for r in rows]
        out.append({"id": key, "name": name, "rows": items})
    return out


def _watchlist(rows: list[Mapping[str, Any]], namer: Namer, plex: Callable[[Any], str]) -> list[dict]:
    out = []
    for r in rows:
        ids = [str(uid) for uid in (r.get("user_ids") or []) if not namer.is_excluded(uid)]
        if len(ids) < 2:  # without the excluded it is no longer a shared watch
            continue
        out.append({"title": str(r.get("title") or "Untitled"), "year": r.get("year"),
                    "kind": "Movie" if r.get("title_kind") == "movie" else "Show", "ids": ids,
                    "who": _who(ids, namer, None), "plex": safe_url(plex(r.get("rating_key")))})
        if len(out) == WATCHLIST_ROWS:
            break
    return out


def _who(ids: list[str], namer: Namer, me: str | None) -> str:
    """'A. S., C. J. and B.'; 'You, A. S. and 2 more'; '3 viewers' when names are hidden."""
    if namer.hidden:
        if me in ids:
            others = len(ids) - 1
            return f"You and {others} {plural(others, 'other')}"
        return f"{len(ids)} viewers"
    names = (["You"] if me in ids else []) + [namer.name(uid) for uid in ids if uid != me]
    if len(names) > 4:
        names = names[:3] + [f"{len(names) - 3} more"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _viewers(rows: list[Mapping[str, Any]], namer: Namer) -> list[dict]:
    if namer.hidden:
        return []
    kept = [r for r in rows if not namer.is_excluded(r)][:VIEWER_ROWS]
    most = max((float(r.get("hours") or 0) for r in kept), default=0) or 1.0
    return [{"id": str(r.get("user_id")), "label": namer.name(r), "year": None, "detail": f"{hours(r.get('hours'))} h",
             "share": max(2, round(100 * float(r.get("hours") or 0) / most)), "me": False} for r in kept]


# Mid-tone colours read on a white card and on a dark one alike, so no dark-mode override is needed.
SEGMENTS = ("#d97706", "#0d9488", "#3b82f6", "#8b5cf6", "#db2777", "#8a8178")


def _platforms(rows: list[Mapping[str, Any]]) -> list[dict]:
    """Plays by platform as segments of one bar: the first few, then "Other"; widths add up to 100."""
    total = sum(int(r.get("plays") or 0) for r in rows)
    if not total:
        return []
    shown = [(str(r.get("platform") or "Unknown"), int(r.get("plays") or 0)) for r in rows[:PLATFORM_ROWS]]
    rest = sum(int(r.get("plays") or 0) for r in rows[PLATFORM_ROWS:])
    if rest:
        shown.append(("Other", rest))
    out = [{"label": name, "detail": f"{round(100 * n / total)}%", "width": max(1, round(100 * n / total)),
            "colour": SEGMENTS[min(i, len(SEGMENTS) - 1)]} for i, (name, n) in enumerate(shown)]
    out[0]["width"] += 100 - sum(s["width"] for s in out)  # rounding: the biggest absorbs the difference
    return out


def _busiest(heat: Mapping[str, Any]) -> str:
    best = heat.get("busiest")
    if not best:
        return ""
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    return f"Most time watched: {days[int(best['dow']) - 1]}s at {int(best['hour']):02d}:00."


def issue_part(snapshot: Mapping[str, Any], namer: Namer, posters: Mapping[str, EmailImage],
               chart: EmailImage | None, server: str) -> dict:
    """The part of a digest every reader shares, untrimmed."""
    period = snapshot.get("period") or {}
    kind = str(period.get("kind", "weekly"))
    totals = snapshot.get("totals") or {}
    prev, pct = totals.get("previous") or {}, totals.get("change") or {}
    headline = [
        {"name": "Hours watched", "value": hours(totals.get("hours")),
         "change": change(pct.get("seconds"), float(prev.get("hours") or 0), "hours", kind)},
        {"name": "Plays", "value": count(totals.get("plays")),
         "change": change(pct.get("plays"), int(prev.get("plays") or 0), "plays", kind)},
        {"name": "Viewers", "value": count(totals.get("active_viewers")),
         "change": change(pct.get("active_viewers"), int(prev.get("active_viewers") or 0), "viewers", kind)},
        {"name": "Titles watched", "value": count(totals.get("titles")),
         "change": change(pct.get("titles"), int(prev.get("titles") or 0), "titles", kind)},
    ]
    busiest = _busiest(snapshot.get("heatmap") or {})
    plex = plex_links(snapshot)
    noun = NOUNS.get(kind, "period")
    span = day_span(period["first_day"], period["last_day"]) if period.get("first_day") else ""
    return {
        "server": server, "heading": heading(period), "short": short_heading(period), "span": span,
        "noun": noun, "kind": kind,
        "empty_text": (f"Nobody watched anything on {server} and nothing was added, {span}. "
                       f"Quiet {noun}s happen; see you next {noun}."),
        "complete": bool(period.get("complete", True)),
        "empty": bool(snapshot.get("empty")),
        "hours": hours(totals.get("hours")), "plays": int(totals.get("plays") or 0),
        "viewers": int(totals.get("active_viewers") or 0),
        "headline": headline,
        "added": _added(snapshot.get("added") or {}, posters, plex),
        "coming": coming_rows(snapshot.get("coming_soon"), COMING_ROWS),
        "coming_more": max(0, len((snapshot.get("coming_soon") or {}).get("items") or []) - COMING_ROWS),
        "top": _top(snapshot.get("top") or {}, plex),
        "top_measure": TOP_MEASURE,
        "watchlist": _watchlist(list(snapshot.get("community_watchlist") or []), namer, plex),
        # The caption under the chart starts with its alt text, so the two state the same figure in the chart's
        # measure (plays); the busiest hour by time watched follows, named as such.
        "chart": {"image": chart, "text": " ".join(x for x in (chart.alt, busiest) if x), "alt": chart.alt or busiest}
        if chart is not None else None,
        "busiest": busiest,
        "viewers_list": _viewers(list(snapshot.get("top_viewers") or []), namer),
        "platforms": _platforms(list(snapshot.get("platforms") or [])),
        "data_as_of": nice_date(snapshot.get("data_as_of")),
        "trimmed": False,
    }


def trim(part: Mapping[str, Any], level: int) -> dict:
    """The issue part with the first `level` entries of DROPS applied."""
    out = dict(part)
    for step in DROPS[:level]:
        if step in ("platforms", "chart", "watchlist", "added", "top"):
            out[step] = [] if step in ("platforms", "watchlist", "top") else None
        elif step == "viewers":
            out["viewers_list"] = []
        elif step == "music":
            out["top"] = [g for g in out["top"] if g["id"] != "music"]
        elif step == "top_short":
            out["top"] = [{**g, "rows": g["rows"][:3]} for g in out["top"]]
        elif step == "added_short" and out["added"]:
            kept = out["added"]["titles"][:4]
            out["added"] = {**out["added"], "titles": kept,
                            "more": out["added"]["more"] + len(out["added"]["titles"]) - len(kept)}
        elif step == "watchlist_short":
            out["watchlist"] = out["watchlist"][:3]
    out["trimmed"] = level > 0
    return out


def for_reader(part: Mapping[str, Any], namer: Namer, me: str | None) -> dict:
    """The issue part as one reader sees it: "You" in the lists they are in."""
    if me is None:
        return dict(part)
    out = dict(part)
    if any(me in row["ids"] for row in part["watchlist"]):
        out["watchlist"] = [{**row, "who": _who(row["ids"], namer, me)} if me in row["ids"] else row
                            for row in part["watchlist"]]
    if any(row["id"] == me for row in part["viewers_list"]):
        out["viewers_list"] = [{**row, "label": "You", "me": True} if row["id"] == me else row
                               for row in part["viewers_list"]]
    return out
