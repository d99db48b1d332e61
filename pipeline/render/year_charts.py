"""The year in review's charts: hours per month, library growth and the co-watch graph, drawn for a phone.

Same rules as pipeline/render/charts.py (and rendered by it): about 320 CSS px wide, 12 px text,
mid-tone marks on a transparent background, and a description that is the chart's alt text and caption.
The co-watch graph's layout comes from networkx; it is capped before layout, so 2,000 readers cost
what 60 do.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import altair as alt
import networkx as nx

from pipeline.render.charts import (AMBER, BLUE, CONFIG, INK, MONTHS, PHONE_FONT, PHONE_WIDTH, RULE, TEAL, _num,
                                    _plural)

GRAPH_NODES = 60      # readers drawn at most: the most connected
GRAPH_EDGES = 120     # pairs drawn at most: the heaviest
GRAPH_LABELS = 8      # only the biggest nodes are named; the rest stay dots
GRAPH_SIZE = 300      # CSS px, square
LAYOUT_SEED = 15      # the same data always gets the same picture


def _month_label(month: str) -> str:
    return MONTHS[int(month[5:7]) - 1]


def _month_x() -> alt.X:
    # Every month has a column, every third one a label: 12 px text does not fit twelve names in 320 px.
    return alt.X("m:O", title=None, sort=None,
                 axis=alt.Axis(labelAngle=0, ticks=False, domain=False, labelFontSize=PHONE_FONT,
                               labelExpr="indexof(['Jan','Apr','Jul','Oct'], datum.value) >= 0 ? datum.value : ''"))


def months_chart(months: Iterable[Mapping[str, Any]]) -> alt.Chart:
    """Hours streamed per month: [{"month": "2026-01", "hours": 120.5}, ...], twelve rows in order."""
    rows = list(months)
    values = [{"m": _month_label(r["month"]), "v": round(float(r.get("hours") or 0), 1)} for r in rows]
    y = alt.Y("v:Q", title=None, axis=alt.Axis(tickCount=3, domain=False, ticks=False, labelFontSize=PHONE_FONT,
                                               format="~s"))
    return (alt.Chart(alt.Data(values=values), description=months_alt(rows)).configure(**CONFIG)
            .mark_bar(color=AMBER, cornerRadiusTopLeft=2, cornerRadiusTopRight=2)
            .encode(x=_month_x(), y=y, tooltip=[alt.Tooltip("v:Q", title="hours")])
            .properties(width=PHONE_WIDTH - 45, height=140))


def months_alt(months: Iterable[Mapping[str, Any]]) -> str:
    """'Hours streamed per month: 4,111 in the year; the most in September (512 hours), the least in ...'"""
    rows = [(r["month"], float(r.get("hours") or 0)) for r in months]
    total = sum(h for _, h in rows)
    if not total:
        return "No hours streamed this year."
    best = min(rows, key=lambda r: (-r[1], r[0]))
    least = min(rows, key=lambda r: (r[1], r[0]))
    full = {m[:3]: m for m in ("January", "February", "March", "April", "May", "June", "July", "August",
                               "September", "October", "November", "December")}
    return (f"Hours streamed per month: {_num(round(total))} in the year; the most in "
            f"{full[_month_label(best[0])]} ({_plural(round(best[1], 1), 'hour')}), the least in "
            f"{full[_month_label(least[0])]} ({_plural(round(least[1], 1), 'hour')}).")


def _tb(size: float) -> str:
    return f"{size / 1e12:,.1f} TB" if size >= 1e12 else f"{size / 1e9:,.0f} GB"


def library_chart(library: Iterable[Mapping[str, Any]]) -> alt.Chart:
    """The library's size at the end of each month: [{"month", "items", "size_bytes"}, ...]."""
    rows = list(library)
    values = [{"m": _month_label(r["month"]), "v": int(r.get("items") or 0)} for r in rows]
    y = alt.Y("v:Q", title=None, scale=alt.Scale(zero=False),
              axis=alt.Axis(tickCount=3, domain=False, ticks=False, labelFontSize=PHONE_FONT, format="~s"))
    base = alt.Chart(alt.Data(values=values)).encode(x=_month_x(), y=y)
    line = base.mark_line(color=TEAL, strokeWidth=2.5)
    dots = base.mark_circle(color=TEAL, size=30, opacity=1)
    return (alt.layer(line, dots, description=library_alt(rows)).configure(**CONFIG)
            .properties(width=PHONE_WIDTH - 45, height=140))


def library_alt(library: Iterable[Mapping[str, Any]]) -> str:
    """'The library grew from 1,200 to 1,450 items (2.1 TB to 2.6 TB) over the year.'"""
    rows = list(library)
    if not rows:
        return "No library figures for this year."
    first, last = rows[0], rows[-1]
    a, b = int(first.get("items") or 0), int(last.get("items") or 0)
    verb = "grew" if b > a else ("shrank" if b < a else "stayed at")
    sizes = f" ({_tb(first.get('size_bytes') or 0)} to {_tb(last.get('size_bytes') or 0)})"
    if verb == "stayed at":
        return f"The library stayed at {_plural(b, 'item')}{sizes} over the year, month by month."
    return f"The library {verb} from {_num(a)} to {_plural(b, 'item')}{sizes} over the year, month by month."


def capped_graph(nodes: Mapping[str, float], edges: Iterable[tuple[str, str, int]],
                 max_nodes: int = GRAPH_NODES, max_edges: int = GRAPH_EDGES, per_node: int = 3) -> nx.Graph:
    """The graph to draw, capped before any layout: the most connected readers, and of their pairs only each
    reader's `per_node` heaviest (on a busy server everyone shares something with everyone: a hairball).

    nodes: id -> weight (hours); edges: (a, b, shared titles), any order and any number.
    """
    strength: dict[str, int] = {}
    ranked = sorted(((str(a), str(b), int(w)) for a, b, w in edges), key=lambda e: (-e[2], e[0], e[1]))
    for a, b, w in ranked:
        strength[a] = strength.get(a, 0) + w
        strength[b] = strength.get(b, 0) + w
    top = set(sorted(strength, key=lambda n: (-strength[n], n))[:max_nodes])
    taken: dict[str, int] = {}
    graph = nx.Graph()
    for a, b, w in ranked:
        if a not in top or b not in top or graph.number_of_edges() >= max_edges:
            continue
        if taken.get(a, 0) < per_node or taken.get(b, 0) < per_node:
            graph.add_edge(a, b, weight=w)
            taken[a], taken[b] = taken.get(a, 0) + 1, taken.get(b, 0) + 1
    for node in graph.nodes:
        graph.nodes[node]["size"] = float(nodes.get(node) or 0)
    return graph


def graph_chart(graph: nx.Graph, labels: Mapping[str, str], description: str,
                focus: str | None = None, label_count: int = GRAPH_LABELS) -> alt.LayerChart:
    """Readers as dots sized by hours, lines for titles shared; only the largest `label_count` are named.

    labels: node -> the name to show (initials, or "You"); focus: a node drawn in the accent colour.
    """
    if graph.number_of_nodes() == 0:
        return alt.Chart(alt.Data(values=[]), description=description).mark_point().configure(**CONFIG)
    # A long ideal distance (k) spreads the dots apart; without it 50 readers sit in one blot.
    k = 2.5 / max(1, graph.number_of_nodes()) ** 0.5
    pos = nx.rescale_layout_dict(nx.spring_layout(graph, k=k, weight=None, seed=LAYOUT_SEED, iterations=100))
    most = max((graph.edges[e]["weight"] for e in graph.edges), default=1) or 1
    lines = [{"x": pos[a][0], "y": pos[a][1], "x2": pos[b][0], "y2": pos[b][1],
              "w": 0.6 + 2.4 * graph.edges[a, b]["weight"] / most} for a, b in graph.edges]
    ranked = sorted(graph.nodes, key=lambda n: (n != focus, -graph.nodes[n]["size"], n))
    named = {n for n in ranked[:label_count] if labels.get(n)}
    dots = [{"x": pos[n][0], "y": pos[n][1], "s": graph.nodes[n]["size"], "focus": n == focus,
             "label": labels.get(n, "") if n in named else ""} for n in graph.nodes]
    scale = alt.Scale(domain=[-1.15, 1.15], nice=False)
    x = alt.X("x:Q", scale=scale, axis=None)
    y = alt.Y("y:Q", scale=scale, axis=None)
    edge = (alt.Chart(alt.Data(values=lines)).mark_rule(color=RULE, opacity=1, aria=False)
            .encode(x=x, y=y, x2="x2:Q", y2="y2:Q", strokeWidth=alt.StrokeWidth("w:Q", scale=None, legend=None)))
    size = alt.Size("s:Q", scale=alt.Scale(range=[40, 420]), legend=None)
    colour = alt.Color("focus:N", scale=alt.Scale(domain=[False, True], range=[BLUE, AMBER]), legend=None)
    node = alt.Chart(alt.Data(values=dots)).mark_circle(opacity=1, aria=False).encode(x=x, y=y, size=size,
                                                                                      color=colour)
    text = (alt.Chart(alt.Data(values=[d for d in dots if d["label"]]))
            .mark_text(dy=-13, fontSize=PHONE_FONT, fontWeight="bold", color=INK, aria=False)
            .encode(x=x, y=y, text="label:N"))
    return (alt.layer(edge, node, text, description=description).configure(**CONFIG)
            .properties(width=GRAPH_SIZE, height=GRAPH_SIZE))


def year_chart_specs(inputs: Mapping[str, Any]) -> dict[str, alt.TopLevelMixin]:
    """The yearly page's own charts from chart inputs: "months", "library" and the public "cowatch" graph."""
    charts: dict[str, alt.TopLevelMixin] = {}
    if inputs.get("months"):
        charts["months"] = months_chart(inputs["months"])
    if inputs.get("library"):
        charts["library"] = library_chart(inputs["library"])
    graph = inputs.get("cowatch")
    if graph and graph.get("edges"):
        drawn = capped_graph(graph["nodes"], graph["edges"])
        from pipeline.render.year_view import graph_alt
        charts["cowatch"] = graph_chart(drawn, graph["labels"], graph_alt(
            {**graph, "edges": [[a, b, drawn.edges[a, b]["weight"]] for a, b in drawn.edges]},
            drawn.number_of_nodes(), drawn.number_of_edges()))
    return charts
