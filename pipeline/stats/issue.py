"""One issue's numbers: run every stats query for a period and shape a plain-JSON snapshot."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pipeline.clock import utc_iso_z
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.stats.period_cache import shared_period
from pipeline.stats.periods import Period
from pipeline.stats.queries import run
from pipeline.stats.yearly import year_section

SCHEMA_VERSION = 1  # bump when the snapshot's shape changes; renderers check it
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass(frozen=True)
class Limits:
    """How many rows each list keeps; the snapshot is frozen, so keep what a renderer may want."""

    top: int = 10               # top movies / shows / artists, per ranking
    viewers: int = 10           # top viewers
    community: int = 20         # community watchlist titles
    community_min_viewers: int = 2
    added: int = 100            # recently added rows (seasons and albums count once)
    user_titles: int = 5        # per user top titles
    user_shared: int = 5        # per user shared titles
    coming: int = 40            # coming-soon rows (a show's season counts once)


def compute_issue(store: Store, period: Period, settings: Settings, now: datetime,
                  limits: Limits = Limits()) -> dict:
    """The frozen numbers of one issue: server-wide lists, per-user sections keyed by user_id, metadata."""
    if now.tzinfo is None:
        raise ValueError("compute_issue needs an aware `now` (use pipeline.clock)")
    if period.tz != settings.server.timezone:
        raise ValueError(f"period {period.key} is cut in {period.tz} but server.timezone is "
                         f"{settings.server.timezone}; parse the period with the server's zone")
    with shared_period(store, period):  # the period's sessions and titles, grouped once for every query below
        return _snapshot(store, period, settings, now, limits)


def _snapshot(store: Store, period: Period, settings: Settings, now: datetime, limits: Limits) -> dict:
    """The snapshot itself, its queries reading the period's shared sessions."""
    prev = period.previous()
    params = {"start": period.start, "end": period.end, "prev_start": prev.start, "tz": period.tz}

    def q(name: str, **extra: Any) -> list[dict]:
        return [_plain(row) for row in run(store, f"stats/{name}", {**params, **extra})]

    # No transaction of our own: the store has a single writer (this process), and a caller may
    # already hold one around compute + save.
    totals = q("server_totals")[0]
    added_totals = q("added_totals")[0]
    added = q("recently_added", limit=limits.added)
    movies = q("top_movies", limit=limits.top)
    shows = q("top_shows", limit=limits.top)
    music = q("top_music", limit=limits.top)
    viewers = q("top_viewers", limit=limits.viewers)
    community = q("community_watchlist", limit=limits.community, min_viewers=limits.community_min_viewers)
    heat = q("busiest_heatmap")
    platforms = q("platforms")
    people = q("issue_users")
    user_totals = q("user_totals")
    user_titles = q("user_top_titles", limit=limits.user_titles)
    user_streaks = q("user_streak")
    user_shared = q("user_shared_titles", limit=limits.user_shared)
    last_run = store.records("ingest/last_successful_run")

    added_anything = any(added_totals[k] for k in ("movies", "episodes", "tracks"))
    snapshot = {
        "schema_version": SCHEMA_VERSION,
        "issue_key": period.issue_key,
        "generated_at": utc_iso_z(now),
        "data_as_of": utc_iso_z(last_run[0]["finished_at"]) if last_run and last_run[0]["finished_at"] else None,
        "server": {"name": settings.server.name, "timezone": period.tz},
        "period": {**_period(period, now), "previous": _period(prev, now)},
        "limits": asdict(limits),
        "empty": totals["plays"] == 0 and not added_anything,
        "totals": _totals(totals),
        "added": {"totals": added_totals, "items": added},
        "top": {"movies": _rankings(movies, limits.top), "shows": _rankings(shows, limits.top),
                "music": _rankings(music, limits.top)},
        "top_viewers": viewers,
        "community_watchlist": community,
        "heatmap": _heatmap(heat),
        "platforms": platforms,
        "users": _users(people, user_totals, user_titles, user_streaks, user_shared),
    }
    coming = _coming_soon(store, period, settings, now, limits)
    if coming:
        snapshot["coming_soon"] = coming  # optional, like "year": a snapshot without it shows no Coming soon
    if period.kind == "yearly":
        def inventory(name: str) -> list[dict]:
            return [_plain(row) for row in run(store, name, params)]
        snapshot["year"] = year_section(q, inventory, period.first_day)  # optional: renderers show it when present, so old snapshots still load
    plex = _plex(store, snapshot)
    if plex:  # optional too: a snapshot without it (older, or no Plex inventory yet) renders without Plex links
        snapshot["plex"] = plex
    return snapshot


def _coming_soon(store: Store, period: Period, settings: Settings, now: datetime, limits: Limits) -> dict | None:
    """What the calendars expect from the freeze (or the period's end, if later) to coming_soon_days after the
    period ends; an issue frozen long after its period (a backfill) has none, so it never shows stale dates."""
    days = settings.newsletter.coming_soon_days
    if days <= 0 or period.kind == "yearly":
        return None
    rows = run(store, "issues/coming_soon", {"from": max(period.end, now), "until": period.end + timedelta(days=days),
                                            "tz": period.tz, "limit": limits.coming})
    return {"days": days, "items": [_plain(r) for r in rows]} if rows else None


def _plex(store: Store, snapshot: dict) -> dict | None:
    """The server's machine id and which listed titles Plex has now, frozen with the issue: render links only those."""
    server = store.execute("ingest/stored_server")
    if not server or not server[0][0]:
        return None
    users = snapshot["users"].values()
    rows = [*snapshot["added"]["items"], *snapshot["community_watchlist"],
            *(r for ranks in snapshot["top"].values() for lists in ranks.values() for r in lists),
            *(r for u in users for r in (*u["top_titles"], *u["shared_titles"])),
            *(r for u in (snapshot.get("year") or {}).get("users", {}).values()
              for kind in u.get("top", {}).values() for r in kind)]
    keys = sorted({int(r["rating_key"]) for r in rows if r.get("rating_key") is not None})
    listed = [k for (k,) in store.execute("issues/listed_in_plex", {"keys": keys})] if keys else []
    return {"machine_id": str(server[0][0]), "in_plex": listed}


def _period(p: Period, now: datetime) -> dict:
    return {"kind": p.kind, "key": p.key, "label": p.label, "start": utc_iso_z(p.start), "end": utc_iso_z(p.end),
            "first_day": p.first_day.isoformat(), "last_day": p.last_day.isoformat(),
            "hours": p.hours, "complete": p.is_complete(now)}


def _change(current: float, previous: float) -> float | None:
    """Percent change, one decimal; None when there is nothing to compare with."""
    return round((current - previous) * 100.0 / previous, 1) if previous else None


def _totals(row: dict) -> dict:
    names = ("plays", "seconds", "hours", "active_viewers", "titles")
    current = {k: v for k, v in row.items() if not k.startswith("prev_")}
    previous = {k: row[f"prev_{k}"] for k in names}
    change = {k: _change(row[k], previous[k]) for k in ("plays", "seconds", "active_viewers", "titles")}
    return {**current, "previous": previous, "change": change}


def _rankings(rows: list[dict], limit: int) -> dict:
    """Split one query's rows, each carrying its three ranks, into three ordered lists of `limit`."""
    return {name: sorted((r for r in rows if r[rank] <= limit), key=lambda r: r[rank])
            for name, rank in (("by_plays", "rank_by_plays"), ("by_hours", "rank_by_hours"),
                               ("by_viewers", "rank_by_viewers"))}


def _heatmap(cells: list[dict]) -> dict:
    plays = [[0] * 24 for _ in DAYS]
    seconds = [[0] * 24 for _ in DAYS]
    for c in cells:
        plays[c["dow"] - 1][c["hour"]] = c["plays"]
        seconds[c["dow"] - 1][c["hour"]] = c["seconds"]
    # hours, not plays, say when the server is busy: an album is a dozen plays in an hour
    busiest = max(cells, key=lambda c: (c["seconds"], c["plays"], -c["dow"], -c["hour"]), default=None)
    return {"days": DAYS, "plays": plays, "seconds": seconds,
            "busiest": None if busiest is None else {k: busiest[k] for k in ("dow", "hour", "plays", "seconds")}}


def _users(people: list[dict], totals: list[dict], titles: list[dict], streaks: list[dict],
           shared: list[dict]) -> dict:
    """Per-user sections keyed by str(user_id) (JSON object keys are strings)."""
    by_total = {r["user_id"]: r for r in totals}
    by_streak = {r["user_id"]: r for r in streaks}
    by_titles, by_shared = _group(titles), _group(shared)
    out: dict[str, dict] = {}
    for person in people:
        uid = person["user_id"]
        t = by_total.get(uid, {})
        s = by_streak.get(uid, {})
        out[str(uid)] = {
            **person,
            "totals": {
                "plays": t.get("plays", 0), "seconds": t.get("seconds", 0), "hours": t.get("hours", 0.0),
                "titles": t.get("titles", 0), "movie_plays": t.get("movie_plays", 0),
                "episode_plays": t.get("episode_plays", 0), "track_plays": t.get("track_plays", 0),
                "last_played": t.get("last_played"), "rank": t.get("rank"),
                "previous": {"plays": t.get("prev_plays", 0), "seconds": t.get("prev_seconds", 0),
                             "hours": t.get("prev_hours", 0.0)},
                "change": {"plays": _change(t.get("plays", 0), t.get("prev_plays", 0)),
                           "seconds": _change(t.get("seconds", 0), t.get("prev_seconds", 0))},
            },
            "streak": {"days_active": s.get("days_active", 0), "longest": s.get("longest_streak", 0),
                       "longest_start": s.get("longest_streak_start"), "longest_end": s.get("longest_streak_end"),
                       "current": s.get("current_streak", 0)},
            "top_titles": by_titles.get(uid, []),
            "shared_titles": by_shared.get(uid, []),
        }
    return out


def _group(rows: list[dict]) -> dict[int, list[dict]]:
    """Rows by user_id (without it), in query order."""
    out: dict[int, list[dict]] = {}
    for row in rows:
        out.setdefault(row["user_id"], []).append({k: v for k, v in row.items() if k != "user_id"})
    return out


def _plain(value: Any) -> Any:
    """DuckDB values as plain JSON: aware datetimes as UTC ISO strings, dates as YYYY-MM-DD."""
    convert = _CONVERT.get(type(value))
    return convert(value) if convert else value


def _decimal(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# Looked up by exact type: thousands of rows per issue, so no isinstance chains.
_CONVERT: dict[type, Any] = {
    dict: lambda d: {str(k): _plain(v) for k, v in d.items()},
    list: lambda xs: [_plain(x) for x in xs],
    tuple: lambda xs: [_plain(x) for x in xs],
    datetime: utc_iso_z,
    date: lambda d: d.isoformat(),
    Decimal: _decimal,
}
