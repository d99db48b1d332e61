"""Issue 11, item 6: the outcome journal beside a file store. A killed run's journaled answers are applied to the
claims they answer, never to a newer claim, and a line cut short by the kill is skipped."""

from datetime import datetime, timezone

import pytest

from pipeline.clock import FixedClock
from pipeline.send.ledger import Ledger, Outcome, journal_for
from pipeline.settings import load_settings
from pipeline.store import open_store
from tests.fixtures.outgoing import message, recipients

T0 = datetime(2026, 11, 16, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path):
    with open_store(load_settings(environ={}, dotenv_path=None, overrides={"data.dir": str(tmp_path)})) as s:
        yield s


def states(store) -> dict[str, tuple]:
    return {e: (s, a, p) for e, s, a, p in store.con.execute(
        "SELECT email, state, attempts, provider_message_id FROM deliveries").fetchall()}


def test_a_journaled_answer_settles_its_claim_and_the_rest_become_unknown(store, tmp_path):
    """Item 6: what SES answered before the kill is known to the next run; only the call in flight is unknown."""
    a, b, c = (message(r) for r in recipients(3))
    killed = Ledger(store, "ses", FixedClock(T0), journal_for(store))
    killed.commit(claims=[a, b, c])
    killed.journal.append(a, killed.claim_number(a), Outcome("sent", provider_id="ses-a"), T0)
    killed.journal.append(b, killed.claim_number(b), Outcome("failed", error="MessageRejected: no"), T0)
    killed.journal.close()  # ... and the process died before the ledger write; c's call was in flight
    assert (tmp_path / "send-journal.jsonl").is_file()

    stale = Ledger(store, "ses", FixedClock(T0), journal_for(store)).recover()

    assert stale == [(c.key, c.recipient.email)]
    assert states(store) == {a.recipient.email: ("sent", 1, "ses-a"), b.recipient.email: ("failed", 1, None),
                             c.recipient.email: ("unknown", 1, None)}
    assert not (tmp_path / "send-journal.jsonl").exists()  # applied once, then gone


def test_an_old_line_never_answers_a_newer_claim(store):
    """Item 6: a journal line names its claim; a later claim of the same message is not settled by it."""
    a = message(recipients(1)[0])
    first = Ledger(store, "ses", FixedClock(T0), journal_for(store))
    first.commit(claims=[a])
    first.journal.append(a, first.claim_number(a), Outcome("pending", error="Throttling"), T0)
    first.commit(outcomes=[(a, Outcome("pending", error="Throttling"))])  # recorded, but the line stayed
    second = Ledger(store, "ses", FixedClock(T0))  # a run whose journal was not cleared
    second.commit(claims=[a])
    assert states(store)[a.recipient.email] == ("sending", 2, None)

    Ledger(store, "ses", FixedClock(T0), journal_for(store)).recover()

    assert states(store)[a.recipient.email] == ("unknown", 2, None)  # claim 2 may have gone: not 'pending'


def test_a_line_cut_short_by_a_kill_is_skipped(store, tmp_path):
    """Item 6: a torn last line leaves that claim unknown instead of breaking recovery."""
    a, b = (message(r) for r in recipients(2))
    killed = Ledger(store, "ses", FixedClock(T0), journal_for(store))
    killed.commit(claims=[a, b])
    killed.journal.append(a, killed.claim_number(a), Outcome("sent", provider_id="ses-a"), T0)
    killed.journal.close()
    with open(tmp_path / "send-journal.jsonl", "a") as fh:
        fh.write('{"key": "weekly-2026-W46", "email": "' + b.recipient.email + '", "claim": 1, "sta')

    Ledger(store, "ses", FixedClock(T0), journal_for(store)).recover()

    assert states(store)[a.recipient.email][0] == "sent" and states(store)[b.recipient.email][0] == "unknown"
