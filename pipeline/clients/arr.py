"""Sonarr and Radarr through their v3 APIs: find the one episode or movie, unmonitor it, delete its file,
exclude a movie from import lists; for a series Plex no longer has at all, unmonitor it and exclude it from
import lists (never delete it); read the calendars of what is coming.

The API key travels in the X-Api-Key header of each request and nowhere else (not in a URL, not in a
message, not in the session's shared headers). Every failure is one ArrError line naming the app and
the route; Unreachable/BadResponse subclasses keep the usual meaning.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import requests

from pipeline.clients.http import Failure, HttpClient, one_line, where
from pipeline.errors import BadResponse, ConfigError, SourceError, Unreachable
from pipeline.settings import ArrSettings

log = logging.getLogger(__name__)

_AGENT = re.compile(r"^(imdb|tmdb|tvdb)://(.+)$")
# Legacy agents put one id in the item's own guid, e.g. com.plexapp.agents.themoviedb://278?lang=en.
_LEGACY = re.compile(r"^com\.plexapp\.agents\.(imdb|themoviedb|thetvdb)://([^/?]+)")
_LEGACY_NAMES = {"imdb": "imdb", "themoviedb": "tmdb", "thetvdb": "tvdb"}


class ArrError(SourceError):
    """A Sonarr or Radarr call failed; the message is one line and never holds the API key."""


class ArrUnreachable(ArrError, Unreachable):
    """The app did not answer: connection refused, dropped, or slower than the timeout."""


class ArrBadResponse(ArrError, BadResponse):
    """The app answered with an error status, a redirect or JSON that is not what v3 sends."""


@dataclass(frozen=True)
class ArrTarget:
    """One episode (Sonarr) or movie (Radarr) as the app knows it."""

    app: str                 # sonarr | radarr
    item_id: int             # episode id or movie id
    file_id: int | None      # episodeFileId / movieFile id; None when it has no file
    title: str
    monitored: bool
    tmdb_id: int | None = None  # movies: what an import exclusion is keyed on
    year: int | None = None
    shares_file_with: tuple[str, ...] = ()  # other episodes in the same file (a double episode): "S01E02"


@dataclass(frozen=True)
class CalendarEntry:
    """One episode or movie a calendar says is coming, as plain values (arr_calendar's columns)."""

    item_key: str                # 'sonarr:episode:<id>' | 'radarr:movie:<id>'
    kind: str                    # episode | movie
    title: str                   # the show's or the movie's
    year: int | None
    series_id: int | None        # Sonarr's series id; Radarr's movie id
    tvdb_id: int | None
    tmdb_id: int | None
    season: int | None
    episode: int | None
    episode_title: str | None
    air_at: datetime             # aware UTC
    path: str | None             # the series' or movie's folder as Sonarr/Radarr see it


def _utc(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def agent_ids(plex_item: Any) -> dict:
    """{"tvdb": int, "tmdb": int, "imdb": str}, the keys present that the item's agents know.

    Read from plexapi's `item.guids` (<Guid id="tmdb://603"/>, new agents); a legacy agent's own
    guid is used when there are none. A legacy episode guid names its show, so it is not used.
    """
    ids: dict[str, Any] = {}
    for guid in getattr(plex_item, "guids", None) or []:
        match = _AGENT.match(getattr(guid, "id", "") or "")
        if match:
            _put(ids, *match.groups())
    legacy = _LEGACY.match(getattr(plex_item, "guid", "") or "")
    if not ids and legacy and getattr(plex_item, "type", None) != "episode":
        _put(ids, _LEGACY_NAMES[legacy.group(1)], legacy.group(2))
    return ids


def _put(ids: dict, kind: str, value: str) -> None:
    if kind == "imdb":
        if re.fullmatch(r"tt\d+", value):
            ids.setdefault("imdb", value)
    elif value.isdigit() and int(value) > 0:
        ids.setdefault(kind, int(value))


class _ArrClient:
    """One app's v3 API over the shared HTTP layer; every failure is a one-line ArrError."""

    app = "Arr"
    env = "ARR"

    def __init__(self, settings: ArrSettings, session: requests.Session | None = None) -> None:
        if not settings.configured:
            raise ConfigError(f"{self.app} is not configured: set {self.env}_URL and {self.env}_API_KEY")
        key = settings.api_key.get_secret_value()
        # The key goes per request, never on the session (a session shared with other hosts must not carry
        # it), and no redirect is followed: requests would forward X-Api-Key wherever it points.
        self.http = HttpClient(self.app, f"{settings.url.rstrip('/')}/api/v3", timeout=settings.timeout_seconds,
                               session=session, headers={"X-Api-Key": key, "Accept": "application/json"},
                               secrets=[key], url_setting=f"{self.env}_URL", key_setting=f"{self.env}_API_KEY",
                               errors=(ArrUnreachable, ArrBadResponse), describe=self._describe)
        self.where = where(settings.url)
        self.timeout = settings.timeout_seconds
        self.warnings: list[str] = []  # health errors the app reports about itself, from health()

    def close(self) -> None:
        self.http.close()

    def health(self) -> None:
        """GET system/status (must answer as this app), then note GET health errors in `.warnings`."""
        status = self._call("GET", "system/status")
        name = status.get("appName") if isinstance(status, dict) else None
        if name != self.app:
            raise self._bad(f"{self.app} at {self.where} answered GET /api/v3/system/status as "
                            f"{name or 'something else'}; check {self.env}_URL")
        try:
            issues = self._call("GET", "health")
        except ArrError as exc:  # status answered, so the app is up; older versions may lack the route
            log.debug("%s health check skipped: %s", self.app, exc)
            issues = []
        self.warnings = [f"{self.app} health: {i.get('source') or 'check'}: {one_line(str(i.get('message', '')))}"
                         for i in issues if isinstance(i, dict) and str(i.get("type")).lower() == "error"]
        for line in self.warnings:
            log.warning("%s", line)

    # -- plumbing -----------------------------------------------------------------------------------------
    def _call(self, method: str, route: str, *, params: dict | None = None, json: Any = None,
              gone_ok: bool = False) -> Any:
        """One request to /api/v3/{route}; the parsed JSON (None for an empty body or a tolerated 404)."""
        return self.http.json(method, f"/{route}", what=f"{method} /api/v3/{route}", params=params, json=json,
                              gone_ok=gone_ok, empty_ok=True)

    def _describe(self, f: Failure) -> str | None:
        """The app's wording for what the shared layer found (None: the generic wording)."""
        app, what = self.app, f.what
        if f.kind == "timeout":
            return f"{app} at {self.where} did not answer {what} within {self.timeout:g} s; check that {app} is running"
        if f.kind in ("unreachable", "tls"):
            return (f"{app} at {self.where} is not reachable ({what}: {f.reason}); check {self.env}_URL and that "
                    f"{app} is running")
        if f.status == 401:
            return f"{app} rejected the API key (401 on {what}); check {self.env}_API_KEY"
        if f.kind == "redirect":
            return (f"{app} at {self.where} redirected {what} ({f.status}); check {self.env}_URL "
                    "(include the URL base, e.g. http://host:8989/sonarr)")
        if f.kind in ("refused", "not_found", "client", "server"):
            return f"{app} answered {f.status} to {what}" + (f": {f.detail}" if f.detail else "")
        if f.kind in ("login", "html", "not_json", "broken_json"):
            return f"{app} sent malformed JSON for {what}; check {self.env}_URL points at {app}"
        return None

    def _list(self, method: str, route: str, **kw: Any) -> list[dict]:
        data = self._call(method, route, **kw)
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise self._bad(f"{self.app} answered {method} /api/v3/{route} with something other than a list")
        return data

    def _bad(self, message: str) -> ArrBadResponse:
        return ArrBadResponse(self.http.redact(message))


class SonarrClient(_ArrClient):
    """Episodes: found through their series, unmonitored one by one, files deleted by id."""

    app = "Sonarr"
    env = "SONARR"

    def find_episode(self, *, tvdb_id: int | None, show_tvdb_id: int | None, season: int | None,
                     episode: int | None) -> ArrTarget | None:
        """The episode by its own tvdb id, else by season/episode number, within the show's series.

        Sonarr's v3 API finds episodes only through their series, so no show tvdb id means None.
        """
        if not show_tvdb_id:
            log.debug("Sonarr lookup skipped: the show has no tvdb id in Plex")
            return None
        found = [s for s in self._list("GET", "series", params={"tvdbId": show_tvdb_id})
                 if s.get("tvdbId") == show_tvdb_id]
        if not found:
            return None
        series = found[0]
        episodes = self._list("GET", "episode", params={"seriesId": series.get("id")})
        match = next((e for e in episodes if tvdb_id and e.get("tvdbId") == tvdb_id), None)
        if match is None and season is not None and episode is not None:
            # Numbers only when ids cannot decide: Plex and Sonarr may number a show differently (anime, DVD order).
            match = next((e for e in episodes if e.get("seasonNumber") == season and e.get("episodeNumber") == episode
                          and (not tvdb_id or not e.get("tvdbId"))), None)
        if match is None:
            return None
        try:
            s, e = int(match["seasonNumber"]), int(match["episodeNumber"])
            file_id = int(match.get("episodeFileId") or 0) or None
            shared = tuple(f"S{int(o['seasonNumber']):02d}E{int(o['episodeNumber']):02d}" for o in episodes
                           if file_id and o is not match and int(o.get("episodeFileId") or 0) == file_id)
            return ArrTarget("sonarr", int(match["id"]), file_id, f"{series.get('title', '?')} S{s:02d}E{e:02d}",
                             bool(match.get("monitored")), shares_file_with=shared)
        except (KeyError, TypeError, ValueError):
            raise self._bad("Sonarr sent an episode without id, season or episode number "
                            f"(GET /api/v3/episode?seriesId={series.get('id')})") from None

    def unmonitor(self, target: ArrTarget) -> None:
        """PUT episode/monitor for this one episode; the series and its other episodes stay as they are."""
        episodes = self._list("PUT", "episode/monitor", json={"episodeIds": [target.item_id], "monitored": False})
        if any(e.get("id") == target.item_id and e.get("monitored") for e in episodes):
            raise self._bad(f"Sonarr still monitors episode {target.item_id} after PUT /api/v3/episode/monitor")

    def delete_file(self, target: ArrTarget) -> None:
        """DELETE episodefile/{id}; a 404 means it is already gone, which is what we wanted."""
        if target.file_id:
            self._call("DELETE", f"episodefile/{target.file_id}", gone_ok=True)

    def calendar(self, start: datetime, end: datetime) -> list[CalendarEntry]:
        """GET calendar?start&end&unmonitored=false&includeSeries=true: the monitored episodes airing then that
        have no file yet, with their series' title, year and folder."""
        rows = self._list("GET", "calendar", params={"start": _iso(start), "end": _iso(end), "unmonitored": "false",
                                                     "includeSeries": "true"})
        out = []
        for e in rows:
            series, airs = e.get("series") or {}, _utc(e.get("airDateUtc"))
            if e.get("hasFile") or airs is None or not isinstance(e.get("id"), int):
                continue  # already on disk (Plex has it or soon will), or no air time to show
            out.append(CalendarEntry(f"sonarr:episode:{e['id']}", "episode", str(series.get("title") or "?"),
                                     series.get("year") or None, e.get("seriesId"), series.get("tvdbId") or None,
                                     None, e.get("seasonNumber"), e.get("episodeNumber"), e.get("title") or None,
                                     airs, series.get("path") or None))
        return out

    def find_series(self, tvdb_id: int | None) -> dict | None:
        """The series Sonarr holds for a show's tvdb id (GET series?tvdbId=), or None."""
        if not tvdb_id:
            return None
        return next((s for s in self._list("GET", "series", params={"tvdbId": tvdb_id})
                     if s.get("tvdbId") == tvdb_id), None)

    def unmonitor_series(self, series_id: int) -> None:
        """PUT series/editor {"seriesIds": [id], "monitored": false}: no new episode of it is grabbed."""
        self._call("PUT", "series/editor", json={"seriesIds": [series_id], "monitored": False})

    def add_series_exclusion(self, tvdb_id: int, title: str) -> None:
        """POST importlistexclusion {tvdbId, title}, so import lists never add the series back; a repeat is fine."""
        try:
            self._call("POST", "importlistexclusion", json={"tvdbId": tvdb_id, "title": title})
        except ArrBadResponse as exc:
            if "already been added" not in str(exc):
                raise


class RadarrClient(_ArrClient):
    """Movies: found by tmdb id (imdb id as a fallback), unmonitored, file deleted, excluded from lists."""

    app = "Radarr"
    env = "RADARR"

    def __init__(self, settings: ArrSettings, session: requests.Session | None = None) -> None:
        super().__init__(settings, session)
        self._imdb: dict[str, int] | None = None  # imdbId -> movie id, listed at most once per client

    def find_movie(self, *, tmdb_id: int | None, imdb_id: str | None) -> ArrTarget | None:
        """The movie by tmdb id; if that misses, by imdb id (one full GET movie listing per client)."""
        movie = None
        if tmdb_id:
            movie = next((m for m in self._list("GET", "movie", params={"tmdbId": tmdb_id})
                          if m.get("tmdbId") == tmdb_id), None)
        if movie is None and imdb_id:
            if self._imdb is None:
                self._imdb = {m["imdbId"]: m["id"] for m in self._list("GET", "movie")
                              if m.get("imdbId") and isinstance(m.get("id"), int)}
            movie_id = self._imdb.get(imdb_id)
            if movie_id is not None:
                movie = self._call("GET", f"movie/{movie_id}", gone_ok=True)
        if not movie:
            return None
        try:
            file_id = (movie.get("movieFile") or {}).get("id") or movie.get("movieFileId") or None
            return ArrTarget("radarr", int(movie["id"]), int(file_id) if file_id else None,
                             str(movie.get("title") or "?"), bool(movie.get("monitored")),
                             tmdb_id=movie.get("tmdbId") or None, year=movie.get("year") or None)
        except (AttributeError, KeyError, TypeError, ValueError):
            raise self._bad("Radarr sent a movie without an id (GET /api/v3/movie)") from None

    def unmonitor(self, target: ArrTarget) -> None:
        """PUT movie/editor {"movieIds": [id], "monitored": false}: this movie only."""
        movies = self._list("PUT", "movie/editor", json={"movieIds": [target.item_id], "monitored": False})
        if any(m.get("id") == target.item_id and m.get("monitored") for m in movies):
            raise self._bad(f"Radarr still monitors movie {target.item_id} after PUT /api/v3/movie/editor")

    def delete_file(self, target: ArrTarget) -> None:
        """DELETE moviefile/{id}; a 404 means it is already gone."""
        if target.file_id:
            self._call("DELETE", f"moviefile/{target.file_id}", gone_ok=True)

    def calendar(self, start: datetime, end: datetime) -> list[CalendarEntry]:
        """GET calendar?start&end&unmonitored=false: monitored movies without a file whose digital (else physical)
        release falls in the window; one only in cinemas then is not coming to Plex yet."""
        rows = self._list("GET", "calendar", params={"start": _iso(start), "end": _iso(end), "unmonitored": "false"})
        out = []
        for m in rows:
            if m.get("hasFile") or not isinstance(m.get("id"), int):
                continue
            dates = [d for d in (_utc(m.get("digitalRelease")), _utc(m.get("physicalRelease")))
                     if d is not None and start <= d <= end]
            if not dates:
                continue
            out.append(CalendarEntry(f"radarr:movie:{m['id']}", "movie", str(m.get("title") or "?"),
                                     m.get("year") or None, m["id"], None, m.get("tmdbId") or None, None, None, None,
                                     min(dates), m.get("path") or None))
        return out

    def add_exclusion(self, target: ArrTarget) -> None:
        """POST exclusions so import lists never add the movie back; an existing exclusion is fine."""
        if not target.tmdb_id:
            raise self._bad(f"Radarr movie {target.item_id} has no tmdb id, so it cannot be excluded")
        payload = {"tmdbId": target.tmdb_id, "movieTitle": target.title, "movieYear": target.year or 0}
        try:
            self._call("POST", "exclusions", json=payload)
        except ArrBadResponse as exc:
            # Radarr 5.10+ rejects a repeat with 400 "This exclusion has already been added." (older
            # versions answer 201 with the existing one), so a retry after a lost answer converges.
            if "already been added" not in str(exc):
                raise
