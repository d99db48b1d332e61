"""A Discord webhook over the shared HTTP layer: one post, Discord's rate limits honoured, one retry.

The webhook URL carries its token, so the URL, its path and the token are secrets of every message.
"""

from __future__ import annotations

import re
import time
from typing import Callable

import orjson
import requests

from pipeline.clients.http import TRANSIENT, Failure, HttpClient, Retry, retry_after as header_wait
from pipeline.errors import SourceError

MAX_RETRY_AFTER = 30.0  # seconds; a longer rate limit is not worth holding up an enforce run
RATE_LIMIT_WAITS = 3  # 429s honoured per message before giving up
RETRY_PAUSE = 1.0  # seconds before the one retry after a 5xx or a connection error


class DiscordWebhook:
    """`post(content)` returns None once Discord took the message, else a one-line problem (never raises)."""

    def __init__(self, url: str, timeout: float, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.timeout = timeout
        self.http = HttpClient("Discord", url, timeout=timeout, session=session, secrets=webhook_secrets(url),
                               url_setting="DISCORD_WEBHOOK_URL",
                               retry=Retry(1, RETRY_PAUSE, rate_limit_waits=RATE_LIMIT_WAITS,
                                           max_retry_after=MAX_RETRY_AFTER),
                               describe=self._describe, wait_for=retry_after, sleep=sleep)

    def close(self) -> None:
        self.http.close()

    def post(self, content: str) -> str | None:
        """POST one message that can mention nobody; the problem, or None."""
        payload = {"content": content, "allowed_mentions": {"parse": []}, "username": "Marquee"}
        try:
            self.http.request("POST", "", what="POST webhook", json=payload)
        except SourceError as exc:
            return str(exc)
        return None

    def check(self) -> str | None:
        """GET the webhook (Discord answers with its name; nothing is posted); the problem, or None."""
        try:
            self.http.request("GET", "", what="GET webhook")
        except SourceError as exc:
            return str(exc)
        return None

    def _describe(self, f: Failure) -> str | None:
        gave_up = "; gave up after one retry" if f.kind in TRANSIENT else ""
        if f.kind == "rate_limited":
            shown = "unknown" if f.wait is None else f"{f.wait:g}s"
            return f"rate-limited by Discord (retry after {shown}); gave up"
        if f.kind == "timeout":
            return f"no answer within {self.timeout:g}s{gave_up}"
        if f.kind in ("unreachable", "tls"):
            return f"could not connect ({f.exception}){gave_up}"
        if f.kind == "server":
            return f"Discord answered HTTP {f.status}{gave_up}"
        if f.status is not None:
            said = f" ({f.detail[:120]})" if f.detail else ""
            return f"Discord answered HTTP {f.status}{said}; check DISCORD_WEBHOOK_URL"
        return None


def retry_after(response: requests.Response) -> float | None:
    """Seconds to wait from a 429: the JSON body's retry_after (fractional), else the Retry-After header."""
    try:
        value = orjson.loads(response.content).get("retry_after")
    except (orjson.JSONDecodeError, AttributeError):
        value = None
    try:
        return max(float(value), 0.0) if value is not None else header_wait(response)
    except (TypeError, ValueError):
        return header_wait(response)


def webhook_secrets(url: str) -> list[str]:
    """The URL, its path and its token: each is enough to post as the webhook."""
    match = re.search(r"(/api/webhooks/[^/?#\s]+/([^/?#\s]+))", url)
    return [url] + ([match.group(1), match.group(2)] if match else [])
