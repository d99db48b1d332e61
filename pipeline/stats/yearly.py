"""The year in review's own numbers: each reader's wrapped stats, the server in numbers, the co-watch graph."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

Query = Callable[..., list[dict]]


@dataclass(frozen=True)
class YearLimits:
    """How much of each list a yearly snapshot keeps."""

    per_kind: int = 5          # a reader's top movies, shows and artists
    genres: int = 5            # a reader's top genres
    cowatchers: int = 6        # a reader's neighbourhood in the co-watch graph; rank 1 is their twin
    edges: int = 150           # the server-wide co-watch graph: the heaviest of every reader's strongest pairs
    finished_titles: int = 5   # names of the shows a reader finished


def _months(first_day: date) -> list[str]:
    return [f"{first_day.year}-{m:02d}" for m in range(1, 13)]


def _edges(cowatchers: list[dict], limit: int) -> list[dict]:
    """The co-watch graph's edges: each reader's strongest pairs, once each, the heaviest `limit` of them."""
    pairs = {}
    for row in cowatchers:
        a, b = sorted((row["user_id"], row["other_id"]))
        pairs[(a, b)] = row["shared"]
    heaviest = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{"a": a, "b": b, "shared": shared} for (a, b), shared in heaviest]


def year_section(q: Query, inventory: Query, first_day: date, limits: YearLimits = YearLimits()) -> dict:
    """The "year" part of a yearly snapshot: public server numbers, per-user extras, and the admin's figures.

    q runs a stats/ query over the period's plays; inventory runs another named query (Plex and what Marquee did).
    """
    admin = inventory("year/admin_figures")[0]
    played = {row["month"]: row for row in q("hours_by_month")}
    zero = {"plays": 0, "seconds": 0, "hours": 0.0, "viewers": 0}
    per_user: dict[str, dict] = {}

    def user(uid: Any) -> dict:
        return per_user.setdefault(str(uid), {"top": {"movie": [], "show": [], "artist": []}, "genres": [],
                                              "cowatchers": [], "finished": {"count": 0, "titles": []}})

    for row in q("user_year_highlights"):
        user(row.pop("user_id"))["highlights"] = row
    for row in q("user_top_by_kind", limit=limits.per_kind):
        user(row.pop("user_id"))["top"][row.pop("title_kind")].append(row)
    for row in q("user_genres", limit=limits.genres):
        user(row.pop("user_id"))["genres"].append(row)
    for row in q("user_binges"):
        user(row.pop("user_id"))["binges"] = row
    cowatchers = q("user_cowatchers", limit=limits.cowatchers)
    for row in cowatchers:
        user(row["user_id"])["cowatchers"].append({k: v for k, v in row.items() if k != "user_id"})
    for row in q("user_finished_shows"):
        user(row["user_id"])["finished"] = {"count": row["finished"], "titles": row["titles"][:limits.finished_titles]}
    return {
        "limits": {"per_kind": limits.per_kind, "genres": limits.genres, "cowatchers": limits.cowatchers,
                   "edges": limits.edges},
        "months": [played.get(month) or {"month": month, **zero} for month in _months(first_day)],
        "library": inventory("year/library_growth"),
        "readers": admin.pop("readers"),
        "cowatch_edges": _edges(cowatchers, limits.edges),
        "users": per_user,
        "admin": admin,  # never on the public site: only the admin's copy of the e-mail shows it
    }
