"""The sandbox's data model: one World feeds the Tautulli, Plex and plex.tv sandboxes alike.

Users, sections and items are small (thousands) and kept as objects. Plays can be
millions, so they are kept as numpy columns sorted by start time and turned into
Tautulli's JSON rows only when a page is served.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np


@dataclass
class SandboxUser:
    user_id: int                 # plex.tv account id; Tautulli uses the same id
    username: str
    friendly_name: str           # may be whitespace-only (a Tautulli quirk we reproduce)
    email: str | None            # managed home users have none
    is_owner: bool = False
    is_home: bool = False
    is_restricted: bool = False  # managed user
    share_id: int | None = None  # shared_servers id on this server; None for the owner
    invited_at: int | None = None   # epoch seconds
    accepted_at: int | None = None  # epoch seconds; None while pending
    section_ids: tuple[int, ...] = ()
    all_libraries: bool = True
    in_tautulli: bool = True     # False: deleted from Tautulli, still in its history
    has_share: bool = True       # False: unshared or removed on plex.tv
    note: str = ""               # why the generator made this user (idle age etc.), for tests

    @property
    def thumb(self) -> str:
        return f"https://plex.tv/users/{self.user_id:x}/avatar"


@dataclass
class Section:
    section_id: int
    title: str
    type: str                    # movie | show | artist
    updated_at: int              # bumped whenever an item in it changes
    location: str = "/data/media"


VIDEO_GENRES = ("Drama", "Comedy", "Science Fiction", "Thriller", "Animation", "Documentary", "Crime", "Adventure")
MUSIC_GENRES = ("Rock", "Electronic", "Jazz", "Pop", "Hip-Hop", "Classical")


@dataclass
class Item:
    rating_key: int
    section_id: int
    type: str                    # movie | show | season | episode | artist | album | track
    title: str
    added_at: int
    updated_at: int
    parent_rating_key: int | None = None
    grandparent_rating_key: int | None = None
    parent_title: str = ""
    grandparent_title: str = ""
    index: int | None = None         # episode / track number, season number for a season
    parent_index: int | None = None  # season number for an episode
    year: int | None = None
    duration_ms: int | None = None
    size_bytes: int | None = None    # leaves only (movie, episode, track)
    labels: tuple[str, ...] = ()
    file: str = ""
    collections: tuple[str, ...] = ()
    agentless: bool = False  # matched by no online agent (Personal Media, say): Plex gives it no Guid ids

    # Agent ids as Plex's <Guid> children give them; Sonarr and Radarr know items by these.
    @property
    def tvdb_id(self) -> int | None:
        return 300_000 + self.rating_key if self.type in ("show", "episode") and not self.agentless else None

    @property
    def tmdb_id(self) -> int | None:
        return 500_000 + self.rating_key if self.type == "movie" else None

    @property
    def imdb_id(self) -> str | None:
        return f"tt{9_000_000 + self.rating_key}" if self.type == "movie" else None

    @property
    def genres(self) -> tuple[str, ...]:
        """Two genres for a movie, show or artist, from its key: no draw from the seed's generator."""
        names = {"movie": VIDEO_GENRES, "show": VIDEO_GENRES, "artist": MUSIC_GENRES}.get(self.type)
        if not names:
            return ()
        first, second = names[self.rating_key % len(names)], names[(self.rating_key // 7) % len(names)]
        return (first,) if first == second else (first, second)

    @property
    def guid(self) -> str:
        return f"plex://{self.type}/{self.rating_key:024x}"

    @property
    def thumb(self) -> str:
        return f"/library/metadata/{self.rating_key}/thumb/{self.updated_at}"


# Columns of the plays table; every array has the same length and is sorted by `started`.
PLAY_COLUMNS = {
    "id": np.int64,              # Tautulli history row id: ascending, never reused (rows can be deleted)
    "started": np.int64,         # epoch seconds
    "stopped": np.int64,
    "paused": np.int32,          # seconds paused
    "user_id": np.int64,
    "rating_key": np.int64,
    "percent": np.int16,         # 0..100
    "watched_status": np.float32,  # Tautulli's 0 / .25 / .5 / .75 / 1
    "reference_id": np.int64,    # id of the first part of a resumed session; the row's own id when none
    "platform": np.int8,         # index into PLATFORMS
}

PLATFORMS = [
    ("Roku", "Plex for Roku", "Living Room"),
    ("Android", "Plex for Android (Mobile)", "Pixel 8"),
    ("iOS", "Plex for iOS", "iPhone"),
    ("Chrome", "Plex Web", "Chrome"),
    ("Apple TV", "Plex for Apple TV", "Apple TV"),
    ("Android", "Plex for Android (TV)", "SHIELD Android TV"),
    ("Windows", "Plex for Windows", "DESKTOP-PC"),
    ("Samsung", "Plex for Samsung", "Samsung TV"),
]


@dataclass
class Plays:
    """Columnar plays sorted by start; the `id` column is Tautulli's history row id."""

    cols: dict[str, np.ndarray]

    @classmethod
    def empty(cls) -> "Plays":
        return cls({name: np.zeros(0, dtype=dt) for name, dt in PLAY_COLUMNS.items()})

    def __len__(self) -> int:
        return len(self.cols["started"])

    def append(self, **cols: np.ndarray) -> None:
        """Add plays that started after every existing one (new activity)."""
        for name, dt in PLAY_COLUMNS.items():
            self.cols[name] = np.concatenate([self.cols[name], np.asarray(cols[name], dtype=dt)])


@dataclass
class World:
    seed: int
    now: int                     # epoch seconds the world was generated for
    timezone: str                # the Tautulli server's local zone
    server_name: str
    machine_identifier: str
    owner_token: str             # X-Plex-Token the Plex sandbox accepts
    tautulli_api_key: str        # 32 characters
    users: list[SandboxUser]
    sections: list[Section]
    items: dict[int, Item]
    plays: Plays = field(default_factory=Plays.empty)
    activity: list[dict] = field(default_factory=list)  # sessions playing now (Tautulli get_activity)
    version: str = "1.41.3.9314-a0bfb8370"
    # (user_id, rating_key) -> (viewCount, viewOffset ms, lastViewedAt): set by /:/scrobble and /:/unscrobble
    # (or a test), and replacing what that user's plays imply for that item, as a mark in Plex does.
    view_marks: dict[tuple[int, int], tuple[int, int, int | None]] = field(default_factory=dict)

    @property
    def owner(self) -> SandboxUser:
        return next(u for u in self.users if u.is_owner)

    def share_token(self, user_id: int) -> str:
        """The accessToken plex.tv lists for a user's share of this server; the Plex sandbox accepts it as theirs."""
        return hashlib.sha1(f"share-token:{self.owner_token}:{user_id}".encode()).hexdigest()[:20]

    def user(self, user_id: int) -> SandboxUser:
        return next(u for u in self.users if u.user_id == user_id)

    def children(self, rating_key: int) -> list[Item]:
        return sorted((i for i in self.items.values() if i.parent_rating_key == rating_key),
                      key=lambda i: (i.index or 0, i.rating_key))

    def leaves(self, rating_key: int) -> list[Item]:
        """Episodes of a show or tracks of an artist, in order."""
        return sorted((i for i in self.items.values() if i.grandparent_rating_key == rating_key),
                      key=lambda i: (i.parent_index or 0, i.index or 0))

    def section_items(self, section_id: int, type_: str) -> list[Item]:
        return sorted((i for i in self.items.values() if i.section_id == section_id and i.type == type_),
                      key=lambda i: (i.title.lower(), i.rating_key))
