"""Golden files for the archive site: one issue page, the feed, and the issue's heatmap chart (SVG).

The site is built from the fixture snapshots in tests/fixtures/site_issues.py; the files under
tests/golden/site/ are what that build must produce, byte for byte. Regenerate them only on
purpose, and review the diff:

    python -m tests.golden.site_golden        (or `invoke update-golden`, which calls update_golden())
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from tests.golden.write import write_golden

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "site"
ISSUE = "issues/2026-w46/index.html"


def normalise_html(text: str) -> str:
    """The stylesheet's cache-busting digest changes with every CSS edit; the page does not."""
    return re.sub(r"marquee\.css\?v=[0-9a-f]+", "marquee.css?v=ASSET_VERSION", text)


def build_golden(workdir: Path) -> dict[str, bytes]:
    """Build the fixture site in `workdir`; return {golden file name: bytes} to compare or write."""
    from pipeline.render.site.generate import render_site
    from pipeline.settings import load_settings
    from tests.fixtures.site_issues import TZ, draw_posters, fixture_snapshots

    workdir = Path(workdir)
    settings = load_settings(environ={}, dotenv_path=None, overrides={
        "data.dir": str(workdir / "data"), "site.output_dir": str(workdir / "output"),
        "server.name": "Casa Cinema", "server.timezone": TZ, "site.siteurl": "https://news.example.org"})
    render_site(settings, fixture_snapshots(), posters=draw_posters(workdir / "posters"),
                pages_dir=ROOT / "tests" / "golden" / "pages", publish=True)
    out = Path(settings.site.output_dir)
    svg = sorted((out / "images/charts/2026-w46").glob("heatmap-*.svg"))
    assert len(svg) == 1, "the fixture issue has one heatmap"
    return {
        "issue-2026-w46.html": normalise_html((out / ISSUE).read_text(encoding="utf-8")).encode("utf-8"),
        "issues.atom.xml": (out / "feeds/issues.atom.xml").read_bytes(),
        "heatmap-2026-w46.svg": svg[0].read_bytes(),
    }


def update_golden() -> list[Path]:
    """Rebuild the fixture site and overwrite tests/golden/site/*; returns the files written."""
    with tempfile.TemporaryDirectory(prefix="marquee-golden-") as tmp:
        files = build_golden(Path(tmp))
    return write_golden(GOLDEN, files)


if __name__ == "__main__":
    for path in update_golden():
        print(f"updated {path.relative_to(ROOT)}")
