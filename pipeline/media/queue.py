"""Recompute the deletion queue from the store and keep media_queue in step with it."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import pyarrow as pa

from pipeline.policy.media import MediaPolicy, QueueEntry, queue
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.media.assignments import Held, Synced, sync_assignments
from pipeline.media.inputs import MediaInputs, media_inputs

UTC_TS = pa.timestamp("us", tz="UTC")
QUEUE_SCHEMA = pa.schema([
    ("rating_key", pa.int64()), ("scheduled_at", UTC_TS), ("source", pa.string()), ("rule", pa.string()),
    ("reason", pa.string()), ("title", pa.string()), ("show_title", pa.string()), ("media_type", pa.string()),
    ("size_bytes", pa.int64()), ("user_ids", pa.list_(pa.int64())),
])


def compute_queue(inputs: MediaInputs, settings: Settings, now: datetime) -> list[QueueEntry]:
    """policy.media.queue over the inputs, with the notice period counted from first_queued_at."""
    return queue(inputs.items, inputs.assignments, inputs.watches, inputs.keeps, inputs.rules, now,
                 MediaPolicy.from_settings(settings), names=inputs.names, first_queued_at=inputs.first_queued_at,
                 noticed=inputs.noticed, viewers=inputs.viewers, unreachable=inputs.unreachable)


def refresh_queue(store: Store, settings: Settings, now: datetime) -> list[QueueEntry]:
    """Sync the file and label assignments, recompute the queue, and store it (first_queued_at kept)."""
    return refresh(store, settings, now)[0]


class Refreshed(NamedTuple):
    entries: list[QueueEntry]
    synced: Synced
    inputs: MediaInputs  # what the queue was computed from, for callers that decide on it next


def refresh(store: Store, settings: Settings, now: datetime) -> Refreshed:
    """refresh_queue, also returning what the assignment sync read and the inputs it computed from."""
    synced = sync_assignments(store, settings, now)
    inputs = media_inputs(store, settings, now)
    entries = without_held(compute_queue(inputs, settings, now), synced.held, inputs)
    save_queue(store, entries, inputs, now)
    return Refreshed(entries, synced, inputs)


def without_held(entries: list[QueueEntry], held: list[Held], inputs: MediaInputs) -> list[QueueEntry]:
    """The queue less the held items (a held show holds each of its episodes)."""
    keys = {h.rating_key for h in held}
    if not keys:
        return entries
    show = {i.rating_key: i.show_rating_key for i in inputs.items}
    return [e for e in entries if e.rating_key not in keys and show.get(e.rating_key) not in keys]


def save_queue(store: Store, entries: list[QueueEntry], inputs: MediaInputs, now: datetime) -> None:
    """Replace media_queue with `entries` in one transaction; entries already there keep first_queued_at.

    title and show_title are Plex's own (an episode's title, its show's): renderers format them.
    """
    types = {i.rating_key: i.type for i in inputs.items}
    plain = inputs.plain_titles
    rows = pa.table({
        "rating_key": [e.rating_key for e in entries],
        "scheduled_at": [e.scheduled_at for e in entries],
        "source": [e.source for e in entries],
        "rule": [e.rule for e in entries],
        "reason": [e.reason for e in entries],
        "title": [plain.get(e.rating_key, (e.title, None))[0] for e in entries],
        "show_title": [plain.get(e.rating_key, (e.title, None))[1] for e in entries],
        "media_type": [types.get(e.rating_key) for e in entries],
        "size_bytes": [e.size_bytes for e in entries],
        "user_ids": [list(e.users) for e in entries],
    }, schema=QUEUE_SCHEMA)
    with store.transaction():
        store.con.register("queue_rows", rows)
        try:
            store.execute("media/queue_drop_left")
            store.execute("media/queue_save", {"now": now})
        finally:
            store.con.unregister("queue_rows")
