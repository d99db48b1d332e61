"""Digest and notice e-mails: MIME that parses back, headers, escaping, privacy, trimming, images, notices."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser

import pytest

from pipeline.clock import FixedClock
from pipeline.errors import ConfigError, MarqueeError
import pipeline.render.email.images as email_images
import pipeline.render.email.templates as email_templates
from pipeline.render.email.notice import (NOTICE_KINDS, DigestRenderer, EmailImages, render_digest, render_notice,
                                   unsubscribe_headers)
from pipeline.render.email.templates import _PLACEHOLDER, _expand, compile_mjml, THEME
from pipeline.render.email.contexts import (AdminReport, LeavingItem, LeavingNotice, RemovalNotice, ReportSection,
                                            WarningNotice, WelcomeNotice)
from pipeline.render.email.view import DROPS, trim
from pipeline.render.email.message import Recipient
from pipeline.stats.issue import compute_issue
from pipeline.store.db import memory_store
from tests.fixtures import email_issue as fx
from tests.fixtures.stats_world import ALICE, BOB, CAROL, DAVE, ERIN, PERIOD

CLOCK = FixedClock(fx.NOW)
TEMPLATES = ("digest",) + NOTICE_KINDS


def parse(mime: bytes):
    return BytesParser(policy=policy.default).parsebytes(mime)


def bodies(msg) -> tuple[str, str]:
    """(html, text) as the reader's client decodes them, line ends normalised."""
    return tuple(msg.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("html", "plain"))


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("email-images")
    snap = fx.snapshot()
    return EmailImages(fx.draw_posters(tmp / "posters", snap), fx.render_charts(tmp / "charts", snap))


def renderer(images=None, snap=None, **overrides) -> DigestRenderer:
    return DigestRenderer(snap or fx.snapshot(), fx.settings(**overrides), None, images, clock=CLOCK)


@pytest.fixture(scope="module")
def digest(images):
    return renderer(images)


# -- MIME and headers ---------------------------------------------------------------------------


def test_a_digest_is_text_and_html_alternatives_with_related_images(digest):
    out = digest.render(fx.recipient(ALICE))
    msg = parse(out.mime)
    assert out.kind == "digest" and out.key == "weekly-2026-W46" and out.size == len(out.mime)
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.get_payload()
    assert plain.get_content_type() == "text/plain" and related.get_content_type() == "multipart/related"
    html_part, *image_parts = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert image_parts and all(p.get_content_type() in ("image/jpeg", "image/png") for p in image_parts)
    html = html_part.get_content()
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    parts = {p["Content-ID"].strip("<>"): p for p in image_parts}
    assert cids == set(parts), "every cid: resolves to a part, and no part goes unused"
    assert all(len(p.get_payload(decode=True)) > 500 for p in parts.values())
    assert sum(p.get_content_type() == "image/png" for p in parts.values()) == 1  # the heatmap


def test_headers_say_who_when_and_how_to_leave(digest):
    msg = parse(digest.render(fx.recipient(ALICE)).mime)
    assert msg["From"].addresses[0].display_name == "Kino Newsletter"
    assert msg["From"].addresses[0].addr_spec == "news@kino.example.org"
    assert [a.addr_spec for a in msg["To"].addresses] == ["alice@example.com"]
    assert msg["Date"].datetime == fx.NOW
    assert re.fullmatch(r"<digest\.weekly-2026-W46\.[0-9a-f]{20}@kino\.example\.org>", msg["Message-ID"])
    assert msg["MIME-Version"] == "1.0"
    assert msg["List-Unsubscribe"] == "<mailto:admin@kino.example.org?subject=unsubscribe>"
    assert msg["List-Unsubscribe-Post"] is None
    assert msg["List-Id"] == "Kino newsletter <newsletter.kino.example.org>"
    other = parse(digest.render(fx.recipient(BOB)).mime)
    assert other["Message-ID"] != msg["Message-ID"]


@pytest.mark.parametrize("settings, expected, post", [
    ({}, "<mailto:admin@kino.example.org?subject=unsubscribe>", False),
    ({"email.admin_email": ""}, "<mailto:news@kino.example.org?subject=unsubscribe>", False),
    ({"email.unsubscribe_url": "https://kino.example.org/unsub"},
     "<mailto:admin@kino.example.org?subject=unsubscribe>, <https://kino.example.org/unsub?email=bob%40example.org>",
     True),
    ({"email.unsubscribe_url": "https://kino.example.org/u?list=kino"},
     "<mailto:admin@kino.example.org?subject=unsubscribe>, "
     "<https://kino.example.org/u?list=kino&email=bob%40example.org>", True),
    ({"email.unsubscribe_url": "http://kino.example.org/unsub"},
     "<mailto:admin@kino.example.org?subject=unsubscribe>, <http://kino.example.org/unsub?email=bob%40example.org>",
     False),
])
def test_list_unsubscribe_forms_and_one_click_only_over_https(settings, expected, post):
    headers = unsubscribe_headers(fx.recipient(BOB), fx.settings(**settings))
    assert headers["List-Unsubscribe"] == expected
    assert ("List-Unsubscribe-Post" in headers) is post
    if post:
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    msg = parse(renderer(**settings).render(fx.recipient(BOB)).mime)
    assert msg["List-Unsubscribe"] == expected
    assert (msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click") is post
    html, text = bodies(msg)
    link = re.findall(r"<([^>]+)>", expected)[-1]
    assert f'href="{link.replace("&", "&amp;")}"' in html and f"Unsubscribe: {link}" in text


def test_a_name_cannot_inject_a_header(digest):
    evil = Recipient("eve@example.com", ALICE, "Eve\r\nBcc: everyone@example.com", "user")
    msg = parse(digest.render(evil).mime)
    assert msg["Bcc"] is None and [a.addr_spec for a in msg["To"].addresses] == ["eve@example.com"]


def test_non_ascii_names_and_a_hostile_server_name_stay_well_formed():
    r = renderer(**{"server.name": 'Kino & "Friends" — 映画'})
    raw = r.render(Recipient("zoe@example.com", ALICE, 'Zoë "Z" Ørsted, Jr.')).mime
    msg = parse(raw)
    assert msg["To"].addresses[0].display_name == 'Zoë "Z" Ørsted, Jr.'
    assert msg["List-Id"] == 'Kino & "Friends" — 映画 newsletter <newsletter.kino.example.org>'
    assert re.search(rb"^List-Id: \S.* <newsletter\.kino\.example\.org>\r$", raw, re.M)  # the id is never encoded
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_a_sender_address_is_required():
    with pytest.raises(ConfigError, match="email.from_address"):
        renderer(**{"email.from_address": ""})


def test_a_snapshot_of_another_schema_is_refused():
    snap = fx.snapshot()
    snap["schema_version"] = 99
    with pytest.raises(MarqueeError, match="schema 99"):
        renderer(snap=snap)


# -- what the reader sees -------------------------------------------------------------------------


def test_subject_preheader_and_view_in_browser(images):
    r = renderer(images, **{"site.siteurl": "https://news.example.org", "email.images": "inline"})
    out = r.render(fx.recipient(ALICE))
    assert out.subject == "Week 46: 11.1 hours watched, 8 new titles — Kino"
    msg = parse(out.mime)
    assert msg["Subject"] == out.subject
    html, text = bodies(msg)
    preheader = re.search(r'<div style="display:none;[^"]*">([^<]*)', html).group(1)
    assert preheader.startswith("You watched 4.3 hours, most of it Severance. 11.1 hours watched by 4 viewers")
    assert re.search(r'<a href="https://news\.example\.org/issues/2026-w46/"[^>]*>View in your browser</a>', html)
    assert "View it in your browser: https://news.example.org/issues/2026-w46/" in text
    assert "<title>Week 46: 11.1 hours watched, 8 new titles — Kino</title>" in html


def test_without_a_site_url_there_is_no_browser_link(digest):
    html, text = bodies(parse(digest.render(fx.recipient(ALICE)).mime))
    assert "View in your browser" not in html and "in your browser" not in text and "Read it online" not in html
    assert 'href=""' not in html and "http" not in text


def test_dark_mode_is_declared(digest):
    html, _ = bodies(parse(digest.render(fx.recipient(ALICE)).mime))
    assert '<meta name="color-scheme" content="light dark"' in html
    assert '<meta name="supported-color-schemes" content="light dark"' in html
    assert "@media (prefers-color-scheme: dark)" in html and "[data-ogsc]" in html


def test_hostile_titles_are_text_in_html_and_in_text(digest):
    html, text = bodies(parse(digest.render(fx.recipient(ALICE)).mime))
    assert "<script>" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Tom &amp; Jerry" in html and "&#34;Quotes&#34; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert 'alt="&#34;Quotes&#34; &amp; &lt;b&gt;bold&lt;/b&gt;"' in html  # attributes too
    assert "千と千尋の神隠し 🐉" in html and "Amélie 🎬" in html
    # text/plain is never parsed as HTML: the title reads as itself
    assert "<script>alert(1)</script>" in text and "Tom & Jerry" in text and "&amp;" not in text
    assert '"Quotes" & <b>bold</b>' in text and "千と千尋の神隠し 🐉" in text


def test_jinja_syntax_in_a_title_stays_text(images):
    snap = fx.snapshot()
    snap["added"]["items"][0]["title"] = "{{ 7*7 }} {% if true %}x{% endif %}"
    html, text = bodies(parse(renderer(images, snap=snap).render(fx.recipient(ALICE)).mime))
    assert "{{ 7*7 }} {% if true %}x{% endif %}" in html and "{{ 7*7 }} {% if true %}x{% endif %}" in text


def test_every_image_has_alt_text_and_a_missing_poster_gets_a_placeholder(digest):
    html, _ = bodies(parse(digest.render(fx.recipient(ALICE)).mime))
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert len(imgs) == 8  # seven posters (Dune has none) and the chart
    assert all(re.search(r'alt="[^"]+"', tag) for tag in imgs)
    assert ">D</td>" in html and "Dune: Part Two" in html


def test_the_reader_gets_their_numbers_titles_streak_and_company(digest):
    html, text = bodies(parse(digest.render(fx.recipient(ALICE)).mime))
    assert "Alice, you watched 4.3 hours" in html
    assert "You watched the most of anyone this week." in html and "Your longest streak: 4 days in a row." in html
    assert "4 of 7" in html and "+123%" in html
    assert "You and 2 others watched <strong>Heat</strong>" in html
    assert "You and 1 other watched <strong>Severance</strong>" in html
    assert "Your most watched:\n  1. Severance, 1.7 h" in text
    assert "  Hours watched: 4.3, up 123% on last week (1.9 hours)" in text


def test_a_reader_without_plays_is_missed_not_zeroed(digest):
    html, text = bodies(parse(digest.render(fx.recipient(ERIN)).mime))
    assert "it's been quiet without you" in html and "Last week you watched 1.7 hours." in html
    assert "Your week" not in html and "you watched 0" not in html.lower() and "0 of 7" not in html
    assert "WE MISSED YOU" in text
    stranger = Recipient("new@example.com", 999, "Newcomer")
    html, _ = bodies(parse(digest.render(stranger).mime))
    assert "Hi Newcomer, it's been quiet without you" in html and "Last week" not in html


def test_an_address_that_is_not_a_user_gets_the_issue_only(digest):
    out = digest.render(fx.recipient(None))
    html, text = bodies(parse(out.mime))
    assert "Your week" not in html and "We missed you" not in html
    assert "the owner of Kino added you to its newsletter" in html and "11.1 hours watched by 4 viewers" in html


def test_an_empty_issue_says_so_plainly():
    snap = compute_issue(memory_store(), PERIOD, fx.settings(), fx.NOW)
    assert snap["empty"]
    out = renderer(snap=snap).render(Recipient("alice@example.com", ALICE, "Alice"))
    html, text = bodies(parse(out.mime))
    assert out.subject == "Week 46: a quiet week — Kino"
    assert "Nothing new this week" in html and "Nobody watched anything on Kino" in html
    assert "We missed you" not in html and "0 hours" not in html and "New on Kino" not in html
    assert "A QUIET WEEK" in text
    assert parse(out.mime).get_content_type() == "multipart/alternative"  # no images, nothing related


# -- privacy -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", [ALICE, BOB, CAROL, DAVE, ERIN])
def test_no_other_readers_address_and_only_initials_by_default(digest, reader):
    raw = digest.render(fx.recipient(reader)).mime.decode("ascii")
    html, text = bodies(parse(raw.encode()))
    everything = raw + html + text
    others = [e for uid, e in fx.EMAILS.items() if uid != reader]
    assert not [e for e in others if e in everything]
    full = ["Carol Jones", "Bobby", "Erin O'Neil", "Erin O&#39;Neil", "Alice"]
    own = fx.NAMES[reader]
    leaked = [n for n in full if n not in (own, own.replace("'", "&#39;")) and n in html + text]
    assert not leaked, f"names other than the initials: {leaked}"


def test_friendly_names_show_names_but_never_an_address(images):
    r = renderer(images, **{"site.names": "friendly"})
    html, text = bodies(parse(r.render(fx.recipient(ALICE)).mime))
    assert "You, Bobby and Carol Jones" in html  # the watchlist for Heat
    assert "dave@example.com" not in html + text and "D." in html  # Dave's name is his address


def test_hidden_names_show_counts_only(images):
    r = renderer(images, **{"site.names": "hidden"})
    html, text = bodies(parse(r.render(fx.recipient(BOB)).mime))
    assert "You and 2 others" in html and "Top viewers" not in html and "TOP VIEWERS" not in text
    assert "A." not in html and "C." not in html
    html, _ = bodies(parse(r.render(fx.recipient(None)).mime))
    assert "3 viewers" in html


def test_an_excluded_user_is_left_out_of_every_shared_list(images):
    r = renderer(images, **{"site.exclude_users": ["carol"]})
    html, _ = bodies(parse(r.render(fx.recipient(ALICE)).mime))
    assert "You and B." in html and "C." not in html
    own, _ = bodies(parse(r.render(fx.recipient(CAROL)).mime))
    assert "Carol Jones, you watched 0.3 hours" in own  # their own mail still has their own numbers


# -- size budget -------------------------------------------------------------------------------------


def stuffed() -> dict:
    """An issue far too big for an inbox: 100 new titles, ten-row lists, long titles everywhere."""
    snap = fx.snapshot()
    long = "A Very Long Title " + "with many many words " * 12
    base = snap["added"]["items"][2]
    snap["added"]["items"] = [dict(base, rating_key=5000 + i, title=f"{long}{i}") for i in range(100)]
    for kind in ("movies", "shows", "music"):
        rows = [dict(snap["top"]["movies"]["by_hours"][0], title=f"{long}{i}") for i in range(10)]
        snap["top"][kind] = {"by_plays": rows, "by_hours": rows, "by_viewers": rows}
    row = snap["community_watchlist"][0]
    snap["community_watchlist"] = [dict(row, title=f"{long}{i}", user_ids=[1, 2, 3, 4]) for i in range(20)]
    snap["platforms"] = [dict(snap["platforms"][0], platform=f"Platform {i} " * 5) for i in range(12)]
    return snap


def test_a_stuffed_digest_is_trimmed_to_the_budget_in_a_fixed_order():
    full = renderer(snap=stuffed(), **{"site.siteurl": "https://news.example.org", "email.max_html_kb": 500})
    html, _ = bodies(parse(full.render(fx.recipient(ALICE)).mime))
    assert full.level == 0 and "shortened to fit" not in html and "Where we watch" in html
    assert len(html.encode()) > 60 * 1024
    small = renderer(snap=stuffed(), **{"site.siteurl": "https://news.example.org", "email.max_html_kb": 60})
    out = small.render(fx.recipient(ALICE))
    html, text = bodies(parse(out.mime))
    assert len(html.encode()) <= 60 * 1024 and small.level > 0
    assert ('shortened to fit your inbox. <a href="https://news.example.org/issues/2026-w46/" '
            'class="mq-accent" style="color:#a4460b;font-weight:600;">See the full issue online</a>') in html
    assert "The full issue: https://news.example.org/issues/2026-w46/" in text
    assert "Where we watch" not in html and "Top viewers" not in html  # the first to go
    assert "Alice, you watched 4.3 hours" in html and "11.1 hours watched by 4 viewers" in html  # never dropped


def test_trim_levels_drop_sections_in_order():
    r = renderer(snap=stuffed())
    part = r.part
    assert part["platforms"] and part["viewers_list"] and part["added"] and part["watchlist"]
    assert trim(part, 1)["platforms"] == [] and trim(part, 1)["viewers_list"]
    assert trim(part, 2)["viewers_list"] == [] and any(g["id"] == "music" for g in trim(part, 2)["top"])
    assert not any(g["id"] == "music" for g in trim(part, 3)["top"])
    assert {len(g["rows"]) for g in trim(part, 4)["top"]} == {3} and len(trim(part, 4)["added"]["titles"]) == 8
    assert len(trim(part, 5)["added"]["titles"]) == 4 and trim(part, 5)["added"]["more"] == 96
    last = trim(part, len(DROPS))
    assert (last["top"], last["watchlist"], last["added"], last["chart"]) == ([], [], None, None)
    assert last["headline"] == part["headline"] and last["trimmed"] and not trim(part, 0)["trimmed"]


def test_a_reader_whose_own_part_is_heavy_is_trimmed_further(images):
    r = renderer(images, **{"email.max_html_kb": 70})
    base = len(bodies(parse(r.render(fx.recipient(ALICE)).mime))[0].encode())
    heavy = {"notices": [{"heading": f"Notice {i}", "text": "x" * 900} for i in range(12)]}
    html, _ = bodies(parse(r.render(fx.recipient(ALICE), heavy).mime))
    assert base <= 70 * 1024 < base + 12 * 900
    assert len(html.encode()) <= 70 * 1024 and "shortened to fit" in html and "Notice 11" in html


def test_trimming_without_a_site_url_has_no_dangling_link():
    r = renderer(snap=stuffed(), **{"email.max_html_kb": 60})
    html, text = bodies(parse(r.render(fx.recipient(ALICE)).mime))
    assert "shortened to fit your inbox." in html and "See the full issue online" not in html
    assert "The full issue" not in text


# -- images --------------------------------------------------------------------------------------------


def test_hosted_images_are_absolute_urls_and_nothing_is_attached(images):
    r = renderer(images, **{"site.siteurl": "https://news.example.org"})  # images = "auto"
    msg = parse(r.render(fx.recipient(ALICE)).mime)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.get_payload()] == ["text/plain", "text/html"]
    html, _ = bodies(msg)
    srcs = re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', html)
    assert len(srcs) == 8 and "cid:" not in html
    assert all(re.fullmatch(r"https://news\.example\.org/images/(posters|charts/2026-w46)/[\w.-]+\.(jpg|png)", s)
               for s in srcs)
    assert {f"https://news.example.org/{rel}" for rel in r.hosted_files} == set(srcs)
    assert all(path.is_file() for path in r.hosted_files.values())


def test_inline_can_be_forced_with_a_site_url(images):
    r = renderer(images, **{"site.siteurl": "https://news.example.org", "email.images": "inline"})
    assert parse(r.render(fx.recipient(ALICE)).mime).get_content_type() == "multipart/alternative"
    assert "cid:" in bodies(parse(r.render(fx.recipient(ALICE)).mime))[0] and r.hosted_files == {}


def test_image_parts_are_encoded_once_per_issue_not_per_reader(images, monkeypatch):
    calls = []
    real = email_images.mime_part
    monkeypatch.setattr(email_images, "mime_part", lambda *a: calls.append(a[2]) or real(*a))
    r = renderer(images)
    messages = [r.render(fx.recipient(uid)) for uid in (ALICE, BOB, CAROL, DAVE, ERIN, None)]
    assert len(calls) == len(set(calls)) == 8
    first = parse(messages[0].mime).get_payload()[1].get_payload()[1].get_payload(decode=True)
    last = parse(messages[-1].mime).get_payload()[1].get_payload()[1].get_payload(decode=True)
    assert first == last


def test_images_given_as_bytes_work_too(images):
    posters = {rk: path.read_bytes() for rk, path in images.posters.items()}
    charts = {"heatmap": images.charts["heatmap"].png_path.read_bytes()}
    msg = parse(renderer(EmailImages(posters, charts)).render(fx.recipient(ALICE)).mime)
    html, _ = bodies(msg)
    assert len(re.findall(r'src="cid:', html)) == 8
    assert 'alt="Most time watched: Thursdays at 20:00."' in html  # no alt from the file: the text stands in


# -- notices -----------------------------------------------------------------------------------------


def test_the_notices_slot_shows_warnings_and_leaving_titles_first(digest):
    extras = {"inactivity": {"remove_on": "2026-12-15", "days_idle": 40},
              "leaving_soon": {"items": [{"title": "<script>alert(1)</script>" if i == 0 else f"Film {i}",
                                          "year": 2000 + i, "leaving_on": "2026-12-01"} for i in range(12)],
                               "rule": "Titles nobody has played for a year leave; play one to keep it."},
              "notices": [{"heading": "Maintenance", "text": "Plex restarts on Sunday.", "url": "javascript:alert(1)"}]}
    out = digest.render(fx.recipient(ALICE), extras)
    html, text = bodies(parse(out.mime))
    assert html.index("Your access is about to expire") < html.index("Your week")
    assert "Your access will be removed on 15 Dec 2026, because you haven&#39;t watched anything for 40 days." in html
    assert "Leaving soon: 12 titles you watched" in html and "Film 9" in html and "Film 10" not in html
    assert "and 2 more" in html and "play one to keep it." in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "javascript:" not in html
    assert "Maintenance" in html and "Plex restarts on Sunday." in text
    assert "** Your access is about to expire **" in text and "  - Film 1 (2001), leaves 1 Dec 2026" in text
    preheader = re.search(r'<div style="display:none;[^"]*">([^<]*)', html).group(1)
    assert preheader.startswith("Your access will be removed on 15 Dec 2026")
    assert "Your access is about to expire" not in bodies(parse(digest.render(fx.recipient(ALICE)).mime))[0]


# -- templates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_placeholder_survives_mjml(name):
    src = _expand(THEME, (THEME / f"{name}.mjml").read_text())
    html = compile_mjml(name)
    wanted = set(_PLACEHOLDER.findall(src))
    assert wanted and wanted == set(_PLACEHOLDER.findall(html))


def test_mjml_runs_once_per_template_not_per_reader(monkeypatch):
    calls = []
    real = email_templates.mjml2html
    monkeypatch.setattr(email_templates, "mjml2html", lambda *a, **k: calls.append(a) or real(*a, **k))
    email_templates.compiled.cache_clear()
    try:
        first = renderer()
        for uid in (ALICE, BOB, CAROL, DAVE, ERIN, None):
            first.render(fx.recipient(uid))
        renderer(snap=stuffed()).render(fx.recipient(ALICE))  # another issue, same template
        assert len(calls) == 1
    finally:
        email_templates.compiled.cache_clear()


def test_mjml_eating_a_placeholder_is_caught(tmp_path):
    (tmp_path / "bad.mjml").write_text('<mjml><mj-body><mj-section><mj-column><mj-image src="x.png" '
                                       'width="{{ w }}px" /></mj-column></mj-section></mj-body></mjml>')
    with pytest.raises(MarqueeError, match="MJML changed a Jinja placeholder"):
        compile_mjml("bad", tmp_path)


DEC_1 = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)  # 07:00 on 1 Dec in the fixture's New York
NOTICES = {
    "welcome": (WelcomeNotice(issue_url="https://news.example.org/issues/2026-w46/"), "welcome",
                "Welcome to the Kino newsletter", "you appear by your initials only"),
    "warning": (WarningNotice(due_at=DEC_1, idle_days=27, kick_days=30), "warning-2026-12-01",
                "Your access to Kino ends on 1 Dec 2026", "Accounts with no plays for 30 days are removed"),
    "removal": (RemovalNotice(removed_at=DEC_1, idle_days=30), "removal-2026-12-01",
                "Your access to Kino has been removed", "removed on 1 Dec 2026 after 30 days without a play"),
    "admin_report": (AdminReport(title="Weekly report <b>", summary="1 warning sent.", sections=(
                         ReportSection("Warned", columns=("User", "Idle"), rows=(("bob & co", 27),)),)),
                     "admin-report-2026-11-16", "Kino: Weekly report <b>", "bob &amp; co"),
    "leaving": (LeavingNotice(key="leaving-2-2026-11-16", items=(
                    LeavingItem("Heat <i>", DEC_1, 1995, keep_url="https://m.example.org/a/2/t"),)),
                "leaving-2-2026-11-16", "Leaving Kino soon: 1 title you watched", "Heat &lt;i&gt;"),
}


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_every_notice_renders_with_its_key_subject_and_text(kind):
    context, key, subject, says = NOTICES[kind]
    rec = fx.recipient(BOB, "admin" if kind == "admin_report" else "user")
    out = render_notice(kind, rec, context, fx.settings(), clock=CLOCK)
    msg = parse(out.mime)
    html, text = bodies(msg)
    assert (out.kind, out.key, out.subject, msg["Subject"]) == (kind, key, subject, subject)
    assert says in html and html.count("<html") == 1 and "{{" not in html and "{%" not in html
    assert text.strip() and "Kino" in text and "<b>" not in html
    assert (msg["List-Unsubscribe"] is not None) is (kind == "welcome")
    assert [a.addr_spec for a in msg["To"].addresses] == ["bob@example.org"]


def test_a_notice_without_its_required_context_says_what_is_missing():
    with pytest.raises(TypeError, match="due_at"):
        WarningNotice()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"render_notice\('warning'\) needs a WarningNotice, not dict"):
        render_notice("warning", fx.recipient(BOB), {"due_at": DEC_1}, fx.settings(), clock=CLOCK)
    with pytest.raises(ValueError, match="unknown notice kind"):
        render_notice("newsletter", fx.recipient(BOB), WelcomeNotice(), fx.settings(), clock=CLOCK)


def test_render_digest_renders_everyone_with_their_own_extras(images):
    people = [fx.recipient(uid) for uid in (ALICE, BOB, None)]
    out = render_digest(fx.snapshot(), fx.settings(), people, images=images, clock=CLOCK,
                        extras={BOB: {"inactivity": {"remove_on": "2026-12-15"}}})
    assert [m.recipient for m in out] == people
    assert ["Your access is about to expire" in bodies(parse(m.mime))[0] for m in out] == [False, True, False]
