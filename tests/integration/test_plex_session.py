"""make_session / connect: the plex.tv redirect, autoreload off, and errors that say what to fix."""

from __future__ import annotations

import plexapi
import pytest
import requests
from plexapi.myplex import MyPlexAccount
from plexapi.server import PlexServer

from pipeline.errors import BadResponse, ConfigError, Unreachable
from pipeline.clients.plex import connect, connect_account, disable_autoreload, make_session, plex_errors
from pipeline.sandbox.seed import generate
from pipeline.settings import PlexSettings


@pytest.fixture
def world():
    return generate(seed=2, users=24, plays=200)


@pytest.fixture
def settings(world, pms, plextv):
    return PlexSettings(url=pms.url, token=world.owner_token, plextv_url=plextv.url, timeout_seconds=5)


def test_autoreload_off_reads_missing_attributes_without_a_request(settings, pms):
    server, _ = connect(settings)
    movie = server.library.sectionByID(1).all()[5]
    assert movie.isPartialObject()
    pms.clear_log()
    assert movie.studio is None and movie.tagline is None and movie.contentRating is None
    assert pms.requests == []


def test_autoreload_left_on_would_fetch_the_item(settings, pms, monkeypatch):
    """The control for the test above: plexapi's default really does issue the hidden GET."""
    server, _ = connect(settings)
    monkeypatch.setitem(plexapi.CONFIG.data["plexapi"], "autoreload", "true")
    movie = server.library.sectionByID(1).all()[5]
    pms.clear_log()
    assert movie.studio is None
    assert [r.path for r in pms.requests] == [f"/library/metadata/{movie.ratingKey}"]


def test_autoreload_forced_on_by_the_environment_is_refused(monkeypatch):
    monkeypatch.setenv("PLEXAPI_PLEXAPI_AUTORELOAD", "true")
    with pytest.raises(ConfigError, match="PLEXAPI_PLEXAPI_AUTORELOAD"):
        disable_autoreload()


def test_wrong_token_is_a_bad_response_without_the_token(pms, plextv):
    bad = "wrongToken-1234567890"
    with pytest.raises(BadResponse, match=r"^Plex rejected the token \(401\); check PLEX_TOKEN$") as caught:
        connect(PlexSettings(url=pms.url, token=bad, plextv_url=plextv.url))
    assert bad not in str(caught.value)


def test_plextv_rejecting_the_token(pms, plextv):
    with pytest.raises(BadResponse, match=r"^plex.tv rejected the token \(401\); check PLEX_TOKEN$"):
        connect_account(PlexSettings(url=pms.url, token="notTheOwnersToken", plextv_url=plextv.url))


def test_stopped_server_is_unreachable(settings, pms, world):
    url = pms.url
    pms.stop()
    with pytest.raises(Unreachable, match=rf"^Plex at {url} is not reachable: connection refused$") as caught:
        connect(settings)
    assert world.owner_token not in str(caught.value)


def test_stopped_plextv_is_unreachable(settings, plextv):
    url = plextv.url
    plextv.stop()
    with pytest.raises(Unreachable, match=rf"^plex.tv at {url} is not reachable: connection refused$"):
        connect(settings)


def test_server_error_is_a_bad_response(settings, pms, world):
    pms.fail("status", status=500)
    with pytest.raises(BadResponse, match=r"^Plex at .* answered 500 internal_server_error") as caught:
        connect(settings)
    assert world.owner_token not in str(caught.value)


def test_errors_after_connecting_map_the_same_way(settings, pms):
    server, _ = connect(settings)
    pms.fail("status", status=503, path="/library/sections")
    with pytest.raises(BadResponse, match="answered 503"):
        with plex_errors("Plex", settings.url, settings.token.get_secret_value()):
            server.library.sections()


def test_slow_server_times_out_as_unreachable(world, pms, plextv):
    pms.fail("slow", delay=1.5, times=1)
    with pytest.raises(Unreachable, match="is not reachable: timed out$"):
        connect(PlexSettings(url=pms.url, token=world.owner_token, plextv_url=plextv.url, timeout_seconds=0.5))


def test_dropped_connection_and_malformed_xml(settings, pms, world):
    pms.fail("down", times=1)
    with pytest.raises(Unreachable, match="not reachable"):
        connect(settings)
    pms.fail("malformed", times=1)
    with pytest.raises(BadResponse, match="cannot be parsed|cut off"):
        connect(settings)
    assert connect(settings)[0].friendlyName == world.server_name


def test_session_rewrites_plextv_keeping_path_query_and_headers(settings, plextv, world):
    session = make_session(settings)
    response = session.get("https://plex.tv/api/users/?a=1&b=%C3%A9",
                           headers={"X-Plex-Token": world.owner_token, "X-Test": "kept"})
    assert response.status_code == 200
    seen = plextv.requests[-1]
    assert (seen.path, seen.query, seen.headers["x-test"]) == ("/api/users/", {"a": "1", "b": "é"}, "kept")


def test_default_session_leaves_plextv_alone():
    session = make_session(PlexSettings(url="http://127.0.0.1:32400", token="x" * 20))
    assert type(session.get_adapter("https://plex.tv/api/v2/user")) is requests.adapters.HTTPAdapter
    assert session.verify is True


def test_verify_tls_off_applies_to_the_server_only():
    session = make_session(PlexSettings(url="https://10.0.0.5:32400", token="x" * 20, verify_tls=False))
    assert type(session.get_adapter("https://10.0.0.5:32400/library")).__name__ == "_Unverified"
    assert type(session.get_adapter("https://plex.tv/api/v2/user")) is requests.adapters.HTTPAdapter


def test_no_token_in_debug_logs(settings, world, caplog):
    caplog.set_level("DEBUG")
    server, account = connect(settings)
    server.library.sectionByID(1).all()
    account.users()
    assert caplog.records and world.owner_token not in caplog.text


def test_plain_plexapi_with_only_the_redirect_also_works(world, pms, plextv):
    """No Marquee code in the loop beyond the adapter: the sandboxes speak what plexapi expects."""
    redirect = make_session(PlexSettings(url=pms.url, token=world.owner_token, plextv_url=plextv.url))
    session = requests.Session()
    session.mount("https://plex.tv/", redirect.get_adapter("https://plex.tv/"))
    server = PlexServer(pms.url, world.owner_token, session=session)
    account = MyPlexAccount(token=world.owner_token, session=session)
    assert server.friendlyName == world.server_name and account.username == world.owner.username
    assert server.myPlexAccount().id == account.id



class _Hop:
    """A loopback server that redirects every path to `target` + "/landed" + path (and answers /landed... with
    404), keeping the headers of each request it was sent. target="" answers everything with 404."""

    def __init__(self, target: str | None = None) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        hop = self
        self.seen: list[tuple[str, dict]] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                hop.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                bounce = hop.target is not None and not self.path.startswith("/landed")
                self.send_response(302 if bounce else 404)
                if bounce:
                    self.send_header("Location", f"{hop.target}/landed{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.target = self.url if target == "self" else target
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_redirect_to_another_port_carries_no_token(world, plextv):
    """plexapi follows redirects; a PMS URL that bounces elsewhere must not hand the owner's token over."""
    elsewhere = _Hop()
    bouncer = _Hop(target=elsewhere.url)
    try:
        with pytest.raises(BadResponse):
            connect(PlexSettings(url=bouncer.url, token=world.owner_token, plextv_url=plextv.url, timeout_seconds=5))
        assert bouncer.seen[0][1].get("x-plex-token") == world.owner_token
        assert elsewhere.seen and elsewhere.seen[0][0].startswith("/landed"), "the redirect was followed"
        assert all("x-plex-token" not in headers for _, headers in elsewhere.seen)
    finally:
        bouncer.close()
        elsewhere.close()


def test_a_redirect_on_the_same_server_keeps_the_token(world, plextv):
    """The control: a same-origin redirect (a reverse proxy adding a path, say) still carries the token."""
    hop = _Hop(target="self")
    try:
        with pytest.raises(BadResponse):
            connect(PlexSettings(url=hop.url, token=world.owner_token, plextv_url=plextv.url, timeout_seconds=5))
        landed = [headers for path, headers in hop.seen if path.startswith("/landed")]
        assert landed and all(headers.get("x-plex-token") == world.owner_token for headers in landed)
    finally:
        hop.close()
