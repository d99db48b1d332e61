"""`send_issue` hands each reader's leaving-soon list to their digest: a frozen issue, a queue, a dry run."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from pipeline.clock import FixedClock
from pipeline.stats.freeze import freeze_issues
from pipeline.run.send_issue import send_issue
from tests.fixtures import email_issue as fx
from tests.fixtures.leaving_queue import NOW, SCRIPT, fill
from tests.fixtures.stats_world import build


@pytest.fixture
def sent(tmp_path):
    """The stats world with e-mail addresses and the hand-written queue; one frozen issue; a dry run."""
    store = build()
    store.con.execute("UPDATE plex_users SET email = username || '@example.com'")
    fill(store)
    settings = fx.settings(**{"data.dir": str(tmp_path / "data"), "email.outbox_dir": str(tmp_path / "outbox")})
    key = freeze_issues(store, settings, NOW, period_key="2026-W46").frozen[0]
    yield store, settings, key, tmp_path / "outbox" / "dry-run" / key
    store.close()


def digest_of(folder, email: str) -> tuple[str, str]:
    msg = BytesParser(policy=policy.default).parsebytes((folder / f"{email}.eml").read_bytes())
    return tuple(msg.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("html", "plain"))


def test_each_assigned_reader_is_told_what_of_theirs_leaves_and_nobody_else(sent):
    store, settings, key, folder = sent
    summary = send_issue(store, settings, FixedClock(NOW))
    assert summary.dry_run_files == 4  # alice, bob, dave, erin: the users with access
    alice, alice_text = digest_of(folder, "alice@example.com")
    assert "Leaving soon: 4 titles you watched" in alice
    assert "  - Severance — S01E02 · Half Loop, leaves 17 Nov 2026" in alice_text
    assert "Want to keep one? Ask whoever runs Kino before it leaves." in alice_text
    bob, bob_text = digest_of(folder, "bob@example.com")
    assert "Leaving soon: 3 titles you watched" in bob and "&lt;script&gt;alert(1)&lt;/script&gt;" in bob
    assert f"  - {SCRIPT} (1979), leaves 16 Nov 2026" in bob_text and "Half Loop" not in bob_text
    for other in ("dave@example.com", "erin@example.com"):
        html, text = digest_of(folder, other)
        assert "Leaving soon" not in html and "Leaving soon" not in text


def test_the_admins_preview_carries_nobodys_list(sent):
    store, settings, key, folder = sent
    summary = send_issue(store, settings, FixedClock(NOW), to="admin@kino.example.org")
    files = sorted(folder.parent.rglob("admin@kino.example.org.eml"))
    assert summary.dry_run_files == 1 and len(files) == 1 and files[0].parent.name.startswith("preview")
    assert b"Leaving soon" not in files[0].read_bytes()
