"""Sonarr and Radarr on loopback: the slice of their v3 JSON APIs that Marquee's retention cascade uses.

Routes, payloads and status codes follow Sonarr's src/Sonarr.Api.V3 and Radarr's src/Radarr.Api.V3
controllers (EpisodeController, EpisodeFileController, SeriesController, SeriesEditorController,
CalendarController, MovieController, MovieEditorController, MovieFileController, ImportListExclusionController,
SystemController, HealthController). What the world holds is in arr_seed.py, including which items are left out.

One deliberate difference: the real apps also take the key as `?apikey=` or a Bearer token; the
sandbox wants the X-Api-Key header only, so a client that leaks the key into a URL fails loudly.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, Callable

from pipeline.sandbox.arr_calendar import episodes_between, movies_between
from pipeline.sandbox.arr_seed import RadarrData, SonarrData, api_key, iso
from pipeline.sandbox.http import Request, Response, SandboxServer
from pipeline.sandbox.world import World

JSON = "application/json; charset=utf-8"
Route = tuple[str, "re.Pattern[str]", Callable[..., Response]]


def _json(data: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False).encode(), JSON)


def _error(status: int, message: str) -> Response:
    """Sonarr/Radarr's ErrorModel: {"message": ...}."""
    return _json({"message": message}, status)


def _invalid(prop: str, message: str, value: Any, code: str) -> Response:
    """A FluentValidation failure list, as both apps answer a rejected POST/PUT (400)."""
    return _json([{"propertyName": prop, "errorMessage": message, "attemptedValue": value,
                   "severity": "error", "errorCode": code}], 400)


def _ids(value: str | None) -> list[int]:
    return [int(v) for v in (value or "").split(",") if v.strip()]


class ArrSandbox(SandboxServer):
    """Shared by both apps: the key check, routing, status and health, and the `.calls` log."""

    app = "Arr"
    version = "0"
    migration = 0

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0, key: str | None = None) -> None:
        super().__init__(host, port)
        self.world = world
        self.api_key = key or api_key(world, self.app.lower())
        self.health_issues: list[dict] = []  # append {"source", "type", "message", "wikiUrl"} to report one
        self.keys_in_urls = 0                # requests that carried the key in the query string (a client bug)
        self.state_lock = threading.RLock()
        self.routes: list[Route] = [
            ("GET", re.compile(r"/api/v3/system/status"), self._status),
            ("GET", re.compile(r"/api/v3/health"), self._health),
        ]

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(method, path) of every request received, in order; the query string is in `.requests`."""
        with self._lock:
            return [(r.method, r.path) for r in self.requests]

    def handle(self, request: Request) -> Response:
        if any(k.lower() == "apikey" for k in request.query):
            self.keys_in_urls += 1
        if request.headers.get("x-api-key") != self.api_key:
            return Response(401, b"", "text/plain")  # as ApiKeyAuthenticationHandler's challenge: no body
        path = request.path.lower().rstrip("/")  # ASP.NET routes ignore case and a trailing slash
        found = False
        for verb, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match:
                found = True
                if verb == request.method:
                    body = None
                    if request.method in ("POST", "PUT"):
                        if not request.headers.get("content-type", "").startswith("application/json"):
                            return Response(415, b"", "text/plain")  # [Consumes("application/json")]
                        try:
                            body = json.loads(request.body or b"null")
                        except ValueError:
                            return _error(400, "The request body is not valid JSON")
                    try:
                        with self.state_lock:
                            return handler(request, body, *(int(g) for g in match.groups()))
                    except (ValueError, TypeError):  # a non-numeric id or flag, as model binding rejects it
                        return _error(400, "The request is invalid")
        return Response(405 if found else 404, b"", "text/plain")

    def _status(self, request: Request, body: Any) -> Response:
        return _json({
            "appName": self.app, "instanceName": self.app, "version": self.version,
            "buildTime": iso(self.world.now - 30 * 86_400), "isDebug": False, "isProduction": True,
            "isAdmin": False, "isUserInteractive": False, "startupPath": "/app/bin", "appData": "/config",
            "osName": "ubuntu", "osVersion": "22.04", "isNetCore": True, "isLinux": True, "isOsx": False,
            "isWindows": False, "isDocker": True, "mode": "console", "branch": "main", "authentication": "forms",
            "migrationVersion": self.migration, "urlBase": "", "runtimeVersion": "8.0.8", "runtimeName": "netCore",
            "startTime": iso(self.world.now - 86_400), "packageUpdateMechanism": "docker"})

    def _health(self, request: Request, body: Any) -> Response:
        return _json([{"id": n + 1, **issue} for n, issue in enumerate(self.health_issues)])


class SonarrSandbox(ArrSandbox):
    """Series, episodes and episode files of a World (arr_seed.SonarrData)."""

    name = "sonarr"
    app = "Sonarr"
    version = "4.0.14.2939"
    migration = 215

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0, key: str | None = None, *,
                 upcoming: bool = False) -> None:
        super().__init__(world, host, port, key)
        self.data = SonarrData(world, upcoming=upcoming)  # upcoming: seed what the calendar shows (arr_seed.py)
        self.routes += [
            ("GET", re.compile(r"/api/v3/series"), self._series),
            ("GET", re.compile(r"/api/v3/series/(\d+)"), self._one_series),
            ("GET", re.compile(r"/api/v3/episode"), self._episodes),
            ("PUT", re.compile(r"/api/v3/episode/monitor"), self._monitor),
            ("GET", re.compile(r"/api/v3/episode/(\d+)"), self._episode),
            ("PUT", re.compile(r"/api/v3/episode/(\d+)"), self._put_episode),
            ("GET", re.compile(r"/api/v3/episodefile"), self._files),
            ("GET", re.compile(r"/api/v3/episodefile/(\d+)"), self._file),
            ("DELETE", re.compile(r"/api/v3/episodefile/(\d+)"), self._delete_file),
            ("GET", re.compile(r"/api/v3/calendar"), self._calendar),
            ("PUT", re.compile(r"/api/v3/series/editor"), self._series_editor),
            ("GET", re.compile(r"/api/v3/importlistexclusion"), self._exclusions),
            ("POST", re.compile(r"/api/v3/importlistexclusion"), self._add_exclusion),
            ("DELETE", re.compile(r"/api/v3/importlistexclusion/(\d+)"), self._delete_exclusion),
        ]
        self.exclusions: dict[int, dict] = {}  # ImportListExclusionResource by id

    # -- test helpers --------------------------------------------------------------------------------
    def series_for(self, rating_key: int) -> dict | None:
        """The series Sonarr holds for a Plex show, or None when it is left out."""
        sid = self.data.series_by_rk.get(rating_key)
        return self.data.series_resource(sid) if sid is not None else None

    def episode_for(self, rating_key: int) -> dict | None:
        """The episode Sonarr holds for a Plex episode, or None when its show is left out."""
        eid = self.data.episodes_by_rk.get(rating_key)
        return dict(self.data.episodes[eid]) if eid is not None else None

    # -- routes -----------------------------------------------------------------------------------------
    def _series(self, request: Request, body: Any) -> Response:
        ids = sorted(self.data.series)
        if request.query.get("tvdbId"):
            tvdb = int(request.query["tvdbId"])
            ids = [sid for sid in ids if self.data.series[sid]["tvdbId"] == tvdb][:1]
        return _json([self.data.series_resource(sid) for sid in ids])

    def _one_series(self, request: Request, body: Any, sid: int) -> Response:
        if sid not in self.data.series:
            return _error(404, "Not Found")
        return _json(self.data.series_resource(sid))

    def _episodes(self, request: Request, body: Any) -> Response:
        q, eps = request.query, list(self.data.episodes.values())
        if q.get("seriesId"):
            eps = [e for e in eps if e["seriesId"] == int(q["seriesId"])]
            if q.get("seasonNumber"):
                eps = [e for e in eps if e["seasonNumber"] == int(q["seasonNumber"])]
        elif q.get("episodeIds"):
            eps = [e for e in eps if e["id"] in set(_ids(q["episodeIds"]))]
        elif q.get("episodeFileId"):
            eps = [e for e in eps if e["episodeFileId"] == int(q["episodeFileId"])]
        else:
            return _error(400, "seriesId or episodeIds must be provided")
        eps.sort(key=lambda e: (e["seasonNumber"], e["episodeNumber"], e["id"]))
        return _json(eps)

    def _episode(self, request: Request, body: Any, eid: int) -> Response:
        if eid not in self.data.episodes:
            return _error(404, f"Episode with ID {eid} does not exist")
        return _json(self.data.episodes[eid])

    def _monitor(self, request: Request, body: Any) -> Response:
        """PUT episode/monitor {"episodeIds": [...], "monitored": bool}: 202 with the episodes."""
        if not isinstance(body, dict) or not isinstance(body.get("episodeIds"), list):
            return _error(400, "episodeIds must be provided")
        ids = [int(i) for i in body["episodeIds"]]
        # One id goes through SetEpisodeMonitored, which loads the episode first and 404s on a missing one.
        if len(ids) == 1 and ids[0] not in self.data.episodes:
            return _error(404, f"Episode with ID {ids[0]} does not exist")
        for eid in ids:
            if eid in self.data.episodes:
                self.data.episodes[eid]["monitored"] = bool(body.get("monitored"))
        return _json([self.data.episodes[i] for i in ids if i in self.data.episodes], 202)

    def _put_episode(self, request: Request, body: Any, eid: int) -> Response:
        if eid not in self.data.episodes:
            return _error(404, f"Episode with ID {eid} does not exist")
        self.data.episodes[eid]["monitored"] = bool((body or {}).get("monitored"))
        return _json(self.data.episodes[eid], 202)

    def _files(self, request: Request, body: Any) -> Response:
        q, files = request.query, list(self.data.files.values())
        if q.get("seriesId"):
            files = [f for f in files if f["seriesId"] == int(q["seriesId"])]
        elif q.get("episodeFileIds"):
            files = [f for f in files if f["id"] in set(_ids(q["episodeFileIds"]))]
        else:
            return _error(400, "seriesId or episodeFileIds must be provided")
        return _json(files)

    def _file(self, request: Request, body: Any, fid: int) -> Response:
        if fid not in self.data.files:
            return _error(404, "Not Found")
        return _json(self.data.files[fid])

    def _delete_file(self, request: Request, body: Any, fid: int) -> Response:
        """DELETE episodefile/{id}: the file goes, its episodes keep their monitored flag."""
        if self.data.files.pop(fid, None) is None:
            return _error(404, "Episode file not found")
        for e in self.data.episodes.values():
            if e["episodeFileId"] == fid:
                e.update(episodeFileId=0, hasFile=False)
        return Response(200, b"", JSON)

    def _calendar(self, request: Request, body: Any) -> Response:
        return _json(episodes_between(self.data, request))

    def _series_editor(self, request: Request, body: Any) -> Response:
        """PUT series/editor {"seriesIds": [...], "monitored": bool}: 202 with the series (SeriesEditorController)."""
        if not isinstance(body, dict) or not isinstance(body.get("seriesIds"), list):
            return _error(400, "seriesIds must be provided")
        ids = [int(i) for i in body["seriesIds"] if int(i) in self.data.series]
        for sid in ids:
            if body.get("monitored") is not None:
                self.data.series[sid]["monitored"] = bool(body["monitored"])
        return _json([self.data.series_resource(sid) for sid in ids], 202)

    def _exclusions(self, request: Request, body: Any) -> Response:
        return _json([dict(x) for x in self.exclusions.values()])

    def _add_exclusion(self, request: Request, body: Any) -> Response:
        """POST importlistexclusion {tvdbId, title}: 201, or 400 from the validators (a repeat too)."""
        body = body if isinstance(body, dict) else {}
        tvdb, title = body.get("tvdbId") or 0, body.get("title") or ""
        if not tvdb:
            return _invalid("TvdbId", "'Tvdb Id' must not be empty.", tvdb, "NotEmptyValidator")
        if any(x["tvdbId"] == tvdb for x in self.exclusions.values()):
            return _invalid("TvdbId", "This exclusion has already been added.", tvdb,
                            "ImportListExclusionExistsValidator")
        xid = max(self.exclusions, default=0) + 1
        self.exclusions[xid] = {"id": xid, "tvdbId": int(tvdb), "title": str(title)}
        return _json(self.exclusions[xid], 201)

    def _delete_exclusion(self, request: Request, body: Any, xid: int) -> Response:
        self.exclusions.pop(xid, None)
        return Response(200, b"", JSON)


class RadarrSandbox(ArrSandbox):
    """Movies, movie files and import exclusions of a World (arr_seed.RadarrData)."""

    name = "radarr"
    app = "Radarr"
    version = "5.14.0.9383"
    migration = 241

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0, key: str | None = None, *,
                 upcoming: bool = False) -> None:
        super().__init__(world, host, port, key)
        self.data = RadarrData(world, upcoming=upcoming)  # upcoming: seed what the calendar shows (arr_seed.py)
        self.routes += [
            ("GET", re.compile(r"/api/v3/movie"), self._movies),
            ("PUT", re.compile(r"/api/v3/movie/editor"), self._editor),
            ("GET", re.compile(r"/api/v3/movie/(\d+)"), self._movie),
            ("PUT", re.compile(r"/api/v3/movie/(\d+)"), self._put_movie),
            ("GET", re.compile(r"/api/v3/moviefile"), self._files),
            ("GET", re.compile(r"/api/v3/moviefile/(\d+)"), self._file),
            ("DELETE", re.compile(r"/api/v3/moviefile/(\d+)"), self._delete_file),
            ("GET", re.compile(r"/api/v3/exclusions"), self._exclusions),
            ("POST", re.compile(r"/api/v3/exclusions"), self._add_exclusion),
            ("GET", re.compile(r"/api/v3/exclusions/(\d+)"), self._exclusion),
            ("DELETE", re.compile(r"/api/v3/exclusions/(\d+)"), self._delete_exclusion),
            ("GET", re.compile(r"/api/v3/calendar"), self._calendar),
        ]

    # -- test helpers --------------------------------------------------------------------------------
    def movie_for(self, rating_key: int) -> dict | None:
        """The movie Radarr holds for a Plex movie, or None when it is left out."""
        mid = self.data.movies_by_rk.get(rating_key)
        return self.data.movie_resource(mid, excluded=True) if mid is not None else None

    @property
    def exclusions(self) -> list[dict]:
        return [dict(x) for x in self.data.exclusions.values()]

    # -- routes -----------------------------------------------------------------------------------------
    def _movies(self, request: Request, body: Any) -> Response:
        ids = sorted(self.data.movies)
        if request.query.get("tmdbId"):
            tmdb = int(request.query["tmdbId"])
            ids = [mid for mid in ids if self.data.movies[mid]["tmdbId"] == tmdb][:1]
        return _json([self.data.movie_resource(mid) for mid in ids])

    def _movie(self, request: Request, body: Any, mid: int) -> Response:
        if mid not in self.data.movies:
            return _error(404, "Not Found")
        return _json(self.data.movie_resource(mid))

    def _editor(self, request: Request, body: Any) -> Response:
        """PUT movie/editor {"movieIds": [...], "monitored": bool}: 202 with the movies found."""
        if not isinstance(body, dict) or not isinstance(body.get("movieIds"), list):
            return _error(400, "movieIds must be provided")
        ids = [int(i) for i in body["movieIds"] if int(i) in self.data.movies]
        for mid in ids:
            if body.get("monitored") is not None:  # MovieEditorResource.Monitored is a bool?: null leaves it
                self.data.movies[mid]["monitored"] = bool(body["monitored"])
        return _json([self.data.movie_resource(mid) for mid in ids], 202)

    def _put_movie(self, request: Request, body: Any, mid: int) -> Response:
        if mid not in self.data.movies:
            return _error(404, "Not Found")
        self.data.movies[mid]["monitored"] = bool((body or {}).get("monitored"))
        return _json(self.data.movie_resource(mid), 202)

    def _files(self, request: Request, body: Any) -> Response:
        ids = set(_ids(request.query.get("movieId")))
        return _json([f for f in self.data.files.values() if f["movieId"] in ids])

    def _file(self, request: Request, body: Any, fid: int) -> Response:
        if fid not in self.data.files:
            return _error(404, "Not Found")
        return _json(self.data.files[fid])

    def _delete_file(self, request: Request, body: Any, fid: int) -> Response:
        """DELETE moviefile/{id}: the file goes; the movie stays, monitored as it was."""
        gone = self.data.files.pop(fid, None)
        if gone is None:
            return _error(404, "Movie file not found")
        self.data.movies[gone["movieId"]]["movieFileId"] = 0
        return Response(200, b"", JSON)

    def _exclusions(self, request: Request, body: Any) -> Response:
        return _json(self.exclusions)

    def _calendar(self, request: Request, body: Any) -> Response:
        return _json(movies_between(self.data, request))

    def _exclusion(self, request: Request, body: Any, xid: int) -> Response:
        if xid not in self.data.exclusions:
            return _error(404, "Not Found")
        return _json(self.data.exclusions[xid])

    def _add_exclusion(self, request: Request, body: Any) -> Response:
        """POST exclusions {tmdbId, movieTitle, movieYear}: 201, or 400 from the validators (a repeat too)."""
        body = body if isinstance(body, dict) else {}
        tmdb, title, year = body.get("tmdbId") or 0, body.get("movieTitle") or "", body.get("movieYear") or 0
        if not tmdb:
            return _invalid("TmdbId", "'Tmdb Id' must not be empty.", tmdb, "NotEmptyValidator")
        if any(x["tmdbId"] == tmdb for x in self.data.exclusions.values()):
            return _invalid("TmdbId", "This exclusion has already been added.", tmdb,
                            "ImportListExclusionExistsValidator")
        if not title:
            return _invalid("MovieTitle", "'Movie Title' must not be empty.", title, "NotEmptyValidator")
        if int(year) < 0:
            return _invalid("MovieYear", "'Movie Year' must be greater than or equal to '0'.", year,
                            "GreaterThanOrEqualValidator")
        xid = max(self.data.exclusions, default=0) + 1
        self.data.exclusions[xid] = {"id": xid, "tmdbId": int(tmdb), "movieTitle": title, "movieYear": int(year)}
        return _json(self.data.exclusions[xid], 201)

    def _delete_exclusion(self, request: Request, body: Any, xid: int) -> Response:
        self.data.exclusions.pop(xid, None)
        return Response(200, b"", JSON)
