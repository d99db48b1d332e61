"""Sonarr's and Radarr's calendars into arr_calendar: what is coming in the next newsletter.coming_soon_days.

Each app's rows are replaced whole when it answers; an app that is down keeps the rows read last time.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timedelta

import pyarrow as pa

from pipeline.errors import ConfigError, SourceError
from pipeline.settings import Settings
from pipeline.store import Store

log = logging.getLogger(__name__)
SCHEMA = pa.schema([
    ("item_key", pa.string()), ("kind", pa.string()), ("title", pa.string()), ("year", pa.int32()),
    ("series_id", pa.int64()), ("tvdb_id", pa.int64()), ("tmdb_id", pa.int64()), ("season", pa.int32()),
    ("episode", pa.int32()), ("episode_title", pa.string()), ("air_at", pa.timestamp("us", tz="UTC")),
    ("path", pa.string())])


def ingest_calendars(store: Store, settings: Settings, now: datetime, session=None) -> list[str]:
    """Read each configured app's calendar for [now, now + coming_soon_days]; one summary line per app."""
    from pipeline.clients.arr import RadarrClient, SonarrClient

    days = settings.newsletter.coming_soon_days
    if days <= 0:
        return []
    lines = []
    for app, cls in (("sonarr", SonarrClient), ("radarr", RadarrClient)):
        if not getattr(settings, app).configured:
            continue
        try:
            client = cls(getattr(settings, app), session=session)
            try:
                entries = client.calendar(now, now + timedelta(days=days))
            finally:
                client.close()
        except (SourceError, ConfigError) as exc:
            log.warning("%s calendar skipped: %s", app.capitalize(), exc)
            lines.append(f"{app.capitalize()} calendar skipped: {exc}")
            continue
        rows = pa.Table.from_pylist([asdict(e) for e in entries], schema=SCHEMA)
        with store.transaction(), store.registered(arr_calendar_rows=rows):
            store.execute("ingest/clear_arr_calendar", {"app": app})
            store.execute("ingest/insert_arr_calendar", {"now": now})
        lines.append(f"{app.capitalize()} calendar: {len(entries):,} coming in the next {days} days")
    return lines
