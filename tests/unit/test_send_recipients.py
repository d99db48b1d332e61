"""Who gets the digest: access, e-mail, opt-outs, duplicates and junk addresses."""

from datetime import datetime, timezone

import pytest

from pipeline.errors import ConfigError
from pipeline.send.optout import optin, optout, opted_out
from pipeline.send.recipients import digest_recipients
from pipeline.settings import load_settings
from pipeline.store.db import memory_store

T = datetime(2026, 11, 1, tzinfo=timezone.utc)


def settings(**overrides):
    return load_settings(environ={}, dotenv_path=None, overrides=overrides)


def plex_user(store, user_id, username, email, *, owner=False, home=False, removed=False):
    store.con.execute(
        "INSERT INTO plex_users (user_id, username, title, email, is_owner, is_home, is_restricted, "
        "first_seen_at, last_listed_at, removed_at) VALUES (?, ?, ?, ?, ?, ?, false, ?, ?, ?)",
        [user_id, username, username.title(), email, owner, home, T, T, T if removed else None])


def tautulli_user(store, user_id, username, email, friendly=None, removed=False):
    store.con.execute(
        "INSERT INTO tautulli_users (user_id, username, friendly_name, email, first_seen_at, last_listed_at, "
        "removed_at) VALUES (?, ?, ?, ?, ?, ?, ?)", [user_id, username, friendly, email, T, T, T if removed else None])


@pytest.fixture
def store():
    s = memory_store()
    yield s
    s.close()


def test_users_with_access_and_an_address(store):
    plex_user(store, 1, "owner", "Owner@Example.org", owner=True)
    plex_user(store, 2, "ann", "ann@example.org")
    plex_user(store, 3, "kid", None, home=True)
    plex_user(store, 4, "gone", "gone@example.org", removed=True)
    plex_user(store, 5, "typo", "bob@@example")
    plex_user(store, 6, "twin", "ANN@example.org")
    tautulli_user(store, 2, "ann", "", friendly="Annie")
    tautulli_user(store, 7, "tautulli-only", "t@example.org")  # Plex was ingested: Tautulli alone is no access

    got, skipped = digest_recipients(store, settings(**{"email.extra_recipients": [
        "Grandma <Grandma@Example.net>", "not-an-address", "ann@example.org"]}))

    assert [(r.email, r.user_id, r.name, r.kind) for r in got] == [
        ("owner@example.org", 1, "Owner", "admin"),
        ("ann@example.org", 2, "Annie", "user"),
        ("grandma@example.net", None, "Grandma", "extra"),
    ]
    text = "\n".join(skipped)
    assert "Kid (user 3): a managed (home) user without an e-mail address" in text
    assert "'bob@@example' is not a valid e-mail address" in text
    assert "Twin (user 6): ann@example.org already gets it as Annie (user 2)" in text
    assert "extra recipient 'not-an-address': not a valid e-mail address" in text
    assert "extra recipient 'ann@example.org': ann@example.org already gets it" in text
    assert "gone" not in text and "tautulli-only" not in text
    assert len(skipped) == 5


def test_without_plex_tautulli_users_count(store):
    tautulli_user(store, 2, "ann", "ann@example.org", friendly="Ann")
    tautulli_user(store, 3, "old", "old@example.org", removed=True)
    got, skipped = digest_recipients(store, settings(**{"email.admin_email": "ann@example.org"}))
    assert [(r.email, r.kind) for r in got] == [("ann@example.org", "admin")]
    assert skipped == []


def test_opted_out_addresses_are_skipped_until_they_opt_in(store):
    plex_user(store, 2, "ann", "ann@example.org")
    assert optout(store, "ANN@example.org") is True
    assert optout(store, "ann@example.org") is False
    assert opted_out(store) == {"ann@example.org"}
    got, skipped = digest_recipients(store, settings())
    assert got == [] and skipped == ["Ann (user 2): ann@example.org opted out"]
    assert optin(store, "ann@example.org") is True
    assert optin(store, "ann@example.org") is False
    assert [r.email for r in digest_recipients(store, settings())[0]] == ["ann@example.org"]


def test_optout_refuses_junk(store):
    with pytest.raises(ConfigError, match="not an e-mail address"):
        optout(store, "nobody")
