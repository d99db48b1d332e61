"""What the one-off e-mails say: welcome, inactivity warning, removal, and the admin's report.

Each builder turns the caller's typed context (contexts.py: the values as policy named them) into the subject,
the preheader, the hero and the body blocks the templates show, plus the message's idempotency key.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date, datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import markdown
from markupsafe import Markup

from pipeline.clock import iso_day
from pipeline.render.email.contexts import (CONTEXTS, AdminReport, LeavingNotice, NoticeContext, RemovalNotice,
                                            WarningNotice, WarningStats, WelcomeNotice)
from pipeline.render.email.headers import one_click
from pipeline.render.email.message import Recipient
from pipeline.settings import Settings
from pipeline.render.email.personal import greeting_name
from pipeline.render.email.view import NOUNS, nice_date
from pipeline.text import safe_url

HOUSE_RULES = Path(__file__).resolve().parents[3] / "content" / "pages" / "house-rules.md"

NOTICE_KINDS = ("welcome", "warning", "removal", "admin_report", "leaving")
NAMES = {"friendly": "by your name", "initials": "by your initials only", "hidden": "without any names at all"}


def days_text(days: float) -> str:
    """A setting's number of days as written: 30 -> '30', 30.5 -> '30.5' (never rounded or cut)."""
    return f"{days:g}"


def whole_days(days: float) -> int:
    """Whole days gone by, as the e-mail says them: idle 27.6 days reads 'for 27 days' (true; 28 would not be)."""
    return int(days)


def _local(t: datetime, s: Settings) -> datetime:
    return t.astimezone(ZoneInfo(s.server.timezone))


def _welcome(r: Recipient, c: WelcomeNotice, s: Settings, server: str, name: str, today: date) -> dict:
    noun = NOUNS.get(str(c.period or s.newsletter.period), "week")
    url = safe_url(c.issue_url) or s.site.siteurl
    return {
        "key": c.key,
        "subject": f"Welcome to the {server} newsletter",
        "preheader": f"Once a {noun}: what everyone watched on {server}, what's new, and your own numbers.",
        "hero": {"eyebrow": f"{server} newsletter", "title": "Welcome aboard", "sub": f"Hi {name}, glad you're here."},
        "paragraphs": [f"Once a {noun} you'll get a short letter about {server}:"],
        "bullets": ["your own hours, favourites and streaks, for your eyes only;",
                    "what everyone watched together, and what was added;",
                    f"the {noun}'s busiest hours and most-watched titles."],
        "after": [f"In the lists other people see, you appear {NAMES[s.site.names]}. "
                  + ("You can unsubscribe with one click at the bottom of any letter." if one_click(s) else
                     "You can unsubscribe at the bottom of any letter.")],
        "callout": None,
        "button": {"label": "Browse past issues", "url": url} if url else None,
        **rules_view(c.house_rules),
    }


def _warning(r: Recipient, c: WarningNotice, s: Settings, server: str, name: str, today: date) -> dict:
    due = _local(c.due_at, s)  # the removal date and time, shown in the server's zone
    when = nice_date(due.date())
    idle = f"for {whole_days(c.idle_days)} days" if c.idle_days else "for a while"
    last = f" (your last play was on {nice_date(_local(c.last_play_at, s).date())})" if c.last_play_at else ""
    rule = (f"Accounts with no plays for {days_text(c.kick_days)} days are removed, to make room for others."
            if c.kick_days else "Idle accounts are removed, to make room for others.")
    keep = c.keep or f"Play anything on {server} before {when} — even a few minutes — and your access stays."
    return {
        "key": c.key or f"warning-{iso_day(c.due_at)}",
        "subject": f"Your access to {server} ends on {when}",
        "preheader": keep,
        "hero": {"eyebrow": server, "title": "Your access is about to expire", "sub": f"Removal date: {when}"},
        "paragraphs": [f"Hi {name}, you haven't watched anything on {server} {idle}{last}. {rule}",
                       f"Your access will be removed on {when} at {due:%H:%M} ({s.server.timezone})."],
        "bullets": _stats_lines(c.stats, s), "after": [],
        "callout": {"tone": "warning", "heading": f"Keep your access: watch something before {when}",
                    "text": keep, "keep": "", "titles": [], "more": 0, "url": safe_url(c.url),
                    "actions": [{"label": label, "url": safe_url(url)} for label, url in c.actions if safe_url(url)]},
        "button": None,
    }


def _stats_lines(stats: WarningStats | None, s: Settings) -> list[str]:
    """The reader's own numbers: plays and hours over the last `days` days, and the last title they watched."""
    if stats is None:
        return []
    if stats.plays:
        noun = "play" if stats.plays == 1 else "plays"
        lines = [f"In the last {stats.days} days: {stats.plays} {noun}, {stats.hours:.1f} hours in all."]
    else:
        lines = [f"In the last {stats.days} days: no plays at all."]
    if stats.last_title:
        on = f", on {nice_date(_local(stats.last_played_at, s).date())}" if stats.last_played_at else ""
        lines.append(f"The last thing you watched: {stats.last_title}{on}.")
    return lines


def _removal(r: Recipient, c: RemovalNotice, s: Settings, server: str, name: str, today: date) -> dict:
    day = _local(c.removed_at, s).date()
    when = nice_date(day)
    idle = f" after {whole_days(c.idle_days)} days without a play" if c.idle_days else ""
    back = c.contact or ("Reply to this e-mail if you'd like to come back." if s.email.reply_to
                         else f"Ask whoever runs {server} if you'd like to come back.")
    return {
        "key": c.key or f"removal-{iso_day(day)}",
        "subject": f"Your access to {server} has been removed",
        "preheader": f"Removed on {when}{idle}. {back}",
        "hero": {"eyebrow": server, "title": "Your access has been removed", "sub": when},
        "paragraphs": [f"Hi {name}, your access to {server} was removed on {when}{idle}.",
                       f"Thanks for watching with us. {back}"],
        "bullets": [], "after": [], "callout": None, "button": None,
    }


def _admin_report(r: Recipient, c: AdminReport, s: Settings, server: str, name: str, today: date) -> dict:
    sections = [{"heading": sec.heading, "lines": [str(x) for x in sec.lines], "columns": [str(x) for x in sec.columns],
                 "rows": [[str(x) for x in row] for row in sec.rows]} for sec in c.sections]
    url = safe_url(c.url)
    return {
        "key": c.key or f"admin-report-{iso_day(today)}",
        "subject": c.subject or f"{server}: {c.title}",
        "preheader": c.summary or c.title,
        "hero": {"eyebrow": f"{server} · for the admin", "title": c.title, "sub": c.sub},
        "paragraphs": [c.summary] if c.summary else [], "bullets": [], "after": [], "callout": None,
        "button": {"label": c.button_label or "Open", "url": url} if url else None,
        "sections": sections,
    }


def _leaving(r: Recipient, c: LeavingNotice, s: Settings, server: str, name: str, today: date) -> dict:
    items = sorted(c.items, key=lambda i: (i.leaving_at, i.title))
    first = nice_date(_local(items[0].leaving_at, s).date()) if items else ""
    n = len(items)
    rows = [{"title": i.title, "year": i.year, "when": nice_date(max(_local(i.leaving_at, s).date(), today)),
             "links": [link for link in ({"label": "Keep it", "url": safe_url(i.keep_url)},
                                         {"label": "I'm done with it", "url": safe_url(i.done_url)},
                                         {"label": "Open in Plex", "url": safe_url(i.plex_url)}) if link["url"]]}
            for i in items]
    acts = any(i.keep_url or i.done_url for i in items)
    return {
        "key": c.key,
        "subject": f"Leaving {server} soon: {n} {'title' if n == 1 else 'titles'} you watched",
        "preheader": f"The first goes on {first}.",
        "hero": {"eyebrow": server, "title": "Leaving soon", "sub": f"From {first}"},
        "paragraphs": [f"Hi {name}, {'this title' if n == 1 else 'these titles'} will be deleted from {server} "
                       "to make room, on the dates below."],
        "bullets": [], "callout": None, "button": None, "items": rows,
        "after": (["Pressing a link opens a page with one button: nothing happens until you press it."] if acts
                  else [c.keep_rule] if c.keep_rule else []),
    }


_BUILDERS: dict[str, Callable[..., dict]] = {"welcome": _welcome, "warning": _warning, "removal": _removal,
                                             "admin_report": _admin_report, "leaving": _leaving}


def notice_context(kind: str, recipient: Recipient, context: NoticeContext, settings: Settings,
                   today: date) -> dict:
    """Subject, preheader, hero, body blocks and key of one notice.

    ValueError for an unknown kind, TypeError for a context of another kind (a dict included).
    today: the server's local date, for keys that default to it (admin reports)."""
    if kind not in _BUILDERS:
        raise ValueError(f"unknown notice kind {kind!r}; use one of {', '.join(NOTICE_KINDS)}")
    if type(context) is not CONTEXTS[kind]:
        raise TypeError(f"render_notice({kind!r}) needs a {CONTEXTS[kind].__name__}, not {type(context).__name__}")
    server = settings.server.name
    out = _BUILDERS[kind](recipient, context, settings, server, greeting_name(recipient.name), today)
    out.setdefault("sections", [])
    out.setdefault("items", [])
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
