"""A threaded loopback HTTP server with a request log and injectable faults, shared by every sandbox."""

from __future__ import annotations

import gzip
import itertools
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# Query parameters and headers that carry credentials are dropped from the request log.
_SECRET_KEYS = {"apikey", "x-plex-token", "x-api-key"}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


_ORDER = itertools.count()  # one sequence across every sandbox server in the process, to assert call order


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    seq: int = field(default_factory=lambda: next(_ORDER))


# What a reverse proxy with a sign-in in front of a server answers (Authelia, Organizr, a router's portal).
LOGIN_PAGE = (b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>'
              b'<meta name="viewport" content="width=device-width"></head><body><form method="post" action="/login">'
              b'<input name="username" autocomplete="username"><input type="password" name="password">'
              b'<button type="submit">Sign in</button></form></body></html>\n')


@dataclass
class Fault:
    """What the server does instead of answering: 'down' (drop the connection), 'status'
    (answer `status`, with a Retry-After header when `retry_after` is set), 'slow' (sleep `delay`
    first), 'malformed' (cut the body in half, with a matching length), 'truncated' (send half the
    body without a length, then close: the client sees a short body and no error), 'login' (a proxy's
    HTML sign-in page, 200)."""

    kind: str
    status: int = 500
    delay: float = 0.0
    retry_after: float | None = None
    path: str | None = None      # only requests whose path starts with this
    skip: int = 0                # let this many matching requests through first
    times: int | None = None     # then fail this many times (None: for ever)

    def applies(self, path: str) -> bool:
        if self.path is not None and not path.startswith(self.path):
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        if self.times is not None:
            if self.times <= 0:
                return False
            self.times -= 1
        return True


class SandboxServer:
    """Subclasses implement `handle(request) -> Response`; everything else is shared."""

    name = "sandbox"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- to implement ---------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- life cycle ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> "SandboxServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body waits for the client's delayed ACK.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                server._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        # shutdown() waits for the loop's next poll: the default 0.5 s made every stop cost half a second.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test helpers ------------------------------------------------------------------------------
    def fail(self, kind: str, **kw: object) -> Fault:
        fault = Fault(kind, **kw)  # type: ignore[arg-type]
        with self._lock:
            self.faults.append(fault)
        return fault

    def heal(self) -> None:
        with self._lock:
            self.faults.clear()

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests
                    if r.path.startswith(path_prefix) and (method is None or r.method == method)]

    # -- plumbing ----------------------------------------------------------------------------------------
    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if h.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded") and body:
            query.update(parse_qsl(body.decode(), keep_blank_values=True))
        request = Request(h.command, parts.path, query, {k.lower(): v for k, v in h.headers.items()}, body)
        with self._lock:
            self.requests.append(Request(
                request.method, request.path,
                {k: v for k, v in query.items() if k.lower() not in _SECRET_KEYS},
                {k: v for k, v in request.headers.items() if k not in _SECRET_KEYS},
                body))
            fault = next((f for f in self.faults if f.applies(parts.path)), None)

        if fault is not None and fault.kind == "down":
            h.close_connection = True
            h.connection.close()
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "status":
            wait = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            response = Response(fault.status, b"sandbox fault", "text/plain", wait)
        elif fault is not None and fault.kind == "login":
            response = Response(200, LOGIN_PAGE, "text/html; charset=utf-8")
        else:
            try:
                response = self.handle(request)
            except Exception as exc:  # a bug in a sandbox must show, not hang the client
                response = Response(500, f"sandbox error: {exc!r}".encode(), "text/plain")
        body = response.body
        if fault is not None and fault.kind in ("malformed", "truncated"):
            body = body[: len(body) // 2]
        if fault is not None and fault.kind == "truncated":  # the body ends where the connection does
            h.close_connection = True
            h.send_response(response.status)
            h.send_header("Content-Type", response.content_type)
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(body)
            return

        gzipped = "gzip" in h.headers.get("Accept-Encoding", "") and len(body) > 1024 and fault is None
        if gzipped:
            body = gzip.compress(body, compresslevel=1)
        h.send_response(response.status)
        h.send_header("Content-Type", response.content_type)
        h.send_header("Content-Length", str(len(body)))
        if gzipped:
            h.send_header("Content-Encoding", "gzip")
        for key, value in response.headers.items():
            h.send_header(key, value)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)
