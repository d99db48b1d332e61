"""Tautulli's API v2 over HTTP: the key in the query, retries, and Tautulli's envelopes as errors."""

from __future__ import annotations

import logging
import random
import re
import time
from typing import Any, Callable
from urllib.parse import urlsplit

import orjson
import requests

from pipeline.errors import BadResponse, Unreachable
from pipeline.settings import TautulliSettings

log = logging.getLogger(__name__)

# Tautulli's own messages that have a known fix.
_HINTS = {
    "Invalid apikey": "check TAUTULLI_API_KEY",
    "Parameter apikey is required": "check TAUTULLI_API_KEY",
    "API not enabled": "enable the API in Tautulli (Settings > Web Interface > API)",
    "API key not generated": "generate an API key in Tautulli (Settings > Web Interface > API)",
    "Unknown command": "Marquee needs Tautulli 2.x; check TAUTULLI_URL points at Tautulli",
    "Check the logs for errors": "Tautulli crashed on this request; see Tautulli's log",
}
_APIKEY = re.compile(r"(?i)(apikey=)[^&\s'\"]+")


class TautulliClient:
    """`call(cmd, **params)` returns the envelope's `data`, or raises Unreachable / BadResponse."""

    def __init__(self, settings: TautulliSettings, session: requests.Session | None = None, *,
                 backoff_seconds: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.session = session or requests.Session()
        self.backoff_seconds, self.sleep = backoff_seconds, sleep
        self.requests = 0  # HTTP requests made, retries included
        self._key = settings.api_key.get_secret_value()
        parts = urlsplit(settings.url)
        # What a message may show: never the key, never userinfo.
        self.where = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        self._endpoint = f"{settings.url}/api/v2"

    def call(self, cmd: str, **params: Any) -> Any:
        """GET one command with bounded retries on transport errors and 5xx; return `data`."""
        query = {"apikey": self._key, "cmd": cmd, **params}
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._get(cmd, params, query)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    raise Unreachable(self._redact(
                        f"Tautulli at {self.where} is not reachable ({self._reason(exc)}, {attempts} attempts);"
                        " check TAUTULLI_URL and that Tautulli is running")) from None
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
                if last:
                    raise BadResponse(f"Tautulli {cmd} answers were cut off ({attempts} attempts);"
                                      " check the network between Marquee and Tautulli") from None
            except requests.RequestException as exc:  # redirects, bad headers: not worth a retry
                raise BadResponse(f"Tautulli {cmd} request failed ({type(exc).__name__});"
                                  " check TAUTULLI_URL points at Tautulli") from None
            else:
                if response.status_code < 500 or last:
                    return self._data(cmd, response, attempts)
                log.debug("Tautulli %s: HTTP %s, retrying", cmd, response.status_code)
            self.sleep(self.backoff_seconds * 2 ** attempt * (1 + random.random() / 4))
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises

    def _get(self, cmd: str, params: dict, query: dict) -> requests.Response:
        self.requests += 1
        log.debug("Tautulli %s %s", cmd, params)
        return self.session.get(self._endpoint, params=query, timeout=self.settings.timeout_seconds,
                                headers={"Accept-Encoding": "gzip"})

    def _data(self, cmd: str, response: requests.Response, attempts: int) -> Any:
        """Map one HTTP answer to `data` or a one-line BadResponse."""
        status = response.status_code
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            if status >= 500:
                raise self._bad(f"Tautulli {cmd} failed: HTTP {status} after {attempts} attempts;"
                                " check that Tautulli is running and see its log")
            if status >= 400:
                raise self._bad(f"Tautulli {cmd} failed: HTTP {status}; check TAUTULLI_URL"
                                " (include Tautulli's HTTP root if it has one)")
            size = f"{len(response.content):,} bytes"
            if response.content.lstrip()[:1] in (b"{", b"["):
                raise self._bad(f"Tautulli {cmd} answered with broken JSON ({size}, cut off? {exc});"
                                " try again, and see Tautulli's log if it persists")
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise self._bad(f"Tautulli {cmd} answered with {kind}, not JSON ({size});"
                            " check TAUTULLI_URL points at Tautulli")
        envelope = body.get("response") if isinstance(body, dict) else None
        if not isinstance(envelope, dict) or "result" not in envelope or "data" not in envelope:
            raise self._bad(f"Tautulli {cmd} answered without the {{response: {{result, data}}}} envelope;"
                            " check TAUTULLI_URL points at Tautulli")
        if envelope["result"] != "success" or status >= 400:
            message = str(envelope.get("message") or f"HTTP {status}").split(". Possible commands")[0][:200]
            hint = next((h for m, h in _HINTS.items() if message.startswith(m)), "")
            tried = f" (HTTP {status}, {attempts} attempts)" if status >= 500 else ""
            raise self._bad(f"Tautulli {cmd} failed: {message}{tried}" + (f" — {hint}" if hint else ""))
        return envelope["data"]

    def _bad(self, message: str) -> BadResponse:
        return BadResponse(self._redact(message))

    def _redact(self, text: str) -> str:
        if self._key:
            text = text.replace(self._key, "[redacted]")
        return _APIKEY.sub(r"\1[redacted]", text)

    def _reason(self, exc: Exception) -> str:
        """A short cause without the request URL (requests puts the query string, key included, in str(exc))."""
        if isinstance(exc, requests.ConnectTimeout):
            return f"no connection within {self.settings.timeout_seconds:g}s"
        if isinstance(exc, requests.Timeout):
            return f"no answer within {self.settings.timeout_seconds:g}s"
        if isinstance(exc, requests.exceptions.SSLError):
            return "TLS handshake failed"
        text = str(exc)
        for needle, reason in (("refused", "connection refused"), ("Name or service not known", "unknown host"),
                               ("nodename nor servname", "unknown host"), ("Temporary failure in name", "unknown host"),
                               ("RemoteDisconnected", "connection closed without an answer"),
                               ("reset by peer", "connection reset"), ("No route to host", "no route to host")):
            if needle in text:
                return reason
        return "connection failed"
