"""User lifecycle decisions, table-driven with an injected clock: one row per scenario of issue 5."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.errors import ConfigError
from pipeline.policy import Action, Member, MemberState, Plan, UserPolicy, cap, check, decide_users, next_state
from pipeline.policy.users import current_state
from pipeline.settings import Settings, load_settings
from tests.fixtures.policies import user_policy

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
POLICY = user_policy(admin_email="Admin@Example.org", vip=frozenset({"Bestie", "vip@example.org", 77}))


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


def member(uid: int = 1, *, joined: float = 400, played: float | None = 1, **kw) -> Member:
    """A friend who joined `joined` days ago and last watched `played` days ago (None = never)."""
    fields = dict(user_id=uid, username=f"user{uid}", email=f"user{uid}@example.org", is_owner=False,
                  is_home=False, is_restricted=False, joined_at=ago(joined),
                  last_counting_play_at=None if played is None else ago(played))
    fields.update(kw)
    return Member(**fields)


def decide(m: Member, state: MemberState | None = None, *, now: datetime = NOW, policy: UserPolicy = POLICY,
           first_run: bool = False, started_at: datetime | None = ago(60)) -> Action | None:
    plan = decide_users([m], {m.user_id: state} if state else {}, now, policy, first_run=first_run,
                        started_at=started_at)
    return plan.for_user(m.user_id)


WELCOMED = MemberState(welcomed_at=ago(300))


def warned(days_ago: float, idle_since: datetime) -> MemberState:
    return replace(WELCOMED, warned_at=ago(days_ago), warned_for_idle_since=idle_since)


# (id, member, state, first_run, expected kind, expected due_at or ..., words the reason must contain)
SCENARIOS = [
    # welcome
    ("welcome-new", member(joined=2, played=1), None, False, "welcome", None, ["7-day welcome window"]),
    ("welcome-just-inside", member(joined=6.99, played=None), None, False, "welcome", None, ["joined"]),
    ("no-welcome-outside-window", member(joined=7, played=1), None, False, "wait", ago(1) + timedelta(days=27), []),
    ("no-second-welcome", member(joined=2, played=1), MemberState(welcomed_at=ago(1)), False, "wait", ..., []),
    # existing users on the first run
    ("first-run-old-member", member(joined=400, played=3), None, True, "wait", ..., []),
    ("first-run-recent-known-join", member(joined=3, played=1), None, True, "welcome", None, []),
    ("first-run-estimated-join", member(joined=0.01, played=None, join_is_estimate=True), None, True, "wait",
     ..., ["in grace"]),
    ("later-run-estimated-join", member(joined=0.01, played=None, join_is_estimate=True), None, False,
     "welcome", None, []),
    ("estimated-join-before-start", member(joined=61, played=None, join_is_estimate=True), None, False,
     "warn", ..., []),
    # grace
    ("grace-never-watched", member(joined=0.5, played=None), MemberState(welcomed_at=ago(0.4)), False, "wait",
     ago(0.5) + timedelta(hours=24, days=27), ["in grace until"]),
    ("grace-over", member(joined=2, played=None), MemberState(welcomed_at=ago(1.9)), False, "wait",
     ago(2) + timedelta(hours=24, days=27), ["never watched", "idle 1 day counted"]),
    # idle counting and the warning threshold
    ("idle-counting", member(played=10.5), WELCOMED, False, "wait", ago(10.5) + timedelta(days=27),
     ["idle 10.5 days", "warning due"]),
    ("warn-not-yet", member(played=26.99), WELCOMED, False, "wait", ago(26.99) + timedelta(days=27), []),
    ("warn-at-27", member(played=27), WELCOMED, False, "warn", NOW + timedelta(days=3),
     ["idle 27 days", "warn at 27", "removal on 2026-11-25 12:00 UTC"]),
    ("warn-late-promises-full-notice", member(played=40), WELCOMED, False, "warn", NOW + timedelta(days=3), []),
    ("no-second-warning", member(played=28), warned(1, ago(28)), False, "wait", ago(28) + timedelta(days=30),
     ["removal on 2026-11-24 12:00 UTC unless they watch"]),
    # never watched: measured from join + grace
    ("never-watched-warn", member(joined=28, played=None), WELCOMED, False, "warn", ..., ["never watched"]),
    ("never-watched-not-yet", member(joined=27.5, played=None), WELCOMED, False, "wait", ..., []),
    # removal threshold
    ("remove-at-30", member(played=30), warned(3, ago(30)), False, "remove", NOW,
     ["idle 30 days", "3 days' notice given"]),
    ("no-remove-29.9", member(played=29.9), warned(3, ago(29.9)), False, "wait", ..., []),
    ("remove-never-watched", member(joined=40, played=None), warned(5, ago(39)), False, "remove", ...,
     ["never watched"]),
    ("shifted-join-keeps-warning", member(joined=40, played=None), warned(5, ago(45)), False, "remove", ..., []),
    # late warning postponing removal: warned 1 day ago, so removal waits 2 more days
    ("late-warning-waits", member(played=45), warned(1, ago(45)), False, "wait", ago(1) + timedelta(days=3),
     ["warned only on", "waits until 2026-11-24 12:00 UTC"]),
    ("late-warning-due", member(played=45), warned(3, ago(45)), False, "remove", ago(3) + timedelta(days=3), []),
    ("no-remove-without-warning", member(played=60), WELCOMED, False, "warn", NOW + timedelta(days=3), []),
    # re-activity clears the warning
    ("watched-again", member(played=0.5), warned(2, ago(28)), False, "clear_warning", None, ["watched again"]),
    ("watched-again-then-idle-long", member(played=27.5), warned(40, ago(60)), False, "warn", ..., ["idle again"]),
    # protection
    ("owner", member(played=None, is_owner=True), None, False, "protect", None, ["server owner"]),
    ("admin-email", member(played=90, email="ADMIN@example.org"), WELCOMED, False, "protect", None, ["admin e-mail"]),
    ("vip-username", member(played=90, username="bestie"), WELCOMED, False, "protect", None, ["vip by username"]),
    ("vip-email", member(played=90, email="VIP@Example.org"), WELCOMED, False, "protect", None, ["vip by e-mail"]),
    ("vip-id", member(77, played=90), WELCOMED, False, "protect", None, ["vip by id"]),
    ("vip-new-is-welcomed", member(77, joined=1), None, False, "welcome", None, ["protected: vip by id"]),
    ("owner-never-welcomed", member(joined=1, is_owner=True), None, False, "protect", None, []),
    ("home-user", member(played=90, is_home=True), WELCOMED, False, "protect", None, ["home user"]),
    ("managed-user", member(played=90, is_home=True, is_restricted=True), WELCOMED, False, "protect", None,
     ["managed user"]),
    ("vip-after-warning", member(played=28, username="bestie"), warned(1, ago(28)), False, "clear_warning", None,
     ["withdrawn"]),
    # already removed, and re-invited
    ("removed", member(played=40), replace(warned(10, ago(40)), removed_at=ago(7)), False, None, None, []),
    ("re-invited-is-new", member(joined=2, played=60), replace(warned(40, ago(70)), removed_at=ago(10)), False,
     "welcome", None, ["joined"]),
    ("re-invited-old-warning-ignored", member(joined=20, played=60),
     replace(warned(40, ago(70)), removed_at=ago(30)), False, "wait", ago(19) + timedelta(days=27), []),
    # failed removals are retried, within bounds
    ("remove-retry", member(played=35), replace(warned(8, ago(35)), removal_attempts=1, last_error="HTTP 500"),
     False, "remove", ..., ["retry 2 of 3", "HTTP 500"]),
    ("remove-gave-up", member(played=35), replace(warned(8, ago(35)), removal_attempts=3, last_error="HTTP 410"),
     False, "wait", None, ["failed 3 times", "HTTP 410"]),
]


@pytest.mark.parametrize("m, state, first_run, kind, due_at, words",
                         [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_scenario(m, state, first_run, kind, due_at, words):
    action = decide(m, state, first_run=first_run)
    if kind is None:
        assert action is None
        return
    assert action.kind == kind, action.reason
    if due_at is not ...:
        assert action.due_at == due_at
    for word in words:
        assert word in action.reason
    assert action.inputs["warn_days"] == 27 and action.inputs["kick_days"] == 30


def test_existing_users_with_estimated_join_are_not_welcomed_on_later_runs_either():
    """Day one: ingest first sees everyone, enforce runs at once and again 30 minutes later."""
    m = member(joined=0.1, played=1, join_is_estimate=True)
    start = NOW
    assert decide(m, now=start, first_run=True).kind == "wait"
    assert decide(m, now=start + timedelta(minutes=30), started_at=start).kind == "wait"
    assert decide(m, now=start + timedelta(minutes=30), started_at=None).kind == "wait"  # unknown: do not guess
    newcomer = member(2, joined=-0.01, played=None, join_is_estimate=True)  # first seen after enforcement began
    assert decide(newcomer, now=start + timedelta(minutes=30), started_at=start).kind == "welcome"
    assert decide(member(3, joined=2), policy=replace(POLICY, welcome_window_days=0)).kind == "wait"


def test_home_users_are_in_scope_when_included():
    m = member(played=28, is_home=True)
    assert decide(m, WELCOMED).kind == "protect"
    assert decide(m, WELCOMED, policy=replace(POLICY, include_home_users=True)).kind == "warn"


def test_inputs_carry_last_play_idle_days_thresholds_and_warning_date():
    action = decide(member(played=30), warned(3, ago(30)))
    row = action.row()
    assert row["inputs"]["last_play_at"] == "2026-10-23T12:00:00+00:00"
    assert row["inputs"]["idle_days"] == 30.0
    assert row["inputs"]["warned_at"] == "2026-11-19T12:00:00+00:00"
    assert row["due_at"] == "2026-11-22T12:00:00+00:00"
    assert row["kind"] == "remove" and row["username"] == "user1"


def test_plan_is_ordered_by_user_and_counts_every_kind():
    members = [member(3, played=28), member(1, played=2), member(2, played=None, is_owner=True)]
    plan = decide_users(members, {1: WELCOMED, 3: WELCOMED}, NOW, POLICY, first_run=False)
    assert [a.user_id for a in plan.actions] == [1, 2, 3]
    assert plan.counts() == {"welcome": 0, "warn": 1, "remove": 0, "clear_warning": 0, "protect": 1, "wait": 1}


def test_duplicate_members_and_naive_clock_are_refused():
    with pytest.raises(ValueError, match="twice"):
        decide_users([member(1), member(1)], {}, NOW, POLICY, first_run=False)
    with pytest.raises(ValueError, match="aware"):
        decide_users([member(1)], {}, NOW.replace(tzinfo=None), POLICY, first_run=False)


def test_state_across_three_runs():
    """Run 1 warns, run 2 (one day on) waits, run 3 (three days after the warning) removes; then nothing."""
    m = member(played=27.5)
    state, runs = WELCOMED, []
    for now in (NOW, NOW + timedelta(days=1), NOW + timedelta(days=3), NOW + timedelta(days=4)):
        action = decide(m, state, now=now)
        runs.append(action and action.kind)
        if action is not None:
            state = next_state(m, state, action, now)
    assert runs == ["warn", "wait", "remove", None]
    assert state.warned_at == NOW and state.warned_for_idle_since == ago(27.5)
    assert state.removed_at == NOW + timedelta(days=3)


def test_failed_warning_email_postpones_removal_and_failed_unshare_is_retried():
    m = member(played=29)
    state = next_state(m, WELCOMED, decide(m, WELCOMED), NOW, ok=False, error="SES throttled")
    assert state == WELCOMED  # nothing recorded, so no removal can follow
    later = NOW + timedelta(days=2)
    assert decide(m, state, now=later).kind == "warn"
    state = next_state(m, state, decide(m, state, now=later), later)
    removal_day = later + timedelta(days=3)
    removal = decide(m, state, now=removal_day)
    assert removal.kind == "remove"
    state = next_state(m, state, removal, removal_day, ok=False, error="plex.tv answered 500")
    assert state.removal_attempts == 1 and state.removed_at is None
    again = decide(m, state, now=removal_day + timedelta(hours=1))
    assert again.kind == "remove" and "plex.tv answered 500" in again.reason


def test_reinvited_user_after_removal_gets_a_fresh_membership():
    old = replace(warned(40, ago(70)), removed_at=ago(10), removal_attempts=1)
    m = member(joined=2, played=60)
    welcome = decide(m, old)
    state = next_state(m, old, welcome, NOW)
    assert state == MemberState(welcomed_at=NOW)


def test_a_user_listed_again_after_a_removal_with_the_same_join_date_is_a_new_membership():
    # plex.tv missed her for one ingest (recorded as removed); she is back, same acceptedAt, seen again since.
    gap = replace(warned(4, ago(33)), removed_at=ago(3.9))
    back = member(joined=400, played=33, first_seen_at=ago(3.8))
    action = decide(back, gap)
    # never exempt: the warning she got before the gap (same join, same idle stretch) still counts
    assert action is not None and action.kind == "remove"
    assert next_state(back, gap, action, NOW).removed_at == NOW
    # first seen before the removal (no return since): still removed, nothing to decide
    assert decide(member(joined=400, played=33, first_seen_at=ago(300)), gap) is None
    assert decide(member(joined=400, played=33), gap) is None


def test_a_user_marquee_removed_and_the_admin_re_shared_is_not_removed_again_on_the_old_warning():
    # Marquee removed her 10 days ago; the admin re-shared 2 days ago and plex.tv kept her acceptedAt.
    ours = replace(warned(20, ago(60)), removed_at=ago(10), removal_attempts=1)
    back = member(joined=400, played=60, first_seen_at=ago(2))
    action = decide(back, ours)
    assert action is not None and action.kind != "remove"
    assert action.inputs["warned_at"] is None and action.inputs["idle_since"] == ago(2) + timedelta(
        hours=POLICY.grace_hours)
    # a month on, still idle: she is warned afresh before any removal
    later = decide(back, ours, now=NOW + timedelta(days=POLICY.warn_days))
    assert later.kind == "warn"


def test_a_re_shared_users_new_membership_outlives_the_run_that_saw_it():
    ours = replace(warned(20, ago(60)), removed_at=ago(10), removal_attempts=1)
    back = member(joined=400, played=60, first_seen_at=ago(2))
    first = decide(back, ours)
    state = next_state(back, ours, first, NOW)
    assert state.removed_at is None and state.warned_at is None and state.member_since == ago(2)
    # Later runs start from the stored state (the removal no longer in it): the old warning stays behind.
    warn_at = ago(2) + timedelta(hours=POLICY.grace_hours, days=POLICY.warn_days)
    assert decide(back, state, now=warn_at - timedelta(hours=1)).kind == "wait"
    warning = decide(back, state, now=warn_at)
    assert warning.kind == "warn" and warning.inputs["member_since"] == ago(2)
    state = next_state(back, state, warning, warn_at)
    assert decide(back, state, now=warn_at + POLICY.notice - timedelta(hours=1)).kind == "wait"
    assert decide(back, state, now=warn_at + POLICY.notice).kind == "remove"
    # A listing gap inside the new membership keeps both its start and its warning.
    gap = replace(state, removed_at=warn_at + timedelta(hours=1))
    again = replace(back, first_seen_at=warn_at + timedelta(hours=2))
    assert current_state(again, gap) == replace(state, removed_at=None)
    assert decide(again, gap, now=warn_at + POLICY.notice).kind == "remove"


# The thresholds are checked once, where settings are loaded (settings.py); the policy takes them as they are.
@pytest.mark.parametrize("change, words", [
    ({"users.warn_days": 30}, "users: warn_days (30) must be less than kick_days (30)"),
    ({"users.warn_days": 31}, "must be less than"),
    ({"users.kick_days": 0}, "users.kick_days: Input should be greater than 0"),
    ({"users.grace_hours": -1}, "users.grace_hours: Input should be greater than or equal to 0"),
    ({"users.grace_hours": 24 * 28}, "users: grace_hours (672) must be shorter"),
    ({"users.max_removal_share": 0}, "users.max_removal_share: Input should be greater than 0"),
    ({"users.max_removal_share": 1.5}, "less than or equal to 1"),
    ({"users.max_removals_per_run": -1}, "users.max_removals_per_run: Input should be greater than or equal to 0"),
    ({"users.quiet_days": 0}, "users.quiet_days: Input should be greater than 0"),
    ({"users.max_data_age_hours": float("nan")}, "users.max_data_age_hours: Input should be a finite number"),
    ({"users.max_data_age_hours": float("inf")}, "users.max_data_age_hours: Input should be a finite number"),
    ({"email.admin_email": "admin"}, "email.admin_email: 'admin' is not an e-mail address"),
])
def test_config_validation(change, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")) as err:
        load_settings(environ={}, dotenv_path=None, overrides=change)
    assert "\n" not in str(err.value)


def test_default_config_is_the_issues_and_valid():
    p = UserPolicy.from_settings(Settings())
    assert (p.welcome_window_days, p.grace_hours, p.warn_days, p.kick_days) == (7, 24, 27, 30)
    assert (p.max_removals_per_run, p.max_removal_share, p.include_home_users) == (5, 0.2, False)
    assert p.notice == timedelta(days=3)
    assert user_policy(vip=[" Bob ", 12]).vip == frozenset({"bob", "12"})


def test_the_policy_takes_every_threshold_from_the_settings():
    settings = load_settings(environ={}, dotenv_path=None, overrides={
        "users.welcome_window_days": 3, "users.grace_hours": 12, "users.min_play_seconds": 60, "users.warn_days": 10,
        "users.kick_days": 12.5, "users.vip": ["Bestie"], "users.include_home_users": True,
        "email.admin_email": "boss@example.org", "users.max_removals_per_run": 2, "users.max_removal_share": 0.5,
        "users.max_data_age_hours": 6, "users.quiet_days": 1, "users.max_removal_attempts": 4})
    assert UserPolicy.from_settings(settings) == UserPolicy(
        welcome_window_days=3, grace_hours=12, min_play_seconds=60, warn_days=10, kick_days=12.5,
        vip=frozenset({"bestie"}), include_home_users=True, admin_email="boss@example.org", max_removals_per_run=2,
        max_removal_share=0.5, max_data_age_hours=6, quiet_days=1, max_removal_attempts=4)


# guards

def removals(n: int) -> Plan:
    return Plan(NOW, tuple(Action("remove", uid, "idle", NOW, {"idle_since": ago(30 + uid)}) for uid in range(n)))


FRESH = dict(last_ingest_at=ago(hours=1), latest_play_at_server=ago(hours=3), member_count=100, now=NOW,
             policy=POLICY)


@pytest.mark.parametrize("plan, change, words", [
    (removals(1), {}, None),
    (removals(1), dict(last_ingest_at=ago(hours=25)), "ingest was 25.0 hours ago"),
    (removals(1), dict(last_ingest_at=None), "no successful ingest"),
    (removals(1), dict(latest_play_at_server=ago(3, 1)), "no plays server-wide since 2026-11-19 11:00"),
    (removals(1), dict(latest_play_at_server=None), "no plays server-wide ever"),
    (removals(6), {}, "removes 6 users, more than max_removals_per_run = 5"),
    (removals(3), dict(member_count=10), "removes 3 of 10 users"),
    (removals(2), dict(member_count=10), None),
    (removals(1), dict(member_count=3), None),  # one removal is always allowed by the share
    (Plan(NOW, (Action("welcome", 1, "new"),)), dict(last_ingest_at=ago(9), latest_play_at_server=None), None),
    (Plan(NOW, (Action("warn", 1, "idle"),)), dict(last_ingest_at=ago(9)), "hours ago"),
])
def test_guards(plan, change, words):
    refusals = check(plan, **{**FRESH, **change})
    if words is None:
        assert refusals == []
    else:
        assert len(refusals) == 1 and words in refusals[0], refusals
        assert "\n" not in refusals[0]


def test_force_skips_guards():
    bad = dict(FRESH, last_ingest_at=None, latest_play_at_server=None, member_count=1)
    assert len(check(removals(9), **bad)) == 4
    assert check(removals(9), **bad, force=True) == []


def test_cap_keeps_longest_idle_and_turns_the_rest_into_waits():
    capped = cap(removals(8), POLICY)
    assert [a.user_id for a in capped.removals] == [3, 4, 5, 6, 7]  # idle_since = 30 + uid days ago
    waits = capped.of_kind("wait")
    assert [a.user_id for a in waits] == [0, 1, 2] and all(a.reason.startswith("cap:") for a in waits)
    assert check(capped, **FRESH) == []
    assert len(cap(removals(8), POLICY, member_count=10).removals) == 2
    assert cap(removals(2), POLICY) == removals(2)
