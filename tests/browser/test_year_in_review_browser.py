"""Issue #15: the year in review reads on a phone and in dark mode, on the site and in one reader's e-mail.

The sandbox's 2026 is built, then Chromium opens the yearly page and a reader's yearly e-mail at 375 and
1280 px, light and dark. Every chart's labels are measured as drawn (tests/fixtures/chart_labels.py):
none may be under 11 px at 375 px. Screenshots of the yearly sections go to $MARQUEE_SCREENSHOTS if set
(docs/screenshots/ holds the committed ones), else to the test's tmp_path.
"""

from __future__ import annotations

import base64
import os
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from pipeline.render.charts import render
from pipeline.render.email.message import Recipient
from pipeline.render.email.notice import DigestRenderer
from pipeline.render.email.year import neighbourhood, neighbourhood_alt
from pipeline.render.issue_view import namer_for
from pipeline.render.year_charts import capped_graph, graph_chart
from pipeline.run.build import build_site
from pipeline.run.send_issue import issue_images
from pipeline.stats.snapshots import load_snapshot
from pipeline.store import open_store
from tests.fixtures.chart_labels import label_sizes, serve
from tests.fixtures.year_sandbox import year_sandbox

pytestmark = pytest.mark.browser

PHONE, DESKTOP = 375, 1280
MIN_LABEL_PX = 11
KEY = "yearly-2026"


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("MARQUEE_SCREENSHOTS") or tmp_path_factory.mktemp("year-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """The built site (served on loopback) and the busiest reader's yearly e-mail with its images inlined."""
    tmp = tmp_path_factory.mktemp("year-browser")
    with year_sandbox(tmp) as (settings, clock, world):
        s = settings(**{"email.images": "inline"})
        with open_store(s) as store:
            build_site(store, s, clock)
            snap = load_snapshot(store, KEY)
        users = snap["users"]
        uid = max(users, key=lambda u: (users[u]["totals"]["hours"], u))
        renderer = DigestRenderer(snap, s, images=issue_images(s, KEY, snap), clock=clock)
        mime = renderer.render(Recipient("reader@example.org", int(uid), users[uid]["friendly_name"])).mime
    msg = BytesParser(policy=policy.default).parsebytes(mime)
    html = msg.get_body(("html",)).get_content()
    for part in msg.walk():
        if part["Content-ID"]:
            data = base64.b64encode(part.get_payload(decode=True)).decode()
            html = html.replace(f"cid:{part['Content-ID'].strip('<>')}", f"data:{part.get_content_type()};base64,{data}")
    namer = namer_for(snap, s.site.names, s.site.exclude_users)
    graph = neighbourhood(snap, int(uid), namer)
    own_svg = render(graph_chart(capped_graph(graph["nodes"], graph["edges"], per_node=99), graph["labels"],
                                 neighbourhood_alt(graph), focus="me"), "svg").decode()
    months_svg = renderer.images.source.charts["months"].svg_path.read_text(encoding="utf-8")
    out = Path(s.site.output_dir)
    httpd, url = serve(out)
    yield {"out": out, "url": url, "html": html, "svgs": {"Your neighbourhood": own_svg, "months": months_svg}}
    httpd.shutdown()
    httpd.server_close()


def _clip(page, first: str, last: str) -> dict:
    """The page area from the top of `first` to the bottom of `last` (CSS selectors)."""
    scrolled = page.evaluate("window.scrollY")
    top = page.locator(first).first.bounding_box()
    bottom = page.locator(last).last.bounding_box()
    return {"x": 0, "y": top["y"] + scrolled - 8, "width": page.viewport_size["width"],
            "height": bottom["y"] + bottom["height"] - top["y"] + 16}


@pytest.mark.parametrize("scheme", ("light", "dark"))
@pytest.mark.parametrize("width", (PHONE, DESKTOP))
def test_the_yearly_page_charts_read_at_every_width(browser, year, shots, width, scheme):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(year["url"] + "issues/2026/", wait_until="load")
        imgs = page.locator("figure.chart--year img")
        assert imgs.count() == 5  # months, library, top titles, platforms, the co-watch graph
        imgs.evaluate_all("all => Promise.all(all.map(i => { i.loading = 'eager'; return i.decode(); }))")
        for i in range(imgs.count()):
            img = imgs.nth(i)
            assert img.get_attribute("alt") and page.evaluate("i => i.naturalWidth", img.element_handle()) > 0
            caption = img.locator("xpath=ancestor::figure//figcaption").inner_text()
            assert caption.startswith(img.get_attribute("alt"))  # the caption states the alt text's figures
            if width == PHONE:
                path = img.evaluate("i => new URL(i.currentSrc).pathname").lstrip("/")
                sizes = label_sizes(page, (year["out"] / path).read_text(encoding="utf-8"), img)
                small = [(t, px) for t, px in sizes if px < MIN_LABEL_PX]
                assert sizes and not small, f"{path}: labels under {MIN_LABEL_PX} px at {PHONE} px: {small[:5]}"
        if width == PHONE:
            assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE
        clip = _clip(page, "[aria-labelledby^='server-']", "[aria-labelledby^='cowatch-']")
        page.screenshot(path=str(shots / f"yearly-site-{width}-{scheme}.png"), clip=clip, full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ("light", "dark"))
@pytest.mark.parametrize("width", (PHONE, DESKTOP))
def test_a_readers_yearly_email_reads_at_every_width(browser, year, shots, width, scheme):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.set_content(year["html"], wait_until="load")
        assert page.get_by_text("Your viewing twin is").count() == 1
        for alt_start, svg in (("You and the", year["svgs"]["Your neighbourhood"]),
                               ("Hours streamed per month", year["svgs"]["months"])):
            img = page.locator(f'img[src^="data:image/png"][alt^="{alt_start}"]')
            natural, width_attr = img.evaluate("i => [i.naturalWidth, +i.getAttribute('width')]")
            assert natural == 2 * width_attr  # a 2x PNG laid out at its CSS width
            if width == PHONE:
                small = [(t, px) for t, px in label_sizes(page, svg, img) if px < MIN_LABEL_PX]
                assert not small, f"{alt_start}: labels under {MIN_LABEL_PX} px at {PHONE} px: {small[:5]}"
        clip = _clip(page, "text=Your year in review", 'img[alt^="You and the"]')
        clip["height"] += 60
        page.screenshot(path=str(shots / f"yearly-email-{width}-{scheme}.png"), clip=clip, full_page=True)
    finally:
        context.close()
