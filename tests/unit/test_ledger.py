"""The delivery ledger: claims, outcomes and crash recovery, one atomic write per batch."""

from datetime import datetime, timezone

import pytest

from pipeline.clock import FixedClock
from pipeline.send.ledger import Ledger, Outcome, counts
from pipeline.store.db import memory_store
from tests.fixtures.outgoing import message, recipients

KEY = "weekly-2026-W46"


@pytest.fixture
def store():
    s = memory_store()
    yield s
    s.close()


def rows(store):
    cur = store.con.execute("SELECT email, state, attempts, first_attempt_at, last_attempt_at, finished_at, "
                            "provider_message_id, error, user_id, kind, size_bytes, backend "
                            "FROM deliveries ORDER BY email")
    cols = [d[0] for d in cur.description]
    return {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}


def test_claim_then_record_keeps_times_attempts_and_provider_id(store):
    clock = FixedClock(datetime(2026, 11, 16, 8, 0, tzinfo=timezone.utc))
    ledger = Ledger(store, "ses", clock)
    a, b = (message(r) for r in recipients(2))
    ledger.commit(claims=[a, b])
    assert {e: r["state"] for e, r in rows(store).items()} == {a.recipient.email: "sending",
                                                                b.recipient.email: "sending"}
    clock.advance(seconds=5)
    ledger.commit(outcomes=[(a, Outcome("sent", provider_id="ses-1")),
                            (b, Outcome("pending", error="Throttling (gave up after 8 tries)"))])
    got = rows(store)
    assert got[a.recipient.email]["state"] == "sent"
    assert got[a.recipient.email]["provider_message_id"] == "ses-1"
    assert got[a.recipient.email]["finished_at"] == datetime(2026, 11, 16, 8, 0, 5, tzinfo=timezone.utc)
    assert got[a.recipient.email]["user_id"] == a.recipient.user_id
    assert got[a.recipient.email]["size_bytes"] == a.size
    assert got[a.recipient.email]["kind"] == "digest" and got[a.recipient.email]["backend"] == "ses"
    assert got[b.recipient.email]["state"] == "pending"
    assert got[b.recipient.email]["error"].startswith("Throttling")

    # The pending one is claimed again by a later run: one more attempt, first time kept, error cleared.
    clock.advance(hours=1)
    Ledger(store, "ses", clock).commit(claims=[b])
    again = rows(store)[b.recipient.email]
    assert again["attempts"] == 2 and again["state"] == "sending" and again["error"] is None
    assert again["first_attempt_at"] == datetime(2026, 11, 16, 8, 0, tzinfo=timezone.utc)
    assert again["last_attempt_at"] == datetime(2026, 11, 16, 9, 0, 5, tzinfo=timezone.utc)


def test_outcomes_and_claims_in_one_write(store):
    ledger = Ledger(store, "smtp")
    a, b, c = (message(r) for r in recipients(3))
    ledger.commit(claims=[a])
    ledger.commit(claims=[b], outcomes=[(a, Outcome("sent", "250 ok"))], unsent=[(c, "suppressed", "BOUNCE")])
    assert counts(store, KEY) == {"sending": 1, "sent": 1, "suppressed": 1}
    assert rows(store)[c.recipient.email]["attempts"] == 0


def test_same_recipient_twice_in_a_batch_is_refused(store):
    a = message(recipients(1)[0])
    with pytest.raises(ValueError):
        Ledger(store, "ses").commit(claims=[a], outcomes=[(a, Outcome("sent"))])
    assert counts(store, KEY) == {}


def test_recover_turns_sending_into_unknown_and_leaves_the_rest(store):
    ledger = Ledger(store, "ses")
    a, b, c = (message(r) for r in recipients(3))
    ledger.commit(claims=[a, b, c])
    ledger.commit(outcomes=[(a, Outcome("sent", "id-a"))])
    later = Ledger(store, "ses")
    assert sorted(later.recover()) == [(KEY, b.recipient.email), (KEY, c.recipient.email)]
    assert counts(store, KEY) == {"sent": 1, "unknown": 2}
    assert later.entry(KEY, b.recipient.email).state == "unknown"
    assert later.entry(KEY, a.recipient.email).provider_id == "id-a"
    assert later.entry(KEY, "nobody@viewers.test") is None
    assert later.recover() == []


def test_entry_loads_each_key_once_and_follows_writes(store):
    ledger = Ledger(store, "ses")
    a = message(recipients(1)[0])
    other = message(recipients(1)[0], key="welcome", kind="welcome")
    assert ledger.entry(KEY, a.recipient.email) is None
    ledger.commit(claims=[a, other])
    assert ledger.entry(KEY, a.recipient.email).state == "sending"
    assert ledger.entry("welcome", a.recipient.email).state == "sending"
    assert Ledger(store, "ses").entry("welcome", a.recipient.email).state == "sending"


def test_sent_to_lists_only_delivered_addresses(store):
    from pipeline.send.ledger import sent_to

    ledger = Ledger(store, "ses")
    a, b = (message(r) for r in recipients(2))
    ledger.commit(claims=[a, b])
    ledger.commit(outcomes=[(a, Outcome("sent", "x")), (b, Outcome("failed", error="no"))])
    assert sent_to(store, KEY) == {a.recipient.email}
    assert sent_to(store, "other-key") == set()
