"""Issue charts: Altair specs from plain rows, rendered once per issue to SVG (site) and PNG (e-mail).

Colours are chosen to read on a white page and on a dark one, on a transparent background:
marks are mid-tone (about 3:1 or better against both #fff and #111) and text is a mid grey.
The SVG also carries a `prefers-color-scheme: dark` rule that lightens its text,
which browsers honour even when the SVG is an `<img>`. E-mail clients cannot be relied on
for that, so the PNG keeps the mid grey. Charts only use system fonts (Liberation Sans is
metric-compatible with Arial/Helvetica, so labels measured here fit in a browser too).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping
from xml.sax.saxutils import escape

import altair as alt
import numpy as np
import vl_convert as vlc
from PIL import Image

from pipeline.text import clean_tree

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

FONT = "Helvetica, Arial, Liberation Sans, sans-serif"
INK = "#6b7280"        # axis labels and values: 4.8:1 on white, 4:1 on #111
INK_DARK = "#b4bac4"   # the SVG's text colour in dark mode
RULE = "#9ca3af"       # domain and tick lines
AMBER = "#d97706"      # heatmap dots, months, a reader in the co-watch graph
BLUE = "#3b82f6"       # top titles
TEAL = "#0d9488"       # platforms

MAX_BARS = 15          # longer top lists stay in the page's table; the chart shows their head
WIDTH = 520            # CSS pixels: fits a 600 px e-mail column with its padding
PNG_SCALE = 2          # sharp on high-density screens
# The heatmap is drawn for a phone: 24 columns in about 320 CSS px, so a 375 px screen shows it at its
# own size and its 12 px labels stay 12 px. Wider screens may scale it up; nothing scales it down much.
HEAT_STEP = 11.75      # CSS px per hour column
HEAT_ROW = 17          # CSS px per day row
HEAT_FONT = 12         # CSS px, axis labels
HEAT_DOT = 100         # largest dot's area in px²: about 11 px across, inside its column
# Every other chart follows the heatmap: drawn about 320 CSS px wide with 12 px text, so that on a 375 px
# phone it shows at its own size; the site scales the SVG with its container, e-mail sets the width.
PHONE_WIDTH = 319
PHONE_FONT = 12
BAR_LABEL = 130        # CSS px for a bar's label; longer titles end in an ellipsis (the alt text has them whole)

CONFIG: dict[str, Any] = {
    "background": "transparent",
    "padding": 4,
    "font": FONT,
    "view": {"stroke": "transparent"},
    "axis": {"labelColor": INK, "titleColor": INK, "domainColor": RULE, "tickColor": RULE,
             "grid": False, "labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal"},
    "legend": {"labelColor": INK, "titleColor": INK, "labelFontSize": 11, "titleFontSize": 11,
               "titleFontWeight": "normal"},
    "text": {"color": INK, "fontSize": 11},
}

# Injected after the opening <svg> tag. CSS beats presentation attributes, so matching on the
# text colour set above is enough; no mark uses that exact value.
_DARK_STYLE = (f'<style>@media (prefers-color-scheme: dark){{'
               f'[fill="{INK}"]{{fill:{INK_DARK}}}}}</style>')


@dataclass(frozen=True)
class ChartFile:
    """One rendered chart; width/height are CSS pixels (the PNG holds PNG_SCALE times as many)."""

    svg_path: Path
    png_path: Path
    alt_text: str
    width: int
    height: int


# -- specs ------------------------------------------------------------------------------------------


def _plural(n: float, word: str) -> str:
    return f"{_num(n)} {word}" + ("" if n == 1 else "s")


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _chart(values: list[dict], description: str) -> alt.Chart:
    return alt.Chart(alt.Data(values=values), description=description).configure(**CONFIG)


def heatmap_chart(cells: Iterable[Mapping[str, Any]], measure: str = "plays") -> alt.LayerChart:
    """Day of week × hour of day as a punch card: a bigger dot where there was more.

    cells: [{"dow": 0, "hour": 20, "plays": 3, "hours": 2.5}, ...]; dow 0 is Monday (ISO),
    hour 0..23 in the server's time zone. Missing cells count as zero. measure: "plays" or "hours".
    """
    cells = list(cells)
    grid = {(d, h): 0.0 for d in range(7) for h in range(24)}
    for cell in cells:
        grid[(int(cell["dow"]), int(cell["hour"]))] += float(cell.get(measure) or 0)
    values = [{"day": DAYS[d][:3], "hour": h, "v": round(v, 2)} for (d, h), v in grid.items() if v > 0]
    top = max(grid.values()) or 1.0
    x = alt.X("hour:O", title=None, scale=alt.Scale(domain=list(range(24))),
              axis=alt.Axis(labelAngle=0, labelExpr="datum.value % 3 == 0 ? datum.value : ''", ticks=False,
                            domain=False, labelFontSize=HEAT_FONT))
    y = alt.Y("day:O", title=None, scale=alt.Scale(domain=[d[:3] for d in DAYS]),
              axis=alt.Axis(ticks=False, domain=False, labelFontSize=HEAT_FONT, labelPadding=4))
    # Area, not colour or opacity, carries the value: opaque marks look the same on light and dark
    # backgrounds, and vl-convert's PNGs get semi-transparent colours wrong.
    size = alt.Size("v:Q", scale=alt.Scale(domain=[0, top], range=[0, HEAT_DOT]), legend=None)
    # A faint dot in every cell: on a small screen it shows which hour a big dot belongs to. No ARIA per mark:
    # the chart is an image, its description says what it shows.
    grid_values = [{"day": DAYS[d][:3], "hour": h} for d in range(7) for h in range(24)]
    track = (alt.Chart(alt.Data(values=grid_values)).mark_circle(color=RULE, opacity=1, size=4, aria=False)
             .encode(x=x, y=y))
    dots = (alt.Chart(alt.Data(values=values)).mark_circle(color=AMBER, opacity=1, aria=False)
            .encode(x=x, y=y, size=size, tooltip=[alt.Tooltip("v:Q", title=measure)]))
    return (alt.layer(track, dots, description=heatmap_alt(cells, measure)).configure(**CONFIG)
            .properties(width=round(24 * HEAT_STEP), height=7 * HEAT_ROW))


def heatmap_alt(cells: Iterable[Mapping[str, Any]], measure: str = "plays") -> str:
    """'Busiest: Saturday 21:00 with 14 plays; busiest day Saturday (52 plays).'"""
    by_cell: dict[tuple[int, int], float] = {}
    for cell in cells:
        key = (int(cell["dow"]), int(cell["hour"]))
        by_cell[key] = by_cell.get(key, 0.0) + float(cell.get(measure) or 0)
    total = sum(by_cell.values())
    if not total:
        return f"No {measure} in this period."
    (d, h), top = min(by_cell.items(), key=lambda kv: (-kv[1], kv[0]))
    days = [sum(v for (dd, _), v in by_cell.items() if dd == day) for day in range(7)]
    best_day = min(range(7), key=lambda i: (-days[i], i))
    return (f"{measure.capitalize()} by day of week and hour. Busiest: {DAYS[d]} {h:02d}:00 with "
            f"{_plural(top, measure.rstrip('s'))}; busiest day {DAYS[best_day]} "
            f"({_plural(days[best_day], measure.rstrip('s'))} of {_num(total)}).")


def _unique_labels(rows: list[Mapping[str, Any]], key: str) -> list[str]:
    """Bar labels must be unique (two films called "Dune"), or Vega would merge the bars."""
    labels, seen = [], set()
    for row in rows:
        label = str(row[key]).strip() or "(untitled)"
        if label in seen and row.get("year"):
            label = f"{label} ({row['year']})"
        base, n = label, 2
        while label in seen:
            label, n = f"{base} ({n})", n + 1
        seen.add(label)
        labels.append(label)
    return labels


def _bars(rows: list[Mapping[str, Any]], key: str, measure: str, colour: str, description: str) -> alt.Chart:
    rows = rows[:MAX_BARS]
    labels = _unique_labels(rows, key)
    values = [{"label": lab, "v": round(float(r.get(measure) or 0), 2)} for lab, r in zip(labels, rows)]
    y = alt.Y("label:N", title=None, sort=labels, axis=alt.Axis(ticks=False, domain=False, labelLimit=BAR_LABEL,
                                                               labelPadding=6, labelFontSize=PHONE_FONT))
    x = alt.X("v:Q", title=None, axis=None)
    base = alt.Chart(alt.Data(values=values)).encode(y=y, x=x)
    bars = base.mark_bar(color=colour, cornerRadiusTopRight=2, cornerRadiusBottomRight=2, height=16)
    text = base.mark_text(align="left", dx=4, color=INK, fontSize=PHONE_FONT).encode(
        text=alt.Text("v:Q", format=",~f"))
    return (alt.layer(bars, text, description=description).configure(**CONFIG)
            .properties(width=PHONE_WIDTH - BAR_LABEL - 50, height=len(values) * 22))


def _bars_alt(rows: list[Mapping[str, Any]], key: str, measure: str, what: str) -> str:
    if not rows:
        return f"No {what} in this period."
    shown = rows[:MAX_BARS]
    parts = [f"{r[key]} ({_plural(round(float(r.get(measure) or 0), 1), measure.rstrip('s'))})" for r in shown]
    head = f"{what.capitalize()} by {measure}"
    if len(rows) > len(shown):
        head += f" (first {len(shown)} of {len(rows)})"
    return f"{head}: " + ", ".join(parts) + "."


def top_titles_chart(rows: Iterable[Mapping[str, Any]], measure: str = "plays") -> alt.Chart:
    """Horizontal bars, first row on top.

    rows: [{"title": "Severance", "plays": 12, "hours": 8.5, "year": 2022}, ...] already ranked;
    "year" is optional and only used to tell apart two titles with the same name.
    """
    rows = list(rows)
    return _bars(rows, "title", measure, BLUE, _bars_alt(rows, "title", measure, "top titles"))


def platforms_chart(rows: Iterable[Mapping[str, Any]], measure: str = "plays") -> alt.Chart:
    """Horizontal bars per player platform.

    rows: [{"platform": "Roku", "plays": 30, "hours": 20.1}, ...] already ranked.
    """
    rows = list(rows)
    return _bars(rows, "platform", measure, TEAL, _bars_alt(rows, "platform", measure, "platforms"))


# -- rendering --------------------------------------------------------------------------------------


def _spec(spec: alt.TopLevelMixin | Mapping[str, Any]) -> dict:
    """The Vega-Lite dict, without control characters: one in a label aborts vl-convert (a Rust panic)."""
    return clean_tree(spec.to_dict() if hasattr(spec, "to_dict") else dict(spec))


def _small_png(png: bytes) -> bytes:
    """Re-encode with an exact palette when the chart has at most 256 colours (flat charts do).

    Lossless and deterministic: the palette is the sorted set of RGBA values. Pillow's own RGBA
    quantizer (fast octree) shifts colours visibly even below 256, so it is not used.
    """
    img = Image.open(io.BytesIO(png)).convert("RGBA")
    pixels = np.ascontiguousarray(np.asarray(img)).view(np.uint32).ravel()  # one number per RGBA pixel
    colours, index = np.unique(pixels, return_inverse=True)
    if len(colours) > 256:
        return png
    pal = Image.frombytes("P", img.size, index.astype(np.uint8).tobytes())
    pal.putpalette(colours.view(np.uint8).tobytes(), rawmode="RGBA")
    out = io.BytesIO()
    pal.save(out, "PNG", optimize=True)
    return out.getvalue()


def _stable_ids(svg: str, prefix: str) -> str:
    """Renumber the SVG's ids (clip paths, gradients) in order of appearance under a per-chart prefix.

    Vega numbers them from a counter that lives as long as the process, so the same chart would
    come out different the second time, and two charts inlined in one page could share an id.
    """
    names = dict.fromkeys(re.findall(r'\bid="([^"]+)"', svg))
    mapping = {old: f"{prefix}-{i}" for i, old in enumerate(names, 1)}
    if not mapping:
        return svg
    pattern = re.compile(r'(\bid="|url\(#|href="#)(' + "|".join(map(re.escape, mapping)) + r')(?=["\)])')
    return pattern.sub(lambda m: m.group(1) + mapping[m.group(2)], svg)


def render(spec: alt.TopLevelMixin | Mapping[str, Any], fmt: str) -> bytes:
    """The chart as "svg" (UTF-8, dark-mode aware, titled) or "png" (scale 2, palette); never fetches."""
    vl = _spec(spec)
    if fmt == "svg":
        digest = hashlib.sha256(json.dumps(vl, sort_keys=True).encode()).hexdigest()[:8]
        svg = _stable_ids(vlc.vegalite_to_svg(vl, allowed_base_urls=[]), f"c{digest}")
        # vl-convert's root tag holds only fixed attributes, so the first '>' closes it.
        head, sep, rest = svg.partition(">")
        title = f"<title>{escape(vl['description'])}</title>" if vl.get("description") else ""
        return (head + sep + title + _DARK_STYLE + rest).encode("utf-8")
    if fmt == "png":
        return _small_png(vlc.vegalite_to_png(vl, scale=PNG_SCALE, allowed_base_urls=[]))
    raise ValueError(f"unknown chart format {fmt!r}; use 'svg' or 'png'")


def _size(svg: bytes) -> tuple[int, int]:
    m = re.search(rb'<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"', svg)
    assert m, "vl-convert SVG without a size"
    return round(float(m.group(1))), round(float(m.group(2)))


def _write(path: Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _heat_cells(heatmap: Any) -> list[dict]:
    """Cells from a snapshot's heatmap ({"plays": 7×24, "seconds": 7×24}, Monday first) or a cell list."""
    if isinstance(heatmap, Mapping):
        plays, seconds = heatmap.get("plays") or [], heatmap.get("seconds") or []
        return [{"dow": d, "hour": h, "plays": plays[d][h],
                 "hours": seconds[d][h] / 3600 if d < len(seconds) else 0}
                for d in range(len(plays)) for h in range(len(plays[d]))]
    return list(heatmap or [])


def _top_titles(snapshot: Mapping[str, Any]) -> list[dict]:
    """One list across movies, shows and music, ranked by hours (a film is one play, a show many)."""
    if isinstance(snapshot.get("top_titles"), list):
        return snapshot["top_titles"]
    top = snapshot.get("top") or {}
    rows = [r for kind in ("movies", "shows", "music") for r in (top.get(kind) or {}).get("by_hours", [])]
    limit = (snapshot.get("limits") or {}).get("top", 10)
    return sorted(rows, key=lambda r: (-float(r.get("hours") or 0), str(r.get("title"))))[:limit]


def issue_chart_specs(snapshot_like: Mapping[str, Any]) -> dict[str, alt.Chart]:
    """The server-wide charts an issue has data for, by name; empty ones are left out.

    Reads a stats.issue snapshot: "heatmap" (its 7×24 matrices, or a list of cells),
    "top" (or a ready "top_titles" list) and "platforms".
    """
    s = snapshot_like
    charts: dict[str, alt.Chart] = {}
    cells = _heat_cells(s.get("heatmap"))
    if any(float(c.get("plays") or 0) for c in cells):
        charts["heatmap"] = heatmap_chart(cells, "plays")
    titles = _top_titles(s)
    if any(float(r.get("hours") or 0) for r in titles):
        charts["top_titles"] = top_titles_chart(titles, "hours")
    if s.get("platforms"):
        charts["platforms"] = platforms_chart(s["platforms"], "plays")
    return charts


def render_issue_charts(snapshot_like: Mapping[str, Any], out_dir: Path,
                        extra: Mapping[str, alt.TopLevelMixin] | None = None) -> dict[str, ChartFile]:
    """Render each server-wide chart once, as <name>-<content hash>.svg/.png in out_dir; `extra` adds specs
    drawn elsewhere (the year in review's, pipeline/render/year_charts.py).

    The hash in the name lets the files be cached for a year: new data or a new style is a new name.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, ChartFile] = {}
    for name, chart in {**issue_chart_specs(snapshot_like), **(extra or {})}.items():
        spec = _spec(chart)
        svg, png = render(spec, "svg"), render(spec, "png")
        digest = hashlib.sha256(svg + png).hexdigest()[:10]
        svg_path, png_path = out_dir / f"{name}-{digest}.svg", out_dir / f"{name}-{digest}.png"
        _write(svg_path, svg)
        _write(png_path, png)
        width, height = _size(svg)
        files[name] = ChartFile(svg_path, png_path, spec.get("description", ""), width, height)
    return files
