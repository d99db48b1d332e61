"""What the sandbox Tautulli derives from world.plays once: per-play columns, metadata rows, local days.

Tautulli copies an item's metadata into its own tables when the play ends, so history keeps
titles after the item leaves Plex; the index keeps every item it has ever seen for the same reason.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from pipeline.sandbox.world import PLATFORMS, Item, World

MEDIA_TYPES = ("movie", "episode", "track")
DECISIONS = ("direct play", "copy", "transcode")
DEFAULT_USER_THUMB = "interfaces/default/images/gravatar-default-80x80.png"
CONTENT_RATINGS = ("PG", "PG-13", "R", "TV-14", "TV-MA", "G")
_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def sql_number(text: str) -> float | None:
    """The number SQLite compares an INTEGER column with when given `text`; None when it is not one."""
    return float(text) if _NUMBER.match(text) else None


def nocase(text: str | None) -> str:
    """SQLite's NOCASE collation folds ASCII letters only."""
    return (text or "").translate(_ASCII_FOLD)


_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def decision_codes(ids: np.ndarray) -> np.ndarray:
    """A stable transcode decision per history id: mostly direct play."""
    h = (ids.astype(np.uint64) * np.uint64(2654435761)) >> np.uint64(8)
    bucket = (h % np.uint64(20)).astype(np.int64)
    return np.where(bucket < 12, 0, np.where(bucket < 15, 1, 2)).astype(np.int8)


class ItemMeta:
    """session_history_metadata for one item, as Tautulli stored it."""

    __slots__ = ("rating_key", "section_id", "media_type", "fields", "duration_ms", "full_title", "year",
                 "title", "grandparent_title", "original_title", "parent_rating_key", "grandparent_rating_key",
                 "thumb", "grandparent_thumb", "art", "labels", "guid", "content_rating", "rating",
                 "media_index", "parent_media_index", "added_at")

    def __init__(self, world: World, item: Item) -> None:
        parent = world.items.get(item.parent_rating_key or -1)
        grand = world.items.get(item.grandparent_rating_key or -1)
        movie = item.type == "movie"
        self.rating_key = item.rating_key
        self.section_id = item.section_id
        self.media_type = item.type
        self.duration_ms = item.duration_ms or 0
        self.title = item.title
        self.grandparent_title = item.grandparent_title
        self.original_title = ""
        if item.type == "episode":
            self.full_title = f"{item.grandparent_title} - {item.title}"
        elif item.type == "track":
            self.full_title = f"{item.title} - {item.grandparent_title}"
        else:
            self.full_title = item.title
        self.year = item.year
        self.parent_rating_key = "" if movie else item.parent_rating_key
        self.grandparent_rating_key = "" if movie else item.grandparent_rating_key
        self.media_index = "" if movie else item.index
        self.parent_media_index = "" if movie else item.parent_index
        self.thumb = item.thumb
        self.grandparent_thumb = grand.thumb if grand else ""
        self.art = f"/library/metadata/{(grand or item).rating_key}/art/{(grand or item).updated_at}"
        self.labels = list(item.labels)
        self.guid = item.guid
        self.content_rating = CONTENT_RATINGS[item.rating_key % len(CONTENT_RATINGS)]
        self.rating = round(5 + (item.rating_key * 37 % 50) / 10, 1)
        self.added_at = item.added_at
        if item.type == "episode":
            history_thumb = parent.thumb if parent else self.grandparent_thumb
        else:
            history_thumb = item.thumb
        year = item.year or 2000
        # The fields of a get_history row that come from the item, in Tautulli's order.
        self.fields = {
            "media_type": item.type, "rating_key": item.rating_key,
            "parent_rating_key": self.parent_rating_key, "grandparent_rating_key": self.grandparent_rating_key,
            "full_title": self.full_title, "title": item.title, "parent_title": item.parent_title,
            "grandparent_title": item.grandparent_title, "original_title": "", "year": item.year,
            "media_index": self.media_index, "parent_media_index": self.parent_media_index, "thumb": history_thumb,
            "originally_available_at": f"{year}-{item.rating_key % 12 + 1:02d}-{item.rating_key % 28 + 1:02d}",
            "guid": item.guid,
        }


class UserRow:
    """Tautulli's users table row for one user (Local included)."""

    __slots__ = ("row_id", "user_id", "username", "friendly_name", "display_name", "thumb", "email", "title",
                 "is_active", "is_admin", "is_home_user", "is_allow_sync", "is_restricted", "do_notify",
                 "keep_history", "deleted_user", "allow_guest", "shared_libraries", "lan")

    def __init__(self, row_id: int, user_id: int, username: str, friendly_name: str | None, **kw: object) -> None:
        self.row_id, self.user_id, self.username, self.friendly_name = row_id, user_id, username, friendly_name
        # Every command but get_users falls back to the username for a blank friendly name.
        self.display_name = friendly_name if friendly_name and friendly_name.strip() else username
        self.thumb = kw.get("thumb")
        self.email = kw.get("email")
        self.title = kw.get("title")
        self.is_active = kw.get("is_active", 1)
        self.is_admin = kw.get("is_admin", 0)
        self.is_home_user = kw.get("is_home_user")
        self.is_allow_sync = kw.get("is_allow_sync")
        self.is_restricted = kw.get("is_restricted")
        self.do_notify = kw.get("do_notify", 1)
        self.keep_history = kw.get("keep_history", 1)
        self.deleted_user = kw.get("deleted_user", 0)
        self.allow_guest = kw.get("allow_guest", 0)
        self.shared_libraries = kw.get("shared_libraries", ())
        self.lan = bool(kw.get("lan"))


def user_rows(world: World) -> list[UserRow]:
    """Local first (Tautulli creates it with the database), then every user Tautulli ever listed.

    A pending invite was never listed; a user removed in Tautulli keeps a row marked deleted_user.
    """
    rows = [UserRow(1, 0, "Local", None)]
    for u in world.users:
        if u.accepted_at is None and not u.is_owner:
            continue
        deleted = not u.in_tautulli
        sections = tuple(str(s.section_id) for s in world.sections) if u.is_owner or u.all_libraries \
            else tuple(str(s) for s in u.section_ids)
        title = u.friendly_name.strip() or None
        rows.append(UserRow(
            len(rows) + 1, u.user_id, u.username, u.friendly_name, thumb=u.thumb, email=u.email or "",
            title=None if title == u.username else title, is_active=0 if deleted or not u.has_share else 1,
            is_admin=int(u.is_owner), is_home_user=int(u.is_home or u.is_owner), is_allow_sync=1,
            is_restricted=int(u.is_restricted), do_notify=0 if deleted else 1, keep_history=0 if deleted else 1,
            deleted_user=int(deleted), shared_libraries=sections, lan=u.is_owner or u.is_home))
    return rows


class PlayIndex:
    """Per-play lookup columns for one version of world.plays."""

    def __init__(self, world: World, previous: "PlayIndex | None" = None) -> None:
        cols = world.plays.cols
        self.key = index_key(world)
        self.tz = world.timezone
        meta = dict(previous.meta_by_key) if previous else {}
        for item in world.items.values():
            if item.type in MEDIA_TYPES and item.rating_key not in meta:  # metadata is a snapshot
                meta[item.rating_key] = ItemMeta(world, item)
        for key in set(np.unique(cols["rating_key"]).tolist()) - set(meta):
            # Gone from the world before this Tautulli ever saw it: a placeholder keeps history readable.
            meta[key] = ItemMeta(world, Item(key, 1, "movie", f"Unknown item {key}", 0, 0))
        self.meta_by_key = meta
        self.meta = [meta[k] for k in sorted(meta)]
        self.item_keys = np.array(sorted(meta), dtype=np.int64)
        self.users = user_rows(world)
        self.user_by_id = {u.user_id: u for u in self.users}
        known = {u.user_id: u.username for u in world.users}
        known.update({u.user_id: u.username for u in self.users})
        self.username_by_id = known

        self.ids = cols["id"]
        self.started = cols["started"]
        self.stopped = cols["stopped"]
        self.paused = cols["paused"].astype(np.int64)
        self.user_id = cols["user_id"]
        self.rating_key = cols["rating_key"]
        self.percent = cols["percent"]
        self.watched = cols["watched_status"]
        self.reference_id = cols["reference_id"]
        self.platform = cols["platform"]
        self.played = self.stopped - self.started - self.paused
        pos = np.searchsorted(self.item_keys, self.rating_key)
        pos = np.minimum(pos, max(0, len(self.item_keys) - 1))
        self.item = pos.astype(np.int32)
        per_item = lambda f, dt: np.array([f(m) for m in self.meta], dtype=dt)  # noqa: E731
        self.item_section = per_item(lambda m: m.section_id, np.int64)
        self.item_type = per_item(lambda m: MEDIA_TYPES.index(m.media_type), np.int8)
        self.item_parent = per_item(lambda m: m.parent_rating_key or -1, np.int64)
        self.item_grandparent = per_item(lambda m: m.grandparent_rating_key or -1, np.int64)
        self.item_duration = per_item(lambda m: m.duration_ms, np.int64)
        self.section = self.item_section[self.item]
        self.media_type = self.item_type[self.item]
        self.decision = decision_codes(self.ids)
        self._days: tuple[np.ndarray, list[str]] | None = None

    # -- local calendar days, for after / before / start_date -----------------------------------------
    def days(self, extra: list[int] = ()) -> tuple[np.ndarray, list[str]]:
        """Local midnights covering every play, and their YYYY-MM-DD strings."""
        if self._days is None or extra:
            stamps = [int(self.started[0]), int(self.started[-1])] if len(self.started) else []
            stamps += list(extra)
            if not stamps:
                stamps = [0]
            zone = ZoneInfo(self.tz)
            day = datetime.fromtimestamp(min(stamps), zone).date() - timedelta(days=1)
            end = datetime.fromtimestamp(max(stamps), zone).date() + timedelta(days=1)
            epochs, names = [], []
            while day <= end:
                epochs.append(int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()))
                names.append(day.isoformat())
                day += timedelta(days=1)
            result = (np.array(epochs, dtype=np.int64), names)
            if extra:
                return result
            self._days = result
        return self._days

    def date_mask(self, started: np.ndarray, after: list[str], before: list[str], on: list[str],
                  extra: list[int] = ()) -> np.ndarray | tuple[int, int]:
        """Rows whose local start date passes Tautulli's string comparisons, as an epoch range or a mask.

        Tautulli compares 'YYYY-MM-DD' strings, so 'abc' is after every date and '2026-1-5' sorts oddly;
        comparing the same strings here keeps those quirks.
        """
        midnights, names = self.days(extra)
        allowed = np.ones(len(names), dtype=bool)
        if after:
            allowed &= np.array([any(n >= a for a in after) for n in names])
        if before:
            allowed &= np.array([any(n <= b for b in before) for n in names])
        if on:
            allowed &= np.array([n in on for n in names])
        bounds = np.append(midnights, np.iinfo(np.int64).max)
        runs = np.flatnonzero(np.diff(np.concatenate([[0], allowed.astype(np.int8), [0]])))
        if len(runs) == 0:
            return (0, 0)
        if len(runs) == 2:
            return (int(bounds[runs[0]]), int(bounds[runs[1]]))
        day = np.searchsorted(midnights, started, "right") - 1
        return allowed[np.clip(day, 0, len(allowed) - 1)]


def index_key(world: World) -> tuple:
    cols = world.plays.cols
    return (id(cols["started"]), len(world.plays), len(world.users), len(world.items), world.timezone)


def platform_rank() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NOCASE sort ranks of each platform's platform, product and player names."""
    ranks = []
    for field in range(3):
        names = [nocase(p[field]) for p in PLATFORMS]
        order = sorted(set(names))
        ranks.append(np.array([order.index(n) for n in names]))
    return ranks[0], ranks[1], ranks[2]


def ip_address(user: UserRow | None, user_id: int, platform: int) -> str:
    """A made-up address per user and device: 192.168.x on the LAN, 10.x otherwise. Never real."""
    if user is not None and user.lan:
        return f"192.168.1.{20 + platform}"
    return f"10.{user_id % 200 + 20}.{user_id // 200 % 250}.{platform + 10}"


def machine_id(user_id: int, platform: int) -> str:
    return f"{(user_id * 2654435761 + platform * 97) % (1 << 64):016x}{platform:02d}sandbox"
