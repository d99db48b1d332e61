"""Admin notices without a network: grouping, Discord escaping, splitting at 2000 characters, retry_after."""

from datetime import datetime, timezone

import pytest

from pipeline.notices.admin import (DISCORD_LIMIT, EVENTS, Notifier, discord_lines, escape_discord, split_message,
                                 units, webhook_secrets)
from pipeline.clock import FixedClock
from pipeline.settings import load_settings
from pipeline.store.db import memory_store

CLOCK = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))


def settings(tmp_path, **overrides):
    return load_settings(environ={}, dotenv_path=None, overrides={
        "email.outbox_dir": str(tmp_path / "outbox"), "email.from_address": "news@example.org", **overrides})


def groups(**lines):
    return [(event, EVENTS[event], lines[event]) for event in EVENTS if event in lines]


def test_lines_are_grouped_by_event_with_what_needs_attention_first():
    out = discord_lines("Plex", 7, groups(welcome=["ann joined"], remove=["bob idle 31 days"],
                                         refused=["too many removals"], warn=["cy idle 27 days"]))
    headings = [line for line in out if line.startswith("**") and "(" in line and "enforcement" not in line]
    assert headings == ["**Refused** (1)", "**Removed** (1)", "**Warned** (1)", "**Welcomed** (1)"]
    assert out[0] == "**Plex · enforcement run 7**"
    assert out[1] == "1 refused, 1 removed, 1 warned, 1 welcomed"
    assert out.index("• bob idle 31 days") == out.index("**Removed** (1)") + 1


def test_an_unknown_event_is_a_bug_not_a_silent_heading(tmp_path):
    notifier = Notifier(memory_store(), settings(tmp_path), CLOCK, apply=False)
    with pytest.raises(ValueError, match="unknown notice event 'kick'"):
        notifier.add("kick", "bob")


def test_a_line_with_line_breaks_stays_one_line(tmp_path):
    notifier = Notifier(memory_store(), settings(tmp_path), CLOCK, apply=False)
    notifier.add("warn", "mallory\n**Removed** (9)\r\n• everyone")
    assert notifier._lines["warn"] == ["mallory **Removed** (9) • everyone"]


@pytest.mark.parametrize("name, forbidden", [
    ("**x**", "**x**"), ("__x__", "__x__"), ("~~x~~", "~~x~~"), ("||spoiler||", "||spoiler||"),
    ("`code`", "`code`"), ("[click](http://evil.example)", "[click]("), ("@everyone", "@everyone"),
    ("@here", "@here"), ("<@123456>", "<@123456>"), ("<#42>", "<#42>"),
])
def test_user_supplied_names_cannot_format_or_ping(name, forbidden):
    shown = escape_discord(name)
    assert forbidden not in shown
    # Discord drops a backslash before punctuation and a zero-width space is invisible: the reader sees the name.
    assert shown.replace("\\", "").replace("\u200b", "") == name


def test_an_escaped_backslash_cannot_unescape_what_follows():
    assert escape_discord("\\*bold*") == "\\\\\\*bold\\*"


def test_messages_split_between_lines_and_never_exceed_the_limit():
    lines = [f"• user{i:04d} idle {i} days, warned on 2026-02-{i % 28 + 1:02d}" for i in range(200)]
    parts = split_message(lines)
    assert len(parts) > 1
    assert all(units(p) <= DISCORD_LIMIT for p in parts)
    assert "\n".join(parts).split("\n") == lines  # nothing lost, nothing reordered, no line cut


def test_a_single_line_longer_than_the_limit_is_cut():
    parts = split_message(["short", "x" * 4500, "tail"])
    assert all(units(p) <= DISCORD_LIMIT for p in parts)
    assert "".join(parts).replace("\n", "") == "short" + "x" * 4500 + "tail"


def test_emoji_count_as_discord_counts_them():
    parts = split_message(["🎬" * 1500])  # 3000 UTF-16 code units
    assert len(parts) == 2 and all(units(p) <= DISCORD_LIMIT for p in parts)


def test_the_token_and_path_of_a_webhook_are_secrets():
    url = "https://discord.com/api/webhooks/123/abcDEF-token_1"
    assert webhook_secrets(url) == [url, "/api/webhooks/123/abcDEF-token_1", "abcDEF-token_1"]


def test_nothing_queued_sends_nothing(tmp_path):
    s = settings(tmp_path, **{"email.admin_email": "admin@example.org", "email.backend": "outbox"})
    store = memory_store()
    assert Notifier(store, s, CLOCK, apply=True).flush(1) == []
    assert not (tmp_path / "outbox").exists()
    assert store.execute("send/delivery_counts", {"key": "admin-enforce-1"}) == []
