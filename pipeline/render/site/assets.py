"""Files the archive site ships besides its pages: posters, charts, and the copy into output/.

Every write here is "only if the bytes differ", so an unchanged file keeps its mtime: Pelican's
content cache and an incremental upload both rely on that.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Mapping

from pipeline.render.issue_view import heatmap_cells

POSTER_DIR = "images/posters"
CHART_DIR = "images/charts"


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write atomically unless the file already holds exactly `data`; True when written."""
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def digest(data: bytes, n: int = 12) -> str:
    return hashlib.sha256(data).hexdigest()[:n]


def _image_size(path: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.size
    except OSError:
        return None


def poster_refs(posters: Mapping[Any, Any] | None) -> tuple[dict[str, dict], dict[str, Path]]:
    """({rating_key: {src, srcset, width, height}}, {site path: source file}) for the given posters.

    posters: rating_key -> PosterFile from render/images.py (files by width, width/height of the
    smallest), or simply a path to one image. Nothing is copied yet: stage_images() copies only
    the files a page uses. A poster that cannot be read is left out; the page shows a placeholder.
    """
    refs: dict[str, dict] = {}
    files: dict[str, Path] = {}
    for key, poster in (posters or {}).items():
        by_width = getattr(poster, "files", None)
        if by_width:  # a PosterFile: already resized and named <rk>-<hash>-<width>.jpg
            widths = sorted(by_width)
            srcset = [[f"{POSTER_DIR}/{Path(by_width[w]).name}", w] for w in widths]
            files.update({rel: Path(by_width[w]) for (rel, w) in srcset})
            refs[str(key)] = {"src": srcset[0][0], "srcset": srcset, "width": int(poster.width),
                              "height": int(poster.height)}
            continue
        path = Path(getattr(poster, "path", poster))
        try:
            data = path.read_bytes()
        except OSError:
            continue
        size = _image_size(path)
        if size is None:
            continue
        suffix = path.suffix.lower() if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") else ".jpg"
        rel = f"{POSTER_DIR}/{digest(data)}{suffix}"
        files[rel] = path
        refs[str(key)] = {"src": rel, "srcset": [], "width": size[0], "height": size[1]}
    return refs, files


def used_images(view: Any) -> set[str]:
    """Every image path a page's data points at (posters with their srcset, charts)."""
    found: set[str] = set()
    if isinstance(view, Mapping):
        if isinstance(view.get("src"), str):
            found.add(view["src"])
        for pair in view.get("srcset") or []:
            found.add(pair[0])
        for value in view.values():
            if isinstance(value, (Mapping, list)):
                found |= used_images(value)
    elif isinstance(view, list):
        for value in view:
            found |= used_images(value)
    return found


def stage_images(files: Mapping[str, Path], used: set[str], content_dir: Path) -> set[Path]:
    """Copy the used posters into the staging content (once: names carry a hash); return their paths."""
    staged = set()
    for rel in sorted(used & files.keys()):
        src, dest = files[rel], content_dir / rel
        try:
            if not (dest.is_file() and dest.stat().st_size == src.stat().st_size):
                write_if_changed(dest, src.read_bytes())
        except OSError:
            continue
        staged.add(dest)
    return staged


def chart_inputs(snapshot: Mapping[str, Any], cowatch: Mapping[str, Any] | None = None) -> dict:
    """What the chart modules need for the charts the site shows: the busiest-hours heatmap, and for a year in
    review its months, library, top titles, platforms and the public co-watch graph (year_view.public_graph)."""
    inputs: dict[str, Any] = {"heatmap": heatmap_cells(snapshot.get("heatmap") or {})}
    year = snapshot.get("year")
    if year:
        inputs.update(months=year.get("months") or [], library=year.get("library") or [],
                      platforms=snapshot.get("platforms") or [], top=snapshot.get("top") or {},
                      limits={"top": 10}, cowatch=dict(cowatch) if cowatch else None)
    return inputs


def _charts_version() -> str:
    """Changes whenever pipeline/render/charts.py changes, so a new chart style re-renders old issues."""
    import pipeline.render.charts as charts
    import pipeline.render.year_charts as year_charts
    return digest(inspect.getsource(charts).encode() + inspect.getsource(year_charts).encode())


def _svg_size(svg: bytes) -> tuple[int, int]:
    m = re.search(rb'<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"', svg)
    return (round(float(m.group(1))), round(float(m.group(2)))) if m else (0, 0)


def issue_charts(snapshot: Mapping[str, Any], charts_dir: Path,
                 cowatch: Mapping[str, Any] | None = None) -> dict[str, dict]:
    """The issue's charts as {name: {svg, alt, width, height}}, rendered once and cached.

    Only the SVG: the site needs no PNG, and the PNG is three quarters of the rendering time
    (200 issues: about 12 s instead of 45 s). charts_dir/<issue_key>/manifest.json remembers what
    was rendered from which data, so a frozen issue is never rendered twice.
    """
    inputs = chart_inputs(snapshot, cowatch)
    folder = Path(charts_dir) / str(snapshot.get("issue_key") or "issue")
    manifest = folder / "manifest.json"
    stamp = digest(json.dumps(inputs, sort_keys=True).encode() + _charts_version().encode(), 20)
    if manifest.is_file():
        saved = json.loads(manifest.read_text())
        if saved.get("stamp") == stamp and all((folder / c["svg"]).is_file() for c in saved["charts"].values()):
            return {name: {**c, "svg": folder / c["svg"]} for name, c in saved["charts"].items()}
    import pipeline.render.charts as charting
    from pipeline.render.year_charts import year_chart_specs
    rendered = {}
    for name, chart in {**charting.issue_chart_specs(inputs), **year_chart_specs(inputs)}.items():
        spec = chart.to_dict()
        svg = charting.render(spec, "svg")
        path = folder / f"{name}-{digest(svg, 10)}.svg"  # a new look or new data is a new name
        write_if_changed(path, svg)
        width, height = _svg_size(svg)
        rendered[name] = {"svg": path.name, "alt": spec.get("description", ""),
                          "width": width, "height": height}
    write_if_changed(manifest, json.dumps({"stamp": stamp, "charts": rendered}, indent=1, sort_keys=True).encode())
    return {name: {**c, "svg": folder / c["svg"]} for name, c in rendered.items()}


def chart_refs(charts: Mapping[str, Mapping[str, Any]], content_dir: Path, slug: str) -> dict[str, dict]:
    """Copy an issue's SVG charts into the staging content; name -> {src, alt, width, height}."""
    refs = {}
    for name, chart in charts.items():
        svg = Path(chart["svg"])
        rel = f"{CHART_DIR}/{slug}/{svg.name}"
        write_if_changed(content_dir / rel, svg.read_bytes())
        refs[name] = {"src": rel, "alt": str(chart["alt"]), "width": int(chart["width"]),
                      "height": int(chart["height"])}
    return refs


def prune(folder: Path, keep: set[Path]) -> None:
    """Delete files under `folder` that are not in `keep` (staging only: nothing of the admin's)."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and path not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _same(src: Path, dest: Path, hashed: bool) -> bool:
    try:
        a, b = src.stat(), dest.stat()
    except FileNotFoundError:
        return False
    if a.st_size != b.st_size:
        return False
    if hashed:
        return True  # a content-hashed name (posters, charts): same name and size is the same file
    return src.read_bytes() == dest.read_bytes()


def sync_tree(sources: Mapping[str, Path], dest: Path, manifest: Path) -> tuple[list[str], list[str], int]:
    """Make `dest` hold exactly `sources` (relative path -> file), touching only what differs.

    Files are removed only if an earlier sync put them there (listed in `manifest`), so an
    output_dir pointed at a folder with other files in it loses none of them.
    Returns (written, removed, unchanged count).
    """
    written, unchanged = [], 0
    for rel, src in sorted(sources.items()):
        target = dest / rel
        if _same(src, target, rel.startswith("images/")):
            unchanged += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copy2(src, tmp)
        os.replace(tmp, target)
        written.append(rel)
    before = set(json.loads(manifest.read_text())) if manifest.is_file() else set()
    removed = sorted(before - set(sources))
    for rel in removed:
        target = dest / rel
        if target.is_file():
            target.unlink()
            parent = target.parent
            while parent != dest and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
    write_if_changed(manifest, json.dumps(sorted(sources), indent=0).encode())
    return written, removed, unchanged
