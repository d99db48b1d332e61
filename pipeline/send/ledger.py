"""The delivery ledger: each (message key, recipient) is claimed before the provider call and recorded after.

States: pending (not sent yet, or a retryable failure), sending (claimed; a call may be in flight),
sent, failed (permanent), unknown (a run died while sending: it may or may not have left),
suppressed (on the provider's suppression list). Writes are batched: one write per main-loop
turn holds the outcomes that came back and the claims about to be dispatched, in ONE statement,
because every DuckDB statement costs milliseconds and a statement per row could not keep up with SES.
Until that write, each outcome is already in the journal (pipeline/send/journal.py), which the next
run applies before it calls anything still 'sending' unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from pipeline.clock import Clock, SystemClock
from pipeline.send.journal import Journal

if TYPE_CHECKING:
    from pipeline.store import Store
    from pipeline.render.email.message import OutgoingMessage

PENDING, SENDING, SENT, FAILED, UNKNOWN, SUPPRESSED = "pending", "sending", "sent", "failed", "unknown", "suppressed"
STATES = (PENDING, SENDING, SENT, FAILED, UNKNOWN, SUPPRESSED)


@dataclass(frozen=True)
class Outcome:
    """What one delivery ended as in this run."""

    state: str                      # sent | failed | pending | unknown
    provider_id: str | None = None  # SES MessageId, SMTP reply, outbox path
    error: str | None = None        # one line; never a secret


@dataclass(frozen=True)
class Entry:
    """A recipient's ledger row as the run started (or as this run left it)."""

    state: str
    attempts: int = 0
    provider_id: str | None = None
    error: str | None = None


class Ledger:
    """Reads and writes the `deliveries` table for one run; only the main thread touches it."""

    def __init__(self, store: "Store", backend: str, clock: Clock | None = None,
                 journal: Journal | None = None) -> None:
        self.store, self.backend = store, backend
        self.clock = clock or SystemClock()
        self.journal = journal or Journal(None)
        self._rows: dict[str, dict[str, Entry]] = {}

    def recover(self) -> list[tuple[str, str]]:
        """Apply what a stopped run journaled, then turn rows still 'sending' into 'unknown'; return those."""
        lines = self.journal.read()
        if lines:
            self.store.execute("send/apply_journal", {
                "keys": [r["key"] for r in lines], "emails": [r["email"] for r in lines],
                "claims": [r["claim"] for r in lines], "states": [r["state"] for r in lines],
                "provider_ids": [r["provider_id"] for r in lines], "errors": [r["error"] for r in lines],
                "finished": [r["at"] for r in lines]})
            self._rows.clear()
        self.journal.clear()  # applied (or belonging to claims already settled): no line is needed again
        stale = [(k, e) for k, e in self.store.execute("send/mark_stale_unknown")]
        for key, email in stale:
            if key in self._rows:
                self._rows[key][email] = Entry(UNKNOWN)
        return stale

    def entry(self, key: str, email: str) -> Entry | None:
        """The row for (key, email), loading the whole key once (one query, not one per recipient)."""
        rows = self._rows.get(key)
        if rows is None:
            rows = {r["email"]: Entry(r["state"], r["attempts"], r["provider_message_id"], r["error"])
                    for r in self.store.records("send/delivery_states", {"key": key})}
            self._rows[key] = rows
        return rows.get(email)

    def commit(self, claims: Sequence["OutgoingMessage"] = (),
               outcomes: Sequence[tuple["OutgoingMessage", Outcome]] = (),
               unsent: Sequence[tuple["OutgoingMessage", str, str]] = ()) -> None:
        """Record outcomes and unsent decisions, and claim messages, in one atomic statement."""
        rows = ([(m, o.state, o.provider_id, o.error) for m, o in outcomes]
                + [(m, state, None, error) for m, state, error in unsent]
                + [(m, SENDING, None, None) for m in claims])
        if not rows:
            return
        if len({(m.key, m.recipient.email) for m, *_ in rows}) != len(rows):
            raise ValueError("a ledger batch names the same (key, recipient) twice")
        for key in {m.key for m, *_ in rows}:
            self.entry(key, "")  # cache each key as it was before this write, so claims count from there
        self.store.execute("send/write_deliveries", {
            "keys": [m.key for m, *_ in rows], "emails": [m.recipient.email for m, *_ in rows],
            "user_ids": [m.recipient.user_id for m, *_ in rows], "kinds": [m.kind for m, *_ in rows],
            "states": [r[1] for r in rows], "provider_ids": [r[2] for r in rows], "errors": [r[3] for r in rows],
            "sizes": [m.size for m, *_ in rows], "backend": self.backend, "now": self.clock.now()})
        for msg, state, provider_id, error in rows:
            self._remember(msg, state, provider_id, error)

    def claim_number(self, msg: "OutgoingMessage") -> int:
        """How many times (key, recipient) has been claimed, this claim included: it names the claim in the journal."""
        entry = self.entry(msg.key, msg.recipient.email)
        return entry.attempts if entry else 0

    def _remember(self, msg: "OutgoingMessage", state: str, provider_id: str | None, error: str | None) -> None:
        before = self.entry(msg.key, msg.recipient.email)  # cached by commit before it wrote
        attempts = (before.attempts if before else 0) + (state == SENDING)  # as write_deliveries counts them
        self._rows[msg.key][msg.recipient.email] = Entry(state, attempts, provider_id, error)


def journal_for(store: "Store") -> Journal:
    """The outcome journal beside the store's file (none for a store in memory)."""
    found = store.execute("send/store_file")
    path = found[0][0] if found else None
    return Journal(Path(path).with_name("send-journal.jsonl") if path else None)


def counts(store: "Store", key: str) -> dict[str, int]:
    """State -> number of recipients for one message key (for `invoke send-status` and tests)."""
    return {state: n for state, n in store.execute("send/delivery_counts", {"key": key})}


def sent_to(store: "Store", key: str) -> set[str]:
    """Addresses that already have this message: a caller can skip rendering for them."""
    return {r["email"] for r in store.records("send/delivery_states", {"key": key}) if r["state"] == SENT}
