"""In Chromium: a reader without the Kids library sees no Kids title in their digest; a site that leaves Kids
out of site.public_libraries shows none on any page."""

from __future__ import annotations

import pytest

from tests.fixtures.chromium import body_text as shown
from tests.fixtures.kids_library import KIDS, kids_store, public_site, sent_week


@pytest.fixture
def store():
    store = kids_store()
    yield store
    store.close()


def test_chromium_shows_the_kids_title_to_one_reader_and_not_the_other(browser, store, tmp_path):
    html = sent_week(store, tmp_path)
    assert KIDS in shown(browser, html("dave@example.com"))
    bob = shown(browser, html("bob@example.com"))
    assert "Severance" in bob and KIDS not in bob


def test_chromium_finds_no_kids_title_on_any_page_of_the_public_site(browser, store, tmp_path):
    pages = public_site(store, tmp_path)
    texts = [shown(browser, p.read_text()) for p in pages]
    assert any("Severance" in t for t in texts)
    assert not [p for p, t in zip(pages, texts) if KIDS in t]
