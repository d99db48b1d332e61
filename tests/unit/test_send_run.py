"""The send loop against an in-process test backend: exactly once, retries, stops, dry run."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from pipeline.errors import ConfigError, Unreachable
from pipeline.send.backend import FAILED, FATAL, RETRY, SENT, UNKNOWN, Attempt
from pipeline.send.ledger import counts
from pipeline.send.optout import optout
from pipeline.send.pacing import RetryPolicy
from pipeline.send.run import send_messages
from pipeline.settings import load_settings
from pipeline.store.db import Store, memory_store
from tests.fixtures.outgoing import KEY, message, messages, recipients

FAST = RetryPolicy(attempts=3, base_seconds=0.001, cap_seconds=0.002)


class ScriptedBackend:
    """Answers each address from a script of Attempts (then SENT); counts calls per address."""

    name = "scripted"
    rate = None

    def __init__(self, concurrency=1, script=None, suppressed=None, on_open=None):
        self.concurrency = concurrency
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.calls: Counter[str] = Counter()
        self._suppressed = suppressed or {}
        self.on_open = on_open
        self.opened = self.closed = False
        self.lock = threading.Lock()

    def open(self):
        self.opened = True
        if self.on_open:
            raise self.on_open

    def suppressed(self):
        return dict(self._suppressed)

    def attempt(self, msg):
        email = msg.recipient.email
        with self.lock:
            self.calls[email] += 1
            todo = self.script.get(email)
            answer = todo.pop(0) if todo else Attempt(SENT, provider_id=f"id-{email}")
        return answer

    def delivered(self, msg):
        return None

    def close(self):
        self.closed = True


@pytest.fixture
def store():
    s = memory_store()
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path):
    return load_settings(environ={}, dotenv_path=None, overrides={"email.outbox_dir": str(tmp_path / "outbox")})


def addr(i):
    return recipients(i + 1)[i].email


def send(store, settings, backend, n=10, **kw):
    kw.setdefault("retry", FAST)
    return send_messages(store, settings, messages(n), apply=True, backend=backend, **kw)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_each_recipient_once_and_a_rerun_sends_nothing(store, settings, concurrency):
    backend = ScriptedBackend(concurrency)
    first = send(store, settings, backend, n=40)
    assert (first.sent, first.skipped_already_sent, first.failed, first.unknown) == (40, 0, 0, 0)
    assert set(backend.calls.values()) == {1} and len(backend.calls) == 40
    assert backend.opened and backend.closed
    assert counts(store, KEY) == {"sent": 40}
    again = send(store, settings, backend, n=45)
    assert (again.sent, again.skipped_already_sent) == (5, 40)
    assert set(backend.calls.values()) == {1} and len(backend.calls) == 45


def test_the_same_recipient_twice_in_one_run_is_sent_once(store, settings):
    backend = ScriptedBackend(2)
    stream = [message(r) for r in recipients(3)] + [message(recipients(1)[0])]
    summary = send_messages(store, settings, stream, apply=True, backend=backend, retry=FAST)
    assert summary.sent == 3 and summary.duplicates == 1 and backend.calls[addr(0)] == 1


def test_retryable_errors_are_retried_then_left_pending(store, settings):
    backend = ScriptedBackend(script={
        addr(1): [Attempt(RETRY, error="Throttling", throttled=True), Attempt(RETRY, error="503")],
        addr(2): [Attempt(RETRY, error="451 try later")] * 3,
    })
    summary = send(store, settings, backend, n=4)
    assert (summary.sent, summary.retry_later) == (3, 1)
    assert backend.calls[addr(1)] == 3 and backend.calls[addr(2)] == 3
    assert counts(store, KEY) == {"pending": 1, "sent": 3}
    assert any("451 try later (gave up after 3 tries" in line for line in summary.lines)
    later = send(store, settings, backend, n=4)
    assert (later.sent, later.skipped_already_sent) == (1, 3) and backend.calls[addr(2)] == 4


def test_a_permanent_failure_is_recorded_and_not_retried(store, settings):
    backend = ScriptedBackend(concurrency=3, script={addr(2): [Attempt(FAILED, error="MessageRejected: no")]})
    summary = send(store, settings, backend, n=6)
    assert (summary.sent, summary.failed) == (5, 1)
    assert counts(store, KEY) == {"failed": 1, "sent": 5}
    later = send(store, settings, backend, n=6)
    assert (later.sent, later.skipped_failed) == (0, 1) and backend.calls[addr(2)] == 1


def test_a_fatal_error_stops_the_run_and_nothing_is_lost(store, settings):
    fatal = ConfigError("bad credentials; check the keys")
    backend = ScriptedBackend(script={addr(3): [Attempt(FATAL, error="403", fatal=fatal)]})
    with pytest.raises(ConfigError, match="bad credentials") as caught:
        send(store, settings, backend, n=10)
    summary = caught.value.summary
    assert summary.sent == 3 and summary.stopped == "bad credentials; check the keys"
    assert counts(store, KEY) == {"pending": 1, "sent": 3}
    assert len(backend.calls) == 4 and backend.closed
    rest = send(store, settings, backend, n=10)
    assert (rest.sent, rest.skipped_already_sent) == (7, 3)
    assert set(backend.calls.values()) == {1, 2} and backend.calls[addr(3)] == 2


def test_giving_up_on_an_unreachable_server_stops_the_run(store, settings):
    down = Unreachable("cannot reach the server")
    backend = ScriptedBackend(script={addr(0): [Attempt(RETRY, error="refused", give_up=down)] * 3})
    with pytest.raises(Unreachable):
        send(store, settings, backend, n=5)
    assert counts(store, KEY) == {"pending": 1}


def test_an_open_failure_touches_nothing(store, settings):
    backend = ScriptedBackend(on_open=ConfigError("email.from_address is empty"))
    with pytest.raises(ConfigError):
        send(store, settings, backend)
    assert counts(store, KEY) == {} and not backend.calls


def test_unknown_is_reported_and_only_resent_when_asked(store, settings):
    backend = ScriptedBackend(script={addr(1): [Attempt(UNKNOWN, error="no answer (ReadTimeoutError)")]})
    first = send(store, settings, backend, n=3)
    assert (first.sent, first.unknown) == (2, 1)
    again = send(store, settings, backend, n=3)
    assert (again.sent, again.unknown, again.skipped_already_sent) == (0, 1, 2)
    assert backend.calls[addr(1)] == 1
    assert any("resend_unknown" in line for line in again.lines)
    forced = send(store, settings, backend, n=3, resend_unknown=True)
    assert forced.sent == 1 and backend.calls[addr(1)] == 2
    assert counts(store, KEY) == {"sent": 3}


def test_a_failing_message_stream_still_records_what_went_out(store, settings):
    def stream():
        yield from messages(5)
        raise RuntimeError("renderer broke")

    backend = ScriptedBackend(concurrency=4)
    with pytest.raises(RuntimeError, match="renderer broke"):
        send_messages(store, settings, stream(), apply=True, backend=backend, retry=FAST)
    assert counts(store, KEY) == {"sent": 5}


def test_opt_outs_and_suppression(store, settings):
    optout(store, addr(0))
    backend = ScriptedBackend(suppressed={addr(1): "on the SES suppression list (BOUNCE)"})
    stream = list(messages(4)) + [message(recipients(1)[0], key="admin-2026-W46", kind="admin_report")]
    summary = send_messages(store, settings, stream, apply=True, backend=backend, retry=FAST)
    assert (summary.sent, summary.opted_out, summary.suppressed) == (3, 1, 1)
    assert backend.calls[addr(0)] == 1  # the admin report, not the digest
    assert addr(1) not in backend.calls
    assert counts(store, KEY) == {"sent": 2, "suppressed": 1}
    assert any("BOUNCE" in line for line in summary.lines)


def test_events_follow_claim_call_record(store, settings):
    seen = []
    send(store, settings, ScriptedBackend(1), n=2, on_event=lambda name, n: seen.append((name, n)))
    assert seen == [("claimed", 1), ("called", 1), ("recorded", 1), ("claimed", 2), ("called", 2), ("recorded", 2)]


def test_dry_run_writes_eml_and_touches_nothing(store, settings, tmp_path):
    backend = ScriptedBackend(on_open=AssertionError("a dry run must not open the backend"))
    send_messages(store, settings, messages(2), apply=True, backend=ScriptedBackend(), retry=FAST)
    optout(store, addr(3))
    summary = send_messages(store, settings, messages(5), apply=False, backend=backend)
    assert not summary.applied and (summary.dry_run_files, summary.skipped_already_sent, summary.opted_out) == (
        2, 2, 1)
    files = sorted((tmp_path / "outbox" / "dry-run" / KEY).glob("*.eml"))
    assert [f.name for f in files] == [f"{addr(2)}.eml", f"{addr(4)}.eml"]
    assert files[0].read_bytes() == message(recipients(3)[2]).mime
    assert counts(store, KEY) == {"sent": 2} and not backend.opened
    assert any(line.startswith(f"would send digest {KEY} to {addr(2)}") for line in summary.lines)
    # A second dry run for a shorter list leaves no stale files behind.
    send_messages(store, settings, messages(3), apply=False)
    assert [f.name for f in (tmp_path / "outbox" / "dry-run" / KEY).glob("*.eml")] == [f"{addr(2)}.eml"]


class CountingStore(Store):
    """The real store, counting ledger writes."""

    writes = 0

    def execute(self, name, params=None):
        if name == "send/write_deliveries":
            self.writes += 1
        return super().execute(name, params)


def test_paced_outcomes_share_a_write_with_the_next_claim(settings):
    store = CountingStore(memory_store().con)
    backend = ScriptedBackend(1)
    backend.rate = 50.0  # a token every 20 ms: each outcome waits for the next claim instead of its own write
    summary = send(store, settings, backend, n=20)
    assert summary.sent == 20 and counts(store, KEY) == {"sent": 20}
    # Claim and outcome apart would be 40 writes; shared, it is one per message plus the last outcome.
    assert store.writes <= 26
