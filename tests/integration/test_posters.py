"""Posters from the Plex sandbox over loopback: header token, cache hits, failures become placeholders."""

import io
import logging
import threading

import pytest
import requests
from PIL import Image

import pipeline.ingest.posters as images
from pipeline.sandbox.http import Response, SandboxServer
from pipeline.sandbox.plex import PlexSandbox
from pipeline.sandbox.seed import generate
from pipeline.settings import PlexSettings


class RecordingPlex(PlexSandbox):
    """Keeps each request as it arrived (the shared log drops credentials) and the peak concurrency."""

    def __init__(self, world, **kw):
        super().__init__(world, **kw)
        self.raw, self.in_flight, self.peak = [], 0, 0
        self._count = threading.Lock()
        self.redirect_to: str | None = None

    def handle(self, request):
        with self._count:
            self.raw.append(request)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            if self.redirect_to:
                return Response(302, b"", "text/plain", {"Location": self.redirect_to + request.path})
            threading.Event().wait(0.02)  # keep requests overlapping so the pool's bound is what limits them
            return super().handle(request)
        finally:
            with self._count:
                self.in_flight -= 1


class Elsewhere(SandboxServer):
    name = "elsewhere"

    def handle(self, request):
        return Response(200, b"", "image/jpeg")


@pytest.fixture(scope="module")
def world():
    return generate(seed=1)


@pytest.fixture
def pms(world):
    with RecordingPlex(world) as server:
        yield server


def plex_for(server, world, token=None):
    return PlexSettings(url=server.url, token=token or world.owner_token, timeout_seconds=5)


def movies(world, n):
    return [{"rating_key": i.rating_key, "thumb": i.thumb}
            for i in sorted(world.items.values(), key=lambda i: i.rating_key) if i.type == "movie"][:n]


def thumb_requests(server):
    return server.requests_to("/library/metadata/", "GET")


def test_token_goes_in_the_header_never_the_url(pms, world, tmp_path):
    got = images.fetch_posters(movies(world, 3), plex_for(pms, world), tmp_path)
    assert len(got) == 3
    assert len(pms.raw) == 3
    for req in pms.raw:
        assert req.headers["x-plex-token"] == world.owner_token
        assert not any(k.lower() == "x-plex-token" for k in req.query)
        assert world.owner_token not in req.path


def test_files_are_resized_and_identical_across_caches(pms, world, tmp_path):
    items = movies(world, 4)
    a = images.fetch_posters(items, plex_for(pms, world), tmp_path / "a")
    b = images.fetch_posters(items, plex_for(pms, world), tmp_path / "b")
    for rk, poster in a.items():
        assert (poster.width, poster.height) == (200, 300)  # the sandbox serves 200x300
        assert Image.open(poster.files[400]).size == (400, 600)
        assert poster.files[200].parent == tmp_path / "a"
        thumb = next(i["thumb"] for i in items if i["rating_key"] == rk)
        assert poster.files[200].name == images.poster_name(rk, thumb, 200)
        assert {w: p.read_bytes() for w, p in poster.files.items()} == \
            {w: p.read_bytes() for w, p in b[rk].files.items()}


def test_cached_posters_are_not_requested_again(pms, world, tmp_path):
    items = movies(world, 6)
    first = images.fetch_posters(items[:4], plex_for(pms, world), tmp_path)
    assert len(thumb_requests(pms)) == 4
    pms.clear_log()
    again = images.fetch_posters(items, plex_for(pms, world), tmp_path)
    assert len(thumb_requests(pms)) == 2  # only the two new ones
    assert {rk: again[rk] for rk in first} == first
    pms.clear_log()
    images.fetch_posters(items, plex_for(pms, world), tmp_path)
    assert thumb_requests(pms) == []


def test_a_new_thumb_is_fetched_again(pms, world, tmp_path):
    item = movies(world, 1)[0]
    images.fetch_posters([item], plex_for(pms, world), tmp_path)
    moved = {**item, "thumb": item["thumb"] + "1"}  # Plex bumps the timestamp when the poster changes
    pms.clear_log()
    got = images.fetch_posters([moved], plex_for(pms, world), tmp_path)
    assert len(thumb_requests(pms)) == 1 and got[item["rating_key"]].files[200].is_file()


def test_missing_poster_falls_back_with_one_safe_warning(pms, world, tmp_path, caplog):
    items = movies(world, 2) + [{"rating_key": 999_999, "thumb": "/library/metadata/999999/thumb/1"}]
    with caplog.at_level(logging.DEBUG, logger="pipeline"):
        got = images.fetch_posters(items, plex_for(pms, world), tmp_path)
    assert sorted(got) == sorted(i["rating_key"] for i in items[:2])
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["posters: 1 of 3 unavailable (not found ×1); the pages show placeholders"]
    assert not any(world.owner_token in r.getMessage() or pms.url in r.getMessage() for r in caplog.records)


def test_plex_down_gives_placeholders_and_stops_asking(pms, world, tmp_path, caplog):
    pms.fail("down")
    with caplog.at_level(logging.WARNING):
        got = images.fetch_posters(movies(world, 12), plex_for(pms, world), tmp_path, workers=1)
    assert got == {}
    assert len(thumb_requests(pms)) == 1  # the first failure stops the rest
    assert [r.getMessage() for r in caplog.records] == [
        "posters: 12 of 12 unavailable (Plex unreachable ×12); the pages show placeholders"]


def test_stopped_server_is_not_a_crash(world, tmp_path, caplog):
    server = RecordingPlex(world).start()
    plex = plex_for(server, world)
    server.stop()
    with caplog.at_level(logging.WARNING):
        assert images.fetch_posters(movies(world, 3), plex, tmp_path) == {}
    assert "Plex unreachable ×3" in caplog.records[0].getMessage()
    assert world.owner_token not in caplog.text


def test_wrong_token_is_reported_once_without_the_token(pms, world, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        got = images.fetch_posters(movies(world, 5), plex_for(pms, world, "wrongToken-abcdef"), tmp_path, workers=1)
    assert got == {} and len(thumb_requests(pms)) == 1
    assert caplog.records[0].getMessage() == \
        "posters: 5 of 5 unavailable (Plex refused the token (401) ×5); the pages show placeholders"
    assert "wrongToken" not in caplog.text


def test_server_errors_and_garbage_are_placeholders(pms, world, tmp_path, caplog):
    items = movies(world, 3)
    pms.fail("status", status=500, path=f"/library/metadata/{items[0]['rating_key']}/")
    pms.fail("malformed", path=f"/library/metadata/{items[1]['rating_key']}/")
    with caplog.at_level(logging.WARNING):
        got = images.fetch_posters(items, plex_for(pms, world), tmp_path)
    assert list(got) == [items[2]["rating_key"]]
    assert "HTTP 500 ×1" in caplog.text and "not an image ×1" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(got[items[2]["rating_key"]].files[w].name
                                                               for w in images.WIDTHS)


def test_redirects_are_not_followed_so_the_token_stays_home(pms, world, tmp_path):
    with Elsewhere() as other:
        pms.redirect_to = other.url
        assert images.fetch_posters(movies(world, 2), plex_for(pms, world), tmp_path) == {}
        assert other.requests == []


def test_concurrency_is_bounded(pms, world, tmp_path):
    got = images.fetch_posters(movies(world, 24), plex_for(pms, world), tmp_path, workers=3)
    assert len(got) == 24
    assert pms.peak <= 3


def test_output_holds_neither_the_plex_url_nor_the_token(pms, world, tmp_path):
    got = images.fetch_posters(movies(world, 8), plex_for(pms, world), tmp_path / "cache")
    site = tmp_path / "output"
    images.copy_posters(got.values(), site)
    files = list(site.rglob("*"))
    assert len([f for f in files if f.is_file()]) == 16
    host = pms.url.split("//", 1)[1].encode()
    for f in files:
        if f.is_file():
            data = f.read_bytes()
            assert world.owner_token.encode() not in data and host not in data and b"X-Plex" not in data
            assert Image.open(io.BytesIO(data)).format == "JPEG"
        assert world.owner_token not in str(f) and "library" not in str(f.relative_to(site))


def test_a_caller_session_is_used_and_left_open(pms, world, tmp_path):
    session = requests.Session()
    seen = []
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request))
    images.fetch_posters(movies(world, 2), plex_for(pms, world), tmp_path, session=session)
    assert len(seen) == 2 and all(world.owner_token not in r.url for r in seen)
    session.get(pms.url + "/identity", headers={"X-Plex-Token": world.owner_token}).raise_for_status()


def test_oversized_answers_are_not_read_to_the_end(pms, world, tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(images, "MAX_BYTES", 100)  # the sandbox's posters are a few KB
    with caplog.at_level(logging.WARNING):
        assert images.fetch_posters(movies(world, 2), plex_for(pms, world), tmp_path) == {}
    assert "too large ×2" in caplog.text
    assert list(tmp_path.iterdir()) == []
