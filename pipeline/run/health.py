"""The daemon's health: what its runs did, and a tiny GET /health endpoint for container health checks."""

from __future__ import annotations

import json
import logging
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipeline.clock import Clock, utc_iso_seconds
from pipeline.errors import ConfigError
from pipeline.logs import REDACTOR

log = logging.getLogger(__name__)

# A burst of probes (many containers, a monitoring fan-out) waits in the kernel's accept queue instead of
# having its SYNs dropped and re-sent seconds later: socketserver's default queue is 5.
BACKLOG = 512
IDLE_SECONDS = 5.0  # a connection that sends nothing, or stalls mid-request, is closed after this long


@dataclass
class Snapshot:
    code: int  # 200 healthy, 503 not
    body: dict


class Health:
    """Thread-safe record of the daemon's runs; `snapshot` answers GET /health.

    Healthy (200) while the last successful full run is within `window`, or, before the first one,
    while the daemon is still starting (`starting` after it began). A refused or failed run is not a success.
    """

    def __init__(self, clock: Clock, *, window: timedelta, starting: timedelta) -> None:
        self.clock, self.window, self.starting = clock, window, starting
        self.started_at = clock.now()
        self.last_success_at: datetime | None = None
        self.last_run_at: datetime | None = None
        self.last_error: str | None = None
        self.last_refusal: str | None = None
        self.last_scope: str | None = None
        self.next_run_at: datetime | None = None
        self._lock = threading.Lock()

    def ran(self, scope: str, at: datetime, *, counts: bool, error: str | None = None,
            refusal: str | None = None) -> None:
        """Record a run that started at `at`; `counts`: a success that keeps the daemon healthy."""
        with self._lock:
            self.last_run_at, self.last_scope = at, scope
            self.last_error = None if error is None else REDACTOR.redact(" ".join(error.split()))[:300]
            self.last_refusal = None if refusal is None else REDACTOR.redact(" ".join(refusal.split()))[:300]
            if counts and error is None and refusal is None:
                self.last_success_at = at

    def scheduled(self, at: datetime) -> None:
        with self._lock:
            self.next_run_at = at

    def snapshot(self) -> Snapshot:
        now = self.clock.now()
        with self._lock:
            if self.last_success_at is not None:
                healthy = now - self.last_success_at <= self.window
            else:
                healthy = now - self.started_at <= self.starting
            if self.last_error is not None:
                status = "failing"
            elif healthy:
                status = "ok" if self.last_success_at is not None else "starting"
            else:
                status = "stale"
            success, run, nxt = (t and utc_iso_seconds(t) for t in (self.last_success_at, self.last_run_at,
                                                                    self.next_run_at))
            body = {"status": status, "last_success_at": success, "last_run_at": run, "last_error": self.last_error,
                    "last_refusal": self.last_refusal, "last_scope": self.last_scope, "next_run_at": nxt}
        return Snapshot(200 if healthy else 503, body)


class _Server(ThreadingHTTPServer):
    """One thread per connection, a real listen backlog, and quiet about clients that hang up."""

    request_queue_size = BACKLOG
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A probe that gave up before its answer (a broken pipe) is not worth a traceback on stderr.
        log.debug("health: a request from %s failed", client_address, exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


class HealthServer:
    """GET /health on the configured address only; every other request gets 404.

    idle_seconds: the socket timeout per connection, so a client that never sends cannot hold a thread.
    """

    def __init__(self, health: Health, bind: str, port: int, *, idle_seconds: float = IDLE_SECONDS) -> None:
        self.health, self.bind, self.port, self.idle_seconds = health, bind, port, idle_seconds
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "health server not started"
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"http://{host}:{self._httpd.server_address[1]}/health"

    def start(self) -> "HealthServer":
        health = self.health

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = self.idle_seconds  # StreamRequestHandler sets it on the connection's socket

            def log_message(self, *args: object) -> None:  # a probe every few seconds is not news
                pass

            def _answer(self, with_body: bool) -> None:
                if self.command in ("GET", "HEAD") and self.path.split("?")[0] == "/health":
                    snap = health.snapshot()
                    code, data = snap.code, json.dumps(snap.body).encode()
                else:
                    code, data = 404, b'{"error": "not found"}'
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                if with_body:
                    self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

            do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

        server_class = _Server6 if ":" in self.bind else _Server
        try:
            self._httpd = server_class((self.bind, self.port), Handler)
        except OSError as exc:
            raise ConfigError(f"daemon.health_port: cannot listen on {self.bind}:{self.port} ({exc.strerror}); "
                              "pick another port, or 0 for a free one") from None
        threading.Thread(target=self._httpd.serve_forever, name="health", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
