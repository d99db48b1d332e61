"""Leaving-soon notices from a hand-written deletion queue: each reader's own list, and the public titles."""

from __future__ import annotations

import re
from datetime import date, timedelta
from email import policy
from email.parser import BytesParser

import pytest

from pipeline.clock import FixedClock
from pipeline.render.email.notice import DigestRenderer
from pipeline.render.email.view import LEAVING_ROWS
from pipeline.media.leaving import (PUBLIC_WINDOW_DAYS, episode_title, keep_rule, leaving_for_users,
                                          leaving_public)
from pipeline.settings import load_settings
from tests.fixtures import email_issue as fx
from tests.fixtures.leaving_queue import (NEVER_LISTED, NOW, QUEUE, REASON, SCRIPT, TZ, USERS, add_queue,
                                          queue_row, queue_store, utc)
from tests.fixtures.stats_world import ALICE, BOB, CAROL, DAVE, ERIN


def settings(**overrides):
    return load_settings(environ={}, dotenv_path=None, overrides={
        "server.timezone": TZ, "server.name": "Kino", "email.admin_email": "admin@kino.example.org",
        **overrides})


@pytest.fixture
def store():
    s = queue_store()
    yield s
    s.close()


def titles(extras: dict) -> list[str]:
    return [i["title"] for i in extras["leaving_soon"]["items"]]


# -- each reader's own list -------------------------------------------------------------------------


def test_each_user_gets_only_their_own_items_soonest_first(store):
    found = leaving_for_users(store, settings(), NOW)
    assert set(found) == {ALICE, BOB}  # Carol's are all kept, deleted or gone; the rule match is nobody's
    assert titles(found[ALICE]) == ["Severance — S01E02 · Half Loop", "Heat",
                                    "Severance — S01E03 · In Perpetuity", "Severance — S01E04 · The You You Are"]
    assert titles(found[BOB]) == [SCRIPT, "Heat", "Far Future"]


def test_nothing_kept_deleted_gone_or_matched_by_a_rule_is_listed(store):
    found = leaving_for_users(store, settings(), NOW)
    listed = " ".join(t for extras in found.values() for t in titles(extras))
    for title in NEVER_LISTED + ["Up"]:
        assert title not in listed


def test_items_carry_the_year_for_movies_and_the_local_date(store):
    items = leaving_for_users(store, settings(), NOW)[ALICE]["leaving_soon"]["items"]
    assert items[1] == {"title": "Heat", "year": 1995, "leaving_on": date(2026, 11, 17)}  # 03:00 UTC on the 18th
    assert items[0]["year"] is None and items[0]["leaving_on"] == date(2026, 11, 17)
    assert [i["leaving_on"] for i in items[2:]] == [date(2026, 11, 19), date(2026, 11, 25)]


def test_the_date_follows_the_server_time_zone():
    s = queue_store()
    try:
        in_utc = leaving_for_users(s, settings(**{"server.timezone": "UTC"}), NOW)
        in_tokyo = leaving_for_users(s, settings(**{"server.timezone": "Asia/Tokyo"}), NOW)
    finally:
        s.close()
    heat = {name: next(i for i in found[ALICE]["leaving_soon"]["items"] if i["title"] == "Heat")["leaving_on"]
            for name, found in (("utc", in_utc), ("tokyo", in_tokyo))}
    assert heat == {"utc": date(2026, 11, 18), "tokyo": date(2026, 11, 18)}  # New York: the 17th (above)


def test_an_overdue_item_leaves_today_not_in_the_past(store):
    overdue = leaving_for_users(store, settings(), NOW)[BOB]["leaving_soon"]["items"][0]
    assert overdue["title"] == SCRIPT and overdue["leaving_on"] == date(2026, 11, 16)  # 04:00 in New York


def test_the_rule_says_how_to_keep_a_title_without_an_address(store):
    plain = leaving_for_users(store, settings(), NOW)[ALICE]["leaving_soon"]["rule"]
    assert plain == "Want to keep one? Ask whoever runs Kino before it leaves."
    replied = leaving_for_users(store, settings(**{"email.reply_to": "owner@kino.example.org"}), NOW)
    rule = replied[BOB]["leaving_soon"]["rule"]
    assert rule == "Want to keep one? Reply to this e-mail before it leaves and say which."
    assert "@" not in plain + rule


def test_every_item_is_handed_to_the_digest_which_caps_the_list(store):
    many = [queue_row(9500 + i, f"Film {i:02d}", NOW + timedelta(days=1, hours=i), [DAVE]) for i in range(12)]
    add_queue(store, many)
    items = leaving_for_users(store, settings(), NOW)[DAVE]["leaving_soon"]["items"]
    assert [i["title"] for i in items] == [f"Film {i:02d}" for i in range(12)]
    assert LEAVING_ROWS == 10


def test_an_empty_queue_is_no_notice_for_anyone():
    s = queue_store()
    try:
        s.con.execute("DELETE FROM media_queue")
        assert leaving_for_users(s, settings(), NOW) == {}
        assert leaving_public(s, settings(), NOW) == []
    finally:
        s.close()


def test_a_naive_now_is_refused(store):
    with pytest.raises(ValueError, match="aware"):
        leaving_for_users(store, settings(), NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="aware"):
        leaving_public(store, settings(), NOW.replace(tzinfo=None))


@pytest.mark.parametrize("show, season, episode, title, expected", [
    ("Severance", 1, 2, "Half Loop", "Severance — S01E02 · Half Loop"),
    ("Severance", 12, 103, "Finale", "Severance — S12E103 · Finale"),
    ("Severance", None, 7, "Pilot", "Severance — E07 · Pilot"),
    ("Severance", 1, None, "Special", "Severance — Special"),
    ("Severance", 1, 2, None, "Severance — S01E02"),
    (None, 1, 2, "Half Loop", "S01E02 · Half Loop"),
    (None, None, None, None, "Untitled"),
])
def test_episode_titles(show, season, episode, title, expected):
    assert episode_title(show, season, episode, title) == expected


def test_keep_rule_ignores_a_blank_reply_to():
    assert keep_rule(settings(**{"email.reply_to": "  "})).startswith("Want to keep one? Ask whoever runs Kino")


# -- the public list ----------------------------------------------------------------------------------


def test_the_public_list_is_titles_only_a_show_once_soonest_first(store):
    rows = leaving_public(store, settings(), NOW)
    assert rows == [{"title": SCRIPT, "year": 1979, "detail": ""},
                    {"title": "Severance", "year": 2022, "detail": "3 episodes"},
                    {"title": "Heat", "year": 1995, "detail": ""},
                    {"title": "Up", "year": 2009, "detail": ""}]  # a rule match is public too: nobody is named


def test_the_public_list_names_nobody_and_tells_no_size_or_reason(store):
    text = repr(leaving_public(store, settings(), NOW))
    for username, name, email in USERS.values():
        assert username not in text.lower() and name not in text and email not in text
    for secret in ("000000", REASON, "old and unwatched", "Half Loop", "Far Future", *NEVER_LISTED):
        assert secret not in text


def test_the_public_window_is_the_next_two_weeks(store):
    assert PUBLIC_WINDOW_DAYS == 14
    add_queue(store, [queue_row(9600, "Just Inside", NOW + timedelta(days=14) - timedelta(minutes=1), [ERIN]),
                      queue_row(9601, "Just Outside", NOW + timedelta(days=14), [ERIN])])
    shown = [r["title"] for r in leaving_public(store, settings(), NOW)]
    assert "Just Inside" in shown and "Just Outside" not in shown
    later = [r["title"] for r in leaving_public(store, settings(), utc("2026-12-10 00:00"))]
    assert "Far Future" in later


def test_one_episode_is_one_episode_and_the_show_counts_from_its_first(store):
    store.con.execute("DELETE FROM media_queue WHERE rating_key IN (9203, 9204)")
    add_queue(store, [queue_row(9204, "The You You Are", utc("2026-11-16 10:00"), [ALICE], media_type="episode",
                                show_title="Severance")])
    rows = leaving_public(store, settings(), NOW)
    assert rows[0] == {"title": SCRIPT, "year": 1979, "detail": ""}
    assert rows[1] == {"title": "Severance", "year": 2022, "detail": "2 episodes"}
    store.con.execute("DELETE FROM media_queue WHERE rating_key = 9204")
    assert {"title": "Severance", "year": 2022, "detail": "1 episode"} in leaving_public(store, settings(), NOW)


# -- the digest -----------------------------------------------------------------------------------


def bodies(mime: bytes) -> tuple[str, str]:
    msg = BytesParser(policy=policy.default).parsebytes(mime)
    return tuple(msg.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("html", "plain"))


@pytest.fixture(scope="module")
def digest():
    return DigestRenderer(fx.snapshot(), fx.settings(), None, None, clock=FixedClock(fx.NOW))


def test_the_digest_shows_an_assigned_reader_their_list_and_nobody_else(digest, store):
    extras = leaving_for_users(store, fx.settings(), NOW)
    html, text = bodies(digest.render(fx.recipient(ALICE), extras.get(ALICE)).mime)
    assert "Leaving soon: 4 titles you watched" in html
    assert "Severance — S01E02 · Half Loop" in html and "— leaves 17 Nov 2026" in html
    assert "Heat <span" in html and "(1995)" in html
    assert "Want to keep one? Ask whoever runs Kino before it leaves." in html
    assert "  - Severance — S01E02 · Half Loop, leaves 17 Nov 2026" in text
    assert "  - Heat (1995), leaves 17 Nov 2026" in text
    assert SCRIPT not in html and "Far Future" not in html  # Bob's, not Alice's
    for reader in (CAROL, ERIN, None):
        other_html, other_text = bodies(digest.render(fx.recipient(reader),
                                                      extras.get(reader) if reader else None).mime)
        assert "Leaving soon" not in other_html and "Leaving soon" not in other_text
        assert "Half Loop" not in other_html + other_text and "leaves 17 Nov" not in other_html + other_text


def test_the_digest_escapes_titles_and_caps_the_list(digest, store):
    add_queue(store, [queue_row(9500 + i, f"Film {i:02d}", NOW + timedelta(days=2, hours=i), [BOB])
                      for i in range(10)])
    extras = leaving_for_users(store, fx.settings(), NOW)
    html, text = bodies(digest.render(fx.recipient(BOB), extras[BOB]).mime)
    assert "Leaving soon: 13 titles you watched" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "Film 07" in html and "Film 08" not in html  # overdue, Heat, then eight films: ten rows
    assert "and 3 more" in html and "Far Future" not in html
    assert len(re.findall(r"^  - .*, leaves \d", text, re.M)) == LEAVING_ROWS and "  - and 3 more" in text


def test_the_queue_fixture_is_what_the_tests_think(store):
    """Guards the fixture: a test above that relies on a row being there cannot pass by accident."""
    assert store.con.execute("SELECT count(*) FROM media_queue").fetchall() == [(len(QUEUE),)]
    assert store.con.execute("SELECT count(*) FROM media_keeps").fetchall() == [(2,)]
