"""Property tests: over random members, states, clocks and multi-run histories, policy never does the unsafe thing."""

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pipeline.policy import Member, MemberState, UserPolicy, cap, decide_users, next_state, share_limit
from pipeline.notices.users import warning_key
from pipeline.policy.users import current_state
from tests.fixtures.user_worlds import BASE, at, members, policies, worlds


def is_protected(m: Member, policy: UserPolicy) -> bool:
    """The issue's protection rule, written independently of the code under test."""
    keys = {k.lower() for k in (m.username, m.email or "", str(m.user_id)) if k}
    admin = (policy.admin_email or "").lower()
    return (m.is_owner or bool(admin and (m.email or "").lower() == admin) or bool(keys & policy.vip)
            or ((m.is_home or m.is_restricted) and not policy.include_home_users))


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
    ledger: dict[str, datetime] = {}  # warning key -> when it went out; a key sent before is never sent again
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
                # A new invite gets a new acceptedAt; a re-share of a friend can keep it (only first_seen moves).
                moved = {"first_seen_at": now} if rnd.random() < 0.5 else {"joined_at": now}
                members[uid] = replace(members[uid], **moved)
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
                # A warning that actually went out, early enough, with no play since, in this membership.
                assert any(now - w >= policy.notice and (last is None or last <= w) for w in warnings[uid])
            ok = rnd.random() >= failure
            at_ = now
            if action.kind == "warn" and ok:
                key = (uid, action.inputs["idle_since"])
                assert key not in stretches, "second warning for the same idle stretch"
                stretches.add(key)
                # As the ledger does: a key already sent is not sent again, and its first send time is used.
                sent = warning_key(uid, action.inputs["idle_since"], action.inputs.get("member_since"))
                if sent not in ledger:
                    ledger[sent] = now
                    warnings[uid].append(now)
                at_ = ledger[sent]
            if action.kind == "remove":
                assert uid not in removed, "removed twice"
                if ok:
                    removed.add(uid)
            state[uid] = next_state(m, state[uid], action, at_, ok=ok, error=None if ok else "HTTP 500")
