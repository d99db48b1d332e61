"""A warned reader's own digest carries the warning: the removal date and what to do (issue #12), with the
"I'm still here" link where the server allows it and nobody else's warning."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

from pipeline.run.enforce import run_enforce
from pipeline.run.send_issue import send_issue
from pipeline.stats.freeze import freeze_issues
from tests.fixtures.enforce_sandbox import EnforceSandbox

PUBLIC = "https://marquee.example.org"


def html_of(path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes()).get_body(("html",)).get_content()


def test_a_warned_readers_digest_says_when_access_ends_and_what_to_do(tmp_path):
    overrides = {"web.public_url": PUBLIC, "users.reader_can_extend_days": 7, "newsletter.backfill": 1,
                 "retention.file": str(tmp_path / "retention.toml")}
    with EnforceSandbox(tmp_path, **overrides) as sb:
        sb.ingest()
        with sb.store() as store:
            run_enforce(store, sb.settings(), sb.clock, apply=True, scope="users")
            warned = dict(store.con.execute("SELECT s.user_id, u.email FROM member_states s JOIN users u "
                                            "USING (user_id) WHERE s.warned_at IS NOT NULL").fetchall())
            issue = freeze_issues(store, sb.settings(), sb.clock.now()).frozen[-1]
            send_issue(store, sb.settings(), sb.clock, issue_key=issue)
        assert warned
        folder = tmp_path / "outbox" / "dry-run" / issue
        idle = sb.user("idle 29d")
        assert idle.user_id in warned
        mine = html_of(folder / f"{warned[idle.user_id]}.eml")
        assert "Your access is about to expire" in mine and "Your access will be removed on" in mine
        assert f'href="{PUBLIC}/a/{idle.user_id}/' in mine and "still here" in mine
        others = [p for p in folder.glob("*.eml") if p.stem not in warned.values()]
        assert others and all("Your access is about to expire" not in html_of(p) for p in others)
