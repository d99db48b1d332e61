"""The reader's own part of a digest: their numbers, their titles, and notices about them.

Only the reader's own section of the snapshot is read here; it is shown to them alone.
A reader with no plays in the period gets a friendly "we missed you", never a row of zeros.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from pipeline.render.email.view import LEAVING_ROWS, PERSONAL_ROWS, nice_date
from pipeline.render.issue_view import change, count, hours, plural
from pipeline.render.plex_links import plex_links
from pipeline.text import safe_url

REQUEST_ROWS = 8
REQUEST_STATES = {"available": "is available now", "approved": "is approved", "waiting": "is waiting"}


def greeting_name(name: str) -> str:
    """The name to greet with; 'there' when it is empty or an e-mail address."""
    text = " ".join((name or "").split())
    return text if text and "@" not in text else "there"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _active(user: Mapping[str, Any], part: Mapping[str, Any], days: int, plex: Callable[[Any], str]) -> dict:
    totals = user.get("totals") or {}
    prev = totals.get("previous") or {}
    streak = user.get("streak") or {}
    kind, noun = part["kind"], part["noun"]
    plays = int(totals.get("plays") or 0)
    badge = change((totals.get("change") or {}).get("seconds"), float(prev.get("hours") or 0), "hours", kind)
    stats = [
        {"name": "Hours watched", "value": hours(totals.get("hours")), "change": badge},
        {"name": plural(plays, "Play"), "value": count(plays), "change": None},
        {"name": plural(int(totals.get("titles") or 0), "Title"), "value": count(totals.get("titles")),
         "change": None},
        {"name": "Days active", "value": f"{int(streak.get('days_active') or 0)} of {days}", "change": None},
    ]
    lines = []
    rank, viewers = totals.get("rank"), part["viewers"]
    if rank and viewers > 1:
        lines.append("You watched the most of anyone this " + noun + "." if rank == 1
                     else f"You were the {_ordinal(int(rank))} most active of {viewers} viewers.")
    longest, current = int(streak.get("longest") or 0), int(streak.get("current") or 0)
    if current >= 2:
        lines.append(f"You're on a {current}-day streak — it's still going.")
    elif longest >= 2:
        lines.append(f"Your longest streak: {longest} days in a row.")
    titles = list(user.get("top_titles") or [])[:PERSONAL_ROWS]
    most = max((float(t.get("hours") or 0) for t in titles), default=0) or 1.0
    top = [{"label": str(t.get("title") or "Untitled"), "year": t.get("year"), "detail": f"{hours(t.get('hours'))} h",
            "share": max(2, round(100 * float(t.get("hours") or 0) / most)), "me": False,
            "url": safe_url(plex(t.get("rating_key")))}
           for t in titles]
    shared = []
    for s in list(user.get("shared_titles") or [])[:PERSONAL_ROWS]:
        others = int(s.get("others") or 0)
        shared.append({"title": str(s.get("title") or "Untitled"), "year": s.get("year"), "others": others,
                       "plex": safe_url(plex(s.get("rating_key"))),
                       "lead": f"You and {others} {plural(others, 'other')} watched"})
    return {"state": "active", "stats": stats, "pad": badge is not None, "lines": lines, "top": top, "shared": shared,
            "hours": hours(totals.get("hours")),
            "hours_value": float(totals.get("hours") or 0), "top_title": top[0]["label"] if top else ""}


def _missed(user: Mapping[str, Any] | None, part: Mapping[str, Any]) -> dict:
    prev = ((user or {}).get("totals") or {}).get("previous") or {}
    last = ""
    if float(prev.get("hours") or 0) > 0:
        last = f"Last {part['noun']} you watched {hours(prev['hours'])} {plural(float(prev['hours']), 'hour')}."
    picks = []
    for group in part["top"]:
        if group["id"] != "music" and group["rows"]:
            picks.append(group["rows"][0]["label"])
    picks = picks[:2]
    text = (f"{last} Nothing from you on {part['server']} this {part['noun']}, so here is what everyone else "
            "was up to" + (f": {' and '.join(picks)} were the favourites" if picks else "") +
            ". It's all still there whenever you're ready.").strip()
    return {"state": "missed", "last": last, "picks": picks, "text": text}


def personal_part(snapshot: Mapping[str, Any], user_id: int | None, part: Mapping[str, Any]) -> dict:
    """The reader's section: 'active', 'missed' (no plays this period), 'quiet' (an empty issue) or
    'none' (an address that is not a Plex user)."""
    if user_id is None:
        return {"state": "none"}
    if part["empty"]:
        return {"state": "quiet"}
    user = (snapshot.get("users") or {}).get(str(user_id))
    if user and int((user.get("totals") or {}).get("plays") or 0) > 0:
        days = max(1, round(float((snapshot.get("period") or {}).get("hours") or 168) / 24))
        return _active(user, part, days, plex_links(snapshot))
    return _missed(user, part)


def notices(extras: Mapping[str, Any] | None) -> list[dict]:
    """Notices about the reader, most urgent first, from what later features put in `extras`.

    extras = {"requests": {"items": [{"title", "year", "state": "available" | "approved" | "waiting"}]},
              "inactivity": {"remove_on": date, "days_idle": int, "keep": str, "actions": [{"label", "url"}]},
              "leaving_soon": {"items": [{"title", "year", "leaving_on", "links": [{"label", "url"}]}], "rule": str},
              "notices": [{"heading": str, "text": str, "url": str}]}; every key is optional.
    """
    extras = extras or {}
    out = []
    asked = (extras.get("requests") or {}).get("items") or []
    if asked:  # the reader's own requests come first
        shown = [f"{i.get('title') or 'Untitled'} {REQUEST_STATES.get(str(i.get('state')), 'is requested')}"
                 for i in asked[:REQUEST_ROWS]]
        more = len(asked) - len(shown)
        text = ", ".join(shown) + (f", and {more} more" if more else "") + "."
        out.append({"tone": "info", "heading": "Your requests", "text": text, "keep": "", "titles": [], "more": 0,
                    "url": ""})
    idle = extras.get("inactivity")
    if idle:
        days = idle.get("days_idle")
        why = f"you haven't watched anything for {int(days)} days" if days else "you haven't watched anything lately"
        out.append({"tone": "warning", "heading": "Your access is about to expire",
                    "text": f"Your access will be removed on {nice_date(idle.get('remove_on'))}, because {why}.",
                    "keep": str(idle.get("keep") or "Play anything before then to keep it."), "titles": [],
                    "more": 0, "url": safe_url(idle.get("url")), "actions": _links(idle.get("actions"))})
    leaving = extras.get("leaving_soon")
    if leaving and leaving.get("items"):
        items = list(leaving["items"])
        rows = [{"title": str(i.get("title") or "Untitled"), "year": i.get("year"),
                 "when": nice_date(i.get("leaving_on")), "links": _links(i.get("links"))}
                for i in items[:LEAVING_ROWS]]
        n = len(items)
        out.append({"tone": "info", "heading": f"Leaving soon: {n} {plural(n, 'title')} you watched",
                    "text": "", "keep": str(leaving.get("rule") or ""), "titles": rows,
                    "more": max(0, n - len(rows)), "url": safe_url(leaving.get("url"))})
    for notice in extras.get("notices") or []:
        out.append({"tone": "info", "heading": str(notice.get("heading") or ""), "text": str(notice.get("text") or ""),
                    "keep": "", "titles": [], "more": 0, "url": safe_url(notice.get("url"))})
    return out


def _links(links: Any) -> list[dict]:
    """[{label, url}] with only safe (http/https) URLs."""
    out = []
    for link in links or []:
        url = safe_url(link.get("url"))
        if url:
            out.append({"label": str(link.get("label") or "Open"), "url": url})
    return out
