"""Refusals before acting on a user plan: stale data, a quiet (probably down) Tautulli, too many removals."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

from pipeline.policy.plan import Plan
from pipeline.policy.users import UserPolicy


def check(plan: Plan, *, last_ingest_at: datetime | None, latest_play_at_server: datetime | None,
          member_count: int, now: datetime, policy: UserPolicy, force: bool = False) -> list[str]:
    """One-line refusals (empty = safe to act); `force` skips them all and the caller must log that."""
    if force:
        return []
    refusals = []
    if plan.of_kind("warn", "remove"):
        # Welcomes and cleared warnings are harmless on old data; warnings and removals are not.
        refusals += data_refusals(last_ingest_at=last_ingest_at, latest_play_at_server=latest_play_at_server,
                                  now=now, max_data_age_hours=policy.max_data_age_hours, quiet_days=policy.quiet_days)
    removals = len(plan.removals)
    if removals > policy.max_removals_per_run:
        refusals.append(f"the plan removes {removals} users, more than max_removals_per_run = "
                        f"{policy.max_removals_per_run}; check the data or raise the limit")
    limit = share_limit(member_count, policy)
    if removals > limit:
        refusals.append(f"the plan removes {removals} of {member_count} users, more than max_removal_share = "
                        f"{policy.max_removal_share:g} allows ({limit}); check the data or raise the share")
    return refusals


def data_refusals(*, last_ingest_at: datetime | None, latest_play_at_server: datetime | None, now: datetime,
                  max_data_age_hours: float, quiet_days: float) -> list[str]:
    """Why the data is too old or too quiet to act on (the user and the media policy share these)."""
    refusals = []
    if last_ingest_at is None:
        refusals.append("no successful ingest is recorded; run `invoke ingest` before enforcing")
    elif now - last_ingest_at > timedelta(hours=max_data_age_hours):
        refusals.append(f"the last successful ingest was {_hours(now - last_ingest_at)} hours ago "
                        f"(max_data_age_hours = {max_data_age_hours:g}); run `invoke ingest` first")
    if latest_play_at_server is None or now - latest_play_at_server > timedelta(days=quiet_days):
        when = "ever" if latest_play_at_server is None else f"since {latest_play_at_server:%Y-%m-%d %H:%M}"
        refusals.append(f"Tautulli shows no plays server-wide {when} (quiet_days = {quiet_days:g}); "
                        "it was probably down: check it and re-ingest")
    return refusals


def share_limit(member_count: int, policy: UserPolicy) -> int:
    """Most removals the share allows; at least one, so a server with a handful of friends can still act."""
    return max(1, math.floor(policy.max_removal_share * member_count + 1e-9))


def cap(plan: Plan, policy: UserPolicy, member_count: int | None = None) -> Plan:
    """Keep at most max_removals_per_run removals (and the share, when member_count is given), longest idle first."""
    limit = policy.max_removals_per_run
    if member_count is not None:
        limit = min(limit, share_limit(member_count, policy))
    removals = sorted(plan.removals, key=lambda a: (a.inputs.get("idle_since") or plan.now, a.user_id))
    if len(removals) <= limit:
        return plan
    over = {a.user_id for a in removals[limit:]}
    reason = f"cap: {len(removals)} removals planned, at most {limit} per run; this removal waits for a later run"
    actions = tuple(replace(a, kind="wait", reason=f"{reason} ({a.reason})") if a.user_id in over else a
                    for a in plan.actions)
    return plan.with_actions(actions)


def _hours(delta: timedelta) -> str:
    return f"{delta / timedelta(hours=1):.1f}"
