"""Issue 11, item 1: the outbox backend is not delivery. `send --apply` with it refuses in one line and records
nothing, so switching to SMTP later delivers to every reader; enforce --apply never counts a warning as sent."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.run import commands
from pipeline.run.enforce import run_enforce
from pipeline.send.run import send_messages
from pipeline.settings import load_settings
from pipeline.store import open_store
from tests.fixtures.enforce_sandbox import EnforceSandbox
from tests.fixtures.outgoing import messages
from tests.fixtures.sandbox_issue import sandbox_issue
from tests.fixtures.smtp_server import Inbox, start_smtp

REFUSAL = 'error: email.backend is "outbox", which delivers nothing'


@pytest.fixture
def issue(tmp_path):
    with sandbox_issue(tmp_path) as found:
        yield found


def deliveries(settings) -> list[tuple]:
    with open_store(settings) as store:
        return store.con.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall()


def test_send_apply_with_the_outbox_backend_refuses_and_a_real_backend_then_sends_everyone(issue, capsys):
    """Item 1: no reader is marked sent by a file; the later SMTP run delivers to all of them, not 'already sent'."""
    settings, clock, readers = issue
    outboxed = settings()
    assert outboxed.email.backend == "outbox"  # the default, as in marquee.example.toml

    code = commands.guarded(commands.send, outboxed, clock, apply=True)

    out, err = capsys.readouterr()
    assert code == 2 and err.startswith(REFUSAL) and err.count("\n") == 1
    assert 'set email.backend to "smtp" or "ses"' in err
    assert deliveries(outboxed) == []
    assert not outboxed.email.outbox_dir.exists()  # no file pretends to be a delivery either

    inbox = Inbox()
    controller = start_smtp(inbox)
    try:
        smtp = settings(**{"email.backend": "smtp", "smtp.host": "127.0.0.1", "smtp.port": controller.port,
                           "smtp.security": "none"})
        assert commands.guarded(commands.send, smtp, clock, apply=True) == 0
    finally:
        controller.stop()
    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary.startswith(f"sent {len(inbox.received)}, already sent 0,")
    assert readers <= set(inbox.addresses()) and all(inbox.count(r) == 1 for r in readers)
    assert deliveries(smtp) == [("sent", len(inbox.received))]


def test_every_caller_of_send_is_refused_by_the_outbox_backend(tmp_path):
    """Item 1: the refusal is in send itself, so notices and reports cannot record a file as sent either."""
    settings = load_settings(environ={"MARQUEE_DATA_DIR": str(tmp_path / "data")}, dotenv_path=None)
    with open_store(settings) as store:
        with pytest.raises(ConfigError, match='^email.backend is "outbox", which delivers nothing'):
            send_messages(store, settings, messages(3), apply=True)
        assert store.con.execute("SELECT count(*) FROM deliveries").fetchall() == [(0,)]
    assert not settings.email.outbox_dir.exists()


def test_enforce_apply_with_the_outbox_backend_counts_no_warning_and_removes_nobody(tmp_path):
    """Item 1: a warning written to a file was never read, so its removal countdown never starts."""
    with EnforceSandbox(tmp_path, **{"email.backend": "outbox"}) as sb:
        sb.ingest()
        with sb.store() as store:
            first = run_enforce(store, sb.settings(), sb.clock, apply=True, scope="users")
        assert any("warning e-mail not sent" in line for line in first.lines)
        assert sb.query("SELECT count(*) FROM member_states WHERE warned_at IS NOT NULL") == [(0,)]
        assert sb.query("SELECT count(*) FROM deliveries WHERE state = 'sent'") == [(0,)]

        sb.clock.advance(days=4)
        sb.ingest()
        with sb.store() as store:
            later = run_enforce(store, sb.settings(), sb.clock, apply=True, scope="users")
        assert not any(line.startswith("removed") for line in later.lines)
        assert sb.tv.mutations == [] and sb.tv.requests_to("/api/", "DELETE") == []
        assert sb.query("SELECT count(*) FROM member_states WHERE removed_at IS NOT NULL") == [(0,)]
