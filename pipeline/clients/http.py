"""The one HTTP layer every client speaks through: session, headers, timeouts, redirects, status -> error,
retry and redaction. Clients keep only their routes and their own wording (`describe`).

A request's outcome becomes a `Failure` in one place (`classify` for answers, `_transport` for requests'
exceptions), and a Failure becomes a one-line, secret-free Unreachable or BadResponse in `Upstream.error`.
"""

from __future__ import annotations

import html
import logging
import random
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter

from pipeline import __version__
from pipeline.errors import BadResponse, SourceError, Unreachable
from pipeline.logs import REDACTOR

log = logging.getLogger(__name__)

USER_AGENT = f"Marquee/{__version__}"
UNREACHABLE = {"unreachable", "timeout", "tls"}              # raised as Unreachable; every other kind is a BadResponse
TRANSIENT = {"unreachable", "timeout", "cut_off", "server"}  # worth another attempt (a 429 has its own budget)
_PASSWORD = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.I)
_TITLE = re.compile(rb"<title[^>]*>([^<]{1,300})</title>", re.I)
_HTML = re.compile(rb"<(!doctype\s+html|html[\s>])", re.I)

_UNREACHABLE = ("{name} at {where} is not reachable ({what}: {reason}{tried}); check {url_setting} and that"
                " {name} is running")
# The generic wording of each kind of failure; "status" covers the error statuses not named here.
WORDING = {
    "unreachable": _UNREACHABLE, "timeout": _UNREACHABLE, "tls": _UNREACHABLE,
    "cut_off": "{name} cut its answer to {what} short ({attempts}); check the network between Marquee and {name}",
    "request": "{name} {what} request failed ({exception}); check {url_setting}",
    "redirect": "{name} at {where} redirected {what} (HTTP {status}); check {url_setting}",
    "refused": "{name} refused {what} (HTTP {status}{said}); check {key_setting}",
    "rate_limited": "{name} rate-limited {what} (HTTP 429{tried}{asked}); try again later",
    "login": "{name} at {where} answered {what} with a sign-in page{titled}, not {name}'s API; check {url_setting}"
             " points at {name} itself, not at a proxy's sign-in page",
    "html": "{name} at {where} answered {what} with an HTML page{titled}, not {name}'s API; check {url_setting}",
    "not_json": "{name} answered {what} with {content_type}, not JSON ({size} bytes); check {url_setting}",
    "broken_json": "{name} answered {what} with broken JSON ({size} bytes{said}); check {url_setting}",
    "status": "{name} answered HTTP {status} to {what}{said}{tried}",
}


@dataclass(frozen=True)
class Failure:
    """What went wrong with one request, before it is worded.

    kind: unreachable | timeout | tls | cut_off | request | redirect | refused | not_found | rate_limited |
    client | server | login | html | not_json | broken_json.
    """

    kind: str
    what: str                      # the request as messages name it: "GET /api/v3/series", "get_history"
    attempts: int = 1
    status: int | None = None
    reason: str = ""               # a URL-free cause of a transport failure: "connection refused"
    exception: str = ""            # the requests exception's class name
    detail: str = ""               # the server's own message, one line; an HTML page's title
    wait: float | None = None      # seconds a 429 asked for
    size: int = 0                  # body bytes, for body failures
    content_type: str = ""


@dataclass(frozen=True)
class Retry:
    """How often a client tries again; pauses double from `backoff`, with up to 25% jitter."""

    retries: int = 0               # after a connection error, a timeout, a cut-off body or a 5xx
    backoff: float = 0.5           # seconds before the first retry
    rate_limit_waits: int = 0      # 429s honoured (Retry-After, else the backoff) before giving up
    max_retry_after: float = 30.0  # a 429 asking for longer gives up at once: a run is not held for it


def reason(exc: Exception, timeout: float | None = None) -> str:
    """A short cause without URLs (requests echoes them, keys included), e.g. "connection refused"."""
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection within {timeout:g}s" if timeout else "timed out"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g}s" if timeout else "timed out"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if errno:
        return errno.group(1).strip().rstrip(".").lower()
    for needle, cause in (("RemoteDisconnected", "the connection closed without an answer"),
                          ("Connection aborted", "the connection closed without an answer"),
                          ("Name or service not known", "unknown host"), ("nodename nor servname", "unknown host"),
                          ("Temporary failure in name", "unknown host"), ("reset by peer", "connection reset"),
                          ("No route to host", "no route to host"), ("refused", "connection refused")):
        if needle in text:
            return cause
    return type(exc).__name__


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def where(url: str) -> str:
    """The URL as a message may show it: no user:password@, no query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path.rstrip('/')}"


# Headers that carry a credential: requests drops only Authorization when a redirect leaves the host.
SECRET_HEADERS = ("Authorization", "X-Plex-Token", "X-Api-Key")


class _KeepSecretsHome(requests.Session):
    """A Session whose redirects to another host or port carry none of SECRET_HEADERS (plexapi follows them)."""

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in SECRET_HEADERS:
                prepared_request.headers.pop(name, None)


def new_session(*, verify: bool = True, pool: int = 10) -> requests.Session:
    """A session that names Marquee; secrets never go on it (they travel per request)."""
    session = _KeepSecretsHome()
    session.headers["User-Agent"] = USER_AGENT
    session.verify = verify
    if pool != 10:
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


def json_message(response: requests.Response) -> str:
    """The server's own error text: {"message": ...}, or a validation list's errorMessage values."""
    try:
        body = orjson.loads(response.content)
    except (orjson.JSONDecodeError, requests.RequestException):
        return ""
    if isinstance(body, dict):
        return one_line(str(body.get("message") or ""))
    if isinstance(body, list):
        return one_line("; ".join(str(e.get("errorMessage")) for e in body if isinstance(e, dict)))
    return ""


def page(response: requests.Response, what: str) -> Failure | None:
    """A "login" or "html" failure when the answer says it is an HTML page (only then is its body read).

    A sign-in page is told by its password field; the title says whose it is.
    """
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in ("text/html", "application/xhtml+xml"):
        return None
    body = response.content
    if not _HTML.search(body[:4096]):  # an empty or plain-text answer labelled text/html is not a page
        return None
    title = _TITLE.search(body)
    name = one_line(html.unescape(title.group(1).decode("utf-8", "replace")), 80) if title else ""
    return Failure("login" if _PASSWORD.search(body) else "html", what, status=response.status_code, detail=name,
                   size=len(body), content_type=content_type)


def classify(response: requests.Response, what: str, *, expect: str | None = None,
             detail: Callable[[requests.Response], str] = json_message) -> tuple[Failure | None, Any]:
    """The one place an answer becomes a failure: its status, then (expect "json" or "json?") its body.

    Returns (failure, parsed JSON); "json?" takes an empty body as None.
    """
    status = response.status_code
    if status >= 300:
        kind = ("redirect" if status < 400 else "refused" if status in (401, 403) else "not_found" if status == 404
                else "rate_limited" if status == 429 else "client" if status < 500 else "server")
        return Failure(kind, what, status=status, detail=detail(response)), None
    if expect not in ("json", "json?"):
        return None, None
    content = response.content
    if expect == "json?" and not content.strip():
        return None, None
    try:
        return None, orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        found = page(response, what)
        if found:
            return found, None
        body = dict(status=status, size=len(content),
                    content_type=response.headers.get("Content-Type", "no content type").split(";")[0])
        if content.lstrip()[:1] not in (b"{", b"["):
            return Failure("not_json", what, **body), None
        # Without a length or chunks, a connection that broke off looks like a complete, shorter body.
        delimited = ("Content-Length" in response.headers
                     or "chunked" in response.headers.get("Transfer-Encoding", "").lower())
        return Failure("broken_json" if delimited else "cut_off", what, detail=str(exc), **body), None


def _transport(exc: requests.RequestException, what: str, timeout: float) -> Failure:
    """A requests exception as a Failure; its text is never kept (it names the URL, keys included)."""
    if isinstance(exc, requests.exceptions.SSLError):
        kind = "tls"
    elif isinstance(exc, requests.Timeout):
        kind = "timeout"
    elif isinstance(exc, requests.ConnectionError):
        kind = "unreachable"
    elif isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        kind = "cut_off"  # IncompleteRead: fewer bytes than Content-Length, or chunks that stop early
    else:  # too many redirects, an invalid URL or header: another attempt would do the same
        kind = "request"
    return Failure(kind, what, reason=reason(exc, timeout), exception=type(exc).__name__)


class Upstream:
    """Who a message names and how: the app, where it is, the settings that fix it, the secrets it never shows.

    describe: the client's own wording for a Failure; None from it falls back to the generic wording here.
    """

    def __init__(self, name: str, url: str, *, url_setting: str, key_setting: str = "", secrets: Iterable[str] = (),
                 errors: tuple[type[Unreachable], type[BadResponse]] = (Unreachable, BadResponse),
                 describe: Callable[[Failure], str | None] | None = None) -> None:
        self.name, self.where, self.url_setting, self.key_setting = name, where(url), url_setting, key_setting
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)
        REDACTOR.add(*self.secrets)  # urllib3's debug lines show paths and queries
        self.errors, self._describe = errors, describe

    def error(self, failure: Failure) -> SourceError:
        """The one-line, secret-free exception for a failure; `.kind` and `.status` say what it was."""
        text = (self._describe(failure) if self._describe else None) or self.describe(failure)
        unreachable, bad = self.errors
        error = (unreachable if failure.kind in UNREACHABLE else bad)(self.redact(one_line(text, 400)))
        error.kind, error.status = failure.kind, failure.status
        return error

    def redact(self, text: str) -> str:
        for secret in self.secrets:  # longest first: a URL goes whole, not around its redacted token
            text = text.replace(secret, "[redacted]")
        return REDACTOR.redact(text)

    def describe(self, f: Failure) -> str:
        """The generic wording (WORDING), for whatever a client does not word itself."""
        return WORDING.get(f.kind, WORDING["status"]).format(
            name=self.name, where=self.where, what=f.what, url_setting=self.url_setting,
            key_setting=self.key_setting or self.url_setting, status=f.status, reason=f.reason,
            exception=f.exception, content_type=f.content_type, size=f"{f.size:,}",
            attempts=plural(f.attempts, "attempt"), tried=f", {f.attempts} attempts" if f.attempts > 1 else "",
            said=f": {f.detail}" if f.detail else "", titled=f" ('{f.detail}')" if f.detail else "",
            asked="" if f.wait is None else f", asked to wait {f.wait:g}s")


class HttpClient(Upstream):
    """One upstream over HTTP: `json()` / `request()` retry what is worth it and raise one-line errors.

    base_url: prefixed to every path; headers / params: sent with every request (API keys go here, never
    on the session, which may be shared); detail: the server's own text from an error answer; wait_for:
    a 429's wait when the app says it elsewhere than Retry-After; sleep: injected by tests.
    """

    def __init__(self, name: str, base_url: str, *, timeout: float, url_setting: str, key_setting: str = "",
                 session: requests.Session | None = None, headers: Mapping[str, str] | None = None,
                 params: Mapping[str, str] | None = None, secrets: Iterable[str] = (), retry: Retry = Retry(),
                 follow_redirects: bool = False, verify: bool = True, pool: int = 10,
                 errors: tuple[type[Unreachable], type[BadResponse]] = (Unreachable, BadResponse),
                 describe: Callable[[Failure], str | None] | None = None,
                 detail: Callable[[requests.Response], str] = json_message,
                 wait_for: Callable[[requests.Response], float | None] = retry_after,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, base_url, url_setting=url_setting, key_setting=key_setting, secrets=secrets,
                         errors=errors, describe=describe)
        self.base, self.timeout = base_url.rstrip("/"), timeout
        self.session = session or new_session(verify=verify, pool=pool)
        self._own_session = session is None
        self.headers, self.params = dict(headers or {}), dict(params or {})
        self.retry, self.follow_redirects = retry, follow_redirects
        self._detail, self._wait_for, self.sleep = detail, wait_for, sleep
        self.requests = 0  # HTTP requests made, retries included
        self._counting = threading.Lock()  # a client may serve several threads (Tautulli's reference chunks)

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def json(self, method: str, path: str, *, what: str, gone_ok: bool = False, empty_ok: bool = False,
             **kw: Any) -> Any:
        """The parsed JSON answer; None for a 404 when `gone_ok`, or for an empty body when `empty_ok`."""
        return self._send(method, path, what, "json?" if empty_ok else "json", gone_ok, kw)[1]

    def request(self, method: str, path: str, *, what: str, stream: bool = False, **kw: Any) -> requests.Response:
        """A 2xx response (open when `stream`: the caller reads and closes it); anything else raises."""
        return self._send(method, path, what, None, False, {**kw, "stream": stream})[0]

    def _send(self, method: str, path: str, what: str, expect: str | None, gone_ok: bool,
              kw: dict) -> tuple[requests.Response, Any]:
        url = self.base + path
        headers = {**self.headers, **(kw.pop("headers", None) or {})}
        params = {**self.params, **(kw.pop("params", None) or {})} or None
        attempts = retries = waits = 0
        while True:
            attempts += 1
            with self._counting:
                self.requests += 1
            try:
                response = self.session.request(method, url, headers=headers, params=params, timeout=self.timeout,
                                                allow_redirects=self.follow_redirects, **kw)
            except requests.RequestException as exc:
                failure = _transport(exc, what, self.timeout)
            else:
                if gone_ok and response.status_code == 404:
                    response.close()
                    return response, None
                failure, data = classify(response, what, expect=expect, detail=self._detail)
                if failure is None:
                    return response, data
                if failure.kind == "rate_limited":
                    failure = replace(failure, wait=self._wait_for(response))
                response.close()
            failure = replace(failure, attempts=attempts)
            if failure.kind == "rate_limited" and waits < self.retry.rate_limit_waits \
                    and (failure.wait or 0.0) <= self.retry.max_retry_after:
                waits += 1
                pause = self._backoff(waits) if failure.wait is None else failure.wait
            elif failure.kind in TRANSIENT and retries < self.retry.retries:
                retries += 1
                pause = self._backoff(retries)
            else:
                raise self.error(failure)
            log.debug("%s", self.redact(f"{self.name} {what}: {failure.kind} ({failure.status or failure.reason}),"
                                        f" retrying in {pause:.2f}s"))
            self.sleep(pause)

    def _backoff(self, n: int) -> float:
        return self.retry.backoff * 2 ** (n - 1) * (1 + random.random() / 4)
