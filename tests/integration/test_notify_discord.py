"""Admin notices over real HTTP: a loopback Discord receiver, and SMTP to a loopback mail drop behind the ledger."""

import logging
from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default

import pytest

from pipeline import logs
from pipeline.clients.discord import MAX_RETRY_AFTER
from pipeline.notices.admin import DISCORD_LIMIT, Notifier
from pipeline.clock import FixedClock
from pipeline.send.ledger import counts
from pipeline.settings import load_settings
from pipeline.store.db import memory_store
from tests.fixtures.discord import TOKEN
from tests.fixtures.mail_drop import MailDrop
from tests.fixtures.smtp_server import free_port

CLOCK = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
ADMIN = "admin@example.org"


DROPS: dict = {}  # tmp_path -> the test's mail drop


@pytest.fixture(autouse=True)
def mail(tmp_path):
    """The admin e-mail is delivered over SMTP to a mail drop that files it under tmp_path/outbox/<key>/."""
    with MailDrop(tmp_path / "outbox") as drop:
        DROPS[tmp_path] = drop
        yield drop
    DROPS.pop(tmp_path)


def settings(tmp_path, hook: str | None, **overrides):
    env = {"DISCORD_WEBHOOK_URL": hook} if hook else {}
    return load_settings(environ=env, dotenv_path=None, overrides={
        "server.name": "Cinema", "email.outbox_dir": str(tmp_path / "outbox"), **DROPS[tmp_path].settings(),
        "email.from_address": "news@example.org", "email.admin_email": ADMIN, **overrides})


class Sleeps(list):
    """Records each wait instead of sleeping: the tests assert what was waited, never how long it took."""

    def __call__(self, seconds):
        self.append(seconds)


def notifier(s, apply=True, sleep=None):
    return Notifier(memory_store(), s, CLOCK, apply=apply, sleep=Sleeps() if sleep is None else sleep)


def run_lines(n):
    n.add("welcome", "ann joined on 2026-03-01")
    n.add("welcome", "bo joined on 2026-03-02")
    n.add("warn", "cy idle 27 days: removal on 2026-03-05")
    n.add("remove", "dee idle 31 days, warned 2026-02-27")
    n.add("remove_failed", "eve: plex.tv answered 500 (attempt 1 of 3)")
    n.add("refused", "the last ingest is 30 hours old")
    return n


def test_one_post_groups_the_run_and_disables_mentions(tmp_path, discord):
    n = run_lines(notifier(settings(tmp_path, discord.url)))
    assert n.flush(7) == []
    assert len(discord.messages) == 1
    body = discord.messages[0]
    assert body["allowed_mentions"] == {"parse": []} and body["username"] == "Marquee"
    lines = body["content"].split("\n")
    assert lines[0] == "**Cinema · enforcement run 7**"
    assert lines[1] == "1 refused, 1 removal failed, 1 removed, 1 warned, 2 welcomed"
    assert lines[2:] == [
        "**Refused** (1)", "• the last ingest is 30 hours old",
        "**Removal failed** (1)", "• eve: plex.tv answered 500 (attempt 1 of 3)",
        "**Removed** (1)", "• dee idle 31 days, warned 2026-02-27",
        "**Warned** (1)", "• cy idle 27 days: removal on 2026-03-05",
        "**Welcomed** (2)", "• ann joined on 2026-03-01", "• bo joined on 2026-03-02",
    ]


def test_a_long_run_is_split_into_posts_of_at_most_2000_characters(tmp_path, discord):
    n = notifier(settings(tmp_path, discord.url))
    names = [f"viewer{i:03d} joined on 2026-03-01 and was welcomed" for i in range(120)]
    for name in names:
        n.add("welcome", name)
    assert n.flush(8) == []
    assert len(discord.messages) > 1
    assert all(len(m["content"]) <= DISCORD_LIMIT for m in discord.messages)
    shown = [line[2:] for m in discord.messages for line in m["content"].split("\n") if line.startswith("• ")]
    assert shown == names


def test_a_429_waits_retry_after_then_posts(tmp_path, discord):
    sleeps = Sleeps()
    discord.fail(429, times=1, retry_after=0.25)
    n = run_lines(notifier(settings(tmp_path, discord.url), sleep=sleeps))
    assert n.flush(9) == []
    assert sleeps == [0.25]
    assert discord.attempts == 2 and len(discord.messages) == 1


def test_a_429_asking_for_too_long_a_wait_gives_up_with_one_line(tmp_path, discord):
    sleeps = Sleeps()
    discord.fail(429, times=1, retry_after=MAX_RETRY_AFTER * 10)
    problems = run_lines(notifier(settings(tmp_path, discord.url), sleep=sleeps)).flush(10)
    assert sleeps == [] and discord.messages == []
    assert len(problems) == 1 and problems[0].startswith("Discord notice not posted: rate-limited by Discord")


def test_a_500_is_retried_once(tmp_path, discord):
    discord.fail(500, times=1)
    assert run_lines(notifier(settings(tmp_path, discord.url))).flush(11) == []
    assert discord.attempts == 2 and len(discord.messages) == 1


def test_two_500s_give_up_with_a_problem_line(tmp_path, discord):
    discord.fail(502, times=2)
    problems = run_lines(notifier(settings(tmp_path, discord.url))).flush(12)
    assert problems == ["Discord notice not posted: Discord answered HTTP 502; gave up after one retry"]
    assert discord.attempts == 2 and discord.messages == []


def test_a_rejected_webhook_is_not_retried_and_says_what_to_fix(tmp_path, discord):
    problems = run_lines(notifier(settings(tmp_path, discord.url.replace(TOKEN, "revoked-token-123")))).flush(13)
    assert problems == ["Discord notice not posted: Discord answered HTTP 401 (Invalid Webhook Token); "
                        "check DISCORD_WEBHOOK_URL"]
    assert discord.messages == []


def test_a_receiver_that_is_down_is_a_problem_line_not_an_exception(tmp_path):
    hook = f"http://127.0.0.1:{free_port()}/api/webhooks/1/{TOKEN}"
    problems = run_lines(notifier(settings(tmp_path, hook))).flush(14)
    assert problems == ["Discord notice not posted: could not connect (ConnectionError); gave up after one retry"]
    assert (tmp_path / "outbox" / "admin-enforce-14" / f"{ADMIN}.eml").is_file()  # the e-mail still went


def test_names_are_escaped_so_they_cannot_format_or_ping(tmp_path, discord):
    n = notifier(settings(tmp_path, discord.url))
    n.add("warn", "**x** idle 27 days")
    n.add("remove", "@everyone idle 31 days")
    n.add("welcome", "<@&1234> [free nitro](http://evil.example) joined")
    assert n.flush(15) == []
    content = discord.messages[0]["content"]
    for raw in ("**x**", "@everyone", "<@&1234>", "[free nitro]("):
        assert raw not in content
    assert "\\*\\*x\\*\\* idle 27 days" in content


def test_the_webhook_token_never_reaches_a_log_or_a_problem_line(tmp_path, discord, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")  # urllib3 logs each request's path: the token is in it
    caplog.handler.addFilter(logs.REDACTOR)  # what logs.setup() puts on the real handler
    try:
        problems = []
        for fault, times, run_id in ((502, 2, 16), (404, 1, 17)):
            discord.fail(fault, times=times)
            problems += run_lines(notifier(settings(tmp_path, discord.url))).flush(run_id)
        down = f"http://127.0.0.1:{free_port()}/api/webhooks/1/{TOKEN}"
        problems += run_lines(notifier(settings(tmp_path, down))).flush(18)
    finally:
        caplog.handler.removeFilter(logs.REDACTOR)
    assert len(problems) == 3
    posts = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3") and '"POST ' in r.getMessage()]
    assert len(posts) == 3 and all("[redacted]" in m for m in posts)  # urllib3 did log the path, redacted
    assert TOKEN not in caplog.text and TOKEN not in " ".join(problems)
    for problem in problems:
        assert "api/webhooks" not in problem and "127.0.0.1" not in problem


def test_our_own_log_lines_never_carry_the_webhook_url(tmp_path, discord, caplog):
    caplog.set_level(logging.DEBUG, logger="pipeline")
    discord.fail(503, times=2)
    run_lines(notifier(settings(tmp_path, discord.url))).flush(19)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("pipeline")]
    assert any("Discord notice not posted" in m for m in ours)
    assert not any(TOKEN in m or "api/webhooks" in m for m in ours)


def test_the_admin_email_lands_once_in_the_outbox_with_the_run_key(tmp_path, discord):
    s = settings(tmp_path, discord.url)
    store = memory_store()
    first = run_lines(Notifier(store, s, CLOCK, apply=True, sleep=Sleeps()))
    assert first.flush(20) == []
    eml = tmp_path / "outbox" / "admin-enforce-20" / f"{ADMIN}.eml"
    msg = message_from_bytes(eml.read_bytes(), policy=default)
    assert ".admin-enforce-20." in msg["Message-ID"] and msg["To"].addresses[0].addr_spec == ADMIN
    assert msg["Subject"] == "Cinema: Enforcement run 20"
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_content()
    order = [text.index(f"\n{h}\r\n") for h in ("REFUSED (1)", "REMOVAL FAILED (1)", "REMOVED (1)", "WARNED (1)",
                                                  "WELCOMED (2)")]
    assert order == sorted(order)
    assert "REMOVED (1)\r\n  dee idle 31 days, warned 2026-02-27\r\n" in text
    assert counts(store, "admin-enforce-20") == {"sent": 1}

    eml.unlink()
    again = run_lines(Notifier(store, s, CLOCK, apply=True, sleep=Sleeps()))
    assert again.flush(20) == []
    assert not eml.exists()  # the ledger knew it was sent: no second copy
    assert counts(store, "admin-enforce-20") == {"sent": 1}


def test_a_dry_run_writes_the_email_to_the_dry_run_outbox_and_posts_nothing(tmp_path, discord):
    store = memory_store()
    n = run_lines(Notifier(store, settings(tmp_path, discord.url), CLOCK, apply=False))
    assert n.flush(21) == []
    eml = tmp_path / "outbox" / "dry-run" / "admin-enforce-21" / f"{ADMIN}.eml"
    assert "(dry run)" in message_from_bytes(eml.read_bytes())["Subject"]
    assert discord.attempts == 0
    assert counts(store, "admin-enforce-21") == {}


def test_without_an_admin_address_only_discord_is_told(tmp_path, discord):
    n = run_lines(notifier(settings(tmp_path, discord.url, **{"email.admin_email": ""})))
    assert n.flush(22) == []
    assert len(discord.messages) == 1 and not (tmp_path / "outbox").exists()


def test_an_email_backend_that_cannot_start_is_a_problem_line(tmp_path, discord):
    s = settings(tmp_path, discord.url, **{"email.backend": "smtp", "smtp.host": ""})  # smtp.host is not set
    problems = run_lines(notifier(s)).flush(23)
    assert len(problems) == 1 and problems[0].startswith("admin e-mail not sent: smtp")
    assert len(discord.messages) == 1  # Discord is still told


@pytest.mark.parametrize("apply", [True, False])
def test_without_a_webhook_nothing_is_posted(tmp_path, discord, apply):
    n = run_lines(notifier(settings(tmp_path, None), apply=apply))
    assert n.flush(24) == []
    assert discord.attempts == 0
