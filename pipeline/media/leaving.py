"""Leaving-soon notices: each reader's own queued titles for their digest, and titles only for the site.

Reads the deletion queue (`media_queue`) that retention fills; it decides nothing. What a reader's
digest lists is theirs alone. The public list carries no user, size or reason; the site's version
adds the day each title leaves, in the server's time zone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.policy.media import PUBLIC_WINDOW_DAYS
from pipeline.tokens import plex_url

__all__ = ["PUBLIC_WINDOW_DAYS", "episode_title", "keep_rule", "leaving_for_users", "leaving_public",
           "leaving_public_dated"]


def _aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("leaving-soon needs an aware UTC `now`")


def episode_title(show: Any, season: Any, episode: Any, title: Any) -> str:
    """'Severance — S01E02 · Half Loop'; whatever is unknown is left out."""
    number = ""
    if episode is not None:
        number = (f"S{int(season):02d}" if season is not None else "") + f"E{int(episode):02d}"
    tail = " · ".join(str(x) for x in (number, title) if x)
    head = str(show or "")
    return f"{head} — {tail}" if head and tail else head or tail or "Untitled"


def keep_rule(settings: Settings) -> str:
    """How a reader keeps a title: reply (only when replies reach someone) or ask the admin; never an address."""
    if settings.email.reply_to.strip():
        return "Want to keep one? Reply to this e-mail before it leaves and say which."
    return f"Want to keep one? Ask whoever runs {settings.server.name} before it leaves."


def _leaving_on(at: datetime, zone: ZoneInfo, today: date) -> date:
    # An overdue item goes at the next enforce run, not in the past: never print a date already gone.
    return max(at.astimezone(zone).date(), today)


def _item(row: Mapping[str, Any], zone: ZoneInfo, today: date) -> dict:
    if row["media_type"] == "episode":
        title, year = episode_title(row["show_title"], row["season"], row["episode"], row["title"]), None
    else:
        title, year = str(row["title"] or "Untitled"), row["year"]
    return {"title": title, "year": year, "leaving_on": _leaving_on(row["scheduled_at"], zone, today)}


def leaving_for_users(store: Store, settings: Settings, now: datetime) -> dict[int, dict]:
    """user_id -> digest extras {"leaving_soon": {"items": [{title, year, leaving_on}], "rule"}}, soonest first.

    Only users with something queued appear. Every item is listed: the digest shows the first
    LEAVING_ROWS (email_view) and "and N more", and its heading counts them all.
    """
    _aware(now)
    zone = ZoneInfo(settings.server.timezone)
    today = now.astimezone(zone).date()
    rule = keep_rule(settings)
    out: dict[int, dict] = {}
    for row in store.records("readers/leaving_for_users"):
        uid = int(row["user_id"])
        notice = out.setdefault(uid, {"leaving_soon": {"items": [], "rule": rule}})["leaving_soon"]
        notice["items"].append(_item(row, zone, today))
    return out


def leaving_public_dated(store: Store, settings: Settings, now: datetime,
                         sections: Iterable[int] | None = None) -> list[dict]:
    """What leaves within PUBLIC_WINDOW_DAYS, soonest first: [{"title", "year", "detail", "leaving_on", "plex"}],
    a show once.

    detail is "3 episodes" for a show, "" for a movie; leaving_on is the local day the first of it leaves
    (today for what is overdue); plex its app.plex.tv page ("" before Plex was listed). Nothing else about an
    item is returned. sections: only these libraries (None: every one).
    """
    _aware(now)
    zone = ZoneInfo(settings.server.timezone)
    today = now.astimezone(zone).date()
    until = now + timedelta(days=PUBLIC_WINDOW_DAYS)
    out = []
    wanted = None if sections is None else sorted(sections)
    server = store.execute("ingest/stored_server")
    machine = str(server[0][0] or "") if server else ""
    for row in store.records("readers/leaving_public", {"until": until, "sections": wanted}):
        n = int(row["items"])
        detail = (f"{n} episode" + ("" if n == 1 else "s")) if row["is_show"] else ""
        out.append({"title": str(row["title"] or "Untitled"), "year": row["year"], "detail": detail,
                    "leaving_on": _leaving_on(row["first_at"], zone, today),
                    "plex": plex_url(machine, int(row["plex_key"])) if machine and row["plex_key"] is not None else ""})
    return out


def leaving_public(store: Store, settings: Settings, now: datetime) -> list[dict]:
    """The same list as titles only, without the day or the link: [{"title", "year", "detail"}]."""
    return [{k: v for k, v in row.items() if k not in ("leaving_on", "plex")}
            for row in leaving_public_dated(store, settings, now)]
