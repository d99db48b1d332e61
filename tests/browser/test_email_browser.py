"""The digest e-mail in headless Chromium: phone and desktop, light and dark, nothing overflowing or broken.

Uses Debian's /usr/bin/chromium through Playwright (never a downloaded browser). Inline images
are turned into data: URIs, as a mail client would show its related parts, and nothing else may
be fetched. Screenshots go to $MARQUEE_SCREENSHOTS if set, else to the test's tmp_path.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from pipeline.clock import FixedClock
from pipeline.render.email.contexts import WarningNotice
from pipeline.render.email.notice import DigestRenderer, EmailImages, render_notice
from tests.fixtures import email_issue as fx

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)
SCHEMES = ("light", "dark")
EXTRAS = {"inactivity": {"remove_on": "2026-12-15", "days_idle": 40},
          "leaving_soon": {"items": [{"title": "Heat", "year": 1995, "leaving_on": "2026-12-01"}],
                           "rule": "Titles nobody has played for a year leave; play one to keep it."}}

# Text with a solid background behind it must reach WCAG AA against that background; a mark hidden
# from screen readers (a legend's dot) is a graphic, for which 3:1 is enough.
CONTRAST_JS = """
() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    const visible = t => t.replace(/[\\s\\u00a0\\u034f\\u200c]/g, '');
    const own = [...el.childNodes].some(n => n.nodeType === 3 && visible(n.textContent));
    const style = getComputedStyle(el);
    if (!own || style.display === 'none' || style.opacity === '0' || el.closest('[style*="display:none"]')) continue;
    let bg = null, node = el;
    while (node) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) { bg = c.slice(0, 3); break; }
      node = node.parentElement;
    }
    if (!bg) continue;
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const graphic = el.closest('[aria-hidden="true"]');
    const need = (graphic || size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    const r = ratio(rgb(style.color).slice(0, 3), bg);
    const what = `${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 30)}"`;
    if (r < need) bad.push(`${what}: ${r.toFixed(2)} < ${need}`);
  }
  return bad;
}
"""


def _with_data_uris(mime: bytes) -> str:
    """The HTML part with every cid: reference replaced by its part's bytes, as a client shows it."""
    msg = BytesParser(policy=policy.default).parsebytes(mime)
    html = msg.get_body(("html",)).get_content()
    for part in msg.walk():
        cid = part["Content-ID"]
        if cid:
            data = base64.b64encode(part.get_payload(decode=True)).decode()
            html = html.replace(f"cid:{cid.strip('<>')}", f"data:{part.get_content_type()};base64,{data}")
    assert "cid:" not in html, "a cid: reference without a part"
    return html


@pytest.fixture(scope="module")
def mails(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("email-browser")
    snap = fx.snapshot()
    images = EmailImages(fx.draw_posters(tmp / "posters", snap), fx.render_charts(tmp / "charts", snap))
    settings = fx.settings(**{"site.siteurl": "https://news.example.org", "email.images": "inline",
                              "email.unsubscribe_url": "https://news.example.org/unsubscribe"})
    clock = FixedClock(fx.NOW)
    digest = DigestRenderer(snap, settings, None, images, clock=clock)
    return {
        "digest": _with_data_uris(digest.render(fx.recipient(fx.ALICE), EXTRAS).mime),
        "missed": _with_data_uris(digest.render(fx.recipient(fx.ERIN)).mime),
        "warning": _with_data_uris(render_notice("warning", fx.recipient(fx.BOB),
                                                 WarningNotice(due_at=datetime(2026, 12, 1, 12, tzinfo=timezone.utc),
                                                               idle_days=27), settings,
                                                 clock=clock).mime),
    }


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("MARQUEE_SCREENSHOTS") or tmp_path_factory.mktemp("email-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser, html: str, width: int, scheme: str):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    requests: list[str] = []
    # An e-mail must not fetch anything: every image rides in the message.
    context.route("**/*", lambda route: (requests.append(route.request.url), route.abort()))
    page = context.new_page()
    page.set_content(html, wait_until="load")
    return context, page, requests


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["digest", "missed", "warning"])
def test_mail_fits_loads_and_reads(browser, mails, shots, name, width, scheme):
    context, page, requests = _open(browser, mails[name], width, scheme)
    try:
        page.screenshot(path=str(shots / f"email-{name}-{width}-{scheme}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "horizontal overflow"
        wide = page.evaluate(f"""[...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > {width} + 1).map(e => e.tagName + '.' + e.className)""")
        assert not wide, f"elements past the right edge: {wide[:5]}"
        broken = page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt)")
        assert not broken, f"broken images: {broken}"
        assert page.evaluate("[...document.images].every(i => i.alt.trim())"), "an image without alt text"
        assert not requests, f"the mail fetched {requests}"
        bad = page.evaluate(CONTRAST_JS)
        assert not bad, f"low contrast: {bad[:5]}"
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_dark_mode_repaints_cards_and_text(browser, mails, width):
    colours = {}
    for scheme in SCHEMES:
        context, page, _ = _open(browser, mails["digest"], width, scheme)
        colours[scheme] = page.evaluate("""() => {
            const card = getComputedStyle(document.querySelector('.mq-card')).backgroundColor;
            const body = getComputedStyle(document.body).backgroundColor;
            const text = getComputedStyle(document.querySelector('.mq-text > div')).color;
            return [card, body, text];
        }""")
        context.close()
    assert colours["light"] == ["rgb(255, 255, 255)", "rgb(246, 243, 238)", "rgb(29, 26, 23)"]
    assert colours["dark"] == ["rgb(28, 25, 25)", "rgb(18, 16, 17)", "rgb(244, 238, 230)"]


def test_the_phone_stacks_posters_two_by_two_and_the_desktop_shows_four(browser, mails):
    rows = {}
    for width in WIDTHS:
        context, page, _ = _open(browser, mails["digest"], width, "light")
        tops = page.evaluate("""[...document.images].filter(i => i.src.startsWith('data:image/jpeg'))
            .map(i => Math.round(i.getBoundingClientRect().top))""")
        rows[width] = len(set(tops)), len(tops)
        context.close()
    assert rows[1280] == (2, 7) and rows[375] == (4, 7)
