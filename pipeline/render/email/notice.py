"""Newsletter e-mails: the digest of an issue for each reader, and one-off notices.

The public face of rendering e-mail; the pieces live beside it: email_digest (DigestRenderer),
email_view / email_personal (what a digest says), email_notices (what a notice says),
email_templates (MJML compiled once), email_images (shared image parts), email_headers, mime.
"""

from __future__ import annotations

import hashlib
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from pipeline.clock import Clock, SystemClock
from pipeline.render.email.message import OutgoingMessage, Recipient
from pipeline.settings import Settings
import pipeline.render.email.mime as mime
from pipeline.render.email.digest import DigestRenderer
from pipeline.render.email.headers import message_headers, sender, unsubscribe_headers, unsubscribe_link, why
from pipeline.render.email.images import EmailImages
from pipeline.render.email.contexts import NoticeContext
from pipeline.render.email.notices import NOTICE_KINDS, notice_context
from pipeline.render.email.personal import greeting_name
from pipeline.render.email.templates import PREVIEW_PAD, THEME, compiled, environment

__all__ = ["NOTICE_KINDS", "DigestRenderer", "EmailImages", "render_digest", "render_notice", "unsubscribe_headers"]


def render_digest(snapshot: Mapping[str, Any], settings: Settings, recipients: Iterable[Recipient], *,
                  site_issue_url: str | None = None, images: EmailImages | None = None,
                  extras: Mapping[int, Mapping[str, Any]] | None = None,
                  clock: Clock | None = None) -> list[OutgoingMessage]:
    """Every reader's digest of one issue; extras: user_id -> notices about that reader."""
    renderer = DigestRenderer(snapshot, settings, site_issue_url, images, clock=clock)
    extras = extras or {}
    return [renderer.render(r, extras.get(r.user_id) if r.user_id is not None else None) for r in recipients]


def render_notice(kind: str, recipient: Recipient, context: NoticeContext, settings: Settings, *,
                  clock: Clock | None = None, theme: Path = THEME) -> OutgoingMessage:
    """A welcome, inactivity warning, removal notice or admin report for one recipient.

    context: the kind's dataclass from contexts.py (WelcomeNotice, WarningNotice, RemovalNotice, AdminReport);
    its key is the ledger key. Only the welcome carries List-Unsubscribe: the others are about the reader's
    account, not the newsletter.
    """
    now = (clock or SystemClock()).now()
    view = notice_context(kind, recipient, context, settings,
                          now.astimezone(ZoneInfo(settings.server.timezone)).date())
    from_, domain = sender(settings, settings.server.name)
    small = "Sent by Marquee to email.admin_email" if kind == "admin_report" else "Sent with Marquee"
    ctx = {**view, "preview_pad": PREVIEW_PAD, "name": greeting_name(recipient.name), "view_url": "",
           "unsubscribe_link": unsubscribe_link(recipient, settings, now) if kind == "welcome" else "",
           "footer": {"why": why(recipient, settings.server.name), "small": small}}
    html = compiled(kind, theme).render(ctx).encode("utf-8")
    text = environment(theme).get_template(f"{kind}.txt").render(ctx)
    date = format_datetime(now)
    headers = message_headers(recipient, mime.header_value("Subject", view["subject"]), from_, domain, date, kind,
                              view["key"], settings, list_headers=kind == "welcome", now=now)
    boundary = hashlib.sha256(f"{kind}|{view['key']}|{recipient.email}|{date}".encode()).hexdigest()[:24]
    data = mime.assemble(headers, text, html, [], boundary)
    return OutgoingMessage(recipient, kind, view["key"], view["subject"], data, len(data))
