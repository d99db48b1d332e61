"""Seerr (Overseerr/Jellyseerr) on loopback: the slice of its v1 API Marquee reads and the one call it makes.

Routes and payloads follow seerr-api.yml and the server's entities (server/entity/Media.ts, MediaRequest.ts,
SeasonRequest.ts, User.ts) and routes (server/routes/request.ts, media.ts): GET status (public), GET request
and GET media (paged with take/skip, `{pageInfo, results}`), DELETE media/{id} (204; 404 when unknown; the
media's requests go with it). Every other route wants the X-Api-Key header, else 403 as Seerr's middleware.

The world's Plex library is "scanned" at start: each movie and show gets an AVAILABLE media entry with its
Plex rating key. Users are the world's Plex users (plexId = their account id). Requests are added by tests
and benchmarks with `request(...)`; `local_user(...)` adds a Seerr-only account with no Plex user behind it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import datetime, timezone
from typing import Any

from pipeline.sandbox.http import Request, Response, SandboxServer
from pipeline.sandbox.world import World

JSON = "application/json; charset=utf-8"
AVAILABLE, PENDING_MEDIA, PARTIAL = 5, 2, 4
PENDING, APPROVED, DECLINED = 1, 2, 3


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _json(data: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False).encode(), JSON)


class SeerrSandbox(SandboxServer):
    name = "seerr"
    version = "2.7.3"

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0, key: str | None = None) -> None:
        super().__init__(host, port)
        self.world = world
        self.api_key = key or hashlib.sha256(f"seerr:{world.seed}:{world.tautulli_api_key}".encode()).hexdigest()
        self.state_lock = threading.RLock()
        self.users: dict[int, dict] = {}
        self.media: dict[int, dict] = {}
        self.titles: dict[tuple[str, int], tuple[str, int | None]] = {}  # (movie|tv, tmdb id) -> TMDB's title, year
        self.requests_made: dict[int, dict] = {}  # request id -> stored request
        self.media_by_rk: dict[int, int] = {}
        for n, u in enumerate(sorted(world.users, key=lambda u: (not u.is_owner, u.user_id)), 1):
            if u.has_share or u.is_owner:
                self.users[n] = self._user(n, u.email or f"{u.username}@plex.invalid", u.username, u.user_id,
                                           1 if u.is_owner else 2)
        for item in sorted(world.items.values(), key=lambda i: i.rating_key):
            if item.type in ("movie", "show"):
                self._add_media(item.type, item.rating_key, AVAILABLE)

    # -- test helpers ---------------------------------------------------------------------------------
    def user_for(self, plex_user_id: int) -> int:
        """The Seerr user id of a world user."""
        return next(uid for uid, u in self.users.items() if u["plexId"] == plex_user_id)

    def local_user(self, email: str, username: str) -> int:
        """A Seerr-only account (userType 2, no plexId): nobody Marquee knows."""
        uid = max(self.users) + 1
        self.users[uid] = self._user(uid, email, None, None, 2, username=username)
        return uid

    def request(self, user: int, rating_key: int | None = None, *, seasons: tuple[int, ...] = (),
                status: int = APPROVED, tmdb_id: int | None = None, media_type: str = "movie",
                title: str | None = None, year: int | None = None) -> dict:
        """Seerr user `user` requests a Plex title (its rating key), or a title Plex lacks (tmdb_id, and the
        title and year TMDB gives it, served by GET movie/{id} or tv/{id})."""
        if tmdb_id is not None and title:
            self.titles[(media_type, tmdb_id)] = (title, year)
        with self.state_lock:
            if rating_key is not None:
                mid = self.media_by_rk[rating_key]
            else:
                mid = self._add_media(media_type, None, PENDING_MEDIA, tmdb_id=tmdb_id)
            media = self.media[mid]
            rid = max(self.requests_made, default=0) + 1
            at = iso(self.world.now - 86_400 * 10 + rid)
            self.requests_made[rid] = {
                "id": rid, "status": status, "createdAt": at, "updatedAt": at, "type": media["mediaType"],
                "is4k": False, "serverId": 0, "profileId": 1, "rootFolder": "/data/media", "languageProfileId": None,
                "tags": [], "isAutoRequest": False, "mediaId": mid, "userId": user,
                "seasonCount": len(seasons),
                "seasons": [{"id": rid * 100 + s, "seasonNumber": s, "status": status, "createdAt": at,
                             "updatedAt": at} for s in seasons]}
            return self._request_resource(self.requests_made[rid])

    def media_for(self, rating_key: int) -> dict | None:
        mid = self.media_by_rk.get(rating_key)
        return dict(self.media[mid]) if mid in self.media else None

    # -- data -----------------------------------------------------------------------------------------
    def _user(self, uid: int, email: str, plex_username: str | None, plex_id: int | None, user_type: int,
              username: str | None = None) -> dict:
        at = iso(self.world.now - 200 * 86_400)
        user = {"permissions": 2 if uid == 1 else 32, "warnings": [], "id": uid, "email": email,
                "plexUsername": plex_username, "jellyfinUsername": None, "username": username,
                "recoveryLinkExpirationDate": None, "userType": user_type, "plexId": plex_id,
                "jellyfinUserId": None, "avatar": "/avatarproxy/" + hashlib.md5(email.encode()).hexdigest(),
                "movieQuotaLimit": None, "movieQuotaDays": None, "tvQuotaLimit": None, "tvQuotaDays": None,
                "createdAt": at, "updatedAt": at, "requestCount": 0,
                "displayName": username or plex_username or email}
        # seerr-api.yml's User has username and plexUsername as non-nullable strings: absent, never null.
        return {k: v for k, v in user.items() if not (k in ("username", "plexUsername") and v is None)}

    def _add_media(self, kind: str, rating_key: int | None, status: int, tmdb_id: int | None = None) -> int:
        mid = max(self.media, default=0) + 1
        item = self.world.items.get(rating_key) if rating_key is not None else None
        at = iso(item.added_at if item else self.world.now - 86_400)
        tv = kind in ("show", "tv")
        self.media[mid] = {
            "downloadStatus": [], "downloadStatus4k": [], "id": mid, "mediaType": "tv" if tv else "movie",
            "tmdbId": tmdb_id or (item.tmdb_id if item and not tv else 700_000 + (rating_key or mid)),
            "tvdbId": item.tvdb_id if item and tv else None, "imdbId": item.imdb_id if item and not tv else None,
            "status": status, "status4k": 1, "createdAt": at, "updatedAt": at, "lastSeasonChange": at,
            "mediaAddedAt": at if item else None, "serviceId": 0, "serviceId4k": None, "externalServiceId": mid,
            "externalServiceId4k": None, "externalServiceSlug": None, "externalServiceSlug4k": None,
            "ratingKey": str(rating_key) if rating_key is not None else None, "ratingKey4k": None,
            "jellyfinMediaId": None, "jellyfinMediaId4k": None}
        if rating_key is not None:
            self.media_by_rk[rating_key] = mid
        return mid

    def _request_resource(self, r: dict) -> dict:
        out = {k: v for k, v in r.items() if k not in ("mediaId", "userId")}
        out["media"] = dict(self.media[r["mediaId"]])
        out["requestedBy"] = dict(self.users[r["userId"]])
        out["modifiedBy"] = dict(self.users[1]) if r["status"] != PENDING else None
        return out

    # -- routes ---------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path == "/api/v1/status" and request.method == "GET":
            return _json({"version": self.version, "commitTag": "local", "updateAvailable": False,
                          "commitsBehind": 0, "restartRequired": False})
        if request.headers.get("x-api-key") != self.api_key:
            return _json({"status": 403, "error": "You do not have permission to access this endpoint"}, 403)
        with self.state_lock:
            if path == "/api/v1/request" and request.method == "GET":
                rows = [self._request_resource(r) for _, r in sorted(self.requests_made.items())]
                return self._page(request, rows)
            if path == "/api/v1/media" and request.method == "GET":
                return self._page(request, [dict(m) for _, m in sorted(self.media.items())])
            match = re.fullmatch(r"/api/v1/(movie|tv)/(\d+)", path)
            if match and request.method == "GET":
                return self._details(match.group(1), int(match.group(2)))
            match = re.fullmatch(r"/api/v1/media/(\d+)", path)
            if match and request.method == "DELETE":
                mid = int(match.group(1))
                media = self.media.pop(mid, None)
                if media is None:
                    return _json({"message": "Media not found"}, 404)
                self.requests_made = {k: r for k, r in self.requests_made.items() if r["mediaId"] != mid}
                self.media_by_rk = {k: m for k, m in self.media_by_rk.items() if m != mid}
                return Response(204, b"", JSON)
        return _json({"message": "API route not found"}, 404)

    def _details(self, kind: str, tmdb_id: int) -> Response:
        """GET movie/{id} or tv/{id}: a slice of MovieDetails / TvDetails (TMDB's data, proxied); 404 when unknown."""
        found = self.titles.get((kind, tmdb_id))
        media = next((m for m in self.media.values() if m["mediaType"] == kind and m["tmdbId"] == tmdb_id), None)
        if found is None and media is not None and media["ratingKey"]:
            item = self.world.items.get(int(media["ratingKey"]))
            found = (item.title, item.year) if item else None
        if found is None:
            return _json({"message": "Unable to retrieve details."}, 404)
        title, year = found
        day = f"{year or 2026}-01-01"
        info = {"mediaInfo": dict(media)} if media else {}
        if kind == "movie":
            return _json({"id": tmdb_id, "title": title, "originalTitle": title, "releaseDate": day, "overview": "",
                          "adult": False, "genres": [], "runtime": 100, "status": "Released", **info})
        return _json({"id": tmdb_id, "name": title, "originalName": title, "firstAirDate": day, "overview": "",
                      "genres": [], "inProduction": True, "numberOfSeasons": 1, "status": "Returning Series", **info})

    def _page(self, request: Request, rows: list[dict]) -> Response:
        take = int(float(request.query.get("take") or 10))
        skip = int(float(request.query.get("skip") or 0))
        return _json({"pageInfo": {"pages": -(-len(rows) // take) if take else 0, "pageSize": take,
                                   "results": len(rows), "page": skip // take + 1 if take else 1},
                      "results": rows[skip:skip + take]})
