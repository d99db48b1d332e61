"""Every sandbox response Marquee reads from Sonarr, Radarr and Seerr is valid against the upstream OpenAPI document
(tests/contracts/README.md names their source commits); where the sandbox and the spec disagree, the spec wins."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

import pytest
import requests
import yaml
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30ReadValidator as OAS30Validator  # responses: readOnly fields count

from pipeline.sandbox.arr import RadarrSandbox, SonarrSandbox
from pipeline.sandbox.seed import generate
from pipeline.sandbox.seerr import SeerrSandbox

HERE = Path(__file__).parent
SPECS = {"sonarr": "sonarr-openapi.json", "radarr": "radarr-openapi.json", "seerr": "seerr-api.yml"}


@lru_cache(maxsize=None)
def spec(app: str) -> dict:
    text = (HERE / SPECS[app]).read_text()
    return json.loads(text) if SPECS[app].endswith(".json") else yaml.safe_load(text)


def response_schema(app: str, method: str, route: str, status: int) -> dict:
    """The spec's JSON schema for this answer, with the document's components beside it so $refs resolve."""
    responses = spec(app)["paths"][route][method.lower()]["responses"]
    answer = responses.get(str(status)) or responses.get("200") or responses["default"]
    content = answer.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    assert media is not None, f"{app} {method} {route}: the spec gives no body for {status}"
    return {**media["schema"], "components": spec(app)["components"]}


def check(app: str, method: str, route: str, response: requests.Response) -> None:
    schema = response_schema(app, method, route, response.status_code)
    OAS30Validator(schema).validate(response.json())


@pytest.fixture(scope="module")
def servers():
    world = generate(seed=1)
    sonarr, radarr = SonarrSandbox(world, upcoming=True).start(), RadarrSandbox(world, upcoming=True).start()
    seerr = SeerrSandbox(world).start()
    user = next(u for u in world.users if u.has_share and not u.is_owner)
    movie = next(rk for rk in sorted(world.items) if radarr.movie_for(rk))
    show = next(rk for rk in sorted(world.items) if sonarr.series_for(rk))
    seerr.request(seerr.user_for(user.user_id), movie)
    seerr.request(seerr.user_for(user.user_id), show, seasons=(1,))
    yield {"sonarr": sonarr, "radarr": radarr, "seerr": seerr, "movie": movie, "show": show}
    for s in (sonarr, radarr, seerr):
        s.stop()


def get(server, path: str, **params) -> requests.Response:
    r = requests.get(server.url + path, params=params, headers={"X-Api-Key": server.api_key}, timeout=10)
    assert r.status_code == 200, (path, r.status_code, r.text[:200])
    return r


def routes(s) -> list[tuple[str, str, str, requests.Response]]:
    """(app, method, spec route, answer) for every GET Marquee's clients make."""
    series = s["sonarr"].series_for(s["show"])
    movie = s["radarr"].movie_for(s["movie"])
    return [
        ("sonarr", "GET", "/api/v3/system/status", get(s["sonarr"], "/api/v3/system/status")),
        ("sonarr", "GET", "/api/v3/health", get(s["sonarr"], "/api/v3/health")),
        ("sonarr", "GET", "/api/v3/series", get(s["sonarr"], "/api/v3/series", tvdbId=series["tvdbId"])),
        ("sonarr", "GET", "/api/v3/episode", get(s["sonarr"], "/api/v3/episode", seriesId=series["id"])),
        ("radarr", "GET", "/api/v3/system/status", get(s["radarr"], "/api/v3/system/status")),
        ("radarr", "GET", "/api/v3/health", get(s["radarr"], "/api/v3/health")),
        ("radarr", "GET", "/api/v3/movie", get(s["radarr"], "/api/v3/movie", tmdbId=movie["tmdbId"])),
        ("radarr", "GET", "/api/v3/movie/{id}", get(s["radarr"], f"/api/v3/movie/{movie['id']}")),
        ("sonarr", "GET", "/api/v3/calendar", get(s["sonarr"], "/api/v3/calendar", start="2000-01-01T00:00:00Z",
                                                  end="2100-01-01T00:00:00Z", unmonitored="false",
                                                  includeSeries="true")),
        ("radarr", "GET", "/api/v3/calendar", get(s["radarr"], "/api/v3/calendar", start="2000-01-01T00:00:00Z",
                                                  end="2100-01-01T00:00:00Z", unmonitored="false")),
        ("seerr", "GET", "/status", get(s["seerr"], "/api/v1/status")),
        ("seerr", "GET", "/request", get(s["seerr"], "/api/v1/request", take=100, skip=0, filter="all")),
        ("seerr", "GET", "/media", get(s["seerr"], "/api/v1/media", take=100, skip=0, filter="all")),
    ]


def test_every_route_marquee_reads_answers_as_the_upstream_spec_says(servers):
    failures = []
    for app, method, route, response in routes(servers):
        try:
            check(app, method, route, response)
        except ValidationError as exc:
            failures.append(f"{app} {method} {route}: {exc.message} at {list(exc.absolute_path)[:6]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("app, route, rename", [
    ("seerr", "/request", ("id", "requestId")),         # MediaRequest.id is required
    ("radarr", "/api/v3/movie", ("title", "movieTitle")),  # MovieResource forbids unknown properties
    ("sonarr", "/api/v3/episode", ("seasonNumber", "season")),
    ("sonarr", "/api/v3/calendar", ("airDateUtc", "airDateUTC")),  # EpisodeResource forbids unknown properties
    ("radarr", "/api/v3/calendar", ("digitalRelease", "digitalReleaseDate")),
])
def test_a_renamed_sandbox_field_fails_the_contract(servers, app, route, rename):
    response = next(r for a, _, p, r in routes(servers) if a == app and p == route)
    body = copy.deepcopy(response.json())
    rows = body["results"] if isinstance(body, dict) else body
    old, new = rename
    rows[0][new] = rows[0].pop(old)
    with pytest.raises(ValidationError):
        OAS30Validator(response_schema(app, "GET", route, 200)).validate(body)
    OAS30Validator(response_schema(app, "GET", route, 200)).validate(response.json())  # the real answer passes
