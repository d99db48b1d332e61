"""Property tests: over random members, states, clocks and multi-run histories, policy never does the unsafe thing."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from pipeline.policy import Member, MemberState, UserPolicy, cap, decide_users, next_state, share_limit
from pipeline.policy.users import current_state
from tests.fixtures.policies import user_policy

BASE = datetime(2026, 6, 1, tzinfo=timezone.utc)
NAMES = ["ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal"]


def at(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


hours = st.floats(min_value=-24 * 400, max_value=24 * 5, allow_nan=False)
maybe_hours = st.none() | hours


def is_protected(m: Member, policy: UserPolicy) -> bool:
    """The issue's protection rule, written independently of the code under test."""
    keys = {k.lower() for k in (m.username, m.email or "", str(m.user_id)) if k}
    admin = (policy.admin_email or "").lower()
    return (m.is_owner or bool(admin and (m.email or "").lower() == admin) or bool(keys & policy.vip)
            or ((m.is_home or m.is_restricted) and not policy.include_home_users))


@st.composite
def policies(draw) -> UserPolicy:
    warn = draw(st.floats(min_value=1, max_value=40))
    return user_policy(
        welcome_window_days=draw(st.floats(min_value=0, max_value=14)),
        grace_hours=draw(st.floats(min_value=0, max_value=23)),
        warn_days=warn,
        kick_days=warn + draw(st.floats(min_value=0.5, max_value=10)),
        vip=frozenset(draw(st.lists(st.sampled_from(NAMES + ["3", "eve@example.org"]), max_size=3))),
        include_home_users=draw(st.booleans()),
        admin_email=draw(st.sampled_from([None, "ann@example.org", "ADMIN@example.org"])),
        max_removals_per_run=draw(st.integers(0, 4)),
        max_removal_share=draw(st.floats(min_value=0.05, max_value=1)),
    )


@st.composite
def members(draw, uid: int) -> Member:
    joined = draw(hours)
    played = draw(maybe_hours)
    name = NAMES[uid - 1]
    return Member(user_id=uid, username=name, email=draw(st.sampled_from([None, f"{name}@example.org"])),
                  is_owner=draw(st.booleans()) and uid == 1, is_home=draw(st.booleans()),
                  is_restricted=draw(st.booleans()), joined_at=at(joined),
                  last_counting_play_at=None if played is None else at(played),
                  join_is_estimate=draw(st.booleans()),
                  first_seen_at=None if (seen := draw(maybe_hours)) is None else at(max(seen, joined)))


@st.composite
def states(draw) -> MemberState:
    warned = draw(maybe_hours)
    return MemberState(
        welcomed_at=None if (w := draw(maybe_hours)) is None else at(w),
        warned_at=None if warned is None else at(warned),
        warned_for_idle_since=None if warned is None or (s := draw(maybe_hours)) is None else at(min(s, warned)),
        removed_at=None if (r := draw(maybe_hours)) is None else at(r),
        removal_attempts=draw(st.integers(0, 4)),
        last_error=draw(st.sampled_from([None, "HTTP 500"])),
    )


@st.composite
def worlds(draw):
    n = draw(st.integers(1, 8))
    ms = [draw(members(uid)) for uid in range(1, n + 1)]
    ss = {m.user_id: draw(states()) for m in ms if draw(st.booleans())}
    now = at(draw(st.floats(min_value=0, max_value=24 * 60)))
    started_at = None if (h := draw(maybe_hours)) is None else at(h)
    return ms, ss, now, draw(policies()), draw(st.booleans()), started_at


@given(worlds())
def test_single_run_never_does_the_unsafe_thing(world):
    ms, ss, now, policy, first_run, started_at = world
    plan = decide_users(ms, ss, now, policy, first_run=first_run, started_at=started_at)
    start = now if first_run else started_at
    by_id = {m.user_id: m for m in ms}
    for action in plan.actions:
        m = by_id[action.user_id]
        state = current_state(m, ss.get(m.user_id, MemberState()))
        if is_protected(m, policy):
            assert action.kind not in ("warn", "remove"), action
        if action.kind == "remove":
            assert state.warned_at is not None and now - state.warned_at >= policy.notice, action
            assert m.last_counting_play_at is None or m.last_counting_play_at <= state.warned_at
            last = m.last_counting_play_at
            assert last is None or now - last >= timedelta(days=policy.kick_days), action
        if action.kind == "welcome":
            assert state.welcomed_at is None
            assert not m.join_is_estimate or (start is not None and m.joined_at > start)
    for m in ms:
        stored = ss.get(m.user_id, MemberState()).removed_at
        if stored is not None and m.first_seen_at is not None and m.first_seen_at > stored:
            # listed again after a removal (a re-invite, or a gap in plex.tv's listing): a member, never exempt
            assert plan.for_user(m.user_id) is not None, m
    capped = cap(plan, policy, member_count=len(ms))
    assert len(capped.removals) <= min(policy.max_removals_per_run, share_limit(len(ms), policy))
    assert len(cap(plan, policy).removals) <= policy.max_removals_per_run


@given(worlds(), st.randoms(use_true_random=False))
def test_decide_is_deterministic_and_idempotent(world, rnd):
    ms, ss, now, policy, first_run, started_at = world
    plan = decide_users(ms, ss, now, policy, first_run=first_run, started_at=started_at)
    shuffled = list(ms)
    rnd.shuffle(shuffled)
    assert decide_users(shuffled, dict(ss), now, policy, first_run=first_run, started_at=started_at) == plan
    # Re-running at once after every action succeeded repeats no welcome, no warning and no removal.
    by_id = {m.user_id: m for m in ms}
    after = {a.user_id: next_state(by_id[a.user_id], ss.get(a.user_id, MemberState()), a, now) for a in plan.actions}
    again = decide_users(ms, {**ss, **after}, now, policy, first_run=False, started_at=now if first_run else started_at)
    for action in plan.of_kind("welcome", "warn", "remove"):
        repeat = again.for_user(action.user_id)
        assert repeat is None or repeat.kind != action.kind, repeat


@st.composite
def histories(draw):
    """A few users, a policy, and a series of runs: each step advances the clock, some users watch, some fail."""
    policy = draw(policies())
    n = draw(st.integers(1, 6))
    ms = [replace(draw(members(uid)), joined_at=at(draw(st.floats(min_value=-24 * 90, max_value=0))),
                  last_counting_play_at=None) for uid in range(1, n + 1)]
    steps = draw(st.lists(st.tuples(
        st.floats(min_value=0.5, max_value=24 * 6),  # hours until the next run
        st.lists(st.tuples(st.integers(1, n), st.floats(min_value=0, max_value=1)), max_size=2),  # plays
        st.floats(min_value=0, max_value=1),  # chance that an unshare or e-mail fails this run
        st.lists(st.integers(1, n), max_size=1),  # re-invites of removed users
    ), min_size=1, max_size=25))
    return policy, ms, steps


@given(histories(), st.randoms(use_true_random=False))
def test_multi_run_history_with_a_fake_clock(history, rnd):
    policy, ms, steps = history
    members = {m.user_id: m for m in ms}
    state = {uid: MemberState() for uid in members}
    warnings: dict[int, list[datetime]] = {uid: [] for uid in members}
    stretches: set[tuple[int, datetime]] = set()
    removed: set[int] = set()
    now, first_run, started = BASE, True, None
    for gap, plays, failure, reinvites in steps:
        previous, now = now, now + timedelta(hours=gap)
        for uid, frac in plays:
            m = members[uid]
            played = previous + (now - previous) * frac
            if m.last_counting_play_at is None or played > m.last_counting_play_at:
                members[uid] = replace(m, last_counting_play_at=played)
        for uid in reinvites:
            if uid in removed:
                members[uid] = replace(members[uid], joined_at=now)
                warnings[uid] = []
                removed.discard(uid)
        plan = decide_users(members.values(), state, now, policy, first_run=first_run, started_at=started)
        plan = cap(plan, policy, len(members))
        first_run, started = False, started or now
        assert len(plan.removals) <= policy.max_removals_per_run
        for action in plan.actions:
            m, uid = members[action.user_id], action.user_id
            assert not (is_protected(m, policy) and action.kind in ("warn", "remove"))
            if action.kind == "remove":
                last = m.last_counting_play_at
                assert last is None or now - last >= timedelta(days=policy.kick_days)
                # A warning that actually went out, early enough, with no play since.
                assert any(now - w >= policy.notice and (last is None or last <= w) for w in warnings[uid])
            ok = rnd.random() >= failure
            if action.kind == "warn" and ok:
                key = (uid, action.inputs["idle_since"])
                assert key not in stretches, "second warning for the same idle stretch"
                stretches.add(key)
                warnings[uid].append(now)
            if action.kind == "remove":
                assert uid not in removed, "removed twice"
                if ok:
                    removed.add(uid)
            state[uid] = next_state(m, state[uid], action, now, ok=ok, error=None if ok else "HTTP 500")
