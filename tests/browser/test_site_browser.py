"""The archive in headless Chromium: phone and desktop, light and dark, nothing broken, nothing injected.

Uses Debian's /usr/bin/chromium through Playwright (never a downloaded browser). Screenshots go to
$MARQUEE_SCREENSHOTS if set, else to the test's tmp_path.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from pipeline.render.site.generate import render_site
from pipeline.settings import load_settings
from tests.fixtures.site_issues import SCRIPT_TITLE, TZ, draw_posters, fixture_snapshots

pytestmark = pytest.mark.browser

PAGES = {"home": "", "archive": "archive/", "issue": "issues/2026-w46/"}
WIDTHS = (375, 1280)
SCHEMES = ("light", "dark")

# Every element with text of its own, against the first solid background behind it. Text over a
# gradient or image (the hero) is skipped here; the hero is checked on its own below.
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
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest('.visually-hidden, .skip-link')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    let bg = null, node = el, skip = false;
    while (node) {
      const s = getComputedStyle(node);
      if (s.backgroundImage !== 'none') { skip = true; break; }
      const c = rgb(s.backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) { bg = c.slice(0, 3); break; }
      node = node.parentElement;
    }
    if (skip || !bg) continue;
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    const r = ratio(rgb(style.color).slice(0, 3), bg);
    if (r < need) bad.push(`${el.tagName.toLowerCase()}.${el.className}: ${r.toFixed(2)} < ${need}`);
  }
  return bad;
}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser-site")
    settings = load_settings(environ={}, dotenv_path=None, overrides={
        "data.dir": str(tmp / "data"), "site.output_dir": str(tmp / "output"),
        "server.name": "Casa Cinema", "server.timezone": TZ})
    render_site(settings, fixture_snapshots(), posters=draw_posters(tmp / "posters"))
    return Path(settings.site.output_dir)


def _serve(folder: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def server(site):
    yield from _serve(site)


@pytest.fixture(scope="module")
def leaving_server(tmp_path_factory):
    """The site with a long leaving-soon list on its home page: hostile, very long and grouped titles."""
    tmp = tmp_path_factory.mktemp("browser-leaving")
    settings = load_settings(environ={}, dotenv_path=None, overrides={
        "data.dir": str(tmp / "data"), "site.output_dir": str(tmp / "output"),
        "server.name": "Casa Cinema", "server.timezone": TZ})
    leaving = [{"title": SCRIPT_TITLE, "year": 2021, "detail": ""},
               {"title": "Severance", "year": 2022, "detail": "12 episodes"},
               {"title": "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb", "year": 1964,
                "detail": ""},
               {"title": "Supercalifragilisticexpialidocious" * 2, "year": None, "detail": ""},
               *({"title": f"Film {i}", "year": 2000 + i, "detail": ""} for i in range(30))]
    render_site(settings, fixture_snapshots(), posters=draw_posters(tmp / "posters"), leaving=leaving)
    yield from _serve(Path(settings.site.output_dir))


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("MARQUEE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Visit:
    """One page in one context, with everything that went wrong while loading it."""

    def __init__(self, browser, base: str, path: str, width: int, scheme: str) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
        self.problems: list[str] = []
        # Only the site itself may be asked for anything: no CDN, no font service, no tracker.
        self.context.route("**/*", self._only_local(base))
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}")
                     if r.status >= 400 else None)
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.goto(base + path, wait_until="load")
        # Lazy images below the fold would never load in a headless viewport; ask for them all.
        self.page.evaluate("""() => Promise.all([...document.images].map(i => {
            i.loading = 'eager'; return i.decode().catch(() => null); }))""")

    def _only_local(self, base: str):
        def handler(route):
            if route.request.url.startswith(base):
                route.continue_()
            else:
                self.problems.append(f"external request: {route.request.url}")
                route.abort()
        return handler

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_cleanly(browser, server, shots, name, width, scheme):
    visit = Visit(browser, server, PAGES[name], width, scheme)
    page = visit.page
    try:
        page.screenshot(path=str(shots / f"{name}-{width}-{scheme}.png"), full_page=True)
        scroll_width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= inner, f"horizontal overflow: {scroll_width}px on a {inner}px screen"
        broken = page.evaluate("[...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
                               ".map(i => i.src)")
        assert broken == []
        assert page.evaluate("[...document.images].filter(i => !i.getAttribute('alt')).length") == 0
        assert page.locator("h1").count() == 1
        low = page.evaluate(CONTRAST_JS)
        assert low == [], f"text below WCAG AA contrast: {low[:5]}"
        assert visit.problems == []
    finally:
        visit.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_script_title_is_shown_as_text_and_runs_nothing(browser, server, scheme):
    visit = Visit(browser, server, PAGES["issue"], 375, scheme)
    page = visit.page
    try:
        title = page.get_by_text(SCRIPT_TITLE, exact=True)
        assert title.count() >= 1 and title.first.is_visible()
        assert page.get_by_text(SCRIPT_TITLE).count() == 3  # new on the server, most watched, watched together
        assert page.evaluate("document.scripts.length") == 0
        assert page.locator("main b").count() == 0  # '"Quotes" & <b>bold</b>' stayed text too
        assert page.get_by_text('"Quotes" & <b>bold</b>').count() == 1
        assert visit.problems == []  # includes: no alert() dialog
    finally:
        visit.close()


def test_dark_and_light_differ_and_follow_the_system(browser, server):
    backgrounds = {}
    for scheme in SCHEMES:
        visit = Visit(browser, server, PAGES["issue"], 1280, scheme)
        backgrounds[scheme] = visit.page.evaluate("getComputedStyle(document.body).backgroundColor")
        visit.close()
    assert backgrounds == {"light": "rgb(246, 243, 238)", "dark": "rgb(18, 16, 17)"}


def test_keyboard_users_get_a_skip_link_and_visible_focus(browser, server):
    visit = Visit(browser, server, PAGES["issue"], 375, "light")
    page = visit.page
    try:
        page.keyboard.press("Tab")
        skip = page.evaluate("""() => { const e = document.activeElement, r = e.getBoundingClientRect();
            return [e.className, r.top >= 0 && r.bottom <= innerHeight]; }""")
        assert skip == ["skip-link", True]
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert page.evaluate("document.activeElement.className") == "brand" and outline != "none"
    finally:
        visit.close()


def test_the_hero_text_reads_on_its_dark_band(browser, server):
    visit = Visit(browser, server, PAGES["issue"], 375, "light")
    try:
        colours = visit.page.evaluate("""() => ['.hero__title', '.hero__span', '.hero__eyebrow']
            .map(s => getComputedStyle(document.querySelector(s)).color)""")
        # all light on #1b1512: 16:1, 11:1 and 10:1
        assert colours == ["rgb(255, 247, 234)", "rgb(233, 214, 189)", "rgb(255, 198, 97)"]
    finally:
        visit.close()


def test_the_contrast_check_catches_grey_on_grey(browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content('<body style="background:#fff"><p style="color:#aaa">faint</p><p>fine</p></body>')
        assert page.evaluate(CONTRAST_JS) == ["p.: 2.32 < 4.5"]
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", (360, 375))
def test_the_leaving_soon_list_fits_a_phone_and_reads_in_both_schemes(browser, leaving_server, shots, width, scheme):
    visit = Visit(browser, leaving_server, PAGES["home"], width, scheme)
    page = visit.page
    try:
        page.screenshot(path=str(shots / f"home-leaving-{width}-{scheme}.png"), full_page=True)
        section = page.locator("section.leaving")
        assert section.is_visible() and section.locator("li").count() == 24
        assert section.locator("li").first.inner_text() == f"{SCRIPT_TITLE} (2021)"  # shown as text, never run
        assert page.evaluate("document.scripts.length") == 0
        assert section.get_by_text("…and 10 more.").is_visible()
        scroll_width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= inner, f"horizontal overflow: {scroll_width}px on a {inner}px screen"
        low = page.evaluate(CONTRAST_JS)
        assert low == [], f"text below WCAG AA contrast: {low[:5]}"
        assert visit.problems == []
    finally:
        visit.close()
