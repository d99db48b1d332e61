"""`invoke daemon`: run enforce on two schedules under the store's writer lock, with a loopback health check.

Every daemon.new_users_minutes the "new_users" scope welcomes who just joined; every
daemon.inactivity_minutes the whole policy runs (scope "all", which covers new users too). Each run
opens the store with the single-writer lock, so a cron job or a manual `invoke` never overlaps it.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from pipeline.clock import Clock, SystemClock
from pipeline.run.health import Health, HealthServer
from pipeline.errors import ConfigError, LockBusy, MarqueeError, RefusedToAct, SourceError
from pipeline.logs import REDACTOR, server_times
from pipeline.settings import Settings

log = logging.getLogger(__name__)

NEW_USERS, ALL = "new_users", "all"
MAX_SLEEP = 60.0  # seconds; re-read the clock at least this often (it may jump)

Job = Callable[..., Any]  # (store, settings, clock, *, apply, scope) -> EnforceResult
Ingest = Callable[..., Any]  # (store, settings, clock) -> IngestSummary


class Schedule:
    """Which scope is due when; a full run also counts as a new-user run."""

    def __init__(self, new_users_minutes: float, inactivity_minutes: float, start: datetime) -> None:
        self.every = {NEW_USERS: timedelta(minutes=new_users_minutes), ALL: timedelta(minutes=inactivity_minutes)}
        self.next = {ALL: start, NEW_USERS: start}

    def due(self, now: datetime) -> str | None:
        if now >= self.next[ALL]:
            return ALL
        if now >= self.next[NEW_USERS]:
            return NEW_USERS
        return None

    def ran(self, scope: str, started: datetime) -> None:
        """The run of `scope` that started then happened (or failed): next one a full interval later."""
        self.next[scope] = started + self.every[scope]
        if scope == ALL:
            self.next[NEW_USERS] = started + self.every[NEW_USERS]

    def skipped(self, scope: str, started: datetime) -> None:
        """The lock was busy: try again after the short interval (not a whole long one), whatever is due then."""
        retry = started + min(self.every.values())
        for name in self.next:
            self.next[name] = max(self.next[name], retry) if name != scope else retry

    def next_at(self) -> datetime:
        return min(self.next.values())


class Daemon:
    """One tick at a time: lock, ingest, enforce, record; nothing a run raises stops the daemon."""

    def __init__(self, settings: Settings, clock: Clock, *, apply: bool, job: Job | None = None,
                 ingest: Ingest | None = None) -> None:
        cfg = settings.daemon
        self.settings, self.clock, self.apply = settings, clock, apply
        self.job, self.ingest = job, ingest
        now = clock.now()
        self.schedule = Schedule(cfg.new_users_minutes, cfg.inactivity_minutes, now)
        self.health = Health(clock, window=timedelta(minutes=2 * cfg.inactivity_minutes),
                             starting=timedelta(minutes=cfg.inactivity_minutes))
        self.health.scheduled(self.schedule.next_at())
        self.last_problem: MarqueeError | None = None  # of the last tick, for --once

    def run_due(self) -> str | None:
        """Run the scope that is due now, if any; its outcome ("ok" | "refused" | "failed" | "skipped")."""
        scope = self.schedule.due(self.clock.now())
        return None if scope is None else self.tick(scope)

    def tick(self, scope: str) -> str:
        from pipeline.store.db import open_store

        started = self.clock.now()
        self.last_problem = None
        errors: list[str] = []
        try:
            with open_store(self.settings) as store:
                if self.settings.daemon.ingest:
                    errors += self._ingest(store)
                result = self._job()(store, self.settings, self.clock, apply=self.apply, scope=scope)
        except LockBusy as exc:
            log.info("daemon: %s run skipped: %s", scope, exc)
            self.schedule.skipped(scope, started)
            self.health.scheduled(self.schedule.next_at())
            self.last_problem = exc
            return "skipped"
        except RefusedToAct as exc:
            return self._done(scope, started, errors, [str(exc)], exc)
        except Exception as exc:  # a bug or an outage in one run must not end the daemon
            log.debug("daemon: %s run failed", scope, exc_info=True)
            line = one_line(exc)
            errors.append(line)
            problem = exc if isinstance(exc, MarqueeError) else MarqueeError(line)
            return self._done(scope, started, errors, [], problem)
        refusals = [str(r) for r in getattr(result, "refusals", None) or []]
        problem = RefusedToAct("; ".join(refusals)) if refusals else None
        if errors and problem is None:
            problem = MarqueeError(errors[0])
        return self._done(scope, started, errors, refusals, problem, result)

    def _job(self) -> Job:
        if self.job is None:
            from pipeline.run.enforce import run_enforce

            self.job = run_enforce
        return self.job

    def _ingest(self, store) -> list[str]:
        """Ingest first so the guards see fresh data; an outage is reported and enforce still runs,
        because its stale-data guard is what decides whether acting on older data is safe."""
        ingest = self.ingest
        if ingest is None:
            from pipeline.ingest.run import run_ingest as ingest
        try:
            summary = ingest(store, self.settings, self.clock)
        except SourceError as exc:  # logged with the run's outcome
            return [f"ingest: {one_line(exc)}"]
        lines = summary.lines() if hasattr(summary, "lines") else []
        log.info("daemon: ingest: %s", "; ".join(lines[:-1]) or "done")
        return []

    def _done(self, scope: str, started: datetime, errors: list[str], refusals: list[str],
              problem: MarqueeError | None, result: Any = None) -> str:
        self.schedule.ran(scope, started)
        self.health.ran(scope, started, counts=scope == ALL, error="; ".join(errors) or None,
                        refusal="; ".join(refusals) or None)
        self.health.scheduled(self.schedule.next_at())
        self.last_problem = problem
        zone = self.settings.server.timezone
        nxt = server_times(f"{self.schedule.next_at().astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC", zone)
        for line in getattr(result, "lines", None) or []:
            log.debug("daemon: %s", server_times(line, zone))
        if errors:
            also = f"; refused: {'; '.join(refusals)}" if refusals else ""
            log.error("daemon: %s run failed: %s%s (next run %s)", scope, "; ".join(errors), also, nxt)
            return "failed"
        if refusals:
            log.warning("daemon: %s run refused: %s (next run %s)", scope, "; ".join(refusals), nxt)
            return "refused"
        failures = getattr(result, "failures", 0) or 0
        tail = f", {failures} action(s) failed and will be retried" if failures else ""
        run_id = getattr(result, "run_id", None)
        log.info("daemon: %s run done%s%s (next run %s)", scope, f" (enforce run {run_id})" if run_id else "", tail,
                 nxt)
        return "ok"

    def seconds_to_next(self) -> float:
        wait = (self.schedule.next_at() - self.clock.now()).total_seconds()
        return min(max(wait, 0.0), MAX_SLEEP)


def one_line(exc: BaseException) -> str:
    """The error as one redacted line (a traceback goes to the debug log)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, MarqueeError):
        text = f"{type(exc).__name__}: {text}"
    return REDACTOR.redact(text)[:300]


def run_daemon(settings: Settings, clock: Clock, *, apply: bool, once: bool = False,
               stop: threading.Event | None = None, health_port: int | None = None, job: Job | None = None) -> None:
    """Run enforce on the daemon's schedules until `stop` is set or SIGTERM/SIGINT (the current run finishes).

    once: one full run now, then return; its failure, refusal or a busy lock is raised like a command's.
    health_port: overrides daemon.health_port (0: a free port; the URL is logged).
    job: what a run calls, (store, settings, clock, *, apply, scope); default pipeline.run.enforce.run_enforce.
    """
    if settings.daemon.ingest and not settings.tautulli.configured:
        raise ConfigError("daemon.ingest: the daemon ingests before each run and needs TAUTULLI_URL and "
                          "TAUTULLI_API_KEY (or set daemon.ingest = false and ingest some other way)")
    stop = stop or threading.Event()
    daemon = Daemon(settings, clock, apply=apply, job=job)
    if not apply:
        log.warning("daemon: dry run: plans are computed and logged, nothing is sent or changed "
                    "(run with --apply to act)")
    if once:
        daemon.tick(ALL)
        if daemon.last_problem is not None:
            raise daemon.last_problem
        return

    port = settings.daemon.health_port if health_port is None else health_port
    server = HealthServer(daemon.health, settings.daemon.health_bind, port).start()
    web = None
    if settings.web.public_url:  # readers' links work while the daemon runs
        from pipeline.run.web import WebThread

        web = WebThread(settings).start()
        log.info("daemon: reader actions on %s:%s for %s", settings.web.bind, settings.web.port,
                 settings.web.public_url)
    restore = _stop_on_signals(stop)
    log.info("daemon: started; new users every %g min, everything every %g min; health check at %s",
             settings.daemon.new_users_minutes, settings.daemon.inactivity_minutes, server.url)
    try:
        while not stop.is_set():
            daemon.run_due()
            if stop.is_set():
                break
            stop.wait(daemon.seconds_to_next())
        log.info("daemon: stopped")
    finally:
        restore()
        server.stop()
        if web is not None:
            web.stop()


def _stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGTERM/SIGINT set `stop` (the current run finishes); a second one acts as usual and ends it now."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread may install handlers (tests run the loop in a thread)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def on_signal(signum: int, frame: object) -> None:
        stop.set()
        restore()
        # Logging from a handler is safe here: Python runs it in the main thread between bytecodes.
        log.info("daemon: %s received; stopping after the current run (send it again to stop now)",
                 signal.Signals(signum).name)

    for sig in previous:
        signal.signal(sig, on_signal)
    return restore


def daemon(settings: Settings, clock: Clock | None = None, *, apply: bool = False, once: bool = False) -> None:
    """`invoke daemon`: enforce on a schedule with a health endpoint, until SIGTERM or Ctrl-C."""
    run_daemon(settings, clock or SystemClock(), apply=apply, once=once)
