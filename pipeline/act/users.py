"""Carry out the user plan: clear warnings, welcome, warn, remove; each step recorded as soon as it happens.

Order and records make a kill or a failure safe: a warning counts only once its e-mail is in the ledger as
sent, so a removal can never outrun its notice; an unshare is recorded right after plex.tv confirms it and
re-read from plex.tv before the next attempt. The e-mails come from notices/users.py, through the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from pipeline.errors import MarqueeError
from pipeline.notices.users import Delivery, UserNotices
from pipeline.policy.plan import Action, Plan
from pipeline.policy.users import NEW, Member, MemberState, UserPolicy, current_state, next_state
from pipeline.act.activity import Activity, now_playing
from pipeline.store.audit import AuditRow
from pipeline.act.plex_users import ALREADY, PlexAccess, delete_tautulli_history
from pipeline.act.same_server import ensure_same_server
from pipeline.act.states import gone_elsewhere, save_removed, save_states

if TYPE_CHECKING:
    from pipeline.clock import Clock
    from pipeline.settings import Settings
    from pipeline.store import Store
    from pipeline.store.audit import Audit
    from pipeline.notices.admin import Notifier

LATE_NOTICE_DAYS = 7  # a removal notice a killed run did not send still goes out this long after the removal


@dataclass
class UserRun:
    """Everything acting on one user plan needs; run_enforce builds it."""

    store: "Store"
    settings: "Settings"
    clock: "Clock"
    audit: "Audit"
    notifier: "Notifier"
    policy: UserPolicy
    members: dict[int, Member]
    states: dict[int, MemberState]
    on_event: Callable[[str, int], None] = lambda name, user_id: None  # tests: "warned", "unshared", "removed"
    plex: PlexAccess | None = None  # connected on the first removal
    plex_error: str | None = None  # why connecting failed this run (tried once, not once per user)
    playing: Activity | None = None  # who is streaming, read before the first unshare
    playing_error: str | None = None  # why that could not be read (then every removal waits)

    def state(self, user_id: int) -> MemberState:
        return current_state(self.members[user_id], self.states.get(user_id, NEW))


@dataclass
class UserResult:
    lines: list[str] = field(default_factory=list)
    failures: int = 0


def act_users(run: UserRun, plan: Plan, *, hold_back: bool) -> UserResult:
    """Apply the plan; hold_back (a guard refused) leaves warnings and removals for a later run."""
    result = UserResult()
    notices = _notices(run)
    _record_restarts(run)
    acting = [a for a in plan.actions if not (hold_back and a.kind in ("warn", "remove"))]
    _clear_warnings(run, [a for a in acting if a.kind == "clear_warning"], result)
    _welcome(run, [a for a in acting if a.kind == "welcome"], notices, result)
    _warn(run, [a for a in acting if a.kind == "warn"], notices, result)
    removed = set()
    for action in (a for a in acting if a.kind == "remove"):
        _remove(run, action, notices, result)
        removed.add(action.user_id)
    _late_removal_notices(run, notices, result, skip=removed)
    _record_gone(run, result)
    return result


def preview_users(run: UserRun, plan: Plan, *, hold_back: bool) -> UserResult:
    """Dry run: write the e-mails the plan would send to the dry-run outbox; change nothing."""
    result = UserResult()
    acting = [a for a in plan.actions if not (hold_back and a.kind in ("warn", "remove"))]
    line = _notices(run).preview(acting, {a.user_id: _notice_since(run, a) for a in acting if a.kind == "remove"})
    if line:
        result.lines.append(line)
    return result


def _notices(run: UserRun) -> UserNotices:
    return UserNotices(run.store, run.settings, run.clock, min_play_seconds=run.policy.min_play_seconds)


# -- each kind of action ---------------------------------------------------------------------------------------

def _clear_warnings(run: UserRun, actions: list[Action], result: UserResult) -> None:
    if not actions:
        return
    now = run.clock.now()
    new = {a.user_id: next_state(run.members[a.user_id], run.states.get(a.user_id, NEW), a, now) for a in actions}
    save_states(run.store, new, now)
    run.states.update(new)
    run.audit.record(*(AuditRow("user", a.user_id, a.username, a.kind, "done", a.reason, a.inputs) for a in actions))
    for a in actions:
        run.notifier.add("info", f"{_who(a)}: {a.reason}")
        _line(result, "cleared", a, "warning withdrawn")


def _welcome(run: UserRun, actions: list[Action], notices: UserNotices, result: UserResult) -> None:
    if not actions:
        return
    delivered = notices.welcome(actions)
    now = run.clock.now()
    new, rows = {}, []
    for a in actions:
        d = delivered[a.user_id]
        outcome = {"message_key": d.key, "delivery": d.state, "error": d.error}
        if d.key is not None and not d.settled:
            # Left pending (a provider hiccup): not recorded, so the next run in the window tries again.
            result.failures += 1
            rows.append(AuditRow("user", a.user_id, a.username, "welcome", "failed", a.reason, a.inputs, outcome))
            _line(result, "FAILED", a, f"welcome e-mail not sent ({d.error or 'no answer'}); retried next run")
            continue
        # Sent, or nothing more can be done (no address, opted out, bounced): either way, welcomed once.
        new[a.user_id] = next_state(run.members[a.user_id], run.states.get(a.user_id, NEW), a, d.at or now)
        phase = "done" if d.sent else "skipped"
        rows.append(AuditRow("user", a.user_id, a.username, "welcome", phase, a.reason, a.inputs, outcome))
        said = "welcome e-mail sent" if d.sent else f"no welcome e-mail ({d.error or d.state})"
        run.notifier.add("welcome", f"{_who(a)}: {said}; {a.reason}")
        _line(result, "welcomed", a, said)
    save_states(run.store, new, now)
    run.states.update(new)
    run.audit.record(*rows)
    for uid in new:
        run.on_event("welcomed", uid)


def _warn(run: UserRun, actions: list[Action], notices: UserNotices, result: UserResult) -> None:
    if not actions:
        return
    delivered = notices.warn(actions)  # an unknown warning is sent again, or the removal would wait for ever
    now = run.clock.now()
    new, rows = {}, []
    for a in actions:
        d, m = delivered[a.user_id], run.members[a.user_id]
        outcome = {"message_key": d.key, "delivery": d.state, "error": d.error, "removal_at": a.due_at}
        if d.sent:
            # The notice runs from when the e-mail left (an earlier, killed run may have sent it).
            new[a.user_id] = next_state(m, run.states.get(a.user_id, NEW), a, d.at or now)
            rows.append(AuditRow("user", a.user_id, a.username, "warn", "done", a.reason, a.inputs, outcome))
            run.notifier.add("warn", f"{_who(a)}: {a.reason}")
            _line(result, "warned", a, f"warning e-mail sent; removal on {_fmt(a.due_at)}")
            continue
        # Not sent: no warning is recorded, so the removal waits for one that is.
        problem = ("warning e-mail state unknown (no answer from the e-mail provider), so not counted as sent"
                   if d.unknown else f"warning e-mail not sent: {d.error or d.state or 'no answer'}")
        before = run.state(a.user_id)
        new[a.user_id] = replace(before, last_error=problem)
        rows.append(AuditRow("user", a.user_id, a.username, "warn", "failed", a.reason, a.inputs, outcome))
        if before.last_error != problem:  # tell the admin once, not every run
            run.notifier.add("warn", f"{_who(a)}: {problem}; the removal is postponed until a warning goes out")
        _line(result, "FAILED", a, f"{problem}; removal postponed")
        result.failures += 1
    save_states(run.store, new, now)
    run.states.update(new)
    run.audit.record(*rows)
    for uid, s in new.items():
        if s.warned_at is not None:
            run.on_event("warned", uid)


def _held(run: UserRun, a: Action, result: UserResult) -> bool:
    """True (recorded, nothing done) when this user is streaming now, or when that cannot be checked.

    Activity is read once per run, just before the first unshare; unreadable, every removal waits this run.
    """
    if run.playing is None and run.playing_error is None:
        try:
            run.playing = now_playing(run.settings)
        except MarqueeError as exc:
            run.playing_error = f"cannot check what is playing right now ({exc}); nobody is removed this run"
            run.notifier.add("info", f"removals held: {run.playing_error}")
    if run.playing is not None and a.user_id not in run.playing.user_ids:
        return False
    why = run.playing_error or "playing right now"
    run.audit.record(AuditRow("user", a.user_id, a.username, "remove", "skipped", why, a.inputs,
                              {"retry": "next run"}))
    if run.playing_error is None:
        run.notifier.add("info", f"{_who(a)}: playing right now; the removal waits for a later run")
    _line(result, "waiting", a, f"{why}; removal retried next run" if run.playing_error is None else why)
    return True


def _remove(run: UserRun, a: Action, notices: UserNotices, result: UserResult) -> None:
    now, m, state = run.clock.now(), run.members[a.user_id], run.state(a.user_id)
    if state.warned_at is None or now < state.warned_at + run.policy.notice:
        # The policy never plans this; acting refuses anyway rather than remove someone without notice.
        _remove_failed(run, a, result, "no warning recorded early enough; not removed", state, counted=False)
        return
    if run.plex is None and run.plex_error is None:
        try:
            run.plex = PlexAccess(run.settings)
            run.plex.connect()
            # Shares are per server: never unshare on a server other than the one the store describes.
            ensure_same_server(run.store, run.plex.machine_identifier)
        except MarqueeError as exc:
            run.plex, run.plex_error = None, str(exc)
    if run.plex is None:
        # Nothing reached this user's share: not an attempt, so an outage cannot use up their retries.
        _remove_failed(run, a, result, run.plex_error or "Plex is not connected", state, counted=False)
        return
    if _held(run, a, result):  # never cut anyone off mid-stream
        return
    run.audit.record(AuditRow("user", a.user_id, a.username, "remove", "started", a.reason, a.inputs))
    try:
        how = run.plex.unshare(a.user_id, remove_friend=run.settings.users.remove_friend)
    except MarqueeError as exc:
        _remove_failed(run, a, result, str(exc), state, counted=True)
        return
    run.on_event("unshared", a.user_id)
    done = next_state(m, run.states.get(a.user_id, NEW), a, now)
    save_removed(run.store, a.user_id, done, now)
    run.states[a.user_id] = done
    run.on_event("removed", a.user_id)
    outcome: dict[str, Any] = {"plex": how, "machine_identifier": run.plex.machine_identifier,
                               "attempt": done.removal_attempts}
    notes = ["already unshared on plex.tv" if how == ALREADY else
             "friendship ended" if how == "removed_friend" else "unshared from this server"]
    if run.settings.users.delete_tautulli_history:
        try:
            delete_tautulli_history(run.settings, a.user_id)
            outcome["tautulli_history"] = "deleted"
            notes.append("Tautulli history deleted")
        except MarqueeError as exc:
            outcome["tautulli_history"] = str(exc)
            notes.append(f"Tautulli history NOT deleted ({exc})")
    notes.append(_notice(notices.removal(a, _notice_since(run, a)), outcome))
    run.audit.record(AuditRow("user", a.user_id, a.username, "remove", "done", a.reason, a.inputs, outcome))
    run.notifier.add("remove", f"{_who(a)}: {'; '.join(notes)}. {a.reason}")
    _line(result, "removed", a, "; ".join(notes))


def _remove_failed(run: UserRun, a: Action, result: UserResult, error: str, state: MemberState, *,
                   counted: bool) -> None:
    m = run.members[a.user_id]
    new = next_state(m, state, a, run.clock.now(), ok=False, error=error) if counted \
        else replace(state, last_error=error)
    save_states(run.store, {a.user_id: new}, run.clock.now())
    run.states[a.user_id] = new
    left = run.policy.max_removal_attempts - new.removal_attempts
    retry = (f"attempt {new.removal_attempts} of {run.policy.max_removal_attempts}; " if counted else "") + (
        "retried next run" if left > 0 else "no attempts left: remove them by hand")
    outcome = {"error": error, "attempt": new.removal_attempts, "counted": counted,
               "max_attempts": run.policy.max_removal_attempts}
    run.audit.record(AuditRow("user", a.user_id, a.username, "remove", "failed", a.reason, a.inputs, outcome))
    run.notifier.add("remove_failed", f"{_who(a)}: {error} ({retry})")
    _line(result, "FAILED", a, f"{error} ({retry})")
    result.failures += 1


def _late_removal_notices(run: UserRun, notices: UserNotices, result: UserResult, skip: set[int]) -> None:
    """Removal notices a killed run never sent (or left pending): sent now, once."""
    now = run.clock.now()
    for uid, s in sorted(run.states.items()):
        # Marquee's own removals only: a successful attempt (a hand removal after failed ones keeps last_error).
        if (uid in skip or s.removed_at is None or s.removal_attempts == 0 or s.warned_at is None
                or s.last_error is not None or now - s.removed_at > timedelta(days=LATE_NOTICE_DAYS)):
            continue
        since = s.warned_for_idle_since or s.warned_at
        # An unknown notice goes again (a duplicate is harmless; none at all is not), within LATE_NOTICE_DAYS.
        contact = notices.late_removal_contact(uid, since)
        if contact is None:
            continue
        a = Action("remove", uid, f"removed on {_fmt(s.removed_at)}; the removal notice had not gone out",
                   inputs={"idle_since": since, "removed_at": s.removed_at}, username=contact.name)
        outcome: dict[str, Any] = {}
        said = _notice(notices.removal(a, since, removed_at=s.removed_at), outcome)
        run.audit.record(AuditRow("user", uid, contact.name, "remove", "done", a.reason, a.inputs, outcome))
        run.notifier.add("remove", f"{contact.name} (user {uid}): {said} (late, after an interrupted run)")
        _line(result, "notified", a, said)


def _record_restarts(run: UserRun) -> None:
    """Users listed again after a removal: their new membership stored at once (with member_since, when it
    restarted later than the join date), so what starts it is not lost once the removal is cleared."""
    now = run.clock.now()
    new = {uid: state for uid, m in run.members.items()
           if (stored := run.states.get(uid)) is not None and stored.removed_at is not None
           and (state := current_state(m, stored)).removed_at is None}
    save_states(run.store, new, now)
    run.states.update(new)


def _record_gone(run: UserRun, result: UserResult) -> None:
    """Users whose access ended outside Marquee: recorded as removed, so a re-invite starts afresh."""
    gone = gone_elsewhere(run.store)
    if not gone:
        return
    now = run.clock.now()
    new = {uid: replace(run.states.get(uid, NEW), removed_at=at) for uid, at in gone}
    save_states(run.store, new, now)
    run.states.update(new)
    run.audit.record(*(AuditRow("user", uid, None, "remove", "skipped",
                                f"access ended outside Marquee (ingest saw it gone on {_fmt(at)}); "
                                "recorded so that a re-invite starts afresh", {"removed_at": at})
                       for uid, at in gone))


# -- notices ---------------------------------------------------------------------------------------------------

def _notice_since(run: UserRun, a: Action) -> datetime:
    """The idle stretch a removal notice is about (its ledger key): the warned one, else the plan's."""
    s = run.states.get(a.user_id)
    return (s.warned_for_idle_since or s.warned_at) if s is not None and s.warned_at else a.inputs["idle_since"]


def _notice(d: Delivery, outcome: dict) -> str:
    """Record one removal notice's delivery; its failure never undoes the removal, it is only reported."""
    if d.key is None:
        outcome.update(notice=None, notice_error=d.error)
        return f"no removal notice ({d.error})"
    outcome.update(notice=d.key, notice_delivery=d.state, notice_error=d.error)
    return "removal notice sent" if d.sent else f"removal notice NOT sent ({d.error or d.state or 'no answer'})"


def _fmt(t: datetime | None) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if t else "-"


def _who(a: Action) -> str:
    return f"{a.username or 'user'} (user {a.user_id})"


def _line(result: UserResult, what: str, a: Action, text: str) -> None:
    result.lines.append(f"{what:<10} {a.username or f'user {a.user_id}':<24} {text}")
