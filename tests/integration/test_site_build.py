"""The archive site built for real with Pelican: pages, escaping, feeds, incremental rebuilds, real snapshots."""

from __future__ import annotations

import copy
import os
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline.errors import ConfigError, MarqueeError
from pipeline.render.site.generate import poster_items, render_site
from pipeline.settings import load_settings
from pipeline.stats.issue import compute_issue
from tests.fixtures.leaks import leak_scan
from tests.fixtures.site_issues import SCRIPT_TITLE, draw_posters, fixture_snapshots

ATOM = "{http://www.w3.org/2005/Atom}"
SITEURL = "https://news.example.org"


def settings_for(tmp_path: Path, **overrides):
    return load_settings(environ={}, dotenv_path=None, overrides={
        "data.dir": str(tmp_path / "data"), "site.output_dir": str(tmp_path / "output"),
        "server.name": "Casa Cinema", "server.timezone": "Europe/Paris", **overrides})


@pytest.fixture(scope="module")
def posters(tmp_path_factory):
    return draw_posters(tmp_path_factory.mktemp("posters"))


@pytest.fixture(scope="module")
def site(tmp_path_factory, posters):
    """All three fixture issues, built once for the read-only tests."""
    tmp = tmp_path_factory.mktemp("site")
    settings = settings_for(tmp)
    unused = draw_posters(tmp / "unused")[1001]  # a poster no issue shows is not shipped
    result = render_site(settings, fixture_snapshots(), posters={**posters, 9999: unused})
    return Path(settings.site.output_dir), result


def read(out: Path, rel: str) -> str:
    return (out / rel).read_text(encoding="utf-8")


def mtimes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_every_page_is_built(site):
    out, result = site
    for rel in ["index.html", "archive/index.html", "archive/2026/index.html", "404.html", "about/index.html",
                "house-rules/index.html", "feeds/issues.atom.xml", "feeds/issues.rss.xml", "theme/css/marquee.css",
                "issues/2026-w45/index.html", "issues/2026-w46/index.html", "issues/2026-w47/index.html"]:
        assert (out / rel).is_file(), rel
    assert result.issues == ["weekly-2026-W45", "weekly-2026-W46", "weekly-2026-W47"]
    assert result.pages["weekly-2026-W46"] == "issues/2026-w46/index.html"
    # nothing Pelican makes by default for blogs
    assert not any((out / d).exists() for d in ("tag", "category", "author", "tags.html", "categories.html"))


def test_the_home_page_shows_the_latest_issue_and_lists_the_earlier_ones(site):
    out, _ = site
    home = read(out, "index.html")
    assert '<h1 class="hero__title">Week 47, 2026</h1>' in home
    assert "Nothing new this week" in home
    assert home.index("Earlier issues") < home.index("Week 46, 2026") < home.index("Week 45, 2026")


def test_an_issue_page_has_its_sections_in_order(site):
    out, _ = site
    page = read(out, "issues/2026-w46/index.html")
    order = ["Plays", "New on the server", "Most watched", "Most active viewers", "Watched together",
             "When we watch", "How we watch"]
    positions = [page.index(s) for s in order]
    assert positions == sorted(positions)
    assert "S2 E1–E8" in page and "S1 E1–E3, E5" in page and "New series" in page
    assert "A big shout-out to <strong>A. S.</strong>" in page
    assert "Leaving soon" not in page
    assert 'href="../../issues/2026-w45/" rel="prev"' in page and 'href="../../issues/2026-w47/" rel="next"' in page


def test_titles_are_text_not_html(site):
    out, _ = site
    for rel in ("issues/2026-w46/index.html", "index.html", "feeds/issues.atom.xml", "feeds/issues.rss.xml"):
        text = read(out, rel)
        assert SCRIPT_TITLE not in text and "<b>bold</b>" not in text, rel
    page = read(out, "issues/2026-w46/index.html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Tom &amp; Jerry" in page and "&#34;Quotes&#34; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "千と千尋の神隠し" in page and "Amélie 🎬" in page
    assert "<script" not in page  # the site ships no script at all


def test_every_image_has_alt_text_and_every_asset_is_local(site):
    import re

    out, _ = site
    for path in out.rglob("*.html"):
        html = path.read_text()
        for tag in re.findall(r"<img\b[^>]*>", html):
            assert re.search(r'\balt="[^"]+"', tag), (path.name, tag)
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"(https?:)?//", url), (path.name, url)  # no CDN, no web font, no tracker


def test_the_heatmap_chart_and_posters_are_shipped(site):
    out, _ = site
    page = read(out, "issues/2026-w46/index.html")
    charts = list((out / "images/charts/2026-w46").glob("heatmap-*.svg"))
    assert len(charts) == 1 and f"images/charts/2026-w46/{charts[0].name}" in page
    assert 'alt="Plays by day of week and hour' in page
    posters = list((out / "images/posters").glob("*.jpg"))
    assert len(posters) == 19 and all(f"images/posters/{p.name}" in page for p in posters)
    # the title Plex had no poster for gets a placeholder, not a broken image
    assert 'poster--blank" aria-hidden="true"><span>A</span>' in page


def test_feeds_parse_and_list_every_issue(site):
    out, _ = site
    atom = ET.parse(out / "feeds/issues.atom.xml").getroot()
    entries = atom.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Week 47, 2026 (Nov 16–22)", "Week 46, 2026 (Nov 9–15)", "Week 45, 2026 (Nov 2–8)"]
    content = entries[1].findtext(f"{ATOM}content")  # the HTML, once the XML escaping is undone
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content and SCRIPT_TITLE not in content
    rss = ET.parse(out / "feeds/issues.rss.xml").getroot()
    assert len(rss.findall("./channel/item")) == 3


def test_publish_build_has_absolute_links_and_feeds(tmp_path, posters):
    settings = settings_for(tmp_path, **{"site.siteurl": SITEURL})
    render_site(settings, fixture_snapshots()[:2], posters=posters, publish=True)
    out = Path(settings.site.output_dir)
    atom = ET.parse(out / "feeds/issues.atom.xml").getroot()
    links = [link.get("href") for link in atom.iter(f"{ATOM}link")]
    assert links and all(href.startswith(SITEURL + "/") for href in links), links
    assert f"{SITEURL}/issues/2026-w46/" in links
    rss = ET.parse(out / "feeds/issues.rss.xml").getroot()
    assert all(i.findtext("link").startswith(SITEURL + "/") for i in rss.findall("./channel/item"))
    page = read(out, "issues/2026-w46/index.html")
    assert f'<link rel="canonical" href="{SITEURL}/issues/2026-w46/">' in page
    assert f'href="{SITEURL}/theme/css/marquee.css' in page


def test_publish_needs_a_siteurl(tmp_path):
    with pytest.raises(ConfigError, match="site.siteurl"):
        render_site(settings_for(tmp_path), fixture_snapshots()[:1], publish=True)


def test_a_rebuild_rewrites_only_what_changed(tmp_path, posters):
    settings = settings_for(tmp_path)
    out, stage = Path(settings.site.output_dir), Path(settings.data.dir) / "site"
    first = render_site(settings, fixture_snapshots()[:2], posters=posters)
    assert "issues/2026-w45/index.html" in first.written and first.removed == []
    before, staged = mtimes(out), mtimes(stage / "content")

    again = render_site(settings, fixture_snapshots()[:2], posters=posters)
    assert again.written == [] and again.removed == [] and mtimes(out) == before
    assert mtimes(stage / "content") == staged  # Pelican's cache sees unchanged sources

    third = render_site(settings, fixture_snapshots(), posters=posters)
    after = mtimes(out)
    assert set(third.written) == {
        "issues/2026-w47/index.html",                     # the new issue
        "issues/2026-w46/index.html",                     # now links to it, no longer "latest"
        "index.html", "archive/index.html", "archive/2026/index.html",
        "feeds/issues.atom.xml", "feeds/issues.rss.xml"}
    unchanged = [rel for rel in before if rel not in third.written]
    assert "issues/2026-w45/index.html" in unchanged and any(r.startswith("images/posters/") for r in unchanged)
    assert all(after[rel] == before[rel] for rel in unchanged)
    assert mtimes(stage / "content")["issues/2026-w45.issue"] == staged["issues/2026-w45.issue"]


def test_an_issue_that_is_gone_is_removed_and_nothing_else(tmp_path, posters):
    settings = settings_for(tmp_path)
    out = Path(settings.site.output_dir)
    out.mkdir(parents=True)
    (out / "admin-notes.txt").write_text("not ours")
    render_site(settings, fixture_snapshots(), posters=posters)
    result = render_site(settings, fixture_snapshots()[:2], posters=posters)
    assert "issues/2026-w47/index.html" in result.removed
    assert not (out / "issues/2026-w47").exists()
    assert (out / "admin-notes.txt").read_text() == "not ours"


def test_without_posters_every_title_gets_a_placeholder(tmp_path):
    settings = settings_for(tmp_path)
    render_site(settings, fixture_snapshots()[1:2])
    page = read(Path(settings.site.output_dir), "issues/2026-w46/index.html")
    assert "images/posters/" not in page and page.count("poster--blank") > 10


def test_a_snapshot_from_a_newer_marquee_is_refused(tmp_path):
    snap = copy.deepcopy(fixture_snapshots()[0])
    snap["schema_version"] = 99
    with pytest.raises(MarqueeError, match="upgrade Marquee"):
        render_site(settings_for(tmp_path), [snap])


def test_rows_from_the_issues_table_are_accepted(tmp_path):
    import json

    rows = [{"issue_key": s["issue_key"], "snapshot": json.dumps(s)} for s in fixture_snapshots()]
    result = render_site(settings_for(tmp_path), rows)
    assert result.issues == ["weekly-2026-W45", "weekly-2026-W46", "weekly-2026-W47"]


# -- real snapshots: the stats code over a store, then the site ---------------------------------------


def test_a_site_from_computed_snapshots(tmp_path):
    from tests.fixtures.stats_world import PERIOD, TZ, build

    settings = settings_for(tmp_path, **{"server.timezone": TZ, "server.name": "Kino"})
    store = build()
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    snaps = [compute_issue(store, p, settings, now) for p in (PERIOD.previous(), PERIOD, PERIOD.next())]
    result = render_site(settings, snaps)
    out = Path(settings.site.output_dir)
    assert result.issues == ["weekly-2026-W45", "weekly-2026-W46", "weekly-2026-W47"]
    page = read(out, "issues/2026-w46/index.html")
    assert "Heat" in page and "Severance" in page and "Daft Punk" in page
    assert "Busiest hour: Thursday at 20:00" in page
    assert leak_scan(out, words=["alice", "bob@", "carol"]) == []


@pytest.mark.skipif(os.environ.get("MARQUEE_SKIP_SANDBOX") == "1", reason="sandbox disabled")
def test_a_site_from_the_sandbox_with_posters_from_plex(tmp_path):
    """Ingest the sandbox over loopback, freeze three weeks, fetch posters from the Plex sandbox, build."""
    from pipeline.clock import FixedClock
    from pipeline.ingest.run import run_ingest
    from pipeline.ingest.posters import cache_dir_for, fetch_posters
    from pipeline.sandbox.plex import PlexSandbox
    from pipeline.sandbox.plextv import PlexTvSandbox
    from pipeline.sandbox.seed import generate
    from pipeline.sandbox.tautulli import TautulliSandbox
    from pipeline.stats.periods import latest_complete
    from pipeline.store.db import memory_store

    now = datetime(2026, 11, 18, 12, tzinfo=timezone.utc)
    world = generate(seed=3, users=24, plays=3000, now=int(now.timestamp()))
    with TautulliSandbox(world) as tautulli, PlexSandbox(world) as pms, PlexTvSandbox(world) as tv:
        settings = load_settings(environ={
            "TAUTULLI_URL": tautulli.url, "TAUTULLI_API_KEY": world.tautulli_api_key, "PLEX_URL": pms.url,
            "PLEX_TOKEN": world.owner_token, "MARQUEE__PLEX__PLEXTV_URL": tv.url}, dotenv_path=None, overrides={
            "server.timezone": world.timezone, "server.name": world.server_name,
            "data.dir": str(tmp_path / "data"), "site.output_dir": str(tmp_path / "output")})
        store = memory_store()
        run_ingest(store, settings, FixedClock(now))
        period, snaps = latest_complete("weekly", now, world.timezone), []
        for _ in range(3):
            snaps.append(compute_issue(store, period, settings, now))
            period = period.previous()
        posters = fetch_posters(poster_items(snaps), settings.plex, cache_dir_for(settings.data.dir))
        urls = [pms.url, tautulli.url, tv.url]
    assert posters, "the Plex sandbox served no poster"
    result = render_site(settings, snaps, posters=posters)
    out = Path(settings.site.output_dir)
    assert len(result.issues) == 3 and (out / "index.html").is_file()
    newest = read(out, result.pages[snaps[0]["issue_key"]])
    assert "images/posters/" in newest
    people = [u for u in world.users]
    words = [u.username for u in people if len(u.username) > 3] + [u.email for u in people if u.email]
    found = leak_scan(out, secrets=[world.owner_token, world.tautulli_api_key, *urls], words=words)
    assert found == []


def test_extra_files_are_published_with_the_site(tmp_path):
    settings = settings_for(tmp_path)
    chart = tmp_path / "heatmap.png"
    chart.write_bytes(b"\x89PNG fake")
    render_site(settings, fixture_snapshots()[:1], extra={"images/email/heatmap.png": chart,
                                                          "images/email/note.txt": b"hello"})
    out = Path(settings.site.output_dir)
    assert (out / "images/email/heatmap.png").read_bytes() == b"\x89PNG fake"
    assert (out / "images/email/note.txt").read_bytes() == b"hello"
    result = render_site(settings, fixture_snapshots()[:1])
    assert sorted(result.removed) == ["images/email/heatmap.png", "images/email/note.txt"]
    with pytest.raises(MarqueeError, match="outside the site"):
        render_site(settings, fixture_snapshots()[:1], extra={"../escape.txt": b"x"})
    with pytest.raises(MarqueeError, match="replace"):
        render_site(settings, fixture_snapshots()[:1], extra={"index.html": b"x"})


def test_a_site_with_no_issue_yet_says_so(tmp_path):
    settings = settings_for(tmp_path, **{"site.title": "Movie Night <3"})
    result = render_site(settings, [])
    out = Path(settings.site.output_dir)
    assert result.issues == [] and "The first issue is on its way" in read(out, "index.html")
    assert "<title>Movie Night &lt;3</title>" in read(out, "index.html")
    assert ET.parse(out / "feeds/issues.atom.xml").getroot().findall(f"{ATOM}entry") == []
