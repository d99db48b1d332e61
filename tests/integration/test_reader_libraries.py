"""A reader sees only titles from the libraries their plex.tv share opens; the site only site.public_libraries."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from pipeline.clock import FixedClock
from pipeline.errors import ConfigError
from pipeline.run.send_issue import send_issue
from pipeline.stats.freeze import freeze_issues
from tests.fixtures import email_issue as fx
from tests.fixtures.kids_library import KIDS, NOW, kids_store


@pytest.fixture
def store():
    store = kids_store()
    yield store
    store.close()


def digest_of(folder, email: str) -> tuple[str, str]:
    msg = BytesParser(policy=policy.default).parsebytes((folder / f"{email}.eml").read_bytes())
    return tuple(msg.get_body((kind,)).get_content() for kind in ("html", "plain"))


def test_a_reader_without_the_kids_library_sees_no_kids_title_in_their_email(store, tmp_path):
    settings = fx.settings(**{"data.dir": str(tmp_path / "data"), "email.outbox_dir": str(tmp_path / "outbox")})
    key = freeze_issues(store, settings, NOW, period_key="2026-W46").frozen[0]
    send_issue(store, settings, FixedClock(NOW))
    folder = tmp_path / "outbox" / "dry-run" / key
    bob_html, bob_text = digest_of(folder, "bob@example.com")
    dave_html, dave_text = digest_of(folder, "dave@example.com")
    assert KIDS in dave_html and KIDS in dave_text  # the title is in the issue: everyone else sees it
    assert KIDS not in bob_html and KIDS not in bob_text
    assert "Severance" in bob_html and "Heat" in bob_html  # the rest of the issue is still there


def test_a_title_whose_library_is_unknown_is_shown_only_to_readers_with_every_library(store, tmp_path):
    store.con.execute("DELETE FROM plex_items WHERE rating_key = 120")
    settings = fx.settings(**{"data.dir": str(tmp_path / "data"), "email.outbox_dir": str(tmp_path / "outbox")})
    key = freeze_issues(store, settings, NOW, period_key="2026-W46").frozen[0]
    send_issue(store, settings, FixedClock(NOW))
    folder = tmp_path / "outbox" / "dry-run" / key
    assert KIDS in digest_of(folder, "dave@example.com")[0]
    assert KIDS not in digest_of(folder, "bob@example.com")[0]


def test_an_unknown_public_library_is_one_line_and_sends_nothing(store, tmp_path):
    settings = fx.settings(**{"data.dir": str(tmp_path / "data"), "email.outbox_dir": str(tmp_path / "outbox"),
                              "site.public_libraries": ["Movies", "Kidz"]})
    freeze_issues(store, settings, NOW, period_key="2026-W46")
    with pytest.raises(ConfigError, match=r"^site.public_libraries names 'Kidz', which Plex does not have "
                                          r"\(libraries: Kids, Movies, Movies 4K, Music, TV Shows\)"):
        send_issue(store, settings, FixedClock(NOW))
    assert not (tmp_path / "outbox").exists()


def site_text(output) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(output.rglob("*"))
                     if p.is_file() and p.suffix in {".html", ".xml", ".json", ".txt"})


@pytest.mark.parametrize("public, shown", [(["*"], True), (["Movies", "TV Shows", "Music", "Movies 4K"], False)])
def test_the_public_site_shows_no_title_from_a_library_it_does_not_name(store, tmp_path, public, shown):
    from pipeline.run.build import build_site

    store.con.execute("INSERT INTO ingest_runs (run_id, started_at, finished_at, status) VALUES (1, ?, ?, 'ok')",
                      [NOW, NOW])
    settings = fx.settings(**{"data.dir": str(tmp_path / "data"), "site.output_dir": str(tmp_path / "output"),
                              "site.public_libraries": public, "site.posters": False})
    build_site(store, settings, FixedClock(NOW), period_key="2026-W46")
    text = site_text(tmp_path / "output")
    assert "Severance" in text
    assert (KIDS in text) is shown
