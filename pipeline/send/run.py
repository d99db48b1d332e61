"""Deliver messages exactly once per (message key, recipient): claim, call, record, resumable after a crash.

The main thread owns the ledger; `concurrency` worker threads make the provider calls. Each turn of
the loop writes, in one atomic statement, the outcomes that came back and the claims about to go
out, then hands the claimed messages to the workers. A claim is therefore committed before its call
starts. The worker appends the call's outcome to the journal the moment the provider answers; the
ledger write follows (it may wait up to HOLD_SECONDS to share a statement with the next claim), and
the next run applies any journaled outcome that did not reach it. So a kill leaves in 'sending' only
messages whose call was in flight, and the next run reports those as 'unknown' instead of guessing.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from pipeline.clock import Clock
from pipeline.errors import BadResponse, MarqueeError
from pipeline.logs import Progress
from pipeline.send.backend import FAILED, FATAL, SENT, UNKNOWN, Attempt, Backend, make_backend
from pipeline.send.ledger import PENDING, SENDING, SUPPRESSED, Ledger, Outcome, journal_for
from pipeline.send.optout import OPTOUT_KINDS, opted_out
from pipeline.send.outbox import eml_path, write_eml
from pipeline.send.pacing import RetryPolicy, ThrottleBreaker, TokenBucket

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store import Store
    from pipeline.render.email.message import OutgoingMessage

log = logging.getLogger(__name__)
Event = Callable[[str, int], None]  # ("claimed" | "called" | "journaled" | "recorded", running count)
# Longest an outcome waits to share its ledger write with the next claim. It is already journaled,
# so a kill in this wait loses nothing; the wait only saves a DuckDB statement per message.
HOLD_SECONDS = 0.2


@dataclass
class SendSummary:
    """What a send run did (or, without apply, would do)."""

    sent: int = 0
    skipped_already_sent: int = 0
    failed: int = 0                # permanent failures this run
    unknown: int = 0               # interrupted earlier (or no answer now); not sent again without resend_unknown
    dry_run_files: int = 0
    seconds: float = 0.0
    suppressed: int = 0            # on the provider's suppression list
    opted_out: int = 0             # on the local opt-out list
    retry_later: int = 0           # retryable failures left pending for the next run
    skipped_failed: int = 0        # failed permanently in an earlier run
    duplicates: int = 0            # the same (key, address) twice in one run
    backend: str = ""
    applied: bool = False
    stopped: str | None = None     # why the run stopped early
    lines: list[str] = field(default_factory=list)  # who would get what (dry run) and every problem

    def line(self) -> str:
        """The one-line summary a task prints at the end."""
        if not self.applied:
            return (f"dry run: {self.dry_run_files} .eml files written, {self.skipped_already_sent} already sent, "
                    f"{self.skipped_failed} failed before, {self.unknown} unknown, {self.opted_out} opted out; "
                    "nothing was sent")
        rate = self.sent / self.seconds if self.seconds else 0.0
        parts = [f"sent {self.sent}", f"already sent {self.skipped_already_sent}", f"failed {self.failed}",
                 f"unknown {self.unknown}", f"retry later {self.retry_later}", f"suppressed {self.suppressed}",
                 f"opted out {self.opted_out}"]
        if self.skipped_failed:
            parts.append(f"failed before {self.skipped_failed}")
        tail = f" - stopped: {self.stopped}" if self.stopped else ""
        return f"{', '.join(parts)} via {self.backend} in {self.seconds:.1f} s ({rate:.1f} msg/s){tail}"


def _progress(messages: Iterable[Any], given: Progress | None) -> tuple[Progress, bool]:
    if given is not None:
        return given, False
    total = len(messages) if hasattr(messages, "__len__") else None  # type: ignore[arg-type]
    return Progress("send", total=total, unit="msgs"), True


def send_messages(store: "Store", settings: "Settings", messages: Iterable["OutgoingMessage"], *, apply: bool,
                  resend_unknown: bool = False, backend: Backend | str | None = None,
                  progress: Progress | None = None, retry: RetryPolicy | None = None, clock: Clock | None = None,
                  on_event: Event | None = None) -> SendSummary:
    """Send each message once. Without apply: write .eml files under email.outbox_dir/dry-run and send nothing.

    resend_unknown: also send messages an interrupted run may or may not have delivered (may duplicate).
    backend: "ses" | "smtp" | a Backend; None uses settings.email.backend ("outbox" refuses: it cannot deliver).
    on_event: called as ("claimed" | "called" | "journaled" | "recorded", running count) after each step.
    """
    started = time.monotonic()
    prog, own = _progress(messages, progress)
    if own:
        prog.__enter__()
    try:
        if not apply:
            summary = _dry_run(store, settings, messages, prog)
        else:
            chosen = backend if backend is not None else settings.email.backend
            impl = make_backend(chosen, settings) if isinstance(chosen, str) else chosen
            summary = SendSummary(backend=impl.name, applied=True)
            try:
                impl.open()  # a configuration problem stops here, before the ledger is touched
                breaker = ThrottleBreaker(settings.email.max_throttled_seconds)
                run = _Run(store, impl, summary, resend_unknown, retry or RetryPolicy(), clock, on_event, prog,
                           breaker)
                try:
                    run.run(messages)
                finally:
                    summary.seconds = time.monotonic() - started
                    log.info("send: %s", summary.line())
            finally:
                impl.close()
    finally:
        if own:
            prog.__exit__(None, None, None)
    summary.seconds = time.monotonic() - started
    return summary


def _dry_run(store: "Store", settings: "Settings", messages: Iterable["OutgoingMessage"],
             prog: Progress) -> SendSummary:
    """Write what would be sent as .eml files; read the ledger (never write it), call no backend."""
    summary = SendSummary(backend="dry-run")
    root = settings.email.outbox_dir / "dry-run"
    ledger = Ledger(store, "dry-run")
    optouts = opted_out(store)
    cleared: set[str] = set()
    for msg in messages:
        email = msg.recipient.email
        entry = ledger.entry(msg.key, email)
        state = entry.state if entry else None
        prog.advance()
        if msg.kind in OPTOUT_KINDS and email in optouts:
            summary.opted_out += 1
            summary.lines.append(f"skip     {msg.key}  {email}  opted out")
        elif state == SENT:
            summary.skipped_already_sent += 1
        elif state == FAILED:
            summary.skipped_failed += 1
            summary.lines.append(f"failed before  {msg.key}  {email}  {entry.error if entry else ''}")
        elif state in (UNKNOWN, SENDING):
            summary.unknown += 1
            summary.lines.append(f"unknown  {msg.key}  {email}  interrupted earlier; sent only with resend_unknown")
        else:
            path = eml_path(root, msg)
            if msg.key not in cleared:  # a shorter list this time must not leave last time's files behind
                shutil.rmtree(path.parent, ignore_errors=True)
                cleared.add(msg.key)
            write_eml(path, msg.mime)
            summary.dry_run_files += 1
            summary.lines.append(f"would send {msg.kind} {msg.key} to {email} ({msg.size / 1024:.1f} KB) -> {path}")
    log.info("send: %s", summary.line())
    return summary


class _Run:
    """One applied send run: the main loop, the workers' retry loop, and the summary."""

    def __init__(self, store: "Store", backend: Backend, summary: SendSummary, resend_unknown: bool,
                 retry: RetryPolicy, clock: Clock | None, on_event: Event | None, prog: Progress,
                 breaker: ThrottleBreaker) -> None:
        self.backend, self.summary, self.resend_unknown, self.retry = backend, summary, resend_unknown, retry
        self.on_event, self.prog, self.breaker = on_event or (lambda name, n: None), prog, breaker
        self.ledger = Ledger(store, backend.name, clock, journal_for(store))
        # A tenth of a second of saved-up tokens: enough for the loop to batch claims when it falls
        # behind, while no one-second window goes more than ~10% over the provider's rate.
        burst = max(1, min(backend.concurrency, round((backend.rate or 0) / 10))) if backend.rate else 1
        self.bucket = TokenBucket(backend.rate, burst=burst)
        self.optouts = opted_out(store)
        self.inflight: dict[Future, "OutgoingMessage"] = {}
        self.outcomes: list[tuple["OutgoingMessage", Outcome]] = []
        self.unsent: list[tuple["OutgoingMessage", str, str]] = []
        self.seen: set[tuple[str, str]] = set()
        self.stop = threading.Event()
        self.fatal: BaseException | None = None
        self.source_error: Exception | None = None
        self._held_since: float | None = None
        self.suppressed: dict[str, str] = {}
        self.counts = {"claimed": 0, "called": 0, "journaled": 0, "recorded": 0}
        self._count_lock = threading.Lock()

    def _event(self, name: str) -> None:
        with self._count_lock:
            self.counts[name] += 1
            n = self.counts[name]
        self.on_event(name, n)

    # -- main thread ----------------------------------------------------------------------------------
    def run(self, messages: Iterable["OutgoingMessage"]) -> None:
        stale = self.ledger.recover()
        if stale:
            log.warning("send: %d deliveries were interrupted by an earlier run; they are now 'unknown' and are "
                        "only sent again with resend_unknown", len(stale))
        self.suppressed = self.backend.suppressed()
        source, exhausted = iter(messages), False
        pool = ThreadPoolExecutor(max_workers=self.backend.concurrency, thread_name_prefix="send")
        try:
            while True:
                progressed = self._harvest()
                claims: list["OutgoingMessage"] = []
                while (not exhausted and not self.stop.is_set()
                       and len(self.inflight) + len(claims) < self.backend.concurrency and self.bucket.try_take()):
                    try:
                        msg = self._next(source)
                    except Exception as exc:  # the renderer failed: send what is claimed, then report it
                        msg, self.source_error = None, exc
                    if msg is None:
                        exhausted = True
                        self.bucket.give_back()
                    else:
                        claims.append(msg)
                progressed = progressed or bool(self.unsent)
                if claims or self.unsent or not self._hold(exhausted):
                    self._flush(claims)
                for msg in claims:
                    self.inflight[pool.submit(self._deliver, msg, self.ledger.claim_number(msg))] = msg
                if not self.inflight and (exhausted or self.stop.is_set()):
                    break
                if not claims and not progressed:
                    self._idle(exhausted)
        except BaseException:
            self.stop.set()  # workers stop retrying; calls already in flight finish and are recorded
            raise
        finally:
            pool.shutdown(wait=True)
            self._harvest()
            try:
                self._flush([])
                self.ledger.journal.clear()  # reached only once the store holds every outcome
            finally:
                self.ledger.journal.close()
        if self.fatal is None and self.source_error is not None:
            raise self.source_error
        if self.fatal is not None:
            self.summary.stopped = str(self.fatal)
            if isinstance(self.fatal, MarqueeError):
                self.fatal.summary = self.summary  # type: ignore[attr-defined]
            raise self.fatal

    def _hold(self, exhausted: bool) -> bool:
        """Keep outcomes back until the next claim (a token away, at most HOLD_SECONDS) to write both at once.

        Paced sending otherwise writes twice per message (the claim, then the outcome alone), and at
        tens of messages a second those writes, not SES, set the pace. The cost: a kill in that short
        wait leaves a delivered message 'unknown', as a kill during its call would.
        """
        if not self.outcomes or exhausted or self.stop.is_set():
            self._held_since = None
            return False
        now = time.monotonic()
        self._held_since = self._held_since or now
        return now - self._held_since + self.bucket.wait_time() <= HOLD_SECONDS

    def _idle(self, exhausted: bool) -> None:
        full = len(self.inflight) >= self.backend.concurrency
        timeout = None if (exhausted or full or self.stop.is_set()) else max(self.bucket.wait_time(), 0.001)
        if self.inflight:
            wait(list(self.inflight), timeout=timeout, return_when=FIRST_COMPLETED)
        elif timeout:
            time.sleep(timeout)

    def _next(self, source: Iterator["OutgoingMessage"]) -> "OutgoingMessage | None":
        """The next message that needs a provider call; everything skipped on the way is counted."""
        for msg in source:
            if self._decide(msg):
                return msg
            self.prog.advance()
        return None

    def _decide(self, msg: "OutgoingMessage") -> bool:
        s, email = self.summary, msg.recipient.email
        if (msg.key, email) in self.seen:
            s.duplicates += 1
            s.lines.append(f"duplicate  {msg.key}  {email}  listed twice in this run; sent once")
            return False
        self.seen.add((msg.key, email))
        if msg.kind in OPTOUT_KINDS and email in self.optouts:
            s.opted_out += 1
            s.lines.append(f"opted out  {msg.key}  {email}")
            return False
        entry = self.ledger.entry(msg.key, email)
        state = entry.state if entry else None
        if state == SENT:
            s.skipped_already_sent += 1
            return False
        if state == FAILED:
            s.skipped_failed += 1
            s.lines.append(f"failed before  {msg.key}  {email}  {entry.error if entry else ''}")
            return False
        if state in (UNKNOWN, SENDING) and not self.resend_unknown:
            arrived = self.backend.delivered(msg)
            if arrived:
                self.unsent.append((msg, SENT, "found delivered after an interrupted run"))
                s.skipped_already_sent += 1
                return False
            if arrived is None:
                s.unknown += 1
                s.lines.append(f"unknown  {msg.key}  {email}  an earlier run stopped while sending it; "
                               "send with resend_unknown (may duplicate)")
                return False
        if email in self.suppressed:
            s.suppressed += 1
            s.lines.append(f"suppressed  {msg.key}  {email}  {self.suppressed[email]}")
            self.unsent.append((msg, SUPPRESSED, self.suppressed[email]))
            return False
        return True

    def _harvest(self) -> bool:
        done = [f for f in self.inflight if f.done()]
        for future in done:
            msg = self.inflight.pop(future)
            try:
                outcome, fatal = future.result()
            except Exception as exc:  # a bug in a backend: the call may have happened
                outcome, fatal = Outcome(UNKNOWN, error=f"internal error: {exc!r}"[:300]), exc
            if fatal is not None and self.fatal is None:
                self.fatal = fatal
                self.stop.set()
            self._count(msg, outcome)
            self.outcomes.append((msg, outcome))
        return bool(done)

    def _count(self, msg: "OutgoingMessage", outcome: Outcome) -> None:
        s, where = self.summary, f"{msg.key}  {msg.recipient.email}"
        self.prog.advance()
        if outcome.state == SENT:
            s.sent += 1
        elif outcome.state == FAILED:
            s.failed += 1
            s.lines.append(f"failed  {where}  {outcome.error}")
        elif outcome.state == UNKNOWN:
            s.unknown += 1
            s.lines.append(f"unknown  {where}  {outcome.error}")
        else:
            s.retry_later += 1
            s.lines.append(f"retry later  {where}  {outcome.error}")

    def _flush(self, claims: list["OutgoingMessage"]) -> None:
        self._held_since = None
        outcomes, self.outcomes = self.outcomes, []
        unsent, self.unsent = self.unsent, []
        self.ledger.commit(claims, outcomes, unsent)
        for _ in outcomes:
            self._event("recorded")
        for _ in claims:
            self._event("claimed")

    # -- worker threads -------------------------------------------------------------------------------
    def _deliver(self, msg: "OutgoingMessage", claim: int) -> tuple[Outcome, BaseException | None]:
        """Make the calls for one claimed message, and journal the outcome as soon as it is known."""
        outcome, fatal = self._calls(msg)
        if self.ledger.journal.append(msg, claim, outcome, self.ledger.clock.now()):
            self._event("journaled")
        return outcome, fatal

    def _calls(self, msg: "OutgoingMessage") -> tuple[Outcome, BaseException | None]:
        """Call the provider, retrying what may be retried; the first token was taken at the claim."""
        attempt = Attempt(PENDING)
        for n in range(1, self.retry.attempts + 1):
            if n > 1 and not self.bucket.take(self.stop):
                return Outcome(PENDING, error=f"run stopped before a retry ({attempt.error})"), None
            attempt = self.backend.attempt(msg)
            self._event("called")
            if attempt.throttled and self.breaker.throttled():
                return Outcome(PENDING, error=f"{attempt.error} (throttled; retried next run)"), self._tripped()
            if attempt.result in (SENT, FAILED, UNKNOWN):
                self.breaker.answered()
            if attempt.result == SENT:
                return Outcome(SENT, provider_id=attempt.provider_id), None
            if attempt.result in (FAILED, UNKNOWN):
                return Outcome(attempt.result, error=attempt.error), None
            if attempt.result == FATAL:
                # Nothing was sent: the message stays pending for the run after the fix.
                return Outcome(PENDING, error=attempt.error), attempt.fatal
            if n == self.retry.attempts:
                break
            delay = self.retry.delay(n)
            if attempt.throttled:
                self.bucket.pause(delay)
            if self.stop.wait(delay):
                return Outcome(PENDING, error=f"run stopped before a retry ({attempt.error})"), None
        error = f"{attempt.error} (gave up after {self.retry.attempts} tries; retried next run)"
        return Outcome(PENDING, error=error), attempt.give_up

    def _tripped(self) -> MarqueeError:
        where = getattr(self.backend, "where", self.backend.name)
        return BadResponse(f"{where} answered nothing but throttling for {self.breaker.limit:g} s "
                           "(email.max_throttled_seconds), so the run stopped; the rest are left pending and the "
                           "next `invoke send --apply` resumes with them")
