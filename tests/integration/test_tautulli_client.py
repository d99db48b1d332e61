"""TautulliClient over real loopback HTTP: answers, retries, and every failure as one clear line."""

import socket

import orjson
import pytest
from pydantic import SecretStr

from pipeline.errors import BadResponse, Unreachable
from pipeline.clients.tautulli import TautulliClient
from pipeline.sandbox.http import Request, Response, SandboxServer
from pipeline.settings import TautulliSettings

KEY = "0123456789abcdef0123456789abcdef"


def envelope(data=None, result="success", message=None) -> bytes:
    return orjson.dumps({"response": {"result": result, "message": message, "data": data}})


class Canned(SandboxServer):
    """Answers every request with `self.answer`; keeps the raw queries (key included) to check what was sent."""

    name = "canned-tautulli"

    def __init__(self) -> None:
        super().__init__()
        self.answer = Response(200, envelope({"ok": True}))
        self.raw: list[Request] = []

    def handle(self, request: Request) -> Response:
        self.raw.append(request)
        return self.answer


@pytest.fixture
def server():
    with Canned() as s:
        yield s


def client_for(url: str, retries: int = 2, timeout: float = 5.0, sleeps: list | None = None) -> TautulliClient:
    settings = TautulliSettings(url=url, api_key=SecretStr(KEY), retries=retries, timeout_seconds=timeout)
    return TautulliClient(settings, backoff_seconds=0.01, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def test_success_returns_data_with_the_key_in_the_query_and_gzip_asked(server):
    rows = [{"title": "x" * 50, "n": i} for i in range(100)]  # > 1 KB so the sandbox gzips it
    server.answer = Response(200, envelope({"data": rows}))
    client = client_for(server.url)
    assert client.call("get_history", start=0, length=100) == {"data": rows}
    sent = server.raw[-1]
    assert sent.path == "/api/v2" and sent.query["apikey"] == KEY and sent.query["cmd"] == "get_history"
    assert sent.query["length"] == "100" and "gzip" in sent.headers["accept-encoding"]
    assert client.requests == 1


def test_invalid_key_is_not_retried_and_says_what_to_fix(server):
    server.answer = Response(400, envelope(result="error", message="Invalid apikey"))
    client = client_for(server.url)
    with pytest.raises(BadResponse) as err:
        client.call("get_history")
    assert str(err.value) == "Tautulli get_history failed: Invalid apikey — check TAUTULLI_API_KEY"
    assert client.requests == 1


def test_an_error_result_fails_whatever_the_status(server):
    server.answer = Response(200, envelope(result="error", message="Unknown command: get_histroy. "
                                                                  "Possible commands are: a, b, c"))
    with pytest.raises(BadResponse, match=r"^Tautulli get_histroy failed: Unknown command: get_histroy — Marquee needs"):
        client_for(server.url).call("get_histroy")


def test_a_500_is_retried_then_succeeds(server):
    server.answer = Response(200, envelope([1, 2]))
    server.fail("status", status=500, times=1)
    sleeps: list = []
    client = client_for(server.url, sleeps=sleeps)
    assert client.call("get_users") == [1, 2]
    assert client.requests == 2 and len(sleeps) == 1


def test_a_persistent_500_gives_up_after_the_retries_with_backoff(server):
    server.answer = Response(500, envelope(result="error", message="Check the logs for errors"))
    sleeps: list = []
    client = client_for(server.url, retries=3, sleeps=sleeps)
    with pytest.raises(BadResponse) as err:
        client.call("get_history", start="abc")
    assert str(err.value).startswith("Tautulli get_history failed: Check the logs for errors (HTTP 500, 4 attempts)")
    assert client.requests == 4 and len(sleeps) == 3
    assert sleeps[0] < sleeps[1] < sleeps[2]  # exponential


def test_a_500_without_an_envelope(server):
    server.fail("status", status=503)
    with pytest.raises(BadResponse, match=r"^Tautulli get_history failed: HTTP 503 after 3 attempts; check that Tautulli is running"):
        client_for(server.url).call("get_history")


def test_a_404_page_points_at_the_url(server):
    server.answer = Response(404, b"<html>Not Found</html>", "text/html")
    client = client_for(server.url)
    with pytest.raises(BadResponse, match=r"HTTP 404; check TAUTULLI_URL"):
        client.call("get_history")
    assert client.requests == 1


def test_html_instead_of_json(server):
    server.answer = Response(200, b"<html>login</html>", "text/html")
    with pytest.raises(BadResponse, match=r"^Tautulli get_users answered with text/html, not JSON \(18 bytes\);"
                                          r" check TAUTULLI_URL"):
        client_for(server.url).call("get_users")


def test_truncated_json(server):
    server.answer = Response(200, envelope({"data": [{"id": i} for i in range(200)]}))
    server.fail("malformed")
    client = client_for(server.url)
    with pytest.raises(BadResponse, match=r"^Tautulli get_history answered with broken JSON \([\d,]+ bytes, cut off\?"):
        client.call("get_history")
    assert client.requests == 1


@pytest.mark.parametrize("body", [b'{"data": []}', b'[1, 2]', b'{"response": {"result": "success"}}', b'null'])
def test_a_wrong_envelope(server, body):
    server.answer = Response(200, body)
    with pytest.raises(BadResponse, match=r"^Tautulli get_history answered without the \{response: \{result, data\}\}"):
        client_for(server.url).call("get_history")


def test_a_dropped_connection_is_retried_then_unreachable(server):
    server.fail("down")
    client = client_for(server.url, retries=2)
    with pytest.raises(Unreachable) as err:
        client.call("get_history")
    assert str(err.value).startswith(f"Tautulli at {server.url} is not reachable (")
    assert "3 attempts" in str(err.value) and client.requests == 3
    assert len(server.requests_to("/api/v2")) == 3


def test_a_dropped_connection_then_recovery(server):
    server.answer = Response(200, envelope("ok"))
    server.fail("down", times=2)
    client = client_for(server.url, retries=2)
    assert client.call("arnold") == "ok" and client.requests == 3


def test_a_redirect_loop_is_a_bad_response(server):
    server.answer = Response(302, b"", headers={"Location": "/api/v2"})
    with pytest.raises(BadResponse, match=r"^Tautulli get_history request failed \(TooManyRedirects\)") as err:
        client_for(server.url).call("get_history")
    assert KEY not in str(err.value)


def test_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = client_for(f"http://127.0.0.1:{port}", retries=1)
    with pytest.raises(Unreachable, match=rf"^Tautulli at http://127.0.0.1:{port} is not reachable \(connection refused"):
        client.call("get_history")
    assert client.requests == 2


def test_a_read_timeout(server):
    server.fail("slow", delay=1.0)
    with pytest.raises(Unreachable, match=r"no answer within 0.2s"):
        client_for(server.url, retries=0, timeout=0.2).call("get_history")


@pytest.mark.parametrize("fault", ["down", "invalid", "500", "html"])
def test_no_message_ever_holds_the_key(server, fault):
    if fault == "down":
        server.fail("down")
    elif fault == "invalid":
        server.answer = Response(400, envelope(result="error", message=f"Invalid apikey {KEY} apikey={KEY}"))
    elif fault == "500":
        server.fail("status", status=500)
    else:
        server.answer = Response(200, f"<html>{KEY}</html>".encode(), "text/html")
    with pytest.raises((BadResponse, Unreachable)) as err:
        client_for(server.url).call("get_history")
    assert KEY not in str(err.value)
    assert err.value.__cause__ is None or KEY not in str(err.value.__cause__)
