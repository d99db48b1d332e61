"""Admin notices of one enforce run: one e-mail to email.admin_email and one Discord post.

Notices never block enforcement: every delivery problem becomes a one-line problem, never an
exception. The webhook URL carries its token, so it never appears in a log line or a problem line.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Callable

import requests

from pipeline.clients.discord import DiscordWebhook, webhook_secrets
from pipeline.clock import Clock
from pipeline.logs import REDACTOR

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store import Store

log = logging.getLogger(__name__)

# Event -> heading, in the order the admin reads them: what needs attention first.
EVENTS = {
    "refused": "Refused",
    "forced": "Forced",
    "remove_failed": "Removal failed",
    "delete_failed": "Deletion failed",
    "remove": "Removed",
    "warn": "Warned",
    "welcome": "Welcomed",
    "delete": "Deleted",
    "relisted": "Deleted but listed again",
    "redownload": "May be downloaded again",
    "info": "Notes",
}
DISCORD_LIMIT = 2000  # characters per message; Discord answers 400 above it

# Inline markdown Discord would render; block syntax (#, >, -) cannot start a line we prefix with "• ".
_MARKDOWN = re.compile(r"([\\*_~`|\[\]<>])")


class Notifier:
    """Collects admin notices during one enforce run; flush sends one admin e-mail and one Discord post."""

    def __init__(self, store: "Store", settings: "Settings", clock: Clock, *, apply: bool,
                 session: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.store, self.settings, self.clock, self.apply = store, settings, clock, apply
        self._session, self._sleep = session, sleep
        self._lines: dict[str, list[str]] = {}
        hook = settings.notify.discord_webhook_url.get_secret_value()
        if hook:
            # The full URL is already a known secret; urllib3's debug lines show only its path.
            REDACTOR.add(*webhook_secrets(hook))

    def add(self, event: str, line: str) -> None:
        """Queue one line under an event (welcome | warn | remove | ... | info)."""
        if event not in EVENTS:
            raise ValueError(f"unknown notice event {event!r}; use one of {', '.join(EVENTS)}")
        self._lines.setdefault(event, []).append(one_line(line))

    def pending(self) -> int:
        return sum(len(v) for v in self._lines.values())

    def flush(self, run_id: int) -> list[str]:
        """Send what was queued (nothing queued: nothing sent); return problem lines, never raise for delivery."""
        groups = [(event, EVENTS[event], self._lines[event]) for event in EVENTS if self._lines.get(event)]
        self._lines = {}
        if not groups:
            return []
        problems = self._email(run_id, groups)
        try:
            problems += self._discord(run_id, groups)
        except Exception as exc:  # a bug here must not stop the run either; its text may name the URL
            log.debug("Discord notice of enforce run %s failed", run_id, exc_info=True)
            problems.append(f"Discord notice not posted: internal error ({type(exc).__name__})")
        for problem in problems:
            log.warning("%s", problem)
        return problems

    # -- e-mail ---------------------------------------------------------------------------------------
    def _email(self, run_id: int, groups: list[tuple[str, str, list[str]]]) -> list[str]:
        from pipeline.render.email.contexts import AdminReport, ReportSection
        from pipeline.render.email.notice import render_notice
        from pipeline.send.address import normalize
        from pipeline.render.email.message import Recipient
        from pipeline.send.run import send_messages

        configured = self.settings.email.admin_email.strip()
        if not configured:
            log.debug("email.admin_email is not set: the report of enforce run %s is not e-mailed", run_id)
            return []
        address = normalize(configured)
        if address is None:
            return [f"admin e-mail not sent: email.admin_email {configured!r} is not a valid address"]
        context = AdminReport(key=f"admin-enforce-{run_id}", title=title(run_id, self.apply), summary=summary(groups),
                              sections=tuple(ReportSection(f"{heading} ({len(lines)})", tuple(lines))
                                             for _, heading, lines in groups))
        try:
            msg = render_notice("admin_report", Recipient(email=address, user_id=None, name="admin", kind="admin"),
                                context, self.settings, clock=self.clock)
            sent = send_messages(self.store, self.settings, [msg], apply=self.apply, clock=self.clock)
        except Exception as exc:  # a notice must never stop the run that produced it
            log.debug("admin e-mail of enforce run %s failed", run_id, exc_info=True)
            return [f"admin e-mail not sent: {REDACTOR.redact(one_line(str(exc)) or type(exc).__name__)}"]
        if sent.skipped_already_sent:
            log.debug("the report of enforce run %s was already e-mailed", run_id)
        if sent.failed or sent.unknown or sent.retry_later or sent.skipped_failed or sent.stopped:
            detail = "; ".join(sent.lines) or sent.line()
            return [f"admin e-mail not sent: {REDACTOR.redact(one_line(detail))}"]
        return []

    # -- Discord --------------------------------------------------------------------------------------
    def _discord(self, run_id: int, groups: list[tuple[str, str, list[str]]]) -> list[str]:
        url = self.settings.notify.discord_webhook_url.get_secret_value()
        if not url:
            return []
        parts = split_message(discord_lines(self.settings.server.name, run_id, groups))
        if not self.apply:
            log.info("dry run: %d Discord message(s) not posted", len(parts))
            return []
        hook = DiscordWebhook(url, self.settings.notify.timeout_seconds, session=self._session, sleep=self._sleep)
        try:
            for n, text in enumerate(parts, 1):
                problem = hook.post(text)
                if problem:
                    where = f" (message {n} of {len(parts)})" if len(parts) > 1 else ""
                    return [f"Discord notice not posted{where}: {problem}"]
        finally:
            hook.close()
        log.debug("enforce run %s: %d Discord message(s) posted", run_id, len(parts))
        return []


def title(run_id: int, applied: bool) -> str:
    return f"Enforcement run {run_id}" + ("" if applied else " (dry run)")


def summary(groups: list[tuple[str, str, list[str]]]) -> str:
    """'2 welcomed, 1 removal failed'."""
    return ", ".join(f"{len(lines)} {heading.lower()}" for _, heading, lines in groups)


def one_line(text: str) -> str:
    """Collapse line breaks: a username with a newline must not forge a line of its own."""
    return " ".join(str(text).split())


def escape_discord(text: str) -> str:
    """Show user-supplied text literally: no bold, links, spoilers, mentions or @everyone."""
    # A zero-width space after @ defuses @everyone/@here even for a reader whose client re-parses it;
    # allowed_mentions already stops the ping itself.
    return _MARKDOWN.sub(r"\\\1", text).replace("@", "@\u200b")


def discord_lines(server: str, run_id: int, groups: list[tuple[str, str, list[str]]]) -> list[str]:
    out = [f"**{escape_discord(server)} · {title(run_id, True).lower()}**", escape_discord(summary(groups))]
    for _, heading, lines in groups:
        out.append(f"**{heading}** ({len(lines)})")
        out += [f"• {escape_discord(line)}" for line in lines]
    return out


def split_message(lines: list[str], limit: int = DISCORD_LIMIT) -> list[str]:
    """Join lines into messages of at most `limit` characters, breaking between lines (inside one only if too long)."""
    parts: list[str] = []
    current = ""
    for line in lines:
        for piece in _cut(line, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if current and units(candidate) > limit:
                parts.append(current)
                candidate = piece
            current = candidate
    if current:
        parts.append(current)
    return parts


def units(text: str) -> int:
    """Length as Discord counts it (UTF-16 code units): an emoji in a name counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _cut(line: str, limit: int) -> list[str]:
    if units(line) <= limit:
        return [line]
    pieces, current = [], ""
    for char in line:
        if units(current + char) > limit:
            pieces.append(current)
            current = ""
        current += char
    return pieces + [current]
