"""`invoke enforce`: decide with the pure user policy, check the guards, then show the plan or carry it out.

One run = one enforce_runs row: the plan is decided from the store at that moment (so `--apply` acts on a
fresh plan, never on an old printout), audited, and then either previewed (dry run) or applied by the steps
of the run's scope. The media policy joins as a step of its own (MEDIA_STEPS).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from pipeline.store.audit import Audit, AuditRow
from pipeline.clock import Clock
from pipeline.errors import ConfigError, MarqueeError, StoppedPartway
from pipeline.policy import Member, Plan, UserPolicy, cap, check, decide_users
from pipeline.policy.users import MemberState
from pipeline.settings import Settings
from pipeline.store import Store

log = logging.getLogger(__name__)
SCOPES = ("all", "users", "new_users", "media")
ORDER = ("remove", "warn", "clear_warning", "welcome", "protect", "wait")


@dataclass
class EnforceResult:
    run_id: int
    lines: list[str]  # the plan table and the outcomes, as printed
    refusals: list[str]  # non-empty: nothing destructive was done
    failures: int  # actions that failed this run (recorded, retried next run)
    refused_steps: list[str] = field(default_factory=list)  # "users", "media": which steps refused


@dataclass
class Decision:
    """The user plan for one moment, with what the guards need to judge it."""

    now: datetime
    policy: UserPolicy
    members: dict[int, Member]
    states: dict[int, MemberState]
    plan: Plan  # uncapped
    first_run: bool
    last_ingest_at: datetime | None
    latest_play_at: datetime | None

    def guarded(self, plan: Plan, force: bool = False) -> tuple[Plan, list[str]]:
        """(the plan capped to the per-run limits, the guards' refusals); force skips the refusals only."""
        refusals = check(plan, last_ingest_at=self.last_ingest_at, latest_play_at_server=self.latest_play_at,
                         member_count=len(self.members), now=self.now, policy=self.policy, force=force)
        return cap(plan, self.policy, len(self.members)), refusals


@dataclass
class UserPlan:
    plan: Plan
    refusals: list[str]
    members: int
    first_run: bool = False
    timezone: str = "UTC"  # server.timezone: the zone the plan's dates are shown in


@dataclass
class RunContext:
    """One enforce run, as each step sees it."""

    store: Store
    settings: Settings
    clock: Clock
    audit: Audit
    notifier: Any  # act.notify.Notifier
    apply: bool
    force: bool
    scope: str
    decision: Decision | None = None
    on_event: Callable[[str, int], None] | None = None


@dataclass
class StepResult:
    lines: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    failures: int = 0


Step = Callable[[RunContext], Any]  # returns anything with .lines, .refusals, .failures (StepResult, MediaResult)


def decide(store: Store, settings: Settings, now: datetime) -> Decision:
    """Read members, stored states and the first applied run; let the pure policy decide. Writes nothing."""
    from pipeline.act.states import load_states

    policy = UserPolicy.from_settings(settings)
    rows = store.records("policy/members", {"min_play_seconds": policy.min_play_seconds})
    if not rows and not settings.plex.configured:
        raise ConfigError("plex.url: the user policy needs the Plex inventory; set PLEX_URL and PLEX_TOKEN, then "
                          "`invoke ingest` (or `invoke enforce --scope media` for the deletion queue alone)")
    if not rows:
        raise MarqueeError("no user with access to this server is in the store; the policy needs the Plex "
                           "inventory: run `invoke ingest` (it says why if Plex was skipped)")
    members = {row["user_id"]: Member(**row) for row in rows}
    states = load_states(store)
    started_at = store.execute("act/first_applied_run")[0][0]
    plan = decide_users(members.values(), states, now, policy, first_run=started_at is None, started_at=started_at)
    # Fresh means the Plex part too: an ingest that skipped Plex leaves the member list as old as it was.
    last_full = store.execute("policy/last_full_ingest")[0][0]
    return Decision(now, policy, members, states, plan, started_at is None, last_full,
                    store.execute("policy/latest_play")[0][0])


def plan_users(store: Store, settings: Settings, clock: Clock) -> UserPlan:
    """The user lifecycle plan for now, with the guards' refusals (empty when it may be applied)."""
    d = decide(store, settings, clock.now())
    plan, refusals = d.guarded(d.plan)
    return UserPlan(plan, refusals, len(d.members), d.first_run, settings.server.timezone)


def plan_lines(result: UserPlan) -> list[str]:
    """The plan as an admin reads it: one line per user (action, user, date, reason), the counts, the guards."""
    out = table_lines(result.plan, result.timezone)
    out += [f"refused: {reason}" for reason in result.refusals]
    return out


def table_lines(plan: Plan, timezone: str) -> list[str]:
    """One line per decision, most consequential first, then the counts; the date column in `timezone`."""
    rows = sorted(plan.actions, key=lambda a: (ORDER.index(a.kind), a.user_id))
    out = [f"{a.kind:<14} {a.username or f'user {a.user_id}':<24} {_when(a.due_at, timezone):<20} {a.reason}"
           for a in rows]
    counts = plan.counts()
    out.append("plan: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("welcome", "warn", "remove",
                                                                        "clear_warning", "protect", "wait")))
    return out


# -- running -----------------------------------------------------------------------------------------------------

def users_step(ctx: RunContext) -> StepResult:
    """The user lifecycle: audit the decisions, guard them, then preview or apply them."""
    from pipeline.act.users import UserRun, act_users, preview_users

    d = ctx.decision
    assert d is not None, "the users step needs a decision"
    result = StepResult()
    plan = d.plan
    if ctx.scope == "new_users":  # the daemon's frequent tick: welcomes only
        plan = plan.with_actions(plan.of_kind("welcome"))
    would_refuse = d.guarded(plan)[1]
    plan, refusals = d.guarded(plan, force=ctx.force)
    zone = ctx.settings.server.timezone
    # The terminal's own times are the server's, labelled; a reason keeps the UTC it was stored with, which
    # commands.py shows in the server's zone too (logs.server_times).
    header = f"user plan at {_when(d.now, zone)}: {len(d.members)} users with access"
    result.lines += [header + (" (first run: existing users are not welcomed)" if d.first_run else "")]
    result.lines += table_lines(plan, zone) if ctx.scope != "new_users" or plan.actions else ["plan: nobody to welcome"]
    ctx.audit.record(*_decision_rows(plan, ctx.apply, refused=bool(refusals)))
    if refusals:
        result.refusals = refusals
        result.lines += [f"refused: {r}" for r in refusals]
        ctx.audit.record(*(AuditRow("run", None, None, "enforce", "refused", r) for r in refusals))
        for r in refusals:
            ctx.notifier.add("refused", f"users: {r}")
    elif ctx.force:
        skipped = "; ".join(would_refuse) or "no guard objected"
        log.warning("--force: the user policy's guards were skipped (%s)", skipped)
        ctx.audit.record(AuditRow("run", None, None, "enforce", "forced", f"--force skipped the guards: {skipped}",
                                  {"would_refuse": would_refuse}))
        ctx.notifier.add("forced", f"users: --force skipped the guards ({skipped})")
        result.lines.append(f"forced: the guards were skipped ({skipped})")
    run = UserRun(ctx.store, ctx.settings, ctx.clock, ctx.audit, ctx.notifier, d.policy, d.members, d.states,
                  **({"on_event": ctx.on_event} if ctx.on_event else {}))
    acted = (act_users if ctx.apply else preview_users)(run, plan, hold_back=bool(refusals))
    result.lines += acted.lines
    result.failures += acted.failures
    return result


USER_STEPS: list[Step] = [users_step]


def media_step(ctx: RunContext) -> Any:
    """The retention queue: refresh it, then delete what is due (apply) or list it (dry run)."""
    from pipeline.act.media import enforce_media

    return enforce_media(ctx.store, ctx.settings, ctx.clock, ctx.audit, ctx.notifier, apply=ctx.apply,
                         force=ctx.force, on_event=ctx.on_event)


MEDIA_STEPS: list[Step] = [media_step]


def steps(scope: str) -> list[Step]:
    """The steps a scope runs, in order."""
    return {"all": USER_STEPS + MEDIA_STEPS, "users": USER_STEPS, "new_users": USER_STEPS,
            "media": MEDIA_STEPS}[scope]


def run_enforce(store: Store, settings: Settings, clock: Clock, *, apply: bool, force: bool = False,
                scope: str = "all", on_event: Callable[[str, int], None] | None = None) -> EnforceResult:
    """Decide now, audit, and preview (apply=False) or carry out the plan; on_event is a hook for tests."""
    from pipeline.notices.admin import Notifier

    if scope not in SCOPES:
        raise ConfigError(f"enforce scope {scope!r} is not one of {', '.join(SCOPES)}")
    chosen = steps(scope)
    from pipeline.act.readers import audit_reader_actions
    from pipeline.ingest.inbox import take_inbox

    take_inbox(store, settings, clock.now())  # readers' answers count before anything is decided
    # Decided before this run's own row exists: "first run" means no earlier applied run.
    decision = decide(store, settings, clock.now()) if users_step in chosen else None
    audit = Audit(store, clock, applied=apply, forced=force, scope=scope)
    notifier = Notifier(store, settings, clock, apply=apply)
    ctx = RunContext(store, settings, clock, audit, notifier, apply, force, scope, decision, on_event)
    lines: list[str] = audit_reader_actions(store, audit, notifier)
    refusals: list[str] = []
    refused_steps: list[str] = []
    failures = 0
    done: list[str] = []  # the steps that ran to their end
    stopped: tuple[str, MarqueeError] | None = None
    if not chosen:
        lines.append(f"scope {scope}: nothing to do here yet")
    try:
        for step in chosen:
            name = step_name(step)
            try:
                out = step(ctx)
            except MarqueeError as exc:
                if not done:
                    raise  # nothing has acted yet: the error is the whole story
                stopped = (name, exc)
                break
            done.append(name)
            lines += out.lines
            # Every reason is shown once, above the closing error line (users and media share the data guards).
            lines += [f"refused: {r}" for r in dict.fromkeys(out.refusals) if f"refused: {r}" not in lines]
            refusals += out.refusals
            refused_steps += [name] if out.refusals else []
            failures += out.failures
    except BaseException as exc:
        audit.finish("failed", f"stopped: {exc}" if isinstance(exc, MarqueeError) else f"stopped: {type(exc).__name__}")
        notifier.flush(audit.run_id)
        raise
    mode = "applied" if apply else "dry run"
    if stopped is not None:
        _stop(audit, notifier, lines, mode, scope, done, *stopped)
    refusals = list(dict.fromkeys(refusals))  # users and media refuse on the same stale data: say it once
    status = "refused" if refusals else "failed" if failures else "ok"
    summary = refusals[0] if refusals else f"{failures} failed" if failures else "ok"
    audit.finish(status, f"{mode}, {scope}: {summary}")
    lines += [f"notice problem: {p}" for p in notifier.flush(audit.run_id)]
    return EnforceResult(audit.run_id, lines, refusals, failures, refused_steps)


def step_name(step: Step) -> str:
    """"users", "media": how lines, the audit and errors name a step."""
    return getattr(step, "__name__", "a").removesuffix("_step")


def _stop(audit: Audit, notifier: Any, lines: list[str], mode: str, scope: str, done: list[str], name: str,
          exc: MarqueeError) -> None:
    """A later step failed after earlier ones acted: record and report both, then raise StoppedPartway."""
    reason = f"the {name} step stopped: {exc}"
    lines.append(f"stopped: {reason}")
    audit.record(AuditRow("run", None, None, "enforce", "failed", reason))
    notifier.add("refused", f"{name}: stopped before its end: {exc}")
    audit.finish("failed", f"{mode}, {scope}: {reason} (after the {' and '.join(done)} step)")
    lines += [f"notice problem: {p}" for p in notifier.flush(audit.run_id)]
    raise StoppedPartway(f"{reason}; the {' and '.join(done)} step before it ran to its end (its outcome is above)",
                         exc, lines) from exc


def _decision_rows(plan: Plan, applied: bool, refused: bool) -> list[AuditRow]:
    """Dry run: every decision. Applied: the acting side records outcomes; here only what waits on a warning."""
    rows = []
    for a in plan.actions:
        if refused and a.kind in ("warn", "remove"):
            phase = "refused"
        elif not applied:
            phase = "planned"
        elif a.kind == "wait" and a.inputs.get("warned_at") is not None:
            phase = "planned"  # a postponed or pending removal: the trail shows each run's view of it
        else:
            continue
        rows.append(AuditRow("user", a.user_id, a.username, a.kind, phase, a.reason, a.inputs))
    return rows


def _when(t: datetime | None, zone: str) -> str:
    """'2026-12-06 12:17 EST': a stored UTC moment in the server's zone, labelled; '-' for none."""
    return t.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z") if t else "-"
