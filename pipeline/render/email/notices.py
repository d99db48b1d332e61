"""What the one-off e-mails say: welcome, inactivity warning, removal, and the admin's report.

Each builder turns the caller's context (plain values from policy or send) into the subject, the
preheader, the hero and the body blocks the templates show, plus the message's idempotency key.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date, datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

import markdown
from markupsafe import Markup

from pipeline.render.email.message import Recipient
from pipeline.settings import Settings
from pipeline.render.email.personal import greeting_name
from pipeline.render.email.view import NOUNS, nice_date, safe_url

HOUSE_RULES = Path(__file__).resolve().parents[3] / "content" / "pages" / "house-rules.md"

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
        **rules_view(c.get("house_rules")),
    }


def _warning(r: Recipient, c: Mapping[str, Any], s: Settings, server: str, name: str, today: date) -> dict:
    exact = c.get("remove_at")  # an aware datetime: the removal date and time, shown in the server's zone
    local = exact.astimezone(ZoneInfo(s.server.timezone)) if isinstance(exact, datetime) else None
    when = nice_date(local.date() if local else _need(c, "remove_on", "warning"))
    at = f"{when} at {local:%H:%M} ({s.server.timezone})" if local else when
    days = c.get("days_idle")
    idle = f"for {int(days)} days" if days else "for a while"
    last = f" (your last play was on {nice_date(c['last_played'])})" if c.get("last_played") else ""
    limit = c.get("limit_days")
    rule = (f"Accounts with no plays for {int(limit)} days are removed, to make room for others."
            if limit else "Idle accounts are removed, to make room for others.")
    keep = str(c.get("keep") or f"Play anything on {server} before {when} — even a few minutes — and your "
                                 "access stays.")
    paragraphs = [f"Hi {name}, you haven't watched anything on {server} {idle}{last}. {rule}"]
    if local:
        paragraphs.append(f"Your access will be removed on {at}.")
    stats = c.get("stats") or {}
    return {
        "key": str(c.get("key") or f"warning-{_iso(c.get('remove_on') or exact)}"),
        "subject": f"Your access to {server} ends on {when}",
        "preheader": keep,
        "hero": {"eyebrow": server, "title": "Your access is about to expire", "sub": f"Removal date: {when}"},
        "paragraphs": paragraphs,
        "bullets": _stats_lines(stats), "after": [],
        "callout": {"tone": "warning", "heading": f"Keep your access: watch something before {when}",
                    "text": keep, "keep": "", "titles": [], "more": 0, "url": safe_url(c.get("url"))},
        "button": None,
    }


def _stats_lines(stats: Mapping[str, Any]) -> list[str]:
    """The reader's own numbers: plays and hours over the last `days` days, and the last title they watched."""
    if not stats:
        return []
    days = int(stats.get("days") or 90)
    plays, hours = int(stats.get("plays") or 0), float(stats.get("hours") or 0)
    if plays:
        noun = "play" if plays == 1 else "plays"
        lines = [f"In the last {days} days: {plays} {noun}, {hours:.1f} hours in all."]
    else:
        lines = [f"In the last {days} days: no plays at all."]
    if stats.get("last_title"):
        on = f", on {nice_date(stats['last_played'])}" if stats.get("last_played") else ""
        lines.append(f"The last thing you watched: {stats['last_title']}{on}.")
    return lines


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


# -- house rules (content/pages/house-rules.md) in the welcome ------------------------------------------------

_BLOCK = {"p": "margin:0 0 12px;", "ol": "margin:0 0 12px;padding:0 0 0 22px;",
          "ul": "margin:0 0 12px;padding:0 0 0 22px;", "li": "margin:0 0 6px;"}
_INLINE = {"strong", "em", "b", "i", "code"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_DROP = {"script", "style", "iframe", "object", "template", "head", "title"}


def read_house_rules(path: Path = HOUSE_RULES) -> str:
    """The admin's house-rules page as Markdown; empty when there is none."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def rules_view(text: str | None) -> dict:
    """{rules_heading, rules_html (safe Markup), rules_text} from the page's Markdown; empty values for none."""
    if not text or not text.strip():
        return {"rules_heading": "", "rules_html": Markup(""), "rules_text": ""}
    md = markdown.Markdown(extensions=["meta"])  # Pelican's "Title:" lines are metadata, not text
    clean = _Clean()
    clean.feed(md.convert(text))
    clean.close()
    title = " ".join((getattr(md, "Meta", {}).get("title") or ["House rules"])[0].split())
    return {"rules_heading": title, "rules_html": Markup("".join(clean.html)), "rules_text": clean.text()}


class _Clean(HTMLParser):
    """Keep paragraphs, lists, emphasis and http(s)/mailto links; escape all text; drop comments and the rest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.html: list[str] = []
        self._blocks: list[str] = []  # text blocks, one per paragraph or list item
        self._current: list[str] = []
        self._lists: list[list] = []  # [tag, next number]
        self._skip = 0
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self._skip += 1
            return
        if self._skip:
            return
        if tag in _HEADINGS:
            tag, style = "p", "margin:0 0 8px;font-weight:700;"
        elif tag in _BLOCK:
            style = _BLOCK[tag]
        elif tag in _INLINE:
            self.html.append(f"<{tag}>")
            self._open.append(tag)
            return
        elif tag == "a":
            href = safe_url(dict(attrs).get("href")) or _mailto(dict(attrs).get("href"))
            self._open.append("a" if href else "")
            if href:
                self.html.append(f'<a href="{escape(href)}" class="mq-accent" style="color:#a4460b;">')
            return
        elif tag == "br":
            self.html.append("<br>")
            self._current.append("\n")
            return
        else:
            return
        self._flush()
        if tag in ("ol", "ul"):
            self._lists.append([tag, 1])
        elif tag == "li" and self._lists:
            kind = self._lists[-1]
            self._current.append(f"{kind[1]}. " if kind[0] == "ol" else "- ")
            kind[1] += 1
        self.html.append(f'<{tag} style="{style}">')
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        tag = "p" if tag in _HEADINGS else tag
        if tag not in self._open:
            return
        while self._open:
            top = self._open.pop()
            if top:
                self.html.append(f"</{top}>")
            if top in _BLOCK:
                self._flush()
                if top in ("ol", "ul") and self._lists:
                    self._lists.pop()
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.html.append(escape(data, quote=False))
            self._current.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        if text:
            self._blocks.append(text)
        self._current = []

    def text(self) -> str:
        self._flush()
        return "\n\n".join(textwrap.fill(b, 76, break_long_words=False, break_on_hyphens=False,
                                           subsequent_indent="   " if re.match(r"^(\d+\.|-) ", b) else "")
                            for b in self._blocks)


def _mailto(href: str | None) -> str | None:
    href = (href or "").strip()
    return href if re.fullmatch(r"mailto:[^\s<>\"']+@[^\s<>\"']+", href) else None
