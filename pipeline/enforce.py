"""`invoke enforce`: read the store, let the pure user policy decide, check the guards, show the plan.

Applying the plan (unsharing through plexapi, the e-mails, the audit table) is not built yet, so this only
ever shows what would happen.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import Clock
from .errors import MarqueeError
from .policy import Member, Plan, UserPolicy, cap, check, decide_users
from .policy.users import NEW
from .settings import Settings
from .store import Store


@dataclass
class UserPlan:
    plan: Plan
    refusals: list[str]
    members: int


def user_policy(settings: Settings) -> UserPolicy:
    users = settings.users
    return UserPolicy(
        welcome_window_days=users.welcome_window_days, grace_hours=users.grace_hours,
        min_play_seconds=users.min_play_seconds, warn_days=users.warn_days, kick_days=users.kick_days,
        vip=frozenset(users.vip), include_home_users=users.include_home_users,
        admin_email=settings.email.admin_email or None, max_removals_per_run=users.max_removals_per_run,
        max_removal_share=users.max_removal_share, max_data_age_hours=users.max_data_age_hours,
        quiet_days=users.quiet_days, max_removal_attempts=users.max_removal_attempts).validate()


def plan_users(store: Store, settings: Settings, clock: Clock) -> UserPlan:
    """The user lifecycle plan for now, with the guards' refusals (empty when it may be applied)."""
    policy = user_policy(settings)
    rows = store.records("policy/members", {"min_play_seconds": policy.min_play_seconds})
    if not rows:
        raise MarqueeError("no user with access to this server is in the store; the policy needs the Plex "
                           "inventory (set PLEX_URL and PLEX_TOKEN, then `invoke ingest`)")
    members = [Member(**row) for row in rows]
    now = clock.now()
    # No enforcement has been applied yet, so nobody has been welcomed or warned.
    plan = decide_users(members, {m.user_id: NEW for m in members}, now, policy, first_run=True)
    last = store.execute("ingest/last_successful_run")
    refusals = check(plan, last_ingest_at=last[0][2] if last else None,
                     latest_play_at_server=store.execute("policy/latest_play")[0][0],
                     member_count=len(members), now=now, policy=policy)
    return UserPlan(cap(plan, policy, len(members)), refusals, len(members))


def plan_lines(result: UserPlan) -> list[str]:
    """The plan as an admin reads it: one line per user who gets an action, then the guards."""
    order = ("remove", "warn", "clear_warning", "welcome", "protect")
    acting = sorted((a for a in result.plan.actions if a.kind in order), key=lambda a: (order.index(a.kind), a.user_id))
    out = [f"{a.kind:<14} {a.username or f'user {a.user_id}':<24} {a.reason}" for a in acting]
    counts = result.plan.counts()
    out.append("plan: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("welcome", "warn", "remove",
                                                                        "clear_warning", "protect", "wait")))
    out += [f"refused: {reason}" for reason in result.refusals]
    return out
