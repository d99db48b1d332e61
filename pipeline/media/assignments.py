"""media_assignments from its sources: `invoke assign` (cli), retention.toml (file), Plex labels (label), Seerr (request).

The file and the labels are the truth for their own rows, so each run replaces those rows with what they say
now; the command-line rows change only through `invoke assign` / `invoke unassign`. A bad name in the file
stops the sync before anything is written. A Plex label naming nobody (a user renamed or gone) is a problem
with that one item only: the item is held out of the queue until the label is fixed, and everything else goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

import pyarrow as pa

from pipeline.errors import ConfigError
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.media.config import RetentionFile, load_retention
from pipeline.media.requests import request_pairs
from pipeline.media.resolve import Target, UserDirectory, find_season, find_target

log = logging.getLogger(__name__)

PAIR_SCHEMA = pa.schema([("target_rating_key", pa.int64()), ("user_id", pa.int64())])


@dataclass(frozen=True)
class Held:
    """An item whose assignments cannot be read as written; it stays out of the queue until they can."""

    rating_key: int
    name: str  # as lines and the audit name it, e.g. "Dune (2021)"
    reason: str  # one line: what is wrong and where to fix it


@dataclass
class Synced:
    """What one sync read: the file, how many assignments each source holds, and what it had to skip."""

    file: RetentionFile
    from_file: int = 0
    from_labels: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. a file entry whose title Plex no longer lists
    held: list[Held] = field(default_factory=list)  # e.g. an item with a label for a user who is not there


def write_pairs(store: Store, source: str, pairs: Iterable[tuple[int, int]], now: datetime, *,
                replace: bool) -> None:
    """Add (target, user) pairs under `source`; with replace, also drop that source's pairs not given."""
    pairs = sorted(set(pairs))
    rows = pa.table({"target_rating_key": pa.array([p[0] for p in pairs], pa.int64()),
                     "user_id": pa.array([p[1] for p in pairs], pa.int64())}, schema=PAIR_SCHEMA)
    store.con.register("assignment_rows", rows)
    try:
        if replace:
            store.execute("media/assignments_drop_stale", {"source": source})
        store.execute("media/assignments_add", {"source": source, "now": now})
    finally:
        store.con.unregister("assignment_rows")


def file_pairs(store: Store, file: RetentionFile, users: UserDirectory) -> tuple[list[tuple[int, int]], list[str]]:
    """(target, user) pairs retention.toml asks for, and notes on entries for titles Plex no longer lists."""
    pairs, notes = [], []
    for entry in file.assignments:
        where = entry.where(file.path)
        try:
            if entry.rating_key is not None:
                target = find_target(store, entry.rating_key, by="key")
            else:
                target = find_target(store, entry.title, by="title")
            if entry.season is not None and target.removed_at is None:
                target = find_season(store, target, entry.season)
            people = users.resolve(entry.users)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if target.removed_at is not None:
            # Usually Marquee deleted it once everyone had watched: not an error, just a stale line.
            notes.append(f"{where}: Plex no longer lists {target.name}; the entry can be removed")
            continue
        pairs += [(target.rating_key, u.user_id) for u in people]
    return pairs, notes


def label_pairs(store: Store, prefix: str, users: UserDirectory) -> tuple[list[tuple[int, int]], list[Held]]:
    """(item, user) pairs from Plex labels such as "marquee:alice", and the items held by a label naming nobody.

    A held item keeps its other assignments, but is never queued: deleting it once the users still named had
    watched would drop the one the bad label meant.
    """
    if not prefix:
        return [], []
    pairs, held = [], {}
    for rating_key, type_, title, year, show_title, label in store.execute("media/label_assignments",
                                                                     {"prefix": prefix}):
        name = label[len(prefix):].strip()
        user, why = users.problem(name) if name else (None, "no user after the prefix")
        if user is None:
            item = Target(rating_key, type_, title or "", year, show_title).name
            problem = f"Plex label {label!r} on {item} (rating key {rating_key}): {why}"
            if rating_key in held:
                problem = f"{held[rating_key].reason.removesuffix(FIX_LABEL)}; {problem}"
            held[rating_key] = Held(rating_key, item, problem + FIX_LABEL)
        else:
            pairs.append((rating_key, user.user_id))
    return pairs, list(held.values())


FIX_LABEL = "; not queued until the label is fixed in Plex and ingested again"


def sync_assignments(store: Store, settings: Settings, now: datetime) -> Synced:
    """Replace the file and label assignments with what retention.toml and the Plex labels say now."""
    file = load_retention(settings.retention.file)
    users = UserDirectory.load(store)
    from_file, notes = file_pairs(store, file, users)
    from_labels, held = label_pairs(store, settings.retention.label_prefix, users)
    from_requests, request_notes = request_pairs(store, settings)
    notes += request_notes
    if not file.exists:
        before = dict((r[0], r[1]) for r in store.execute("media/assignment_counts"))
        if before.get("file"):
            # Running from another directory is the usual cause; say so rather than silently unassign.
            log.warning("%s not found: dropping the %d assignments it made earlier (set retention.file to its "
                        "full path if it moved)", file.path, before["file"])
    with store.transaction():
        write_pairs(store, "file", from_file, now, replace=True)
        write_pairs(store, "label", from_labels, now, replace=True)
        write_pairs(store, "request", from_requests, now, replace=True)
    for note in notes:
        log.info("%s", note)
    for h in held:
        log.warning("%s", h.reason)
    return Synced(file, len(set(from_file)), len(set(from_labels)), notes, held)
