"""The shared HTTP layer against a scripted loopback server: status -> error, retries, Retry-After, cut-off
bodies, redirects, headers, and no secret in any error."""

from __future__ import annotations

import json
import logging
import socket
import threading
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline import __version__
from pipeline.clients.http import HttpClient, Retry, USER_AGENT
from pipeline.errors import BadResponse, SourceError, Unreachable

SECRET = "s3cret-Token-0123456789abcdef"
BODY = json.dumps({"rows": [{"n": i, "title": "x" * 40} for i in range(60)]}).encode()


def raw(status: int, body: bytes = b"", headers: dict | None = None, *, length: int | None = None,
        close: bool = False, chunked_cut: bool = False) -> tuple[bytes, bool]:
    """One whole HTTP/1.1 answer as bytes, and whether the server closes the connection after it.

    length: the Content-Length to announce (default: the body's); close: announce no length and end the
    body by closing; chunked_cut: send the body as one chunk and close before the last one.
    """
    head = [f"HTTP/1.1 {status} Scripted"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    if chunked_cut:
        head.append("Transfer-Encoding: chunked")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + b"%x\r\n" % len(body) + body + b"\r\n", True
    if close:
        head.append("Connection: close")
    else:
        head.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body, close or (length is not None and length != len(body))


def ok(body: bytes = BODY, **kw) -> tuple[bytes, bool]:
    return raw(200, body, {"Content-Type": "application/json"}, **kw)


class Scripted:
    """Answers each request with the next planned answer (the last one repeats); keeps what it was sent."""

    def __init__(self) -> None:
        self.plan: list[tuple[bytes, bool]] = [ok()]
        self.seen: list[dict] = []
        self.release = threading.Event()  # a "hang" answer waits for this
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.seen.append({"method": self.command, "path": self.path, "body": body,
                                    "headers": {k.lower(): v for k, v in self.headers.items()}})
                answer, close = server.plan.pop(0) if len(server.plan) > 1 else server.plan[0]
                if answer == b"hang":
                    server.release.wait(10)
                    return
                self.wfile.write(answer)
                self.wfile.flush()
                if close:
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Scripted()
    yield s
    s.stop()


def client(url: str, sleeps: list | None = None, **kw) -> HttpClient:
    options = dict(timeout=5.0, url_setting="APP_URL", key_setting="APP_API_KEY", headers={"X-Api-Key": SECRET},
                   params={"apikey": SECRET}, secrets=[SECRET], retry=Retry(2, 0.1, rate_limit_waits=2),
                   sleep=(sleeps.append if sleeps is not None else lambda s: None))
    return HttpClient("App", url, **{**options, **kw})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- what is sent ---------------------------------------------------------------------------------------------
def test_marquee_names_itself_and_keys_travel_per_request_only(server):
    http = client(server.url)
    assert http.json("GET", "/api/items", what="GET /api/items", params={"page": "2"}) == json.loads(BODY)
    sent = server.seen[0]
    assert sent["headers"]["user-agent"] == USER_AGENT == f"Marquee/{__version__}"
    assert sent["headers"]["x-api-key"] == SECRET and sent["path"] == f"/api/items?apikey={SECRET}&page=2"
    assert "X-Api-Key" not in http.session.headers and http.requests == 1


def test_a_redirect_is_not_followed_unless_the_client_asks(server):
    server.plan = [raw(302, headers={"Location": "/elsewhere"}), ok()]
    pattern = r"^App at http://127\.0\.0\.1:\d+ redirected GET / \(HTTP 302\); check APP_URL$"
    with pytest.raises(BadResponse, match=pattern) as caught:
        client(server.url).json("GET", "/", what="GET /")
    assert caught.value.kind == "redirect" and len(server.seen) == 1
    server.plan = [raw(302, headers={"Location": "/elsewhere"}), ok()]
    assert client(server.url, follow_redirects=True).json("GET", "/", what="GET /") == json.loads(BODY)
    assert server.seen[-1]["path"] == "/elsewhere"


# -- status -> error ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status, kind, error, attempts", [
    (400, "client", BadResponse, 1), (401, "refused", BadResponse, 1), (403, "refused", BadResponse, 1),
    (404, "not_found", BadResponse, 1), (418, "client", BadResponse, 1), (500, "server", BadResponse, 3),
    (503, "server", BadResponse, 3), (429, "rate_limited", BadResponse, 3),
])
def test_each_status_is_one_kind_of_error(server, status, kind, error, attempts):
    server.plan = [raw(status, json.dumps({"message": "the app's own words"}).encode(),
                       {"Content-Type": "application/json"})]
    with pytest.raises(SourceError) as caught:
        client(server.url).json("GET", "/x", what="GET /x")
    assert type(caught.value) is error and caught.value.kind == kind and caught.value.status == status
    assert len(server.seen) == attempts
    assert "\n" not in str(caught.value)


def test_the_apps_own_message_and_the_fix_are_named(server):
    server.plan = [raw(401, json.dumps({"message": "Unauthorized"}).encode())]
    with pytest.raises(BadResponse, match=r"^App refused GET /x \(HTTP 401: Unauthorized\); check APP_API_KEY$"):
        client(server.url).json("GET", "/x", what="GET /x")
    server.plan = [raw(400, json.dumps([{"errorMessage": "'Title' must not be empty"}]).encode())]
    with pytest.raises(BadResponse, match=r"^App answered HTTP 400 to POST /x: 'Title' must not be empty$"):
        client(server.url).json("POST", "/x", what="POST /x", json={})


def test_a_404_may_mean_already_gone_and_an_empty_body_may_mean_nothing(server):
    server.plan = [raw(404, b"gone"), raw(200, b"")]
    http = client(server.url)
    assert http.json("DELETE", "/file/1", what="DELETE /file/1", gone_ok=True) is None
    assert http.json("PUT", "/x", what="PUT /x", empty_ok=True) is None


@pytest.mark.parametrize("answer, kind, text", [
    (raw(200, b"<!DOCTYPE html><html><head><title>Sign in &amp; go</title></head><body><form>"
              b"<input type='password' name='p'></form></body></html>", {"Content-Type": "text/html"}),
     "login", "App at http://127.0.0.1:{port} answered GET /x with a sign-in page ('Sign in & go'), not App's API;"
              " check APP_URL points at App itself, not at a proxy's sign-in page"),
    (raw(200, b"<html><title>Welcome to nginx!</title></html>", {"Content-Type": "text/html"}),
     "html", "App at http://127.0.0.1:{port} answered GET /x with an HTML page ('Welcome to nginx!'), not App's API;"
             " check APP_URL"),
    (raw(200, b"hello", {"Content-Type": "text/plain"}), "not_json",
     "App answered GET /x with text/plain, not JSON (5 bytes); check APP_URL"),
    (ok(BODY[:-9]), "broken_json", "App answered GET /x with broken JSON"),
])
def test_a_body_that_is_not_the_api_says_what_it_is_and_is_not_retried(server, answer, kind, text):
    server.plan = [answer]
    with pytest.raises(BadResponse) as caught:
        client(server.url).json("GET", "/x", what="GET /x")
    assert caught.value.kind == kind and len(server.seen) == 1
    assert str(caught.value).startswith(text.format(port=server.url.rsplit(":", 1)[1]))


# -- retries --------------------------------------------------------------------------------------------------------
def test_a_5xx_is_retried_with_growing_jittered_pauses(server):
    sleeps: list = []
    server.plan = [raw(503), raw(502), ok()]
    http = client(server.url, sleeps)
    assert http.json("GET", "/x", what="GET /x") == json.loads(BODY)
    assert http.requests == 3 and len(sleeps) == 2
    assert 0.1 <= sleeps[0] <= 0.125 and 0.2 <= sleeps[1] <= 0.25


def test_retries_are_bounded_and_counted_in_the_message(server):
    sleeps: list = []
    server.plan = [raw(500)]
    with pytest.raises(BadResponse, match=r"^App answered HTTP 500 to GET /x, 3 attempts$"):
        client(server.url, sleeps).json("GET", "/x", what="GET /x")
    assert len(server.seen) == 3 and len(sleeps) == 2


def test_no_retry_budget_means_one_request(server):
    server.plan = [raw(500)]
    with pytest.raises(BadResponse):
        client(server.url, retry=Retry()).json("GET", "/x", what="GET /x")
    assert len(server.seen) == 1


def test_a_refused_connection_is_retried_then_unreachable():
    sleeps: list = []
    port = free_port()
    with pytest.raises(Unreachable, match=rf"^App at http://127\.0\.0\.1:{port} is not reachable \(GET /x: "
                                          r"connection refused, 3 attempts\); check APP_URL and that App is running$"):
        client(f"http://127.0.0.1:{port}", sleeps).json("GET", "/x", what="GET /x")
    assert len(sleeps) == 2


def test_a_server_that_never_answers_times_out_as_unreachable(server):
    server.plan = [(b"hang", False)]
    with pytest.raises(Unreachable, match=r"\(GET /x: no answer within 0\.2s\)") as caught:
        client(server.url, timeout=0.2, retry=Retry()).json("GET", "/x", what="GET /x")
    assert caught.value.kind == "timeout"


@pytest.mark.parametrize("cut", [
    ok(BODY[: len(BODY) // 2], length=len(BODY)),   # fewer bytes than Content-Length (IncompleteRead)
    ok(BODY[: len(BODY) // 2], close=True),         # no length: the close ends a short body without an error
    ok(BODY[: len(BODY) // 2], chunked_cut=True),   # chunks that stop before the last one
], ids=["content-length", "close-delimited", "chunked"])
def test_a_body_cut_off_once_is_fetched_again(server, cut):
    sleeps: list = []
    server.plan = [cut, ok()]
    http = client(server.url, sleeps)
    assert http.json("GET", "/x", what="GET /x") == json.loads(BODY)
    assert http.requests == 2 and len(sleeps) == 1


def test_a_body_cut_off_every_time_gives_up(server):
    server.plan = [ok(BODY[:100], close=True)]
    with pytest.raises(BadResponse, match=r"^App cut its answer to GET /x short \(3 attempts\)") as caught:
        client(server.url).json("GET", "/x", what="GET /x")
    assert caught.value.kind == "cut_off"


# -- 429 and Retry-After -----------------------------------------------------------------------------------------------
def test_a_429_waits_what_retry_after_says(server):
    sleeps: list = []
    server.plan = [raw(429, headers={"Retry-After": "7"}), ok()]
    assert client(server.url, sleeps).json("GET", "/x", what="GET /x") == json.loads(BODY)
    assert sleeps == [7.0]


def test_retry_after_may_be_an_http_date(server):
    sleeps: list = []
    when = datetime.now(timezone.utc) + timedelta(seconds=20)
    server.plan = [raw(429, headers={"Retry-After": format_datetime(when, usegmt=True)}), ok()]
    client(server.url, sleeps).json("GET", "/x", what="GET /x")
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 20


def test_a_429_without_retry_after_backs_off(server):
    sleeps: list = []
    server.plan = [raw(429), ok()]
    client(server.url, sleeps).json("GET", "/x", what="GET /x")
    assert len(sleeps) == 1 and 0.1 <= sleeps[0] <= 0.125


def test_a_429_asking_too_long_gives_up_without_waiting(server):
    sleeps: list = []
    server.plan = [raw(429, headers={"Retry-After": "3600"})]
    with pytest.raises(BadResponse, match=r"^App rate-limited GET /x \(HTTP 429, asked to wait 3600s\); "
                                          r"try again later$"):
        client(server.url, sleeps, retry=Retry(2, 0.1, rate_limit_waits=2, max_retry_after=60)).json(
            "GET", "/x", what="GET /x")
    assert sleeps == [] and len(server.seen) == 1


def test_429s_have_their_own_budget(server):
    sleeps: list = []
    server.plan = [raw(429, headers={"Retry-After": "1"})]
    with pytest.raises(BadResponse, match=r"HTTP 429, 3 attempts, asked to wait 1s"):
        client(server.url, sleeps, retry=Retry(0, 0.1, rate_limit_waits=2)).json("GET", "/x", what="GET /x")
    assert sleeps == [1.0, 1.0]


# -- redaction ---------------------------------------------------------------------------------------------------
ECHOES = {
    "client": raw(400, json.dumps({"message": f"bad key {SECRET} apikey={SECRET}"}).encode()),
    "server": raw(500, json.dumps({"message": f"X-Api-Key: {SECRET}"}).encode()),
    "login": raw(200, f"<html><title>{SECRET}</title><input type=password></html>".encode(),
                 {"Content-Type": "text/html"}),
    "not_json": raw(200, SECRET.encode(), {"Content-Type": f"text/{SECRET}"}),
    "redirect": raw(302, headers={"Location": f"/login?next={SECRET}"}),
    "rate_limited": raw(429, json.dumps({"message": SECRET}).encode()),
    "cut_off": ok(f'{{"key": "{SECRET}", "rows": ['.encode(), close=True),
}


@pytest.mark.parametrize("kind", sorted(ECHOES) + ["unreachable"])
def test_no_error_ever_shows_a_secret(server, kind, caplog):
    caplog.set_level(logging.DEBUG, logger="pipeline")
    url = f"http://user:{SECRET}@127.0.0.1:{free_port()}" if kind == "unreachable" else \
        server.url.replace("http://", f"http://user:{SECRET}@") + f"/{SECRET}"
    server.plan = [ECHOES.get(kind, ok())]
    with pytest.raises(SourceError) as caught:
        client(url).json("GET", f"/x?token={SECRET}", what=f"GET /x/{SECRET}")
    assert caught.value.kind == kind
    message = str(caught.value)
    assert SECRET not in message and "[redacted]" in message
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert SECRET not in caplog.text
