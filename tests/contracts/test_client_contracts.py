"""Every route Marquee's Sonarr, Radarr and Seerr clients call, driven through the clients themselves against the
sandboxes: what Marquee sends and what it gets back (PUT, POST and DELETE answers included) is valid against the
upstream spec, and no route in the clients' source goes unchecked."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

from pipeline.clients.arr import RadarrClient, SonarrClient
from pipeline.clients.seerr import SeerrClient
from pipeline.sandbox.arr import RadarrSandbox, SonarrSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.seerr import SeerrSandbox
from pipeline.settings import ArrSettings, SeerrSettings
from tests.fixtures.openapi import spec

CLIENTS = Path(__file__).parents[2] / "pipeline" / "clients"
BASE = {"sonarr": "/api/v3", "radarr": "/api/v3", "seerr": "/api/v1"}
# The spec documents these answers without a body (the apps return IActionResult), yet Sonarr's and Radarr's
# controllers answer Accepted(resources): the resources their own schemas describe.
UNDOCUMENTED = {("sonarr", "PUT", "/api/v3/episode/monitor"): "EpisodeResource",
                ("sonarr", "PUT", "/api/v3/series/editor"): "SeriesResource",
                ("radarr", "PUT", "/api/v3/movie/editor"): "MovieResource"}


class Recording(requests.Session):
    """A real session that keeps each exchange: (method, URL, JSON sent, response)."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[tuple[str, str, object, requests.Response]] = []

    def request(self, method, url, **kw):  # noqa: D102 (requests' own signature)
        response = super().request(method, url, **kw)
        self.exchanges.append((method, url, kw.get("json"), response))
        return response


def used_routes() -> set[tuple[str, str, str]]:
    """(app, method, route) for every call written in the clients' source, ids as {…}."""
    out = set()
    for app, name in (("arr", "arr.py"), ("seerr", "seerr.py")):
        text = (CLIENTS / name).read_text()
        for method, route in re.findall(r'_(?:call|list)\("(GET|PUT|POST|DELETE)", f?"([^"]+)"', text):
            out.add((app, method, re.sub(r"\{[^}]+\}", "{}", route)))
        out |= {(app, "GET", route) for route in re.findall(r'_pages\("([^"]+)"', text)}
    return out


def spec_route(app: str, method: str, path: str) -> str:
    """The spec's path template for a request path, e.g. /api/v3/episodefile/{id}."""
    wanted = path if app != "seerr" else path.removeprefix("/api/v1")
    # literal routes first: /episode/monitor is not /episode/{id}
    for template, ops in sorted(spec(app)["paths"].items(), key=lambda kv: kv[0].count("{")):
        if method.lower() in ops and re.fullmatch(re.sub(r"\{[^}]+\}", r"[^/]+", template), wanted):
            return template
    raise AssertionError(f"{app} {method} {path}: no such route in the spec")


def schema_of(app: str, node: dict) -> dict:
    return {**node, "components": spec(app)["components"]}


def check(app: str, method: str, route: str, sent, response: requests.Response) -> None:
    op = spec(app)["paths"][route][method.lower()]
    if sent is not None:
        body = (op.get("requestBody") or {}).get("content", {})
        media = body.get("application/json") or next(iter(body.values()))
        OAS30WriteValidator(schema_of(app, media["schema"])).validate(sent)
    assert 200 <= response.status_code < 300, (app, method, route, response.status_code)
    answers = op["responses"]
    answer = answers.get(str(response.status_code)) or answers.get("200") or answers["default"]
    content = answer.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    if media is not None:
        OAS30ReadValidator(schema_of(app, media["schema"])).validate(response.json())
    elif (app, method, route) in UNDOCUMENTED:
        item = {"$ref": f"#/components/schemas/{UNDOCUMENTED[app, method, route]}"}
        OAS30ReadValidator(schema_of(app, {"type": "array", "items": item})).validate(response.json())
    else:
        assert response.content == b"", f"{app} {method} {route}: the spec gives no body, the sandbox sent one"


@pytest.fixture(scope="module")
def exchanges():
    """Drive every client method once (as a deletion, an ingest and a health check do), recording each exchange."""
    world = generate(seed=1)
    now = datetime.fromtimestamp(world.now, timezone.utc)
    sessions = {app: Recording() for app in ("sonarr", "radarr", "seerr")}
    with SonarrSandbox(world, upcoming=True) as sonarr_sb, RadarrSandbox(world, upcoming=True) as radarr_sb, \
            SeerrSandbox(world) as seerr_sb:
        def arr(sb):
            return ArrSettings(url=sb.url, api_key=sb.api_key, timeout_seconds=5)

        sonarr = SonarrClient(arr(sonarr_sb), session=sessions["sonarr"])
        sonarr.health()
        show = next(rk for rk in sorted(world.items) if sonarr_sb.series_for(rk))
        episode = next(e for e in world.leaves(show) if e.file)
        target = sonarr.find_episode(tvdb_id=episode.tvdb_id, show_tvdb_id=world.items[show].tvdb_id,
                                     season=episode.parent_index, episode=episode.index)
        sonarr.unmonitor(target)
        sonarr.delete_file(target)
        assert sonarr.calendar(now, now + timedelta(days=30))
        series = sonarr.find_series(world.items[show].tvdb_id)
        sonarr.unmonitor_series(series["id"])
        sonarr.add_series_exclusion(series["tvdbId"], series["title"])
        sonarr.add_series_exclusion(series["tvdbId"], series["title"])  # a repeat: 400, taken as done

        radarr = RadarrClient(arr(radarr_sb), session=sessions["radarr"])
        radarr.health()
        movie = next(world.items[rk] for rk in sorted(world.items) if radarr_sb.movie_for(rk))
        target = radarr.find_movie(tmdb_id=movie.tmdb_id, imdb_id=None)
        radarr.find_movie(tmdb_id=None, imdb_id=movie.imdb_id)  # the full listing, then movie/{id}
        radarr.unmonitor(target)
        radarr.delete_file(target)
        radarr.add_exclusion(target)
        assert radarr.calendar(now, now + timedelta(days=30))

        seerr = SeerrClient(SeerrSettings(url=seerr_sb.url, api_key=seerr_sb.api_key), session=sessions["seerr"])
        seerr_sb.request(seerr_sb.user_for(next(u.user_id for u in world.users if u.has_share and not u.is_owner)),
                         movie.rating_key)
        asker = seerr_sb.user_for(next(u.user_id for u in world.users if u.has_share and not u.is_owner))
        seerr_sb.request(asker, tmdb_id=990_001, title="The Paper Orchard", year=2026, status=1)
        seerr_sb.request(asker, tmdb_id=990_002, title="Harbour Lights", year=2027, status=1, media_type="tv")
        seerr.health()
        asked = seerr.requests()
        media = seerr.media()
        assert [seerr.title(r.media) for r in asked[-2:]] == [("The Paper Orchard", 2026), ("Harbour Lights", 2027)]
        seerr.delete_media(media[0].media_id)
    return [(app, method, url, sent, response) for app, session in sessions.items()
            for method, url, sent, response in session.exchanges]


def test_every_exchange_marquee_makes_is_valid_against_the_upstream_spec(exchanges):
    failures, seen = [], 0
    for app, method, url, sent, response in exchanges:
        if response.status_code == 400 and "already been added" in response.text:
            continue  # the repeated exclusion: the validators' answer, which the spec does not describe
        route = spec_route(app, method, requests.utils.urlparse(url).path)
        try:
            check(app, method, route, sent, response)
            seen += 1
        except Exception as exc:  # every failure listed, not just the first
            failures.append(f"{app} {method} {route}: {getattr(exc, 'message', exc)}")
    assert not failures, "\n".join(failures)
    assert seen >= 20


def test_no_route_in_the_clients_goes_unchecked(exchanges):
    exercised = set()
    for app, method, url, _, _ in exchanges:
        path = requests.utils.urlparse(url).path.removeprefix(BASE[app]).lstrip("/")
        exercised.add(("seerr" if app == "seerr" else "arr", method, re.sub(r"/\d+(?=/|$)", "/{}", path)))
    missing = used_routes() - exercised
    assert used_routes() and not missing, f"routes the clients call that no contract test drives: {sorted(missing)}"
    writes = {(m, p) for a, m, p in exercised if m != "GET"}
    assert {("PUT", "episode/monitor"), ("DELETE", "episodefile/{}"), ("PUT", "series/editor"),
            ("POST", "importlistexclusion"), ("PUT", "movie/editor"), ("DELETE", "moviefile/{}"),
            ("POST", "exclusions"), ("DELETE", "media/{}")} <= writes
