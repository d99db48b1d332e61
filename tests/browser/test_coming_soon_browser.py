"""In Chromium: "Coming soon" groups a show's episodes and shows a Kids title only to a reader who can open Kids;
a site that leaves Kids out of site.public_libraries shows none of it."""

from __future__ import annotations

from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest

from pipeline.clock import FixedClock
from pipeline.run.build import build_site
from pipeline.run.send_issue import send_issue
from pipeline.stats.freeze import freeze_issues
from tests.fixtures import email_issue as fx
from tests.fixtures.kids_library import NOW, kids_store
from tests.fixtures.stats_world import insert

COMING_KIDS = "Tiny Paws"


@pytest.fixture
def store():
    """The Kids-library store, its libraries' folders known, and Sonarr/Radarr expecting three things."""
    store = kids_store()
    for sid, folder in ((1, "/data/movies"), (2, "/data/tv"), (4, "/data/movies-4k"), (5, "/data/kids")):
        store.con.execute("UPDATE plex_sections SET locations = [?] WHERE section_id = ?", [folder, sid])
    soon = NOW + timedelta(days=2)
    insert(store, "arr_calendar", [
        dict(item_key=f"sonarr:episode:{n}", kind="episode", title="Severance", year=2022, series_id=3,
             tvdb_id=371980, season=3, episode=n, air_at=soon + timedelta(days=7 * (n - 1)),
             path="/data/tv/Severance", listed_at=NOW) for n in (1, 2)] + [
        dict(item_key="radarr:movie:9", kind="movie", title=COMING_KIDS, year=2026, series_id=9, tmdb_id=1,
             air_at=soon, path=f"/data/kids/{COMING_KIDS} (2026)", listed_at=NOW)])
    yield store
    store.close()


def shown(browser, html: str) -> str:
    page = browser.new_page()
    try:
        page.set_content(html, wait_until="domcontentloaded")
        return page.inner_text("body")
    finally:
        page.close()


def test_chromium_shows_coming_soon_grouped_and_the_kids_title_only_to_who_can_open_kids(browser, store, tmp_path):
    settings = fx.settings(**{"data.dir": str(tmp_path / "data"), "email.outbox_dir": str(tmp_path / "outbox")})
    key = freeze_issues(store, settings, NOW, period_key="2026-W46").frozen[0]
    send_issue(store, settings, FixedClock(NOW))
    folder = tmp_path / "outbox" / "dry-run" / key

    def html(email: str) -> str:
        msg = BytesParser(policy=policy.default).parsebytes((folder / f"{email}.eml").read_bytes())
        return msg.get_body(("html",)).get_content()

    dave, bob = shown(browser, html("dave@example.com")), shown(browser, html("bob@example.com"))
    for text in (dave, bob):
        assert "coming soon" in text.lower() and "Severance" in text and "S3 E1–E2 · from " in text
    assert COMING_KIDS in dave and COMING_KIDS not in bob


def test_chromium_finds_no_coming_kids_title_on_the_public_site(browser, store, tmp_path):
    store.con.execute("INSERT INTO ingest_runs (run_id, started_at, finished_at, status) VALUES (1, ?, ?, 'ok')",
                      [NOW, NOW])
    out = tmp_path / "output"
    settings = fx.settings(**{"data.dir": str(tmp_path / "data"), "site.output_dir": str(out), "site.posters": False,
                              "site.public_libraries": ["Movies", "TV Shows", "Music", "Movies 4K"]})
    build_site(store, settings, FixedClock(NOW), period_key="2026-W46")
    texts = [shown(browser, p.read_text()) for p in sorted(out.rglob("*.html"))]
    assert any("coming soon" in t.lower() and "S3 E1–E2" in t for t in texts)
    assert not [t for t in texts if COMING_KIDS in t]
