"""In Chromium: "Coming soon" groups a show's episodes and shows a Kids title only to a reader who can open Kids;
a site that leaves Kids out of site.public_libraries shows none of it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures.chromium import body_text as shown
from tests.fixtures.kids_library import NOW, kids_store, public_site, sent_week
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


def test_chromium_shows_coming_soon_grouped_and_the_kids_title_only_to_who_can_open_kids(browser, store, tmp_path):
    html = sent_week(store, tmp_path)
    dave, bob = shown(browser, html("dave@example.com")), shown(browser, html("bob@example.com"))
    for text in (dave, bob):
        assert "coming soon" in text.lower() and "Severance" in text and "S3 E1–E2 · from " in text
    assert COMING_KIDS in dave and COMING_KIDS not in bob


def test_chromium_finds_no_coming_kids_title_on_the_public_site(browser, store, tmp_path):
    texts = [shown(browser, p.read_text()) for p in public_site(store, tmp_path)]
    assert any("coming soon" in t.lower() and "S3 E1–E2" in t for t in texts)
    assert not [t for t in texts if COMING_KIDS in t]
