"""Reader actions outside the web app: the secret, what e-mails link to with and without web.public_url, and what
"I'm done with it" and the notice wait do to the stored queue."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser

import pytest

from pipeline.clock import FixedClock
from pipeline.errors import ConfigError
from pipeline.media import refresh_queue
from pipeline.render.email.contexts import LeavingItem, LeavingNotice, WelcomeNotice
from pipeline.render.email.notice import render_notice
from pipeline.settings import load_settings
from pipeline.tokens import BadToken, Links, Signer, plex_url, secret_key
from tests.fixtures import email_issue as fx
from tests.fixtures.retention_shelf import ALICE, BOB, T0, Shelf, at, settings_for

NOW = datetime(2026, 11, 16, 12, tzinfo=timezone.utc)
CLOCK = FixedClock(NOW)
PUBLIC = "https://marquee.example.org"


def parse(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def test_the_secret_is_made_once_with_mode_0600_and_a_short_given_one_is_refused(tmp_path):
    settings = load_settings(environ={}, dotenv_path=None, overrides={"data.dir": str(tmp_path / "d")})
    first = secret_key(settings)
    path = tmp_path / "d" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 48
    assert secret_key(settings) == first  # made once
    short = load_settings(environ={"MARQUEE_SECRET_KEY": "short"}, dotenv_path=None, overrides={})
    with pytest.raises(ConfigError, match="MARQUEE_SECRET_KEY: use at least 16"):
        secret_key(short)


def test_a_token_binds_reader_action_target_and_expiry():
    signer = Signer(b"k" * 32)
    token = signer.token(7, "keep", "120", NOW, "Heat")
    claim = signer.claim(token)
    assert (claim.reader, claim.action, claim.target, claim.expires, claim.label) == (7, "keep", "120",
                                                                                      int(NOW.timestamp()), "Heat")
    with pytest.raises(BadToken):
        Signer(b"x" * 32).claim(token)  # another secret
    with pytest.raises(ValueError):
        signer.token(7, "delete_everything", "1", NOW)


def test_without_a_public_url_emails_carry_no_action_links_and_promise_no_one_click():
    settings = fx.settings()
    assert Links(settings, NOW).url(2, "keep", 120) == ""
    leaving = render_notice("leaving", fx.recipient(2), LeavingNotice(key="leaving-2", items=(
        LeavingItem("Heat", NOW + timedelta(days=3), 1995),), keep_rule="Ask whoever runs Kino."), settings,
        clock=CLOCK)
    welcome = parse(render_notice("welcome", fx.recipient(2), WelcomeNotice(), settings, clock=CLOCK).mime)
    html = welcome.get_body(("html",)).get_content()
    assert "/a/" not in parse(leaving.mime).get_body(("html",)).get_content()
    assert "one click" not in html and "You can unsubscribe at the bottom of any letter." in html
    assert welcome["List-Unsubscribe"] == "<mailto:admin@kino.example.org?subject=unsubscribe>"
    assert welcome["List-Unsubscribe-Post"] is None


def test_with_a_public_url_the_welcome_carries_a_signed_one_click_link(tmp_path):
    settings = fx.settings(**{"web.public_url": PUBLIC, "data.dir": str(tmp_path)})
    welcome = parse(render_notice("welcome", fx.recipient(2), WelcomeNotice(), settings, clock=CLOCK).mime)
    targets = welcome["List-Unsubscribe"]
    assert targets.startswith("<mailto:") and f", <{PUBLIC}/a/2/" in targets
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "with one click" in welcome.get_body(("html",)).get_content()
    token = targets.rsplit("/", 1)[1].rstrip(">")
    claim = Signer(secret_key(settings)).claim(token)
    assert (claim.reader, claim.action, claim.target) == (2, "unsubscribe", fx.recipient(2).email)
    # An extra recipient is no Plex user: no signed link for them, the mailto stays.
    extra = parse(render_notice("welcome", fx.recipient(None), WelcomeNotice(), settings, clock=CLOCK).mime)
    assert "/a/" not in extra["List-Unsubscribe"]


def test_plex_links_name_the_server_and_the_item():
    assert plex_url("abc123", 120) == ("https://app.plex.tv/desktop/#!/server/abc123/details?key="
                                       "%2Flibrary%2Fmetadata%2F120")
    assert plex_url(None, 120) == "" and plex_url("abc", None) == ""


def test_im_done_with_it_counts_as_a_finish_for_the_assignment(tmp_path):
    shelf = Shelf()
    settings = settings_for(tmp_path)
    shelf.movie(1, "Heat", 1995)
    shelf.assign(1, ALICE)
    shelf.assign(1, BOB)
    shelf.play(ALICE, 1, at(-5))
    assert refresh_queue(shelf.store, settings, T0) == []  # Bob has not watched it
    shelf.con.execute("INSERT INTO reader_actions VALUES ('i', 1, ?, ?, 'done', '1', ?, 'applied', NULL)",
                      [at(-2), BOB, T0])
    (entry,) = refresh_queue(shelf.store, settings, T0)
    assert entry.rating_key == 1 and "Bobby Tables at" in entry.reason


def test_a_queued_item_waits_for_each_assignees_notice_and_the_queue_says_until_when(tmp_path):
    shelf = Shelf()
    settings = settings_for(tmp_path, **{"retention.notice_days": 3})
    shelf.movie(1, "Heat", 1995)
    shelf.assign(1, ALICE)
    shelf.play(ALICE, 1, at(-5))
    refresh_queue(shelf.store, settings, T0)
    (scheduled, reason), = shelf.rows("SELECT scheduled_at, reason FROM media_queue")
    assert scheduled == T0 + timedelta(days=3) and "waits for notice until" in reason
    # The notice was listed and sent a day ago: the date is three days after it.
    shelf.con.execute("INSERT INTO media_notices VALUES (?, 1, 'leaving-x', 'alice@example.org', ?, ?)",
                      [ALICE, at(-1), T0])
    shelf.con.execute("INSERT INTO deliveries (message_key, email, user_id, kind, state, attempts, finished_at) "
                      "VALUES ('leaving-x', 'alice@example.org', ?, 'leaving', 'sent', 1, ?)", [ALICE, at(-1)])
    refresh_queue(shelf.store, settings, T0)
    assert shelf.queued() == {1: at(-1) + timedelta(days=3)}


def test_a_notice_that_failed_to_send_does_not_count(tmp_path):
    shelf = Shelf()
    settings = settings_for(tmp_path, **{"retention.notice_days": 3})
    shelf.movie(1, "Heat", 1995)
    shelf.assign(1, ALICE)
    shelf.play(ALICE, 1, at(-5))
    shelf.con.execute("INSERT INTO media_notices VALUES (?, 1, 'leaving-x', 'alice@example.org', ?, ?)",
                      [ALICE, at(-4), T0])
    shelf.con.execute("INSERT INTO deliveries (message_key, email, user_id, kind, state, attempts, finished_at) "
                      "VALUES ('leaving-x', 'alice@example.org', ?, 'leaving', 'failed', 1, ?)", [ALICE, at(-4)])
    (entry,) = refresh_queue(shelf.store, settings, T0)
    assert entry.scheduled_at == T0 + timedelta(days=3) and entry.notices == ((ALICE, None),)


def test_invoke_web_refuses_to_start_without_a_public_url(tmp_path):
    from pipeline.run.web import serve_web

    settings = load_settings(environ={}, dotenv_path=None, overrides={"data.dir": str(tmp_path)})
    with pytest.raises(ConfigError, match="web.public_url: set the HTTPS address"):
        serve_web(settings)
    with pytest.raises(ConfigError, match="web.public_url"):
        load_settings(environ={}, dotenv_path=None, overrides={"web.public_url": "http://plain.example.org"})
