"""The year in review's public part: the server in numbers and the co-watch graph, as the site may show them.

An allow-list like issue_view.py. The graph names readers by initials only, whatever site.names says
(site.names = "hidden" leaves it out), and says nothing of who is whose twin. Storage freed, removals and
welcomes are the admin's, so the site never reads them.
"""

from __future__ import annotations

from typing import Any, Mapping

from pipeline.render.issue_view import count, hours
from pipeline.render.privacy import Namer, initials


def public_graph(snapshot: Mapping[str, Any], namer: Namer) -> dict | None:
    """{"nodes": {key: hours}, "edges": [[a, b, shared]], "labels": {key: initials}}, or None when hidden.

    Keys are positions, not user ids, so nothing the chart is made from identifies anyone.
    """
    year = snapshot.get("year") or {}
    if namer.hidden or not year.get("cowatch_edges"):
        return None
    users = snapshot.get("users") or {}
    edges = [e for e in year["cowatch_edges"]
             if not namer.is_excluded(users.get(str(e["a"])) or e["a"])
             and not namer.is_excluded(users.get(str(e["b"])) or e["b"])]
    ids = sorted({str(e["a"]) for e in edges} | {str(e["b"]) for e in edges}, key=int)
    key = {uid: f"n{i}" for i, uid in enumerate(ids)}
    nodes = {key[uid]: float(((users.get(uid) or {}).get("totals") or {}).get("hours") or 0) for uid in ids}
    labels = {key[uid]: initials(str((users.get(uid) or {}).get("friendly_name") or "")) for uid in ids}
    return {"nodes": nodes, "edges": [[key[str(e["a"])], key[str(e["b"])], int(e["shared"])] for e in edges],
            "labels": labels}


def graph_alt(graph: Mapping[str, Any], drawn_nodes: int, drawn_edges: int) -> str:
    """The graph's alt text and caption: what it shows and how much of it."""
    strongest = max(graph["edges"], key=lambda e: e[2], default=None)
    lead = (f"Who watched the same titles: {count(drawn_nodes)} readers, {count(drawn_edges)} links; "
            "the bigger the dot, the more hours, the thicker the line, the more titles in common")
    if strongest is None:
        return lead + "."
    return (lead + f". The closest pair, {graph['labels'][strongest[0]]} and {graph['labels'][strongest[1]]}, "
            f"shared {count(strongest[2])} titles.")


def year_view(snapshot: Mapping[str, Any], charts: Mapping[str, Any]) -> dict | None:
    """The yearly page's extra sections (None for weekly and monthly issues)."""
    year = snapshot.get("year")
    if not year:
        return None
    library = year.get("library") or []
    growth = None
    if library:
        first, last = int(library[0].get("items") or 0), int(library[-1].get("items") or 0)
        growth = {"items": count(last), "added": f"{last - first:+,}",
                  "size": f"{(library[-1].get('size_bytes') or 0) / 1e12:,.1f} TB"}
    totals = snapshot.get("totals") or {}
    figures = [{"name": "Readers", "value": count(year.get("readers"))},
               {"name": "Watched this year", "value": count(totals.get("active_viewers"))},
               {"name": "Hours streamed", "value": hours(totals.get("hours"))},
               {"name": "Titles in the library", "value": growth["items"] if growth else "–"}]

    def chart(name: str) -> dict | None:
        return dict(charts[name]) if name in charts else None

    return {"figures": figures, "growth": growth, "months": chart("months"), "library": chart("library"),
            "top_titles": chart("top_titles"), "platforms": chart("platforms"), "graph": chart("cowatch")}
