"""Seerr's media entries and requests into seerr_media / seerr_requests, replaced whole on every ingest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from pipeline.errors import ConfigError, SourceError
from pipeline.settings import Settings
from pipeline.store import Store

log = logging.getLogger(__name__)
UTC_TS = pa.timestamp("us", tz="UTC")
MEDIA_SCHEMA = pa.schema([("media_id", pa.int64()), ("media_type", pa.string()), ("tmdb_id", pa.int64()),
                          ("tvdb_id", pa.int64()), ("rating_key", pa.int64()), ("status", pa.int32())])
REQUEST_SCHEMA = pa.schema([
    ("request_id", pa.int64()), ("status", pa.int32()), ("media_id", pa.int64()), ("media_type", pa.string()),
    ("rating_key", pa.int64()), ("media_status", pa.int32()), ("seasons", pa.list_(pa.int32())),
    ("seerr_user_id", pa.int64()), ("requester_plex_id", pa.int64()), ("requester_email", pa.string()),
    ("requester_username", pa.string()), ("created_at", UTC_TS)])


TITLE_SCHEMA = pa.schema([("media_id", pa.int64()), ("title", pa.string()), ("year", pa.int32())])
OPEN = (1, 2)  # pending approval, approved: what a reader's "Your requests" lists as waiting or approved


@dataclass(frozen=True)
class SeerrIngest:
    media: int
    requests: int
    http_requests: int


def ingest_seerr(store: Store, settings: Settings, now: datetime, session=None) -> SeerrIngest:
    """Read every media entry and request from Seerr and replace the stored copies in one transaction."""
    from pipeline.clients.seerr import SeerrClient

    client = SeerrClient(settings.seerr, session=session)
    try:
        media = client.media()
        requests = client.requests()
        # Titles Plex cannot give: open requests for what it does not have yet (a few, one GET each).
        wanted = {r.media.media_id: r.media for r in requests if r.status in OPEN and r.media.rating_key is None}
        titles = [(mid, *found) for mid, m in sorted(wanted.items()) if (found := client.title(m))]
    finally:
        client.close()
    media_rows = pa.table({
        "media_id": [m.media_id for m in media], "media_type": [m.media_type for m in media],
        "tmdb_id": [m.tmdb_id for m in media], "tvdb_id": [m.tvdb_id for m in media],
        "rating_key": [m.rating_key for m in media], "status": [m.status for m in media]}, schema=MEDIA_SCHEMA)
    request_rows = pa.table({
        "request_id": [r.request_id for r in requests], "status": [r.status for r in requests],
        "media_id": [r.media.media_id for r in requests], "media_type": [r.media.media_type for r in requests],
        "rating_key": [r.media.rating_key for r in requests], "media_status": [r.media.status for r in requests],
        "seasons": [list(r.seasons) for r in requests], "seerr_user_id": [r.requester_id for r in requests],
        "requester_plex_id": [r.requester_plex_id for r in requests],
        "requester_email": [r.requester_email for r in requests],
        "requester_username": [r.requester_username for r in requests],
        "created_at": [r.created_at for r in requests]}, schema=REQUEST_SCHEMA)
    title_rows = pa.table({"media_id": [t[0] for t in titles], "title": [t[1] for t in titles],
                           "year": [t[2] for t in titles]}, schema=TITLE_SCHEMA)
    with store.transaction(), store.registered(seerr_media_rows=media_rows, seerr_request_rows=request_rows,
                                               seerr_title_rows=title_rows):
        store.execute("ingest/clear_seerr_media")
        store.execute("ingest/insert_seerr_media", {"now": now})
        store.execute("ingest/clear_seerr_requests")
        store.execute("ingest/insert_seerr_requests", {"now": now})
        store.execute("ingest/clear_seerr_titles")
        store.execute("ingest/insert_seerr_titles", {"now": now})
    return SeerrIngest(len(media), len(requests), client.request_count)


def ingest_seerr_line(store: Store, settings: Settings, now: datetime) -> str | None:
    """Ingest Seerr when configured; one line for the summary. Seerr being down is reported, never fatal."""
    if not settings.seerr.configured:
        return None
    try:
        got = ingest_seerr(store, settings, now)
    except (SourceError, ConfigError) as exc:
        log.warning("Seerr skipped: %s", exc)
        return f"Seerr skipped: {exc}"
    return f"Seerr: {got.requests:,} requests, {got.media:,} media entries ({got.http_requests} requests)"
