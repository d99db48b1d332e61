"""A reader's year in review, for their own e-mail only: their wrapped numbers, their twin, their neighbourhood.

Read from the snapshot's "year" part (stats/yearly.py). Other readers appear only as the namer allows
(site.names), and only the reader's own twin and co-watchers: nobody else's. A reader with few plays gets a
short, kind version instead of a column of zeros.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

from pipeline.render.email.view import nice_date
from pipeline.render.issue_view import count, hours, plural
from pipeline.render.plex_links import plex_links
from pipeline.render.privacy import Namer, initials
from pipeline.text import safe_url

FEW_PLAYS = 5        # fewer plays than this in a year: the short version
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]
KINDS = (("movie", "Movies"), ("show", "Shows"), ("artist", "Artists"))


def _other(namer: Namer, users: Mapping[str, Any], uid: Any) -> str:
    """Another reader as the privacy settings allow: their public name, or 'another reader' when hidden."""
    if namer.hidden or namer.is_excluded(users.get(str(uid)) or uid):
        return "another reader"
    return namer.name(users.get(str(uid)) or uid) or "another reader"


def _hour(h: int) -> str:
    return f"{h:02d}:00"


def year_part(snapshot: Mapping[str, Any], user_id: int | None, namer: Namer) -> dict | None:
    """The reader's own year, or None for a weekly issue or an address that is no Plex user."""
    year = snapshot.get("year")
    if not year or user_id is None:
        return None
    users = snapshot.get("users") or {}
    me = users.get(str(user_id)) or {}
    extra = (year.get("users") or {}).get(str(user_id)) or {}
    totals = me.get("totals") or {}
    plays = int(totals.get("plays") or 0)
    label = (snapshot.get("period") or {}).get("key", "")
    if plays < FEW_PLAYS:
        line = (f"You pressed play {count(plays)} {plural(plays, 'time')} this year"
                + (f", most recently {extra['highlights']['last_title']}" if extra.get("highlights") else "")
                + ". Thank you for being part of it: the whole server's year is below, and there's plenty "
                  "waiting for you in the new one." if plays else
                "We didn't see you on the server this year, and that's fine. Here's what everyone else "
                "enjoyed; it's all still there whenever you'd like.")
        return {"short": True, "label": label, "heading": f"Your {label}", "lines": [line], "stats": [], "lists": [],
                "graph": None}
    hl, binges, prev = extra.get("highlights") or {}, extra.get("binges") or {}, totals.get("previous") or {}
    stats: list[dict] = []  # hours, plays, titles and days active lead the reader's own card just above
    lines = []
    if hl.get("top_percent") and int(hl.get("viewers") or 0) > 1:
        lines.append(f"You were in the top {hl['top_percent']}% of viewers on the server by hours watched.")
    if hl.get("first_title"):
        lines.append(f"Your year began with {hl['first_title']} on {nice_date(hl['first_day'])} and ended "
                     f"with {hl['last_title']} on {nice_date(hl['last_day'])}.")
    if hl.get("busiest_month"):
        lines.append(f"Your busiest month was {MONTH_NAMES[int(hl['busiest_month']) - 1]}, and your favourite "
                     f"time to press play {_hour(int(hl['busiest_hour']))}.")
    if binges.get("best_day"):
        day = float(binges.get("best_day_hours") or 0)
        lines.append(f"Your longest day: {hours(day)} {plural(day, 'hour')} on {nice_date(binges['best_day'])}.")
    if int(binges.get("sitting_episodes") or 0) >= 2:
        sit = float(binges.get("sitting_hours") or 0)
        lines.append(f"Your biggest binge: {binges['sitting_episodes']} episodes of {binges['sitting_title']} in one "
                     f"sitting ({hours(sit)} {plural(sit, 'hour')}).")
    finished = extra.get("finished") or {}
    if finished.get("count"):
        n = int(finished["count"])
        named = ", ".join(finished.get("titles") or [])
        lines.append(f"You finished {n} {plural(n, 'show')}" + (f": {named}." if named else "."))
    if float(prev.get("hours") or 0) > 0:
        now, then = float(totals.get("hours") or 0), float(prev["hours"])
        word = "more" if now >= then else "less"
        lines.append(f"Last year you watched {hours(then)} hours; this year {hours(now)}, "
                     f"{abs(round(100 * (now - then) / then))}% {word}.")
    twin = (extra.get("cowatchers") or [None])[0]
    twin_line = ""
    if twin:
        twin_line = (f"Your viewing twin is {_other(namer, users, twin['other_id'])}: you both watched "
                     f"{count(twin['shared'])} of the same titles.")
    link = plex_links(snapshot)
    lists = [{"name": name, "rows": [{"label": f"{r['title']} · {hours(r['hours'])} h",
                                      "url": safe_url(link(r.get("rating_key")))}
                                     for r in (extra.get("top") or {}).get(kind, [])]}
             for kind, name in KINDS]
    lists = [group for group in lists if group["rows"]]
    genres = [{"label": g["genre"], "url": ""} for g in extra.get("genres") or []]
    if genres:
        lists.append({"name": "Genres", "rows": genres})
    return {"short": False, "label": label, "heading": f"Your {label}, wrapped", "stats": stats, "lines": lines,
            "twin": twin_line, "lists": lists, "graph": None, "text": lines + ([twin_line] if twin_line else [])}


def neighbourhood(snapshot: Mapping[str, Any], user_id: int, namer: Namer) -> dict | None:
    """This reader and their co-watchers as chart input: {"nodes", "edges", "labels", "focus"}; None if too few.

    Only their own pairs, plus pairs between their co-watchers that those readers' own lists hold.
    """
    year = snapshot.get("year") or {}
    everyone = year.get("users") or {}
    mine = (everyone.get(str(user_id)) or {}).get("cowatchers") or []
    if len(mine) < 2:
        return None
    users = snapshot.get("users") or {}
    around = {str(r["other_id"]) for r in mine}
    edges = [("me", str(r["other_id"]), int(r["shared"])) for r in mine]
    for uid in sorted(around):
        for r in (everyone.get(uid) or {}).get("cowatchers") or []:
            other = str(r["other_id"])
            if other in around and uid < other:
                edges.append((uid, other, int(r["shared"])))
    hours_of = {uid: float(((users.get(uid) or {}).get("totals") or {}).get("hours") or 0) for uid in around}
    hours_of["me"] = float(((users.get(str(user_id)) or {}).get("totals") or {}).get("hours") or 0)
    labels = {"me": "You"}
    for uid in around:
        name = _other(namer, users, uid)
        labels[uid] = initials(name) if name != "another reader" else ""
    return {"nodes": hours_of, "edges": edges, "labels": labels, "focus": "me"}


def neighbourhood_alt(graph: Mapping[str, Any]) -> str:
    """The picture's alt text and caption."""
    closest = max((e for e in graph["edges"] if e[0] == "me"), key=lambda e: e[2])
    who = graph["labels"].get(closest[1]) or "another reader"
    return (f"You and the {len(graph['nodes']) - 1} readers whose titles overlap yours most; the closest, "
            f"{who}, shared {count(closest[2])} titles with you.")


def graph_cid(user_id: int, key: str, domain: str) -> str:
    digest = hashlib.sha256(f"{key}|{user_id}".encode()).hexdigest()[:16]
    return f"cowatch-{digest}@{domain}"


def admin_lines(snapshot: Mapping[str, Any]) -> list[str]:
    """For the admin's copy only: what retention and enforcement did over the year (never on the site)."""
    figures = (snapshot.get("year") or {}).get("admin")
    if not figures:
        return []
    freed = float(figures.get("freed_bytes") or 0)
    size = f"{freed / 1e12:,.2f} TB" if freed >= 1e12 else f"{freed / 1e9:,.1f} GB"
    deleted, removed, welcomed = (int(figures.get(k) or 0) for k in ("deleted_titles", "removals", "welcomes"))
    return [f"Retention deleted {count(deleted)} {plural(deleted, 'title')} and freed {size}.",
            f"Enforcement welcomed {count(welcomed)} {plural(welcomed, 'reader')} and removed {count(removed)}."]
