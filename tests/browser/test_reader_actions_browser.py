"""Issue #12 end to end, in headless Chromium: a reader keeps a title and unsubscribes from their e-mails' links.

The sandbox world (Tautulli, Plex, plex.tv, Sonarr, Radarr, an SMTP mail drop) and the web app on loopback, with
web.public_url routed to it. Enforce sends the leaving-soon notice (the deletion waits for it); the reader opens
that e-mail and the digest's HTML, follows "Keep it" and "Unsubscribe" to their pages and presses the buttons.
Then enforce: the title is no longer queued, and the audit shows both actions. Then send: no digest for the
reader, while the warning about their idle account still reaches them. Screenshots of the pages at 375 px, light
and dark, go to $MARQUEE_SCREENSHOTS if set (docs/screenshots/), else to tmp_path.
"""

from __future__ import annotations

import os
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from pipeline.run.enforce import run_enforce
from pipeline.run.send_issue import send_issue
from pipeline.stats.freeze import freeze_issues
from tests.fixtures.media_sandbox import MediaSandbox
from tests.fixtures.web_app import PUBLIC, WebApp

pytestmark = pytest.mark.browser


def eml(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def html_of(path: Path) -> str:
    return eml(path).get_body(("html",)).get_content()


def idle_reader_with_a_finished_title(sb: MediaSandbox) -> tuple[int, str, int, str]:
    """(user_id, e-mail, rating_key, title): an idle reader (warned at 27 days) and a movie they finished."""
    rows = sb.query("""
        SELECT u.user_id, u.email, p.rating_key, i.title
        FROM plays p JOIN users u USING (user_id) JOIN plex_items i ON i.rating_key = p.rating_key
        WHERE p.watched AND i.type = 'movie' AND i.removed_at IS NULL AND u.email IS NOT NULL AND u.has_access
        ORDER BY p.stopped_at DESC""")
    idle = {u.user_id for u in sb.world.users if u.note in ("idle 29d", "idle 30d", "idle 45d")}
    return next(r for r in rows if r[0] in idle)


def shoot(page, folder: Path, name: str) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{name} overflows a phone in {scheme}: {width}px"
        page.screenshot(path=str(folder / f"reader-actions-{name}-375-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")


def test_a_reader_keeps_a_title_and_unsubscribes_from_the_email(tmp_path, browser):
    shots = Path(os.environ.get("MARQUEE_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    overrides = {"retention.notice_days": 3, "web.public_url": PUBLIC, "web.port": 0, "server.name": "Kino",
                 "retention.file": str(tmp_path / "retention.toml"), "newsletter.backfill": 1,
                 "users.reader_can_extend_days": 7}
    with MediaSandbox(tmp_path, **overrides) as sb:
        sb.ingest()
        uid, email, key, title = idle_reader_with_a_finished_title(sb)
        sb.query("INSERT INTO media_assignments VALUES (?, ?, 'cli', ?)", [key, uid, sb.clock.now()])

        # enforce (media): the title waits for its notice, and the notice goes out, once.
        sb.enforce(apply=True)
        queued = sb.query("SELECT scheduled_at, reason FROM media_queue WHERE rating_key = ?", [key])
        assert queued and "waits for notice until" in queued[0][1]
        notices = sorted((tmp_path / "outbox").glob(f"leaving-{uid}-*/{email}.eml"))
        assert len(notices) == 1
        audit = sb.query("SELECT reason FROM audit WHERE subject_id = ? AND action = 'delete' AND phase = 'skipped'",
                         [key])
        assert any("waits for notice until" in r[0] for r in audit)
        sb.enforce(apply=True)  # the same day again: no second leaving-soon e-mail, no second audit row
        assert len(sorted((tmp_path / "outbox").glob(f"leaving-{uid}-*/{email}.eml"))) == 1
        assert len(sb.query("SELECT 1 FROM audit WHERE subject_id = ? AND reason LIKE 'waits for notice until%'",
                            [key])) == 1

        # A digest for the reader (a dry run writes it as .eml).
        with sb.store() as store:
            issue = freeze_issues(store, sb.settings(), sb.clock.now()).frozen[-1]
            send_issue(store, sb.settings(), sb.clock, issue_key=issue)
        digest = tmp_path / "outbox" / "dry-run" / issue / f"{email}.eml"
        headers = eml(digest)
        targets = headers["List-Unsubscribe"]
        assert targets.count(f"<{PUBLIC}/a/{uid}/") == 1 and "<mailto:" in targets
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        with WebApp(settings=sb.settings()) as web:
            context = browser.new_context(viewport={"width": 375, "height": 740})
            page = context.new_page()

            def forward(route):  # the reverse proxy: web.public_url -> the app on loopback
                response = route.fetch(url=route.request.url.replace(PUBLIC, web.url, 1))
                route.fulfill(response=response)

            page.route(f"{PUBLIC}/**", forward)
            # Keep, from the leaving-soon e-mail.
            page.set_content(html_of(notices[0]))
            page.get_by_role("link", name="Keep it").first.click()
            page.wait_for_load_state()
            assert page.title().startswith(f"Keep “{title}") and web.inbox_rows() == []
            shoot(page, shots, "keep")
            page.get_by_role("button", name="Keep it").click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text().startswith(f"Kept: “{title}")
            shoot(page, shots, "kept")
            # Unsubscribe, from the digest's footer.
            page.set_content(html_of(digest))
            page.get_by_role("link", name="Unsubscribe").click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text() == f"Unsubscribe {email}?"
            shoot(page, shots, "unsubscribe")
            page.get_by_role("button", name="Unsubscribe").click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text() == "You're unsubscribed"
            shoot(page, shots, "unsubscribed")
            page.goto(f"{PUBLIC}/a/{uid}/forged.token")
            assert page.locator("h1").inner_text() == "This link is not valid"
            shoot(page, shots, "invalid")
            context.close()
            assert web.inbox_rows() == [(uid, "keep", str(key)), (uid, "unsubscribe", email)]

        # enforce (everything): the kept title leaves the queue; the audit shows both answers; the idle reader
        # is warned, by e-mail, though unsubscribed.
        sb.ingest()
        with sb.store() as store:
            run_enforce(store, sb.settings(), sb.clock, apply=True, scope="all")
        assert sb.query("SELECT count(*) FROM media_queue WHERE rating_key = ?", [key]) == [(0,)]
        assert sb.query("SELECT count(*) FROM media_keeps WHERE rating_key = ?", [key]) == [(1,)]
        actions = sb.query("SELECT action, phase FROM audit WHERE action LIKE 'reader_%' ORDER BY audit_id")
        assert actions == [("reader_keep", "done"), ("reader_unsubscribe", "done")]
        warnings = sorted((tmp_path / "outbox").glob(f"warning-{uid}-*/{email}.eml"))
        assert len(warnings) == 1
        assert f'href="{PUBLIC}/a/{uid}/' in html_of(warnings[0]) and "still here" in html_of(warnings[0])

        # send: the digest goes to everyone else, not to the reader who unsubscribed.
        with sb.store() as store:
            summary = send_issue(store, sb.settings(), sb.clock, issue_key=issue, apply=True)
        assert summary.sent > 0
        assert not (tmp_path / "outbox" / issue / f"{email}.eml").exists()
        assert sb.query("SELECT source FROM email_optouts WHERE email = ?", [email]) == [("link",)]
