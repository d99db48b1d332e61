"""Tautulli's API v2 over the shared HTTP layer: the key in the query (Tautulli reads it nowhere else),
retries, and Tautulli's envelopes as errors."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import orjson
import requests

from pipeline.clients.http import Failure, HttpClient, Retry, plural
from pipeline.errors import BadResponse, Rejected
from pipeline.settings import TautulliSettings

log = logging.getLogger(__name__)

KEY_HINT = "check TAUTULLI_API_KEY"  # a wrong or missing key is configuration (Rejected, exit 2)
# Tautulli's own messages that have a known fix.
_HINTS = {
    "Invalid apikey": KEY_HINT,
    "Parameter apikey is required": KEY_HINT,
    "API not enabled": "enable the API in Tautulli (Settings > Web Interface > API)",
    "API key not generated": "generate an API key in Tautulli (Settings > Web Interface > API)",
    "Unknown command": "Marquee needs Tautulli 2.x; check TAUTULLI_URL points at Tautulli",
    "Check the logs for errors": "Tautulli crashed on this request; see Tautulli's log",
}
MAX_RETRY_AFTER = 60.0  # seconds; a proxy asking for longer ends the ingest with a one-line reason


class TautulliClient:
    """`call(cmd, **params)` returns the envelope's `data`, or raises Unreachable / BadResponse."""

    def __init__(self, settings: TautulliSettings, session: requests.Session | None = None, *,
                 backoff_seconds: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        key = settings.api_key.get_secret_value()
        self.http = HttpClient(
            "Tautulli", settings.url, timeout=settings.timeout_seconds, session=session, params={"apikey": key},
            secrets=[key], url_setting="TAUTULLI_URL", key_setting="TAUTULLI_API_KEY",
            retry=Retry(settings.retries, backoff_seconds, rate_limit_waits=settings.retries,
                        max_retry_after=MAX_RETRY_AFTER),
            follow_redirects=True, describe=self._describe, detail=_message, sleep=sleep)
        self.where = self.http.where

    @property
    def requests(self) -> int:
        """HTTP requests made, retries included."""
        return self.http.requests

    def call(self, cmd: str, **params: Any) -> Any:
        """GET one command, retrying transport faults, 5xx, 429 and cut-off bodies; return `data`."""
        log.debug("Tautulli %s %s", cmd, params)
        return self._call(cmd, params={"cmd": cmd, **params})

    def call_form(self, cmd: str, **params: Any) -> Any:
        """`call`, with the parameters in a POST form: for lists too long for a URL (Tautulli reads both)."""
        log.debug("Tautulli %s (form) %s", cmd, {k: (v if len(str(v)) < 80 else f"{len(str(v))} chars")
                                                 for k, v in params.items()})
        return self._call(cmd, params={"cmd": cmd}, data=params)

    def _call(self, cmd: str, **request: Any) -> Any:
        try:
            body = self.http.json("GET" if "data" not in request else "POST", "/api/v2", what=cmd,
                                  headers={"Accept-Encoding": "gzip"}, **request)
        except BadResponse as exc:
            raise _rejected(exc) if getattr(exc, "kind", None) == "refused" or KEY_HINT in str(exc) else exc
        envelope = body.get("response") if isinstance(body, dict) else None
        if not isinstance(envelope, dict) or "result" not in envelope or "data" not in envelope:
            raise BadResponse(f"Tautulli {cmd} answered without the {{response: {{result, data}}}} envelope;"
                              " check TAUTULLI_URL points at Tautulli")
        if envelope["result"] != "success":
            text = self.http.redact(_failed(cmd, _text(envelope) or "HTTP 200"))
            raise (Rejected if KEY_HINT in text else BadResponse)(text)
        return envelope["data"]

    def _describe(self, f: Failure) -> str | None:
        """Tautulli's wording for what the shared layer found (None: the generic wording)."""
        cmd, tried = f.what, plural(f.attempts, "attempt")
        if f.kind in ("unreachable", "timeout", "tls"):
            return (f"Tautulli at {self.where} is not reachable ({f.reason}, {tried});"
                    " check TAUTULLI_URL and that Tautulli is running")
        if f.kind == "cut_off":
            return f"Tautulli {cmd} answers were cut off ({tried}); check the network between Marquee and Tautulli"
        if f.kind == "request":
            return f"Tautulli {cmd} request failed ({f.exception}); check TAUTULLI_URL points at Tautulli"
        if f.kind == "rate_limited":
            asked = "" if f.wait is None else f", asked to wait {f.wait:g}s"
            return (f"Tautulli {cmd} was rate-limited (HTTP 429, {tried}{asked}); try again later, or raise the"
                    " rate limit of the proxy in front of Tautulli")
        if f.status is not None and f.status >= 300:
            if f.detail:
                return _failed(cmd, f.detail, f" (HTTP {f.status}, {tried})" if f.status >= 500 else "")
            if f.status >= 500:
                return (f"Tautulli {cmd} failed: HTTP {f.status} after {tried};"
                        " check that Tautulli is running and see its log")
            return (f"Tautulli {cmd} failed: HTTP {f.status};"
                    " check TAUTULLI_URL (include Tautulli's HTTP root if it has one)")
        size = f"{f.size:,} bytes"
        if f.kind == "broken_json":
            return (f"Tautulli {cmd} answered with broken JSON ({size}, cut off? {f.detail});"
                    " try again, and see Tautulli's log if it persists")
        if f.kind == "login":
            return (f"Tautulli {cmd} answered with a sign-in page ({f.content_type}, {size}), not JSON;"
                    " check TAUTULLI_URL points at Tautulli itself, not at a proxy's sign-in page")
        return (f"Tautulli {cmd} answered with {f.content_type}, not JSON ({size});"
                " check TAUTULLI_URL points at Tautulli")


def _rejected(exc: BadResponse) -> Rejected:
    error = Rejected(str(exc))
    error.kind, error.status = getattr(exc, "kind", None), getattr(exc, "status", None)
    return error


def _failed(cmd: str, message: str, tried: str = "") -> str:
    hint = next((h for m, h in _HINTS.items() if message.startswith(m)), "")
    return f"Tautulli {cmd} failed: {message}{tried}" + (f" — {hint}" if hint else "")


def _text(envelope: dict) -> str:
    return str(envelope.get("message") or "").split(". Possible commands")[0][:200]


def _message(response: requests.Response) -> str:
    """An error answer's own message from Tautulli's envelope; "HTTP n" for an envelope without one."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ""
    envelope = body.get("response") if isinstance(body, dict) else None
    if not isinstance(envelope, dict) or "result" not in envelope:
        return ""
    return _text(envelope) or f"HTTP {response.status_code}"
