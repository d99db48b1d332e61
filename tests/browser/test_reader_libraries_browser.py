"""In Chromium: a reader without the Kids library sees no Kids title in their digest; a site that leaves Kids
out of site.public_libraries shows none on any page."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from pipeline.clock import FixedClock
from pipeline.run.build import build_site
from pipeline.run.send_issue import send_issue
from pipeline.stats.freeze import freeze_issues
from tests.fixtures import email_issue as fx
from tests.fixtures.kids_library import KIDS, NOW, kids_store


@pytest.fixture
def store():
    store = kids_store()
    yield store
    store.close()


def shown(browser, html: str) -> str:
    page = browser.new_page()
    try:
        page.set_content(html, wait_until="domcontentloaded")
        return page.inner_text("body")
    finally:
        page.close()


def test_chromium_shows_the_kids_title_to_one_reader_and_not_the_other(browser, store, tmp_path):
    settings = fx.settings(**{"data.dir": str(tmp_path / "data"), "email.outbox_dir": str(tmp_path / "outbox")})
    key = freeze_issues(store, settings, NOW, period_key="2026-W46").frozen[0]
    send_issue(store, settings, FixedClock(NOW))
    folder = tmp_path / "outbox" / "dry-run" / key

    def html(email: str) -> str:
        msg = BytesParser(policy=policy.default).parsebytes((folder / f"{email}.eml").read_bytes())
        return msg.get_body(("html",)).get_content()

    assert KIDS in shown(browser, html("dave@example.com"))
    bob = shown(browser, html("bob@example.com"))
    assert "Severance" in bob and KIDS not in bob


def test_chromium_finds_no_kids_title_on_any_page_of_the_public_site(browser, store, tmp_path):
    store.con.execute("INSERT INTO ingest_runs (run_id, started_at, finished_at, status) VALUES (1, ?, ?, 'ok')",
                      [NOW, NOW])
    out = tmp_path / "output"
    settings = fx.settings(**{"data.dir": str(tmp_path / "data"), "site.output_dir": str(out), "site.posters": False,
                              "site.public_libraries": ["Movies", "TV Shows", "Music", "Movies 4K"]})
    build_site(store, settings, FixedClock(NOW), period_key="2026-W46")
    pages = sorted(out.rglob("*.html"))
    texts = [shown(browser, p.read_text()) for p in pages]
    assert any("Severance" in t for t in texts)
    assert not [p for p, t in zip(pages, texts) if KIDS in t]
