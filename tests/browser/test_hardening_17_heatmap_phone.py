"""Issue #11, item 17: the busiest-hours heatmap reads on a 375 px phone, on the site and in the e-mail.

The chart ships as an image (SVG on the site, a 2x PNG in the e-mail), so its labels are measured the way
Chromium draws that image: the chart's SVG is laid out inline at exactly the size the page gives the image,
and each label's font size is taken through its screen transform. Screenshots go to $MARQUEE_SCREENSHOTS if
set, else to the test's tmp_path.
"""

from __future__ import annotations

import base64
import os
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from pipeline.clock import FixedClock
from pipeline.render.email.notice import DigestRenderer, EmailImages
from pipeline.render.site.generate import render_site
from pipeline.settings import load_settings
from tests.fixtures import email_issue as fx
from tests.fixtures.chart_labels import label_sizes, serve
from tests.fixtures.site_issues import TZ, draw_posters, fixture_snapshots

pytestmark = pytest.mark.browser

PHONE = 375
MIN_LABEL_PX = 11
SCHEMES = ("light", "dark")

@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("MARQUEE_SCREENSHOTS") or tmp_path_factory.mktemp("heatmap-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("heatmap-site")
    settings = load_settings(environ={}, dotenv_path=None, overrides={
        "data.dir": str(tmp / "data"), "site.output_dir": str(tmp / "output"),
        "server.name": "Casa Cinema", "server.timezone": TZ})
    render_site(settings, fixture_snapshots(), posters=draw_posters(tmp / "posters"))
    out = Path(settings.site.output_dir)
    httpd, url = serve(out)
    yield out, url
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def mail(tmp_path_factory):
    """The digest's HTML with its inline parts as data: URIs, as a mail client shows it, and the chart's SVG."""
    tmp = tmp_path_factory.mktemp("heatmap-mail")
    snap = fx.snapshot()
    charts = fx.render_charts(tmp / "charts", snap)
    images = EmailImages(fx.draw_posters(tmp / "posters", snap), charts)
    settings = fx.settings(**{"email.images": "inline"})
    mime = DigestRenderer(snap, settings, None, images, clock=FixedClock(fx.NOW)).render(fx.recipient(fx.ALICE)).mime
    msg = BytesParser(policy=policy.default).parsebytes(mime)
    html = msg.get_body(("html",)).get_content()
    for part in msg.walk():
        if part["Content-ID"]:
            data = base64.b64encode(part.get_payload(decode=True)).decode()
            cid = part["Content-ID"].strip("<>")
            html = html.replace(f"cid:{cid}", f"data:{part.get_content_type()};base64,{data}")
    return html, charts["heatmap"].svg_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_site_heatmap_labels_read_on_a_phone(browser, site, shots, scheme):
    """Item 17: at 375 px the site's heatmap labels are drawn at 11 px or more (they were about 5 px)."""
    out, url = site
    context = browser.new_context(viewport={"width": PHONE, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(url + "issues/2026-w46/", wait_until="load")
        img = page.locator("figure.chart img")
        img.evaluate("i => { i.loading = 'eager'; return i.decode(); }")
        img.scroll_into_view_if_needed()
        page.locator("figure.chart").screenshot(path=str(shots / f"heatmap-site-{PHONE}-{scheme}.png"))
        svg = (out / img.evaluate("i => new URL(i.currentSrc).pathname").lstrip("/")).read_text(encoding="utf-8")
        sizes = label_sizes(page, svg, img)
        assert {text for text, _ in sizes} >= {"Mon", "Sun", "0", "21"}
        small = [(text, px) for text, px in sizes if px < MIN_LABEL_PX]
        assert not small, f"labels under {MIN_LABEL_PX} px at {PHONE} px: {small[:5]}"
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_email_heatmap_labels_read_on_a_phone(browser, mail, shots, scheme):
    """Item 17: at 375 px the e-mail's heatmap (a 2x PNG with its width set in the HTML) keeps labels >= 11 px."""
    html, svg = mail
    context = browser.new_context(viewport={"width": PHONE, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.set_content(html, wait_until="load")
        img = page.locator('img[src^="data:image/png"][alt^="Plays by day"]')
        natural, width_attr = img.evaluate("i => [i.naturalWidth, +i.getAttribute('width')]")
        assert natural == 2 * width_attr  # sharp on a high-density screen, laid out at its CSS width
        img.scroll_into_view_if_needed()
        img.screenshot(path=str(shots / f"heatmap-email-{PHONE}-{scheme}.png"))
        sizes = label_sizes(page, svg, img)  # the PNG is this SVG drawn at twice the size
        small = [(text, px) for text, px in sizes if px < MIN_LABEL_PX]
        assert sizes and not small, f"labels under {MIN_LABEL_PX} px at {PHONE} px: {small[:5]}"
    finally:
        context.close()
