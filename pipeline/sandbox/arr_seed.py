"""What the sandbox Sonarr and Radarr know about a World, as the JSON resources their v3 APIs serve.

Deterministic, and deliberately incomplete, so "not known to Sonarr/Radarr" happens on every run:
- every 6th show in rating-key order (position % 6 == 5) is not in Sonarr, nor are its episodes;
- every 10th movie in rating-key order (position % 10 == 9) is not in Radarr;
- every 9th episode Sonarr does know (position % 9 == 4) has tvdbId 0 there (as Sonarr shows an episode
  TheTVDB has not numbered yet), so a lookup by the episode's tvdb id misses and the season/episode
  numbers must find it.
Ids count up from 1 in rating-key order: series, episodes and episode files in Sonarr; movies and movie
files in Radarr. Music is neither's business. `sync()` adds items that appeared in the world since.

Upcoming (the calendars, with `upcoming=True`; off, Sonarr and Radarr mirror Plex exactly): every 4th series Sonarr has (id % 4 == 1) gets a next season of three episodes not
aired yet, a few days apart (the third past a fortnight), and one new series Plex does not have yet
(UPCOMING_SHOW) has two; Radarr has UPCOMING_MOVIES, monitored, without a file, released digitally soon.
`add_upcoming_series` / `add_upcoming_movie` let a test add its own.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from pipeline.sandbox.world import Item, World

SHOW_SKIP = (6, 5)      # (every, position) left out of Sonarr
MOVIE_SKIP = (10, 9)    # left out of Radarr
NO_TVDB = (9, 4)        # episodes Sonarr knows without a tvdb id
DAY = 86_400
UPCOMING_SHOW = ("Harbour Lights", 2027)   # a new series in Sonarr, not in Plex yet: two episodes to come
UPCOMING_MOVIES = (("The Paper Orchard", 2026, 2), ("Northbound", 2026, 6), ("A Quiet Signal", 2027, 20))  # days off


def api_key(world: World, app: str) -> str:
    """32 lowercase hex characters, like the keys Sonarr and Radarr generate; stable per world."""
    return hashlib.sha256(f"{app}:{world.seed}:{world.tautulli_api_key}".encode()).hexdigest()[:32]


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "untitled"


def _clean(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", title.lower())


def _skipped(position: int, rule: tuple[int, int]) -> bool:
    every, at = rule
    return position % every == at


class SonarrData:
    """Series, episodes and episode files; series_by_rk / episodes_by_rk map Plex rating keys to Sonarr ids."""

    def __init__(self, world: World, *, upcoming: bool = False) -> None:
        self.world = world
        self.series: dict[int, dict] = {}
        self.episodes: dict[int, dict] = {}
        self.files: dict[int, dict] = {}
        self.series_by_rk: dict[int, int] = {}
        self.episodes_by_rk: dict[int, int] = {}
        self.left_out: list[int] = []    # rating keys of the shows Sonarr does not have
        self._seen: set[int] = set()
        self._shows = self._episodes = 0  # positions counted so far, so sync() keeps the rules
        self.sync()
        if upcoming:
            self._seed_upcoming()

    def sync(self) -> None:
        """Add shows and episodes the world gained since the last sync (nothing already here changes)."""
        items = sorted((i for i in self.world.items.values() if i.rating_key not in self._seen),
                       key=lambda i: i.rating_key)
        for show in (i for i in items if i.type == "show"):
            self._seen.add(show.rating_key)
            position, self._shows = self._shows, self._shows + 1
            if _skipped(position, SHOW_SKIP):
                self.left_out.append(show.rating_key)
                continue
            self._add_series(show)
        for ep in (i for i in items if i.type == "episode"):
            self._seen.add(ep.rating_key)
            show_key = ep.grandparent_rating_key
            if show_key is None or show_key not in self.series_by_rk:
                continue
            series_id = self.series_by_rk[show_key]
            position, self._episodes = self._episodes, self._episodes + 1
            self._add_episode(series_id, ep, no_tvdb=_skipped(position, NO_TVDB))

    def _add_series(self, show: Item) -> None:
        sid = len(self.series) + 1
        self.series_by_rk[show.rating_key] = sid
        self.series[sid] = {
            "id": sid, "title": show.title, "sortTitle": show.title.lower(), "status": "continuing",
            "overview": "", "network": "", "seasons": [], "year": show.year or 0,
            "path": f"/data/media/TV/{show.title}", "qualityProfileId": 1, "seasonFolder": True,
            "monitored": True, "monitorNewItems": "all", "useSceneNumbering": False, "runtime": 0,
            "tvdbId": show.tvdb_id, "tvRageId": 0, "tvMazeId": 0, "tmdbId": 0, "seriesType": "standard",
            "cleanTitle": _clean(show.title), "titleSlug": _slug(show.title), "rootFolderPath": "/data/media/TV/",
            "genres": [], "tags": [], "added": iso(show.added_at)}

    def _add_episode(self, series_id: int, ep: Item, *, no_tvdb: bool) -> None:
        eid = len(self.episodes) + 1
        self.episodes_by_rk[ep.rating_key] = eid
        file_id = 0
        if ep.file:
            file_id = len(self.files) + 1
            series_path = self.series[series_id]["path"]
            self.files[file_id] = {
                "id": file_id, "seriesId": series_id, "seasonNumber": ep.parent_index or 0,
                "relativePath": ep.file[len(series_path) + 1:] if ep.file.startswith(series_path + "/") else ep.file,
                "path": ep.file, "size": ep.size_bytes or 0, "dateAdded": iso(ep.added_at),
                "releaseGroup": "", "languages": [{"id": 1, "name": "English"}]}
        self.episodes[eid] = {
            "id": eid, "seriesId": series_id, "tvdbId": 0 if no_tvdb else ep.tvdb_id, "episodeFileId": file_id,
            "seasonNumber": ep.parent_index or 0, "episodeNumber": ep.index or 0, "title": ep.title,
            "airDate": iso(ep.added_at)[:10], "airDateUtc": iso(ep.added_at),
            "runtime": (ep.duration_ms or 0) // 60_000, "overview": "", "hasFile": bool(file_id), "monitored": True,
            "unverifiedSceneNumbering": False}
        seasons = self.series[series_id]["seasons"]
        if all(s["seasonNumber"] != (ep.parent_index or 0) for s in seasons):
            seasons.append({"seasonNumber": ep.parent_index or 0, "monitored": True})
            seasons.sort(key=lambda s: s["seasonNumber"])

    def _seed_upcoming(self) -> None:
        now = self.world.now
        for sid in [s for s in sorted(self.series) if s % 4 == 1]:
            season = max((s["seasonNumber"] for s in self.series[sid]["seasons"]), default=0) + 1
            for n in range(3):
                self.add_upcoming_episode(sid, season, n + 1, now + (sid % 5 + 1 + 7 * n) * DAY + 21 * 3600)
        title, year = UPCOMING_SHOW
        self.add_upcoming_series(title, year, f"/data/media/TV/{title}", days=(3, 10))

    def add_upcoming_series(self, title: str, year: int, path: str, *, days: tuple[int, ...]) -> int:
        """A series Sonarr has added but Plex does not have yet, with season 1 episodes airing `days` from now."""
        sid = len(self.series) + 1
        root = path.rsplit("/", 1)[0] + "/"
        self.series[sid] = {
            "id": sid, "title": title, "sortTitle": title.lower(), "status": "upcoming", "overview": "",
            "network": "", "seasons": [], "year": year, "path": path, "qualityProfileId": 1, "seasonFolder": True,
            "monitored": True, "monitorNewItems": "all", "useSceneNumbering": False, "runtime": 45,
            "tvdbId": 800_000 + sid, "tvRageId": 0, "tvMazeId": 0, "tmdbId": 0, "seriesType": "standard",
            "cleanTitle": _clean(title), "titleSlug": _slug(title), "rootFolderPath": root, "genres": [], "tags": [],
            "added": iso(self.world.now - DAY)}
        for n, day in enumerate(days):
            self.add_upcoming_episode(sid, 1, n + 1, self.world.now + day * DAY + 20 * 3600)
        return sid

    def add_upcoming_episode(self, sid: int, season: int, number: int, airs: int) -> int:
        """An episode not aired yet (no file, monitored), as Sonarr lists it ahead of its air date."""
        eid = len(self.episodes) + 1
        self.episodes[eid] = {
            "id": eid, "seriesId": sid, "tvdbId": 700_000 + eid, "episodeFileId": 0, "seasonNumber": season,
            "episodeNumber": number, "title": f"Episode {number}", "airDate": iso(airs)[:10],
            "airDateUtc": iso(airs), "runtime": 45, "overview": "", "hasFile": False, "monitored": True,
            "unverifiedSceneNumbering": False}
        seasons = self.series[sid]["seasons"]
        if all(s["seasonNumber"] != season for s in seasons):
            seasons.append({"seasonNumber": season, "monitored": True})
            seasons.sort(key=lambda s: s["seasonNumber"])
        return eid

    def series_resource(self, sid: int) -> dict:
        """The series with the statistics Sonarr computes on the fly."""
        eps = [e for e in self.episodes.values() if e["seriesId"] == sid]
        files = [f for f in self.files.values() if f["seriesId"] == sid]
        stats = {"seasonCount": len(self.series[sid]["seasons"]), "episodeFileCount": len(files),
                 "episodeCount": sum(1 for e in eps if e["monitored"] or e["hasFile"]),
                 "totalEpisodeCount": len(eps), "sizeOnDisk": sum(f["size"] for f in files),
                 "percentOfEpisodes": 100.0 * len(files) / len(eps) if eps else 0.0}
        return {**self.series[sid], "statistics": stats}


class RadarrData:
    """Movies (each with its movieFile while it has one) and import exclusions."""

    def __init__(self, world: World, *, upcoming: bool = False) -> None:
        self.world = world
        self.movies: dict[int, dict] = {}
        self.files: dict[int, dict] = {}
        self.exclusions: dict[int, dict] = {}
        self.movies_by_rk: dict[int, int] = {}
        self.left_out: list[int] = []
        self._seen: set[int] = set()
        self._count = 0
        self.sync()
        for title, year, days in UPCOMING_MOVIES if upcoming else ():
            self.add_upcoming_movie(title, year, f"/data/media/Movies/{title} ({year})", days=days)

    def sync(self) -> None:
        """Add movies the world gained since the last sync."""
        for movie in sorted((i for i in self.world.items.values()
                             if i.type == "movie" and i.rating_key not in self._seen), key=lambda i: i.rating_key):
            self._seen.add(movie.rating_key)
            position, self._count = self._count, self._count + 1
            if _skipped(position, MOVIE_SKIP):
                self.left_out.append(movie.rating_key)
                continue
            self._add(movie)

    def _add(self, m: Item) -> None:
        mid = len(self.movies) + 1
        self.movies_by_rk[m.rating_key] = mid
        folder = m.file.rsplit("/", 1)[0] if "/" in m.file else f"/data/media/Movies/{m.title} ({m.year})"
        file_id = 0
        if m.file:
            file_id = len(self.files) + 1
            self.files[file_id] = {
                "id": file_id, "movieId": mid, "relativePath": m.file.rsplit("/", 1)[-1], "path": m.file,
                "size": m.size_bytes or 0, "dateAdded": iso(m.added_at), "releaseGroup": "", "edition": "",
                "languages": [{"id": 1, "name": "English"}]}
        self.movies[mid] = {
            "id": mid, "title": m.title, "originalTitle": m.title, "sortTitle": m.title.lower(),
            "status": "released", "overview": "", "year": m.year or 0, "path": folder, "qualityProfileId": 1,
            "movieFileId": file_id, "monitored": True, "minimumAvailability": "released", "isAvailable": True,
            "folderName": folder, "runtime": (m.duration_ms or 0) // 60_000, "cleanTitle": _clean(m.title),
            "imdbId": m.imdb_id, "tmdbId": m.tmdb_id, "titleSlug": str(m.tmdb_id),
            "rootFolderPath": "/data/media/Movies", "genres": [], "tags": [], "added": iso(m.added_at)}

    def add_upcoming_movie(self, title: str, year: int, path: str, *, days: int) -> int:
        """A monitored movie without a file: in cinemas two months ago, released digitally `days` from now."""
        mid = len(self.movies) + 1
        now = self.world.now
        self.movies[mid] = {
            "id": mid, "title": title, "originalTitle": title, "sortTitle": title.lower(), "status": "inCinemas",
            "overview": "", "inCinemas": iso(now - 60 * DAY)[:10] + "T00:00:00Z",
            "digitalRelease": iso(now + days * DAY)[:10] + "T00:00:00Z",
            "physicalRelease": iso(now + (days + 21) * DAY)[:10] + "T00:00:00Z", "year": year, "path": path,
            "qualityProfileId": 1, "movieFileId": 0, "monitored": True, "minimumAvailability": "released",
            "isAvailable": False, "folderName": path, "runtime": 104, "cleanTitle": _clean(title),
            "imdbId": f"tt{8_000_000 + mid}", "tmdbId": 900_000 + mid, "titleSlug": str(900_000 + mid),
            "rootFolderPath": path.rsplit("/", 1)[0], "genres": [], "tags": [], "added": iso(now - 30 * DAY)}
        return mid

    def movie_resource(self, mid: int, *, excluded: bool = False) -> dict:
        """The movie as GET /api/v3/movie serves it: hasFile, sizeOnDisk and movieFile follow the file.

        excluded: add isExcluded, for tests only; Radarr's openapi.json has no such field, so it is not served.
        """
        movie = dict(self.movies[mid])
        file = self.files.get(movie["movieFileId"])
        movie.update(hasFile=file is not None, sizeOnDisk=file["size"] if file else 0)
        if excluded:
            movie["isExcluded"] = any(x["tmdbId"] == movie["tmdbId"] for x in self.exclusions.values())
        if file is not None:  # Radarr leaves null fields out of its JSON
            movie["movieFile"] = dict(file)
        return movie
