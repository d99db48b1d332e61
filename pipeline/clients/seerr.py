"""Seerr (Overseerr, Jellyseerr) through its v1 API: the requests and media it knows, and clearing one media entry.

The API key travels in the X-Api-Key header of each request, never in a URL or a message. Every failure is one
SeerrError line naming the route; Unreachable/BadResponse subclasses keep their usual meaning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

import requests

from pipeline.clients.http import Failure, HttpClient, where
from pipeline.errors import BadResponse, ConfigError, SourceError, Unreachable
from pipeline.settings import SeerrSettings

log = logging.getLogger(__name__)

PAGE = 100  # requests and media per page
# MediaRequest.status: 1 pending approval, 2 approved, 3 declined (seerr-api.yml); 4 failed, 5 completed (server).
REQUEST_STATUS = {1: "pending", 2: "approved", 3: "declined", 4: "failed", 5: "completed"}
# MediaInfo.status: 1 unknown, 2 pending, 3 processing, 4 partially available, 5 available, 6 deleted.
MEDIA_STATUS = {1: "unknown", 2: "pending", 3: "processing", 4: "partially available", 5: "available",
                6: "deleted", 7: "blocklisted"}


class SeerrError(SourceError):
    """A Seerr call failed; the message is one line and never holds the API key."""


class SeerrUnreachable(SeerrError, Unreachable):
    """Seerr did not answer: connection refused, dropped, or slower than the timeout."""


class SeerrBadResponse(SeerrError, BadResponse):
    """Seerr answered with an error status, a redirect or JSON that is not what v1 sends."""


@dataclass(frozen=True)
class SeerrMedia:
    """One media entry: a movie or a whole show, with the Plex rating key Seerr's scan found it under."""

    media_id: int
    media_type: str  # movie | tv
    tmdb_id: int | None
    tvdb_id: int | None
    rating_key: int | None
    status: int


@dataclass(frozen=True)
class SeerrRequest:
    """One request and who made it; `seasons` is empty for a movie."""

    request_id: int
    status: int
    media: SeerrMedia
    seasons: tuple[int, ...]
    requester_id: int
    requester_plex_id: int | None
    requester_email: str | None
    requester_username: str | None
    created_at: datetime | None


class SeerrClient:
    """Seerr's v1 API over the shared HTTP layer."""

    def __init__(self, settings: SeerrSettings, session: requests.Session | None = None) -> None:
        if not settings.configured:
            raise ConfigError("Seerr is not configured: set SEERR_URL and SEERR_API_KEY")
        key = settings.api_key.get_secret_value()
        self.http = HttpClient("Seerr", f"{settings.url.rstrip('/')}/api/v1", timeout=settings.timeout_seconds,
                               session=session, headers={"X-Api-Key": key, "Accept": "application/json"},
                               secrets=[key], url_setting="SEERR_URL", key_setting="SEERR_API_KEY",
                               errors=(SeerrUnreachable, SeerrBadResponse), describe=self._describe)
        self.where = where(settings.url)

    def close(self) -> None:
        self.http.close()

    @property
    def request_count(self) -> int:
        return self.http.requests

    def health(self) -> str:
        """GET status (Seerr's version), then one authenticated page of requests, so a wrong key shows now."""
        status = self._call("GET", "status")
        if not isinstance(status, dict) or "version" not in status:
            raise self._bad(f"Seerr at {self.where} answered GET /api/v1/status without a version; check SEERR_URL")
        self._call("GET", "request", params={"take": 1, "skip": 0})
        return str(status["version"])

    def requests(self) -> list[SeerrRequest]:
        """Every request, whatever its state, oldest first."""
        return [self._request(r) for r in self._pages("request", {"filter": "all", "sort": "added"})]

    def media(self) -> list[SeerrMedia]:
        """Every media entry Seerr holds (its Plex scan adds one for each movie and show it finds)."""
        return [self._media(m) for m in self._pages("media", {"filter": "all", "sort": "added"})]

    def title(self, media: SeerrMedia) -> tuple[str, int | None] | None:
        """(title, year) of a movie or show Seerr knows by its tmdb id (GET movie/{id} or tv/{id}); None if unknown."""
        if not media.tmdb_id:
            return None
        kind = "tv" if media.media_type == "tv" else "movie"
        if kind == "tv":
            found = self._call("GET", f"tv/{media.tmdb_id}", gone_ok=True)
        else:
            found = self._call("GET", f"movie/{media.tmdb_id}", gone_ok=True)
        if not isinstance(found, dict):
            return None
        name = found.get("name" if kind == "tv" else "title")
        when = str(found.get("firstAirDate" if kind == "tv" else "releaseDate") or "")
        return (str(name), int(when[:4]) if when[:4].isdigit() else None) if name else None

    def delete_media(self, media_id: int) -> None:
        """DELETE media/{id}: the entry and its requests go, so the title can be requested again; 404 is done."""
        self._call("DELETE", f"media/{media_id}", gone_ok=True)

    # -- plumbing -----------------------------------------------------------------------------------------
    def _pages(self, route: str, params: dict) -> Iterator[dict]:
        skip = 0
        while True:
            page = self._call("GET", route, params={**params, "take": PAGE, "skip": skip})
            results = page.get("results") if isinstance(page, dict) else None
            if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
                raise self._bad(f"Seerr answered GET /api/v1/{route} without a results list")
            yield from results
            total = (page.get("pageInfo") or {}).get("results")
            skip += len(results)
            if not results or len(results) < PAGE or (isinstance(total, (int, float)) and skip >= total):
                return

    def _call(self, method: str, route: str, *, params: dict | None = None, gone_ok: bool = False) -> Any:
        return self.http.json(method, f"/{route}", what=f"{method} /api/v1/{route}", params=params,
                              gone_ok=gone_ok, empty_ok=True)

    def _media(self, m: Any) -> SeerrMedia:
        try:
            key = m.get("ratingKey")
            return SeerrMedia(int(m["id"]), str(m["mediaType"]), _int(m.get("tmdbId")), _int(m.get("tvdbId")),
                              int(key) if key not in (None, "") and str(key).isdigit() else None,
                              int(m.get("status") or 1))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise self._bad("Seerr sent a media entry without an id or media type") from None

    def _request(self, r: dict) -> SeerrRequest:
        try:
            user = r.get("requestedBy") or {}
            seasons = tuple(sorted(int(s["seasonNumber"]) for s in r.get("seasons") or []))
            created = r.get("createdAt")
            return SeerrRequest(
                int(r["id"]), int(r["status"]), self._media(r["media"]), seasons, int(user["id"]),
                _int(user.get("plexId")), user.get("email") or None,
                user.get("plexUsername") or user.get("username") or None,
                datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None)
        except (AttributeError, KeyError, TypeError, ValueError):
            raise self._bad(f"Seerr sent request {r.get('id')!r} without its media or requester") from None

    def _describe(self, f: Failure) -> str | None:
        if f.kind in ("timeout", "unreachable", "tls"):
            return (f"Seerr at {self.where} is not reachable ({f.what}: {f.reason}); check SEERR_URL and that "
                    "Seerr is running")
        if f.status in (401, 403):
            return f"Seerr rejected the API key ({f.status} on {f.what}); check SEERR_API_KEY"
        if f.kind in ("refused", "not_found", "client", "server"):
            return f"Seerr answered {f.status} to {f.what}" + (f": {f.detail}" if f.detail else "")
        return None

    def _bad(self, message: str) -> SeerrBadResponse:
        return SeerrBadResponse(self.http.redact(message))


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "", 0) else None
    except (TypeError, ValueError):
        return None
