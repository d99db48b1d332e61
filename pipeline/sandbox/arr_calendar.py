"""The sandbox Sonarr's and Radarr's GET /api/v3/calendar, as their CalendarControllers answer it: what airs or is
released in [start, end] (start defaults to today, end to start + 2 days), the monitored ones unless unmonitored=true."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.sandbox.arr_seed import RadarrData, SonarrData
from pipeline.sandbox.http import Request


def _when(value: str | None) -> datetime | None:
    """A query's DateTime as ASP.NET binds it: an ISO date or date-time, UTC when no offset is given."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))  # a bad value raises ValueError: a 400
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _window(request: Request) -> tuple[datetime, datetime, bool]:
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start = _when(request.query.get("start")) or today
    end = _when(request.query.get("end")) or start + timedelta(days=2)
    return start, end, request.query.get("unmonitored", "false").lower() == "true"


def episodes_between(data: SonarrData, request: Request) -> list[dict]:
    """Episodes whose airDateUtc falls in the window, oldest first; includeSeries=true embeds each one's series."""
    start, end, unmonitored = _window(request)
    with_series = request.query.get("includeSeries", "false").lower() == "true"
    out = []
    for e in data.episodes.values():
        airs = _when(e.get("airDateUtc"))
        if airs is None or not start <= airs <= end:
            continue
        if not unmonitored and not (e["monitored"] and data.series[e["seriesId"]]["monitored"]):
            continue
        out.append({**e, "series": data.series_resource(e["seriesId"])} if with_series else dict(e))
    out.sort(key=lambda e: (e["airDateUtc"], e["id"]))
    return out


def movies_between(data: RadarrData, request: Request) -> list[dict]:
    """Movies whose cinema, digital or physical release falls in the window."""
    start, end, unmonitored = _window(request)
    out = []
    for mid, movie in sorted(data.movies.items()):
        dates = [_when(movie.get(k)) for k in ("inCinemas", "digitalRelease", "physicalRelease")]
        if any(d is not None and start <= d <= end for d in dates) and (unmonitored or movie["monitored"]):
            out.append(data.movie_resource(mid))
    return out
