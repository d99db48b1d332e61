"""What a reader's digest tells them about themselves: their own Seerr requests, their titles leaving soon (with Keep
and Plex links) and, for a warned reader, the coming removal with its date and what to do."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.errors import MarqueeError
from pipeline.media.leaving import leaving_for_users
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.tokens import Links, plex_home, plex_url

log = logging.getLogger(__name__)


def reader_notices(store: Store, settings: Settings, now: datetime) -> dict[int, dict]:
    """user_id -> digest extras {"leaving_soon": ..., "inactivity": ...} (personal.notices reads them)."""
    links = Links(settings, now)
    machine = (store.execute("ingest/stored_server") or [(None, None)])[0][0]
    out = leaving_for_users(store, settings, now)
    keys: dict[int, list[int]] = {}  # the same rows in the same order: each listed item's rating_key
    for row in store.records("readers/leaving_for_users"):
        keys.setdefault(int(row["user_id"]), []).append(int(row["rating_key"]))
    for uid, extra in out.items():
        leaving = extra["leaving_soon"]
        for item, key in zip(leaving["items"], keys.get(uid, [])):
            item["links"] = [link for link in (
                {"label": "Keep it", "url": links.url(uid, "keep", key, item["title"])},
                {"label": "Open in Plex", "url": plex_url(machine, key)}) if link["url"]]
        if links.url(uid, "keep", 0):
            leaving["rule"] = "Want to keep one? Press “Keep it”: a page opens with one button."
    for uid, warned in _warned(store, settings, now).items():
        out.setdefault(uid, {})["inactivity"] = _inactivity(uid, warned, settings, links, machine)
    for uid, items in _requests(store, settings, now).items():
        out.setdefault(uid, {})["requests"] = {"items": items}
    return out


def _requests(store: Store, settings: Settings, now: datetime) -> dict[int, list[dict]]:
    """user_id -> their own Seerr requests: available (added within a period), approved, waiting."""
    since = now - timedelta(days=7 if settings.newsletter.period == "weekly" else 31)
    out: dict[int, list[dict]] = {}
    for row in store.records("readers/reader_requests", {"since": since}):
        out.setdefault(int(row["user_id"]), []).append({"title": row["title"], "year": row["year"],
                                                        "state": row["state"]})
    return out


def _warned(store: Store, settings: Settings, now: datetime) -> dict[int, tuple[datetime, datetime, float | None]]:
    """user_id -> (warned_at, removal due_at, idle days) for each warned reader, as the user policy sees it now."""
    from pipeline.run.enforce import decide

    try:
        decision = decide(store, settings, now)
    except MarqueeError as exc:  # no Plex inventory yet: there is nobody warned to tell
        log.debug("no warning notices in the digest: %s", exc)
        return {}
    out = {}
    for a in decision.plan.actions:
        warned_at = a.inputs.get("warned_at")
        if a.kind in ("wait", "remove") and warned_at is not None and a.due_at is not None:
            out[a.user_id] = (warned_at, a.due_at, a.inputs.get("idle_days"))
    return out


def _inactivity(uid: int, warned: tuple, settings: Settings, links: Links, machine: str | None) -> dict:
    warned_at, due_at, idle_days = warned
    day = due_at.astimezone(ZoneInfo(settings.server.timezone)).date()
    actions = [{"label": "Watch something in Plex", "url": plex_home(machine)},
               {"label": "I'm still here",
                "url": links.url(uid, "still_here", warned_at.isoformat(), f"{day:%-d %b %Y}")}]
    return {"remove_on": day, "days_idle": idle_days,
            "keep": f"Play anything on {settings.server.name} before then, even a few minutes, and your access stays.",
            "actions": [a for a in actions if a["url"]]}
