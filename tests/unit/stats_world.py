"""A tiny hand-made store for the stats tests: known plays, users and media, answers worked out by hand.

The server lives in America/New_York. The issue is ISO week 2026-W46: Mon Nov 9 to Sun Nov 15 local,
[2026-11-09 05:00Z, 2026-11-16 05:00Z). The week before (2026-W45) holds a few plays for the change.
Local day and hour of every play are in the comments; the answers in test_stats_sql.py follow from them.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa

from pipeline.stats.periods import parse_period
from pipeline.store.db import Store, memory_store

TZ = "America/New_York"
PERIOD = parse_period("2026-W46", TZ)
INGESTED = datetime(2026, 11, 16, 6, 0, tzinfo=timezone.utc)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


MOVIE = dict(media_type="movie")
HEAT = dict(MOVIE, rating_key=100, section_id=1, title="Heat", full_title="Heat", year=1995)
HEAT_4K = dict(HEAT, rating_key=101, section_id=4)  # the same film in the 4K library: one title
ALIEN = dict(MOVIE, rating_key=110, section_id=1, title="Alien", full_title="Alien", year=1979)
UP = dict(MOVIE, rating_key=120, section_id=1, title="Up", full_title="Up", year=2009)


def episode(rk: int, show_rk: int, show: str, season_rk: int, season: int, number: int) -> dict:
    return dict(media_type="episode", rating_key=rk, parent_rating_key=season_rk, grandparent_rating_key=show_rk,
                section_id=2, title=f"Episode {number}", parent_title=f"Season {season}", grandparent_title=show,
                full_title=f"{show} - Episode {number}", media_index=number, parent_media_index=season)


def track(rk: int, album_rk: int, album: str, artist_rk: int, artist: str, original: str = "") -> dict:
    return dict(media_type="track", rating_key=rk, parent_rating_key=album_rk, grandparent_rating_key=artist_rk,
                section_id=3, title=f"Track {rk}", parent_title=album, grandparent_title=artist,
                full_title=f"{artist} - Track {rk}", original_title=original)


SEV_1 = episode(202, 200, "Severance", 201, 1, 1)
SEV_2 = episode(203, 200, "Severance", 201, 1, 2)
ANDOR_1 = episode(302, 300, "Andor", 301, 1, 1)
ANDOR_2 = episode(303, 300, "Andor", 301, 1, 2)
DP_1 = track(402, 401, "Discovery", 400, "Daft Punk")
DP_2 = track(403, 401, "Discovery", 400, "Daft Punk")
VA_DP = track(502, 501, "Tron: Legacy Reimagined", 500, "Various Artists", original="Daft Punk")
VA_AIR = track(503, 501, "Tron: Legacy Reimagined", 500, "Various Artists", original="Air")

ALICE, BOB, CAROL, DAVE, ERIN, LOCAL = 1, 2, 3, 4, 5, 0
NAMES = {ALICE: ("alice", "Alice"), BOB: ("bob", "Bob"), CAROL: ("carol", "Carol"),
         DAVE: ("dave", "Dave"), ERIN: ("erin", "Erin"), LOCAL: ("Local", "Local")}

# (play_id, reference_id, user, item, started UTC, played seconds, platform)   local time in New York
PLAYS = [
    # 2026-W46
    (1, 1, ALICE, HEAT, "2026-11-10 01:00", 3000, "Roku"),         # Mon Nov 9 20:00
    (2, 2, BOB, HEAT_4K, "2026-11-10 02:00", 1800, "Chrome"),      # Mon Nov 9 21:00, paused ...
    (3, 2, BOB, HEAT_4K, "2026-11-11 02:00", 1800, "Roku"),        # Tue Nov 10 21:00 ... resumed: one play
    (4, None, CAROL, HEAT, "2026-11-12 15:00", 1200, "iOS"),       # Thu Nov 12 10:00 (no reference_id)
    (5, 5, ALICE, ALIEN, "2026-11-13 01:00", 6000, "Roku"),        # Thu Nov 12 20:00
    (6, 0, LOCAL, ALIEN, "2026-11-14 01:00", 6000, "Chrome"),      # Fri Nov 13 20:00 (reference_id 0)
    (7, 7, ALICE, SEV_1, "2026-11-11 23:30", 3000, "Roku"),        # Wed Nov 11 18:30
    (8, 8, ALICE, SEV_2, "2026-11-12 00:30", 3000, "Roku"),        # Wed Nov 11 19:30
    (9, 9, BOB, SEV_1, "2026-11-14 03:00", 3000, "Roku"),          # Fri Nov 13 22:00
    (10, 10, DAVE, UP, "2026-11-15 00:00", 5400, "Roku"),          # Sat Nov 14 19:00
    (11, 11, DAVE, ANDOR_1, "2026-11-15 04:59", 2400, "Roku"),     # Sat Nov 14 23:59 (Sunday in UTC)
    (12, 12, DAVE, ANDOR_2, "2026-11-16 04:30", 2400, "Roku"),     # Sun Nov 15 23:30 (Monday in UTC)
    (13, 13, ALICE, DP_1, "2026-11-10 13:00", 300, "Android"),     # Tue Nov 10 08:00
    (14, 14, ALICE, DP_2, "2026-11-10 13:05", 300, "Android"),     # Tue Nov 10 08:05
    (15, 15, BOB, VA_DP, "2026-11-10 14:00", 240, "Android"),      # Tue Nov 10 09:00
    (16, 16, BOB, VA_AIR, "2026-11-10 14:05", 200, "Android"),     # Tue Nov 10 09:05
    # the next week: starts exactly at the period's end, so it is not in it
    (17, 17, ALICE, ANDOR_1, "2026-11-16 05:00", 2400, "Roku"),    # Mon Nov 16 00:00
    # 2026-W45, the previous period
    (18, 18, ALICE, HEAT, "2026-11-03 01:00", 7000, "Roku"),       # Mon Nov 2 20:00
    (19, 19, BOB, SEV_1, "2026-11-04 02:00", 3000, "Roku"),        # Tue Nov 3 21:00
    (20, 20, ERIN, ALIEN, "2026-11-05 02:00", 6000, "iOS"),        # Wed Nov 4 21:00
    # the week before the previous one: in neither period
    (21, 21, CAROL, UP, "2026-11-02 04:59", 5000, "iOS"),          # Sun Nov 1 23:59
]


def history_rows() -> list[dict]:
    rows = []
    for play_id, ref, user, item, started, seconds, platform in PLAYS:
        username, friendly = NAMES[user]
        start = utc(started)
        rows.append({
            "play_id": play_id, "reference_id": ref, "user_id": user, "username": username,
            "friendly_name": friendly, **item, "started_at": start,
            "stopped_at": datetime.fromtimestamp(start.timestamp() + seconds, timezone.utc),
            "played_seconds": seconds, "paused_seconds": 0, "percent_complete": 90, "watched_status": 1.0,
            "platform": platform, "product": f"Plex for {platform}", "player": platform, "location": "lan",
            "transcode_decision": "direct play", "live": False, "ingested_at": INGESTED,
        })
    return rows


def users_rows() -> tuple[list[dict], list[dict]]:
    """Carol was deleted from Tautulli and Plex: she exists only in the history. Erin is Plex-only."""
    seen = dict(first_seen_at=utc("2026-01-01 00:00"), last_listed_at=INGESTED)
    tautulli = [
        dict(user_id=LOCAL, username="Local", friendly_name="Local", is_active=True, is_admin=False, **seen),
        dict(user_id=ALICE, username="alice", friendly_name="Alice", is_active=True, is_admin=True, **seen),
        dict(user_id=BOB, username="bob", friendly_name="  ", is_active=True, is_admin=False, **seen),
        dict(user_id=DAVE, username="dave", friendly_name="Dave", is_active=True, is_admin=False, **seen),
    ]
    plex = [
        dict(user_id=ALICE, username="alice", title="Alice", is_owner=True, is_home=False, is_restricted=False, **seen),
        dict(user_id=BOB, username="bob", title="Bobby", is_owner=False, is_home=False, is_restricted=False, **seen),
        dict(user_id=DAVE, username="dave", title="Dave", is_owner=False, is_home=False, is_restricted=False, **seen),
        dict(user_id=ERIN, username="erin", title="Erin", is_owner=False, is_home=False, is_restricted=False, **seen),
    ]
    return tautulli, plex


def item(rk, section, kind, title, added, **kw) -> dict:
    return dict(rating_key=rk, section_id=section, type=kind, title=title, added_at=utc(added) if added else None,
                updated_at=utc(added) if added else None, first_seen_at=INGESTED, last_listed_at=INGESTED,
                thumb=f"/library/metadata/{rk}/thumb/1", **kw)


def items_rows() -> list[dict]:
    """Plex inventory; the comments say what recently_added must make of it."""
    sev2 = [item(212 + i, 2, "episode", f"S2 Episode {i + 1}", "2026-11-12 10:00", parent_rating_key=211,
                 grandparent_rating_key=200, parent_title="Season 2", grandparent_title="Severance",
                 index=i + 1, parent_index=2, size_bytes=1000) for i in range(8)]  # one row: S2 E1–E8
    andor = [item(rk, 2, "episode", f"Episode {n}", "2026-11-13 09:00", parent_rating_key=301,
                  grandparent_rating_key=300, parent_title="Season 1", grandparent_title="Andor",
                  index=n, parent_index=1, size_bytes=1000)
             for rk, n in ((302, 1), (303, 2), (305, 4))]                              # one row: E1–E2, E4
    return [
        item(100, 1, "movie", "Heat", "2025-06-01 00:00", year=1995, size_bytes=5000),
        item(101, 4, "movie", "Heat", "2026-11-08 12:00", year=1995, size_bytes=20000),  # W45: not in W46
        item(110, 1, "movie", "Alien", "2025-06-01 00:00", year=1979, size_bytes=5000),
        item(120, 1, "movie", "Up", "2026-11-10 12:00", year=2009, size_bytes=4000),      # new
        item(130, 1, "movie", "Gone", "2026-11-10 12:00", year=2001, size_bytes=4000,
             removed_at=utc("2026-11-11 00:00")),                                       # removed: not listed
        item(140, 1, "movie", "Tomorrow", "2026-11-16 05:00", year=2026, size_bytes=4000),  # next week
        item(200, 2, "show", "Severance", "2025-01-01 00:00", year=2022),
        item(201, 2, "season", "Season 1", "2025-01-01 00:00", parent_rating_key=200, index=1),
        item(211, 2, "season", "Season 2", "2026-11-12 10:00", parent_rating_key=200, index=2),
        item(202, 2, "episode", "Episode 1", "2025-01-01 00:00", parent_rating_key=201, grandparent_rating_key=200,
             index=1, parent_index=1, size_bytes=1000),
        *sev2,
        item(300, 2, "show", "Andor", "2026-11-13 09:00", year=2022),                    # a new series
        item(301, 2, "season", "Season 1", "2026-11-13 09:00", parent_rating_key=300, index=1),
        *andor,
        item(400, 3, "artist", "Daft Punk", "2026-11-14 08:00"),
        item(401, 3, "album", "Discovery", "2026-11-14 08:00", parent_rating_key=400, year=2001),
        item(402, 3, "track", "One More Time", "2026-11-14 08:00", parent_rating_key=401,
             grandparent_rating_key=400, parent_title="Discovery", grandparent_title="Daft Punk", index=1,
             size_bytes=10),
        item(403, 3, "track", "Aerodynamic", "2026-11-14 08:00", parent_rating_key=401,
             grandparent_rating_key=400, parent_title="Discovery", grandparent_title="Daft Punk", index=2,
             size_bytes=10),                                                             # one row: the album
    ]


def sections_rows() -> list[dict]:
    return [dict(section_id=s, title=t, type=k, last_listed_at=INGESTED)
            for s, t, k in ((1, "Movies", "movie"), (2, "TV Shows", "show"), (3, "Music", "artist"),
                            (4, "Movies 4K", "movie"))]


def insert(store: Store, table: str, rows: list[dict]) -> None:
    """Bulk insert through Arrow (never row by row)."""
    if not rows:
        return
    columns = sorted({k for row in rows for k in row})
    data = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])
    quoted = ", ".join(f'"{c}"' for c in columns)
    store.con.register("fixture_rows", data)
    try:
        store.con.execute(f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM fixture_rows")
    finally:
        store.con.unregister("fixture_rows")


def build() -> Store:
    """A fresh in-memory store holding the world above."""
    store = memory_store()
    tautulli_users, plex_users = users_rows()
    insert(store, "tautulli_history", history_rows())
    insert(store, "tautulli_users", tautulli_users)
    insert(store, "plex_users", plex_users)
    insert(store, "plex_sections", sections_rows())
    insert(store, "plex_items", items_rows())
    return store
