"""What the lifecycle e-mails say: the welcome carries the house rules as safe HTML, the warning the reader's
own numbers and the exact removal date in the server's time zone."""

from __future__ import annotations

from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser

from pipeline.clock import FixedClock
from pipeline.render.email.contexts import WarningNotice, WarningStats, WelcomeNotice
from pipeline.render.email.notice import render_notice
from pipeline.render.email.notices import read_house_rules, rules_view
from pipeline.render.email.message import Recipient
from pipeline.settings import load_settings

CLOCK = FixedClock(datetime(2026, 11, 16, 12, tzinfo=timezone.utc))
BOB = Recipient("bob@example.org", 5, "Bob")
HOSTILE = """Title: Rules <b>for</b> all
Slug: rules

Be *kind* & **patient**. Ask [the admin](https://example.org/?a=1&b=2) or <a href="mailto:admin@example.org">mail</a>.

<script>alert("x")</script><style>p{}</style>
<a href="javascript:alert(1)">click</a> <img src="https://evil.example/x.png" onerror="alert(1)">
<!-- a note for the admin only -->

- one
- two
"""


def settings(**overrides):
    return load_settings(environ={}, dotenv_path=None, overrides={
        "email.from_address": "news@example.org", "server.name": "Kino", "server.timezone": "Europe/Berlin",
        **overrides})


def parts(kind, context):
    msg = BytesParser(policy=policy.default).parsebytes(render_notice(kind, BOB, context, settings(), clock=CLOCK).mime)
    return msg, msg.get_body(("html",)).get_content(), msg.get_body(("plain",)).get_content()


def test_house_rules_become_safe_html_and_plain_text():
    view = rules_view(HOSTILE)
    html, text = str(view["rules_html"]), view["rules_text"]
    assert view["rules_heading"] == "Rules <b>for</b> all"  # shown escaped by the template, never as markup
    assert "<em>kind</em> &amp; <strong>patient</strong>" in html
    assert '<a href="https://example.org/?a=1&amp;b=2"' in html and '<a href="mailto:admin@example.org"' in html
    for banned in ("<script", "alert(\"x\")", "<style", "javascript:", "<img", "onerror", "a note for the admin"):
        assert banned not in html
    assert ">click</" not in html and "click" in html  # the link is dropped, its text kept
    assert '<ul style="' in html and html.count("<li") == 2
    assert text.splitlines()[0] == "Be kind & patient. Ask the admin or mail." and "- one\n\n- two" in text
    assert "script" not in text and "Title:" not in text


def test_no_rules_means_no_rules_block():
    assert rules_view("") == {"rules_heading": "", "rules_html": "", "rules_text": ""}
    _, html, text = parts("welcome", WelcomeNotice(key="welcome-5-20261114"))
    assert "House rules" not in html and "HOUSE RULES" not in text


def test_the_welcome_carries_the_admins_house_rules():
    msg, html, text = parts("welcome", WelcomeNotice(key="welcome-5-20261114", house_rules=read_house_rules()))
    assert msg["Subject"] == "Welcome to the Kino newsletter"
    assert ">House rules</div>" in html and "<strong>Two streams at a time, please.</strong>" in html
    assert "HOUSE RULES" in text and "3. Two streams at a time, please." in text
    assert "readers never see this line" not in html + text


def test_the_warning_has_the_exact_removal_time_and_the_readers_numbers():
    due_at = datetime(2026, 11, 19, 23, 30, tzinfo=timezone.utc)  # already the 20th in Berlin
    last = datetime(2026, 10, 20, 12, tzinfo=timezone.utc)
    context = WarningNotice(key="warning-5-2026-10-20T12:00:00+00:00", due_at=due_at, idle_days=27.6, kick_days=30,
                            last_play_at=last, stats=WarningStats(days=90, plays=1, hours=0.25,
                                                                  last_title="Tom & Jerry <1>", last_played_at=last))
    msg, html, text = parts("warning", context)
    assert msg["Subject"] == "Your access to Kino ends on 20 Nov 2026"
    assert "Your access will be removed on 20 Nov 2026 at 00:30 (Europe/Berlin)." in text
    assert "In the last 90 days: 1 play, 0.2 hours in all." in text
    assert "The last thing you watched: Tom & Jerry <1>, on 20 Oct 2026." in text
    assert "Tom &amp; Jerry &lt;1&gt;" in html and "<1>" not in html
