"""The daemon's schedule, ticks and health with an injected clock and an injected enforce job."""

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.clock import FixedClock
from pipeline.run.daemon import ALL, NEW_USERS, Daemon, Schedule, run_daemon
from pipeline.errors import ConfigError, LockBusy, RefusedToAct, Unreachable
from pipeline.settings import load_settings
from pipeline.store.db import open_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
SECRET = "0123456789abcdef0123456789abcdef"


@dataclass
class Result:
    run_id: int = 1
    lines: list = field(default_factory=list)
    refusals: list = field(default_factory=list)
    failures: int = 0


class Job:
    """Stands in for run_enforce: records each call, and answers from a script (a Result or an exception)."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls = []

    def __call__(self, store, settings, clock, *, apply, scope):
        assert store.con.execute("SELECT 1").fetchall() == [(1,)]  # a real, open store under the lock
        self.calls.append((clock.now(), scope, apply))
        answer = self.script.pop(0) if self.script else Result()
        if isinstance(answer, BaseException):
            raise answer
        return answer


def settings(tmp_path, **overrides):
    return load_settings(environ={}, dotenv_path=None, overrides={
        "data.dir": str(tmp_path / "data"), "data.lock_wait_seconds": 0, "daemon.ingest": False,
        "daemon.new_users_minutes": 5, "daemon.inactivity_minutes": 30, **overrides})


def scopes_over(schedule, minutes, step=1):
    """Tick every `step` minutes for `minutes`; the scope run at each minute it was due."""
    out = []
    for m in range(0, minutes + 1, step):
        now = T0 + timedelta(minutes=m)
        scope = schedule.due(now)
        if scope:
            schedule.ran(scope, now)
            out.append((m, scope))
    return out


def test_a_full_run_starts_then_new_users_every_5_and_everything_every_30_minutes():
    ran = scopes_over(Schedule(5, 30, T0), 65)
    assert ran == [(0, ALL), (5, NEW_USERS), (10, NEW_USERS), (15, NEW_USERS), (20, NEW_USERS), (25, NEW_USERS),
                   (30, ALL), (35, NEW_USERS), (40, NEW_USERS), (45, NEW_USERS), (50, NEW_USERS), (55, NEW_USERS),
                   (60, ALL), (65, NEW_USERS)]


def test_a_late_wake_up_runs_once_not_a_burst_of_missed_runs():
    schedule = Schedule(5, 30, T0)
    schedule.ran(ALL, T0)
    late = T0 + timedelta(minutes=95)
    assert schedule.due(late) == ALL
    schedule.ran(ALL, late)
    assert schedule.due(late) is None and schedule.next_at() == late + timedelta(minutes=5)


def test_a_skipped_full_run_is_retried_after_the_short_interval():
    schedule = Schedule(5, 30, T0)
    schedule.skipped(ALL, T0)
    assert schedule.due(T0 + timedelta(minutes=4)) is None
    assert schedule.due(T0 + timedelta(minutes=5)) == ALL


def test_each_tick_runs_the_due_scope_through_the_job(tmp_path):
    clock, job = FixedClock(T0), Job()
    d = Daemon(settings(tmp_path), clock, apply=True, job=job)
    for _ in range(13):  # an hour, waking every 5 minutes
        d.run_due()
        clock.advance(minutes=5)
    assert [scope for _, scope, _ in job.calls] == [ALL] + [NEW_USERS] * 5 + [ALL] + [NEW_USERS] * 5 + [ALL]
    assert all(applied for _, _, applied in job.calls)


def test_a_busy_lock_skips_the_tick_without_calling_the_job(tmp_path):
    s, clock, job = settings(tmp_path), FixedClock(T0), Job()
    d = Daemon(s, clock, apply=True, job=job)
    with open_store(s):  # someone else (a cron build) holds the writer lock
        assert d.run_due() == "skipped"
    assert job.calls == [] and d.health.last_run_at is None
    assert isinstance(d.last_problem, LockBusy)
    clock.advance(minutes=5)
    assert d.run_due() == "ok" and job.calls[0][1] == ALL  # retried soon, as the full run it was


def test_a_failing_run_is_logged_redacted_and_the_daemon_keeps_going(tmp_path, caplog):
    from pipeline import logs

    logs.REDACTOR.add(SECRET)
    s, clock = settings(tmp_path), FixedClock(T0)
    job = Job(Result(), RuntimeError(f"boom at http://t/api?apikey={SECRET}\nsecond line"))
    d = Daemon(s, clock, apply=True, job=job)
    assert d.run_due() == "ok"
    assert d.health.snapshot().body["status"] == "ok"
    clock.advance(minutes=5)
    with caplog.at_level("ERROR", logger="pipeline.run.daemon"):
        assert d.run_due() == "failed"
    failed = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(failed) == 1 and "\n" not in failed[0] and "RuntimeError: boom" in failed[0]
    snap = d.health.snapshot()
    assert snap.code == 200 and snap.body["status"] == "failing"  # the last full run is still recent
    assert SECRET not in snap.body["last_error"] and "[redacted]" in snap.body["last_error"]
    clock.advance(minutes=5)
    assert d.run_due() == "ok"  # the next tick runs as usual
    assert len(job.calls) == 3


def test_health_turns_503_when_the_last_full_success_is_too_old(tmp_path):
    clock = FixedClock(T0)
    job = Job(Result(), *[Unreachable("tautulli.url: cannot connect")] * 20)
    d = Daemon(settings(tmp_path), clock, apply=True, job=job)
    d.run_due()
    codes = []
    for _ in range(14):
        clock.advance(minutes=5)
        d.run_due()
        codes.append(d.health.snapshot().code)
    snap = d.health.snapshot()
    assert codes[:11] == [200] * 11 and codes[-1] == 503  # 2 x 30 minutes after the last success
    assert snap.body["status"] == "failing" and snap.body["last_success_at"] == T0.isoformat()
    assert snap.body["last_error"] == "tautulli.url: cannot connect"


def test_refusals_are_not_crashes_but_not_successes_either(tmp_path, caplog):
    clock = FixedClock(T0)
    job = Job(Result(refusals=["the last ingest is 30 hours old"]), RefusedToAct("too many removals"))
    d = Daemon(settings(tmp_path), clock, apply=True, job=job)
    with caplog.at_level("WARNING", logger="pipeline.run.daemon"):
        assert d.run_due() == "refused"
        clock.advance(minutes=30)
        assert d.run_due() == "refused"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    clock.advance(minutes=1)
    snap = d.health.snapshot()
    assert snap.body["last_refusal"] == "too many removals" and snap.body["last_error"] is None
    assert snap.body["status"] == "stale" and snap.code == 503  # no full run went through in the first 30 min


def test_health_says_starting_until_the_first_full_run(tmp_path):
    clock = FixedClock(T0)
    d = Daemon(settings(tmp_path), clock, apply=False, job=Job())
    snap = d.health.snapshot()
    assert snap.code == 200 and snap.body == {
        "status": "starting", "last_success_at": None, "last_run_at": None, "last_error": None,
        "last_refusal": None, "last_scope": None, "next_run_at": T0.isoformat()}
    clock.advance(minutes=31)
    assert d.health.snapshot().code == 503


def test_an_ingest_outage_is_reported_and_enforce_still_decides(tmp_path):
    calls = []

    def ingest(store, s, clock):
        calls.append("ingest")
        raise Unreachable("tautulli.url: cannot connect to http://tautulli:8181")

    job = Job()
    d = Daemon(settings(tmp_path, **{"daemon.ingest": True}), FixedClock(T0), apply=True, job=job, ingest=ingest)
    assert d.run_due() == "failed"
    assert calls == ["ingest"] and len(job.calls) == 1  # the stale-data guard decides, not the daemon
    assert d.health.snapshot().body["last_error"].startswith("ingest: tautulli.url")


def test_once_runs_everything_once_and_raises_what_went_wrong(tmp_path):
    job = Job(Result(), RefusedToAct("too many removals"))
    s = settings(tmp_path)
    run_daemon(s, FixedClock(T0), apply=True, once=True, job=job)
    with pytest.raises(RefusedToAct, match="too many removals"):
        run_daemon(s, FixedClock(T0), apply=True, once=True, job=job)
    assert [scope for _, scope, _ in job.calls] == [ALL, ALL]


def test_the_loop_stops_between_ticks_when_asked(tmp_path):
    stop = threading.Event()
    job = Job()

    def stopping(*args, **kwargs):
        stop.set()  # asked to stop during a tick: the tick finishes, no other starts
        return job(*args, **kwargs)

    thread = threading.Thread(target=run_daemon, args=(settings(tmp_path), FixedClock(T0)),
                              kwargs=dict(apply=True, stop=stop, health_port=0, job=stopping))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive() and len(job.calls) == 1


def test_ingesting_needs_tautulli(tmp_path):
    with pytest.raises(ConfigError, match="daemon.ingest"):
        run_daemon(settings(tmp_path, **{"daemon.ingest": True}), FixedClock(T0), apply=True, once=True, job=Job())
