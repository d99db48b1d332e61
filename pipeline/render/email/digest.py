"""One issue's digest for every reader: built once per issue, then `render()` per reader in about a millisecond.

Per issue: MJML is compiled (once per process, in fact), images are encoded into MIME parts, and
the HTML of the sections every reader shares is rendered once for each trim level used. Per
reader: their own section and the page around the shared HTML, the text part, and the MIME.
"""

from __future__ import annotations

import dataclasses
import hashlib
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Mapping

from pipeline.clock import Clock, SystemClock
from pipeline.errors import MarqueeError
from pipeline.render.email.message import OutgoingMessage, Recipient
from pipeline.settings import Settings
from pipeline.stats.issue import SCHEMA_VERSION
from pipeline.text import clean_text, clean_tree
import pipeline.render.email.mime as mime
from pipeline.render.email.headers import issue_url, message_headers, sender, unsubscribe_link, why
from pipeline.render.email.images import EmailImages, ImageSet, images_mode
from pipeline.render.email.personal import greeting_name, notices, personal_part
from pipeline.render.email.year import admin_lines, graph_cid, neighbourhood, neighbourhood_alt, year_part
from pipeline.render.email.templates import PREVIEW_PAD, THEME, compiled, environment, macros
from pipeline.render.libraries import only_libraries
from pipeline.render.email.view import DROPS, added_shown, for_reader, issue_part, new_titles, trim
from pipeline.render.issue_view import hours, namer_for, plural


# The order of the shared sections in the plain-text part (the HTML has its own, in digest.mjml).
TEXT_ORDER = ("headline", "added", "coming", "watchlist", "busiest", "top", "viewers", "platforms")


def hours_phrase(value: Any) -> str:
    """'1 hour', '12.5 hours'."""
    return f"{hours(value)} {plural(float(value or 0), 'hour')}"


def digest_subject(part: Mapping[str, Any], titles: int) -> str:
    """'Week 46: 37 hours watched, 12 new titles — Plex'; 'Week 47: a quiet week — Plex'."""
    bits = [f"{hours_phrase(part['hours_value'])} watched"] if part["plays"] else []
    bits += [f"{titles:,} new {plural(titles, 'title')}"] if titles else []
    return f"{part['short']}: {', '.join(bits) or 'a quiet ' + part['noun']} — {part['server']}"


def _pairs(items: list, size: int) -> list[tuple[list, list]]:
    """Rows of `size` split in two halves: two MJML columns, side by side on a desktop, stacked on a phone."""
    half = size // 2
    return [(items[i:i + half], items[i + half:i + size]) for i in range(0, len(items), size)]


class DigestRenderer:
    """One issue's digest, rendered per reader.

    snapshot: a frozen issue (stats.issue.compute_issue); site_issue_url: the issue's page, relative to
    site.siteurl (e.g. "issues/2026-w46/") or absolute, None for the site's default; images:
    EmailImages (posters, charts) or None; clock: stamps the Date header, once per issue.
    """

    def __init__(self, snapshot: Mapping[str, Any], settings: Settings, site_issue_url: str | None = None,
                 images: EmailImages | Mapping[str, Any] | None = None, *, clock: Clock | None = None,
                 theme: Path = THEME, sections_of: Mapping[int, int] | None = None) -> None:
        if snapshot.get("schema_version") != SCHEMA_VERSION:
            raise MarqueeError(f"issue {snapshot.get('issue_key')}: snapshot schema {snapshot.get('schema_version')}, "
                               f"but this Marquee renders schema {SCHEMA_VERSION}; rebuild the issue")
        # A snapshot frozen before ingest cleaned titles may hold control characters (and so may the store).
        self.snapshot, self.settings = clean_tree(dict(snapshot)), settings
        # for a reader who may open only some libraries: the same issue cut to them, built once per set
        self._args = (site_issue_url, images, clock, theme, dict(sections_of or {}))
        self._narrowed: dict[frozenset[int], DigestRenderer] = {}
        snapshot = self.snapshot
        self.key = str(snapshot["issue_key"])
        period_key = str(snapshot["period"]["key"])
        server = str((snapshot.get("server") or {}).get("name") or settings.server.name)
        self.sender, self.domain = sender(settings, server)
        self.view_url = issue_url(settings.site.siteurl, site_issue_url, period_key)
        self.images = ImageSet(images, images_mode(settings.email.images, settings.site.siteurl),
                               settings.site.siteurl, period_key.lower(), self.domain)
        self.namer = namer_for(snapshot, settings.site.names, settings.site.exclude_users)
        added = list((snapshot.get("added") or {}).get("items") or [])
        posters = self.images.posters(item.get("rating_key") for item in added_shown(added))
        self.part = self._issue(issue_part(snapshot, self.namer, posters, self.images.chart("heatmap"), server))
        self.html_template = compiled("digest", theme)
        self.text_template = environment(theme).get_template("digest.txt")
        self.ui = {name: macros(f"_{name}.html", theme) for name in ("stats", "bars", "posters", "lists")}
        self.text_ui = macros("_text.txt", theme)
        self.budget = settings.email.max_html_kb * 1024
        self.now = (clock or SystemClock()).now()
        self.date = format_datetime(self.now)
        self.boundary = hashlib.sha256(f"{self.key}|{self.date}".encode()).hexdigest()[:24]
        self.months = self.images.chart("months") if snapshot.get("year") else None  # before the parts are listed
        self._parts = [(img.cid.encode(), img.part) for img in self.images.inline_images()]
        self._own_parts: dict[bytes, bytes] = {}  # per reader: their co-watch neighbourhood
        self._levels: dict[int, tuple[dict, dict, dict]] = {}
        self.level = self._fit()

    def _issue(self, part: dict) -> dict:
        """The shared part plus the lines built from it: headings, subject, hero, summary."""
        titles = new_titles(self.snapshot.get("added") or {})
        part["hours_value"] = float((self.snapshot.get("totals") or {}).get("hours") or 0)
        viewers, noun, server = part["viewers"], part["noun"], part["server"]
        watched = f"{hours_phrase(part['hours_value'])} watched"
        part["heading_line"] = (f"{watched} by {viewers:,} {plural(viewers, 'viewer')}" if part["plays"]
                                else f"Nothing watched this {noun}, but there's plenty that's new")
        self.subject = digest_subject(part, titles)
        self.subject_header = mime.header_value("Subject", self.subject)
        sub = [part["span"], f"a quiet {noun}"] if part["empty"] else (
            [part["span"]] + ([watched] if part["plays"] else [])
            + ([f"{titles:,} new {plural(titles, 'title')}"] if titles else []))
        self.hero = {"eyebrow": self.settings.site.title.strip() or f"{server} newsletter", "title": part["heading"],
                     "sub": " · ".join(sub)}
        new = f", and {titles:,} new {plural(titles, 'title')}" if titles else ""
        self.summary = (f"A quiet {noun} on {server}: nothing watched, nothing added." if part["empty"]
                        else f"{part['heading_line']}{new} on {server}.")
        return part

    @property
    def hosted_files(self) -> dict[str, Path | bytes]:
        """In hosted mode, the site-relative files the e-mails point at (the site must serve them)."""
        return dict(self.images.hosted_files)

    def _fragments(self, part: Mapping[str, Any], only: tuple[str, ...] = ()) -> tuple[dict, dict]:
        """The shared sections as HTML and as text, rendered once per trim level; `only` re-renders just
        the sections that change for a reader who appears in them (as "You")."""
        ui, txt = self.ui, self.text_ui
        html: dict[str, Any] = {}
        text: dict[str, str] = {}
        if not only:
            groups = [ui["bars"].titled(g["name"], g["rows"], True) for g in part["top"]]
            pad = any(s["change"] for s in part["headline"])  # tiles in both halves keep one height
            html["headline"] = (ui["stats"].row(part["headline"][:2], pad), ui["stats"].row(part["headline"][2:], pad))
            html["added"] = ([(ui["posters"].pair(left), ui["posters"].pair(right))
                              for left, right in _pairs(part["added"]["titles"], 4)] if part["added"] else [])
            html["top"] = [(groups[i], groups[i + 1] if i + 1 < len(groups) else "") for i in range(0, len(groups), 2)]
            html["platforms"] = (ui["bars"].heading("Where we watch") + ui["bars"].stacked(part["platforms"])
                                 if part["platforms"] else "")
            text["headline"] = txt.headline(part)
            text["added"] = txt.added(part["added"], part["server"]) if part["added"] else ""
            html["coming"] = ui["lists"].coming(part["coming"], part["coming_more"]) if part["coming"] else ""
            text["coming"] = txt.coming(part["coming"], part["coming_more"]) if part["coming"] else ""
            text["busiest"] = part["busiest"] if part["chart"] else ""
            text["top"] = "\n".join(txt.ranked(f"Top {g['name']} by {part['top_measure']}", g["rows"])
                                    for g in part["top"])
            text["platforms"] = txt.shares("Where we watch", part["platforms"]) if part["platforms"] else ""
        if not only or "watchlist" in only:
            html["watchlist"] = ui["lists"].watchlist(part["watchlist"]) if part["watchlist"] else ""
            text["watchlist"] = txt.watchlist(part["watchlist"]) if part["watchlist"] else ""
        if not only or "viewers" in only:
            viewers = part["viewers_list"]
            html["viewers"] = ui["bars"].titled("Top viewers", viewers, True) if viewers else ""
            text["viewers"] = txt.ranked("Top viewers", viewers) if viewers else ""
        return html, {name: text[name].strip("\n") for name in TEXT_ORDER if name in text}

    def _at(self, level: int) -> tuple[dict, dict, dict]:
        if level not in self._levels:
            part = trim(self.part, level)
            self._levels[level] = (part, *self._fragments(part))
        return self._levels[level]

    def _fit(self) -> int:
        """The first trim level at which the snapshot's heaviest reader fits the budget."""
        users = (self.snapshot.get("users") or {}).values()
        heavy = max(users, key=lambda u: len(u.get("top_titles") or []) + len(u.get("shared_titles") or []),
                    default=None)
        probe = Recipient("probe@example.invalid", heavy["user_id"] if heavy else None, "Reader")
        level = 0
        while level < len(DROPS) and len(self._html(probe, None, level)[0]) > self.budget:
            level += 1
        return level

    def _context(self, recipient: Recipient, extras: Mapping[str, Any] | None, level: int) -> dict:
        shared, frag, text = self._at(level)
        me_id = None if recipient.user_id is None else str(recipient.user_id)
        issue = for_reader(shared, self.namer, me_id)
        changed = tuple(k for k, v in (("watchlist", "watchlist"), ("viewers", "viewers_list"))
                        if issue[v] is not shared[v])
        if changed:
            own_html, own_text = self._fragments(issue, changed)
            frag, text = {**frag, **own_html}, {**text, **own_text}
        me = personal_part(self.snapshot, recipient.user_id, issue)
        name = greeting_name(recipient.name)
        if me["state"] == "active":
            watched = f"watched {hours_phrase(me['hours_value'])}"
            me["heading"] = f"{name}, you {watched}" if name != "there" else f"You {watched}"
        found = notices(extras)
        year = self._year(recipient)
        small = "Sent with Marquee" + (f" · numbers as of {shared['data_as_of']}" if shared["data_as_of"] else "")
        return {"subject": self.subject, "preheader": self._preheader(me, found), "preview_pad": PREVIEW_PAD,
                "view_url": self.view_url, "unsubscribe_link": unsubscribe_link(recipient, self.settings, self.now),
                "hero": self.hero, "footer": {"why": why(recipient, shared["server"]), "small": small},
                "notices": found, "me": me, "name": name, "issue": issue, "frag": frag, "text": list(text.values()),
                "year": year}

    def _year(self, recipient: Recipient) -> dict | None:
        """The reader's wrapped year (a yearly issue only), with their co-watch neighbourhood drawn for them alone.

        The picture is the one image rendered per reader (about 60 ms); it is always inline, never hosted:
        a public URL would show anyone a reader's neighbourhood.
        """
        year = year_part(self.snapshot, recipient.user_id, self.namer)
        if recipient.kind == "admin" and self.snapshot.get("year"):
            label = self.snapshot["period"]["key"]
            year = year or {"short": True, "label": label, "heading": f"{label} on your server", "lines": [],
                            "stats": [], "lists": [], "graph": None}
            year["admin"] = admin_lines(self.snapshot)
        if year and self.months is not None:
            year["months"] = {"src": self.months.src, "alt": self.months.alt, "width": self.months.width}
        if not year or year["short"] or recipient.user_id is None:
            return year
        graph = neighbourhood(self.snapshot, recipient.user_id, self.namer)
        if graph is None:
            return year
        from pipeline.render.charts import PNG_SCALE, render
        from pipeline.render.email.images import mime_part
        from pipeline.render.year_charts import capped_graph, graph_chart

        alt = neighbourhood_alt(graph)
        png = render(graph_chart(capped_graph(graph["nodes"], graph["edges"], per_node=99), graph["labels"], alt,
                                 focus="me"), "png")
        cid = graph_cid(recipient.user_id, self.key, self.domain)
        width = int.from_bytes(png[16:20], "big") // PNG_SCALE  # the PNG header's width
        height = int.from_bytes(png[20:24], "big") // PNG_SCALE
        self._own_parts[cid.encode()] = mime_part(png, "png", cid, "cowatch.png")
        year["graph"] = {"src": f"cid:{cid}", "alt": alt, "width": width, "height": height}
        return year

    def _preheader(self, me: Mapping[str, Any], found: list[dict]) -> str:
        warning = next((n for n in found if n["tone"] == "warning"), None)  # "Your requests" may come before it
        lead = warning["text"] + " " if warning else ""
        if me["state"] == "active":
            top = f", most of it {me['top_title']}" if me.get("top_title") else ""
            return f"{lead}You watched {hours_phrase(me['hours_value'])}{top}. {self.summary}"
        if me["state"] == "missed":
            return (f"{lead}We missed you this {self.part['noun']}. "
                    f"Here's what everyone watched on {self.part['server']}.")
        return lead + self.summary

    def _html(self, recipient: Recipient, extras: Mapping[str, Any] | None, level: int) -> tuple[bytes, dict]:
        ctx = self._context(recipient, extras, level)
        return self.html_template.render(ctx).encode("utf-8"), ctx

    def for_libraries(self, allowed: frozenset[int]) -> "DigestRenderer":
        """This issue with only the titles of the `allowed` libraries (sections_of says where each title is)."""
        if allowed not in self._narrowed:
            site_issue_url, images, clock, theme, sections_of = self._args
            self._narrowed[allowed] = DigestRenderer(only_libraries(self.snapshot, sections_of, allowed),
                                                     self.settings, site_issue_url, images, clock=clock, theme=theme)
        return self._narrowed[allowed]

    def render(self, recipient: Recipient, extras: Mapping[str, Any] | None = None,
               libraries: frozenset[int] | None = None) -> OutgoingMessage:
        """This reader's digest as a complete MIME message, trimmed further if their part makes it too big.

        extras: notices about the reader (see email_personal.notices), filled by later features;
        libraries: the section ids the reader can open (None: every library).
        """
        if libraries is not None:
            return self.for_libraries(frozenset(libraries)).render(recipient, extras)
        level = self.level
        if recipient.name:
            recipient = dataclasses.replace(recipient, name=clean_text(recipient.name))
        extras = clean_tree(extras)
        html, ctx = self._html(recipient, extras, level)
        while len(html) > self.budget and level < len(DROPS):
            level += 1
            html, ctx = self._html(recipient, extras, level)
        text = self.text_template.render(ctx)
        parts = [part for cid, part in [*self._parts, *self._own_parts.items()] if cid in html]
        self._own_parts.clear()
        headers = message_headers(recipient, self.subject_header, self.sender, self.domain, self.date, "digest",
                                  self.key, self.settings, list_headers=True, now=self.now)
        data = mime.assemble(headers, text, html, parts, self.boundary)
        return OutgoingMessage(recipient, "digest", self.key, self.subject, data, len(data))
