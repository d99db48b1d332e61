"""Charts: byte-for-byte deterministic, self-contained SVG, small PNGs and alt text that says something."""

import hashlib
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import vl_convert as vlc
from PIL import Image
from tests.fixtures.stats_world import PERIOD, TZ, build

import pipeline.render.charts as charts
from pipeline.settings import load_settings
from pipeline.stats.issue import compute_issue

ROOT = Path(__file__).resolve().parents[2]

CELLS = [{"dow": 5, "hour": 21, "plays": 14, "hours": 9.5}, {"dow": 5, "hour": 20, "plays": 6, "hours": 4.0},
         {"dow": 1, "hour": 8, "plays": 3, "hours": 1.0}, {"dow": 6, "hour": 23, "plays": 9, "hours": 12.0}]
TITLES = [{"title": "Severance", "plays": 31, "hours": 22.5, "year": 2022},
          {"title": "Dune", "plays": 7, "hours": 5.5, "year": 1984},
          {"title": "Dune", "plays": 5, "hours": 5.0, "year": 2021},
          {"title": "<Tom & Jerry>", "plays": 2, "hours": 0.5}]
PLATFORMS = [{"platform": "Roku", "plays": 40, "hours": 20.1}, {"platform": "Chrome", "plays": 15, "hours": 5.0}]


def snapshot() -> dict:
    """Shaped like pipeline.stats.issue.compute_issue's output (matrices Monday first)."""
    plays = [[0] * 24 for _ in range(7)]
    seconds = [[0] * 24 for _ in range(7)]
    for c in CELLS:
        plays[c["dow"]][c["hour"]] = c["plays"]
        seconds[c["dow"]][c["hour"]] = int(c["hours"] * 3600)
    show = {"title": "Severance", "title_kind": "show", "plays": 31, "hours": 22.5}
    film = {"title": "Dune", "title_kind": "movie", "plays": 2, "hours": 5.5}
    return {"schema_version": 1, "limits": {"top": 10},
            "heatmap": {"days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "plays": plays, "seconds": seconds},
            "top": {"movies": {"by_hours": [film]}, "shows": {"by_hours": [show]}, "music": {"by_hours": []}},
            "platforms": PLATFORMS}


ALL = {
    "heatmap": lambda: charts.heatmap_chart(CELLS),
    "top_titles": lambda: charts.top_titles_chart(TITLES),
    "platforms": lambda: charts.platforms_chart(PLATFORMS),
}


@pytest.mark.parametrize("name", ALL)
def test_same_data_gives_identical_bytes(name):
    first = (charts.render(ALL[name](), "svg"), charts.render(ALL[name](), "png"))
    second = (charts.render(ALL[name](), "svg"), charts.render(ALL[name](), "png"))
    assert first == second


@pytest.mark.slow
def test_bytes_are_identical_across_processes(tmp_path):
    here = charts.render_issue_charts(snapshot(), tmp_path / "a")
    code = ("import json, sys; from pathlib import Path; from pipeline.render import charts; "
            "charts.render_issue_charts(json.load(sys.stdin), Path(sys.argv[1]))")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "b")], cwd=ROOT, input=json.dumps(snapshot()),
                   text=True, check=True)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(p.name for p in (tmp_path / "a").iterdir())
    for f in here.values():
        assert (tmp_path / "b" / f.svg_path.name).read_bytes() == f.svg_path.read_bytes()
        assert (tmp_path / "b" / f.png_path.name).read_bytes() == f.png_path.read_bytes()


@pytest.mark.parametrize("name", ALL)
def test_svg_is_self_contained_valid_xml_with_a_title(name):
    svg = charts.render(ALL[name](), "svg").decode()
    root = ET.fromstring(svg)  # escaping of "<Tom & Jerry>" must hold
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == ALL[name]().to_dict()["description"]
    urls = set(re.findall(r"https?://[^\s\"')]+", svg))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert not re.search(r"(?i)@import|<image|url\((?!#)|href=\"(?!#)", svg)  # local #ids only
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"c[0-9a-f]{8}-\d+", i) for i in ids)
    fonts = set(re.findall(r'font-family="([^"]*)"', svg))
    assert fonts == {charts.FONT}
    assert "prefers-color-scheme: dark" in svg


@pytest.mark.parametrize("name", ALL)
def test_png_is_small_and_twice_the_css_size(name, tmp_path):
    chart = ALL[name]()
    png = charts.render(chart, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) < 60_000
    width, height = charts._size(charts.render(chart, "svg"))
    assert Image.open(io.BytesIO(png)).size == (width * charts.PNG_SCALE, height * charts.PNG_SCALE)


def test_palette_png_is_lossless():
    raw = vlc.vegalite_to_png(charts.top_titles_chart(TITLES).to_dict(), scale=2)
    small = charts._small_png(raw)
    assert len(small) < len(raw)
    before = np.asarray(Image.open(io.BytesIO(raw)).convert("RGBA"))
    after = np.asarray(Image.open(io.BytesIO(small)).convert("RGBA"))
    assert (before == after).all()


def test_heatmap_alt_text_names_the_busiest_cell_and_day():
    text = charts.heatmap_chart(CELLS).to_dict()["description"]
    assert "Busiest: Saturday 21:00 with 14 plays" in text
    assert "busiest day Saturday (20 plays of 32)" in text
    assert charts.heatmap_alt(CELLS, "hours").startswith(
        "Hours by day of week and hour. Busiest: Sunday 23:00 with 12 hours")
    assert charts.heatmap_alt([]) == "No plays in this period."


def test_bar_labels_stay_distinct_and_long_lists_are_cut():
    spec = charts.top_titles_chart(TITLES).to_dict()
    labels = [v["label"] for v in spec["data"]["values"]]
    assert labels == ["Severance", "Dune", "Dune (2021)", "<Tom & Jerry>"]
    assert spec["description"].startswith("Top titles by plays: Severance (31 plays), Dune (7 plays)")
    many = [{"title": f"T{i}", "plays": 100 - i} for i in range(40)]
    spec = charts.top_titles_chart(many).to_dict()
    assert len(spec["data"]["values"]) == charts.MAX_BARS
    assert f"(first {charts.MAX_BARS} of 40)" in spec["description"]


def test_render_issue_charts_writes_hashed_files_once_per_chart(tmp_path):
    files = charts.render_issue_charts(snapshot(), tmp_path)
    assert set(files) == {"heatmap", "top_titles", "platforms"}
    for name, f in files.items():
        digest = hashlib.sha256(f.svg_path.read_bytes() + f.png_path.read_bytes()).hexdigest()[:10]
        assert f.svg_path.name == f"{name}-{digest}.svg" and f.png_path.name == f"{name}-{digest}.png"
        assert f.width > 100 and f.height > 50
    assert "Busiest: Saturday 21:00 with 14 plays" in files["heatmap"].alt_text
    # Ranked by hours across kinds: the show before the film.
    assert files["top_titles"].alt_text.startswith("Top titles by hours: Severance (22.5 hours), Dune (5.5 hours)")
    assert len(list(tmp_path.iterdir())) == 6
    again = charts.render_issue_charts(snapshot(), tmp_path)
    assert again == files and len(list(tmp_path.iterdir())) == 6


def test_empty_issue_renders_no_charts(tmp_path):
    empty = {"heatmap": {"plays": [[0] * 24] * 7, "seconds": [[0] * 24] * 7},
             "top": {"movies": {"by_hours": []}}, "platforms": []}
    assert charts.render_issue_charts(empty, tmp_path) == {}
    assert list(tmp_path.iterdir()) == []


def test_every_chart_drawn_here_is_one_a_frozen_issue_has_the_data_for():
    """A chart spec no snapshot feeds is dead code: daily hours was one (snapshots hold no hours per day)."""
    settings = load_settings(environ={}, dotenv_path=None, overrides={"server.timezone": TZ})
    snap = compute_issue(build(), PERIOD, settings, datetime(2026, 11, 16, 9, 0, tzinfo=timezone.utc))
    defined = {name.removesuffix("_chart") for name, value in vars(charts).items()
               if name.endswith("_chart") and not name.startswith("_") and callable(value)}
    assert set(charts.issue_chart_specs(snap)) == defined


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="svg"):
        charts.render(charts.platforms_chart(PLATFORMS), "gif")
