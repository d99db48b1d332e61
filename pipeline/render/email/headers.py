"""Who a message is from and to, where its links go, and its RFC 5322 / RFC 8058 headers."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from urllib.parse import urlencode

from pipeline.errors import ConfigError
from pipeline.render.email.message import Recipient
from pipeline.settings import Settings
from pipeline.tokens import Links
import pipeline.render.email.mime as mime
def sender(settings: Settings, server: str) -> tuple[str, str]:
    """(From header value, the from address's domain for Message-IDs and CIDs)."""
    addr = settings.email.from_address.strip()
    if "@" not in addr:
        raise ConfigError("email.from_address: set the address newsletters come from (e.g. newsletter@example.org)")
    return mime.address(settings.email.from_name or server, addr), addr.rsplit("@", 1)[1].lower()


def _mailbox(settings: Settings) -> str:
    return (settings.email.admin_email or settings.email.from_address).strip()


def unsubscribe_url(recipient: Recipient, settings: Settings, now: datetime | None = None) -> str:
    """The reader's signed one-click link to Marquee's web app (web.public_url); else email.unsubscribe_url naming
    this reader (?email=...); '' when neither is set. now: when the link's validity starts (default: now)."""
    if settings.web.public_url and recipient.user_id is not None:
        links = Links(settings, now or datetime.now(timezone.utc))
        return links.url(recipient.user_id, "unsubscribe", recipient.email, recipient.email)
    base = settings.email.unsubscribe_url
    if not base:
        return ""
    return base + ("&" if "?" in base else "?") + urlencode({"email": recipient.email})


def one_click(settings: Settings) -> bool:
    """Whether readers can unsubscribe in one click (only then may an e-mail say so)."""
    return bool(settings.web.public_url) or settings.email.unsubscribe_url.startswith("https://")


def unsubscribe_headers(recipient: Recipient, settings: Settings, now: datetime | None = None) -> dict[str, str]:
    """List-Unsubscribe (mailto, plus the URL when set) and, for an HTTPS URL only, one-click (RFC 8058)."""
    mailbox, url = _mailbox(settings), unsubscribe_url(recipient, settings, now)
    targets = ([f"<mailto:{mailbox}?subject=unsubscribe>"] if mailbox else []) + ([f"<{url}>"] if url else [])
    headers = {"List-Unsubscribe": ", ".join(targets)} if targets else {}
    if url.startswith("https://"):
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def unsubscribe_link(recipient: Recipient, settings: Settings, now: datetime | None = None) -> str:
    """The footer's link: the unsubscribe page when there is one, else a prepared e-mail."""
    mailbox = _mailbox(settings)
    return unsubscribe_url(recipient, settings, now) or (f"mailto:{mailbox}?subject=unsubscribe" if mailbox else "")


def issue_url(siteurl: str, site_issue_url: str | None, period_key: str) -> str:
    """The issue's page in the archive, absolute; '' when the archive has no public URL."""
    target = (site_issue_url or f"issues/{period_key.lower()}/").removesuffix("index.html")
    if target.startswith(("https://", "http://")):
        return target
    return f"{siteurl.rstrip('/')}/{target.lstrip('/')}" if siteurl else ""


def why(recipient: Recipient, server: str) -> str:
    """The footer's first line: why this reader gets this mail."""
    if recipient.kind == "admin":
        return f"You're getting this because you run {server}."
    if recipient.kind == "extra" or recipient.user_id is None:
        return f"You're getting this because the owner of {server} added you to its newsletter."
    # "Plex, a Plex server" when the admin kept the default name: say it once
    what = server if "plex" in server.lower() else f"{server}, a Plex server,"
    return f"You're getting this because {what} is shared with you."


def message_headers(recipient: Recipient, subject: str, from_: str, domain: str, date: str, kind: str, key: str,
                    settings: Settings, list_headers: bool, now: datetime | None = None) -> list[tuple[str, str]]:
    """From, To, Subject (already encoded), Date, Message-ID, Reply-To, and the list headers if asked.

    The Message-ID is derived from (kind, key, address, date): stable for one render, new for a re-render.
    """
    token = hashlib.sha256(f"{kind}|{key}|{recipient.email}|{date}".encode()).hexdigest()[:20]
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", key)
    out = [("From", from_), ("To", mime.address(recipient.name, recipient.email)), ("Subject", subject),
           ("Date", date), ("Message-ID", f"<{kind}.{slug}.{token}@{domain}>")]
    if settings.email.reply_to:
        out.append(("Reply-To", mime.one_line(settings.email.reply_to)))
    if list_headers:
        # the phrase may be quoted or encoded; the <list-id> itself must stay as it is (RFC 2919)
        out.append(("List-Id", mime.address(f"{settings.server.name} newsletter", f"newsletter.{domain}")))
        out += list(unsubscribe_headers(recipient, settings, now).items())
    return out
