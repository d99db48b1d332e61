"""The archive's home page lists what leaves soon: titles only, escaped, and nothing at all for an empty queue."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.media.leaving import leaving_public, leaving_public_dated
from pipeline.render.site.generate import PUBLIC_ROWS
from pipeline.render.site.generate import render_site
from pipeline.settings import load_settings
from pipeline.tokens import plex_url
from tests.fixtures.leaks import leak_scan
from tests.fixtures.stats_world import insert
from tests.fixtures.leaving_queue import NEVER_LISTED, NOW, REASON, SCRIPT, USERS, queue_store
from tests.fixtures.site_issues import fixture_snapshots

KEY = "0123456789abcdef0123456789abcdef"
PRIVATE = [name for _, name, _ in USERS.values()] + [REASON, "old and unwatched", "nobody played it", "Half Loop",
                                                     "In Perpetuity", "Far Future", "5000000000"]


def settings_for(tmp_path: Path):
    return load_settings(environ={"TAUTULLI_API_KEY": KEY}, dotenv_path=None, overrides={
        "data.dir": str(tmp_path / "data"), "site.output_dir": str(tmp_path / "output"),
        "server.name": "Casa Cinema", "server.timezone": "America/New_York",
        "tautulli.url": "http://127.0.0.1:8181"})


def section(home: str) -> str:
    found = re.search(r'<section class="wrap section leaving".*?</section>', home, re.S)
    assert found, "no leaving-soon section on the home page"
    return found.group(0)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("leaving-site")
    settings = settings_for(tmp)
    store = queue_store()
    try:
        rows = leaving_public(store, settings, NOW)
    finally:
        store.close()
    render_site(settings, fixture_snapshots(), leaving=rows)
    return settings, Path(settings.site.output_dir)


def test_the_home_page_lists_the_titles_soonest_first(built):
    _, out = built
    block = section((out / "index.html").read_text(encoding="utf-8"))
    items = re.findall(r"<li>(.*?)</li>", block, re.S)
    assert items == [
        '&lt;script&gt;alert(1)&lt;/script&gt; <span class="leaving__meta">(1979)</span>',
        'Severance <span class="leaving__meta">(2022)</span> <span class="leaving__meta">· 3 episodes</span>',
        'Heat <span class="leaving__meta">(1995)</span>',
        'Up <span class="leaving__meta">(2009)</span>',
    ]
    assert "in the next 14 days" in block and "more." not in block
    assert SCRIPT not in block


def test_the_site_holds_none_of_the_queues_private_data(built):
    settings, out = built
    assert leak_scan(out, secrets=[KEY, "127.0.0.1:8181"], words=PRIVATE) == []
    block = section((out / "index.html").read_text(encoding="utf-8"))
    assert [t for t in NEVER_LISTED if t in block] == []  # "Andor" is in the issues, so only here


def test_only_the_home_page_has_the_list(built):
    _, out = built
    for page in ("issues/2026-w46/index.html", "archive/index.html", "about/index.html"):
        assert "Leaving soon" not in (out / page).read_text(encoding="utf-8"), page


def test_an_empty_queue_leaves_no_trace_and_a_long_one_is_cut(tmp_path):
    settings = settings_for(tmp_path)
    home = Path(settings.site.output_dir) / "index.html"
    render_site(settings, fixture_snapshots())
    plain = home.read_bytes()
    render_site(settings, fixture_snapshots(), leaving=[])
    assert home.read_bytes() == plain and b"leaving" not in plain
    many = [{"title": f"Film {i:02d}", "year": None, "detail": "", "reason": "secret"} for i in range(PUBLIC_ROWS + 6)]
    render_site(settings, fixture_snapshots(), leaving=many)
    block = section(home.read_text(encoding="utf-8"))
    assert len(re.findall(r"<li>", block)) == PUBLIC_ROWS and f"Film {PUBLIC_ROWS - 1:02d}" in block
    assert f"Film {PUBLIC_ROWS:02d}" not in block and "…and 6 more." in block and "secret" not in block
    render_site(settings, fixture_snapshots())
    assert home.read_bytes() == plain  # the queue emptied: the section is gone again


def test_the_list_says_as_of_when_it_was_true(tmp_path):
    """enforce moves dates (a notice sent) and drops kept titles after a build: the page says when it was true."""
    settings = settings_for(tmp_path)
    store = queue_store()
    try:
        rows = leaving_public_dated(store, settings, NOW)
    finally:
        store.close()
    render_site(settings, fixture_snapshots(), leaving=rows, leaving_as_of=NOW)
    block = section((Path(settings.site.output_dir) / "index.html").read_text(encoding="utf-8"))
    local = NOW.astimezone(ZoneInfo(settings.server.timezone))
    assert f", {local:%H:%M}: a date can still move later, or a title be kept." in block and "As of " in block


def test_each_title_opens_in_plex_once_plex_was_listed(tmp_path):
    """Issue 12: a leaving title links to its Plex page (a show to the show), so a reader can catch it in one click."""
    machine = "f00dfeedc0ffee00f00dfeedc0ffee00f00dfeed"
    settings = settings_for(tmp_path)
    store = queue_store()
    try:
        before = leaving_public_dated(store, settings, NOW)
        insert(store, "plex_server", [dict(machine_identifier=machine, name="Casa Cinema", last_listed_at=NOW)])
        rows = leaving_public_dated(store, settings, NOW)
    finally:
        store.close()
    assert all(r["plex"] == "" for r in before)
    render_site(settings, fixture_snapshots(), leaving=rows)
    block = section((Path(settings.site.output_dir) / "index.html").read_text(encoding="utf-8"))
    for key, title in ((9200, "Severance"), (9100, "Heat"), (9110, "&lt;script&gt;alert(1)&lt;/script&gt;")):
        link = plex_url(machine, key).replace("&", "&amp;")
        assert f'<a class="plex-link" href="{link}" rel="noopener" title="Open in Plex">{title}</a>' in block
