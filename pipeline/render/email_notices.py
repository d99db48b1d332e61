"""What the one-off e-mails say: welcome, inactivity warning, removal, and the admin's report.

Each builder turns the caller's context (plain values from policy or send) into the subject, the
preheader, the hero and the body blocks the templates show, plus the message's idempotency key.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable, Mapping

from ..send.message import Recipient
from ..settings import Settings
from .email_personal import greeting_name
from .email_view import NOUNS, nice_date, safe_url

NOTICE_KINDS = ("welcome", "warning", "removal", "admin_report")
NAMES = {"friendly": "by your name", "initials": "by your initials only", "hidden": "without any names at all"}


def _iso(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    return str(value or "")[:10]


def _need(context: Mapping[str, Any], key: str, kind: str) -> Any:
    if not context.get(key):
        raise ValueError(f"render_notice({kind!r}): context needs {key!r}")
    return context[key]


def _welcome(r: Recipient, c: Mapping[str, Any], s: Settings, server: str, name: str, today: date) -> dict:
    noun = NOUNS.get(str(c.get("period") or s.newsletter.period), "week")
    url = safe_url(c.get("issue_url")) or s.site.siteurl
    return {
        "key": str(c.get("key") or "welcome"),
        "subject": f"Welcome to the {server} newsletter",
        "preheader": f"Once a {noun}: what everyone watched on {server}, what's new, and your own numbers.",
        "hero": {"eyebrow": f"{server} newsletter", "title": "Welcome aboard", "sub": f"Hi {name}, glad you're here."},
        "paragraphs": [f"Once a {noun} you'll get a short letter about {server}:"],
        "bullets": ["your own hours, favourites and streaks, for your eyes only;",
                    "what everyone watched together, and what was added;",
                    f"the {noun}'s busiest hours and most-watched titles."],
        "after": [f"In the lists other people see, you appear {NAMES[s.site.names]}. "
                  "You can unsubscribe with one click at the bottom of any letter."],
        "callout": None,
        "button": {"label": "Browse past issues", "url": url} if url else None,
    }


def _warning(r: Recipient, c: Mapping[str, Any], s: Settings, server: str, name: str, today: date) -> dict:
    when = nice_date(_need(c, "remove_on", "warning"))
    days = c.get("days_idle")
    idle = f"for {int(days)} days" if days else "for a while"
    last = f" (your last play was on {nice_date(c['last_played'])})" if c.get("last_played") else ""
    limit = c.get("limit_days")
    rule = (f"Accounts with no plays for {int(limit)} days are removed, to make room for others."
            if limit else "Idle accounts are removed, to make room for others.")
    keep = str(c.get("keep") or f"Play anything on {server} before {when} — even a few minutes — and your "
                                 "access stays.")
    return {
        "key": str(c.get("key") or f"warning-{_iso(c['remove_on'])}"),
        "subject": f"Your access to {server} ends on {when}",
        "preheader": keep,
        "hero": {"eyebrow": server, "title": "Your access is about to expire", "sub": f"Removal date: {when}"},
        "paragraphs": [f"Hi {name}, you haven't watched anything on {server} {idle}{last}. {rule}"],
        "bullets": [], "after": [],
        "callout": {"tone": "warning", "heading": f"Keep your access: watch something before {when}",
                    "text": keep, "keep": "", "titles": [], "more": 0, "url": safe_url(c.get("url"))},
        "button": None,
    }


def _removal(r: Recipient, c: Mapping[str, Any], s: Settings, server: str, name: str, today: date) -> dict:
    when = nice_date(_need(c, "removed_on", "removal"))
    days = c.get("days_idle")
    idle = f" after {int(days)} days without a play" if days else ""
    back = str(c.get("contact") or ("Reply to this e-mail if you'd like to come back." if s.email.reply_to
                                   else f"Ask whoever runs {server} if you'd like to come back."))
    return {
        "key": str(c.get("key") or f"removal-{_iso(c['removed_on'])}"),
        "subject": f"Your access to {server} has been removed",
        "preheader": f"Removed on {when}{idle}. {back}",
        "hero": {"eyebrow": server, "title": "Your access has been removed", "sub": when},
        "paragraphs": [f"Hi {name}, your access to {server} was removed on {when}{idle}.",
                       f"Thanks for watching with us. {back}"],
        "bullets": [], "after": [], "callout": None, "button": None,
    }


def _admin_report(r: Recipient, c: Mapping[str, Any], s: Settings, server: str, name: str, today: date) -> dict:
    title = str(_need(c, "title", "admin_report"))
    sections = []
    for sec in c.get("sections") or []:
        columns = [str(x) for x in sec.get("columns") or []]
        rows = [[str(x) for x in row] for row in sec.get("rows") or []]
        sections.append({"heading": str(sec.get("heading") or ""), "lines": [str(x) for x in sec.get("lines") or []],
                         "columns": columns, "rows": rows})
    summary = str(c.get("summary") or "")
    return {
        "key": str(c.get("key") or f"admin-report-{_iso(c.get('date') or today)}"),
        "subject": str(c.get("subject") or f"{server}: {title}"),
        "preheader": summary or title,
        "hero": {"eyebrow": f"{server} · for the admin", "title": title, "sub": str(c.get("sub") or "")},
        "paragraphs": [summary] if summary else [], "bullets": [], "after": [], "callout": None,
        "button": ({"label": str(c.get("button_label") or "Open"), "url": safe_url(c.get("url"))}
                   if safe_url(c.get("url")) else None),
        "sections": sections,
    }


_BUILDERS: dict[str, Callable[..., dict]] = {"welcome": _welcome, "warning": _warning, "removal": _removal,
                                             "admin_report": _admin_report}


def notice_context(kind: str, recipient: Recipient, context: Mapping[str, Any], settings: Settings,
                   today: date) -> dict:
    """Subject, preheader, hero, body blocks and key of one notice; ValueError for an unknown kind.

    today: the server's local date, for keys that default to it (admin reports)."""
    if kind not in _BUILDERS:
        raise ValueError(f"unknown notice kind {kind!r}; use one of {', '.join(NOTICE_KINDS)}")
    server = settings.server.name
    out = _BUILDERS[kind](recipient, context or {}, settings, server, greeting_name(recipient.name), today)
    out.setdefault("sections", [])
    return out
