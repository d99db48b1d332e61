"""The notice promise over random worlds: nothing is deleted before every concerned reader was told notice_days
earlier, and what a reader (or the admin) kept is never deleted."""

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from pipeline.policy.media import MediaPolicy, decide
from tests.fixtures.media_worlds import ITEM_KEYS, NOW, USERS, assignees, offsets, worlds

notice_worlds = st.fixed_dictionaries({
    "world": worlds,
    "notice_days": st.sampled_from([0.5, 1, 3, 7]),
    # Some readers were told about some items, at random moments (some in the future of `now`: not yet).
    "noticed": st.dictionaries(st.tuples(st.sampled_from(USERS), st.sampled_from(ITEM_KEYS)), offsets, max_size=20),
    "viewers": st.dictionaries(st.sampled_from(ITEM_KEYS), st.sets(st.sampled_from(USERS), max_size=3), max_size=8),
    "unreachable": st.sets(st.sampled_from(USERS), max_size=1),
})


def run(w):
    world = w["world"]
    policy = MediaPolicy(world["policy"].deletion_delay_hours, world["policy"].max_deletions_per_run,
                         world["policy"].max_bytes_per_run, notice_days=w["notice_days"])
    return decide(world["items"], world["assignments"], world["watches"], world["keeps"], world["rules"],
                  world["playing"], world["now"], policy, noticed=w["noticed"], viewers=w["viewers"],
                  unreachable=w["unreachable"])


@given(notice_worlds)
def test_no_item_is_deleted_before_every_concerned_reader_was_told_notice_days_earlier(w):
    world = w["world"]
    now, notice = world["now"], timedelta(days=w["notice_days"])
    by_key = {i.rating_key: i for i in world["items"]}
    _, result = run(w)
    for entry in result.to_delete:
        item = by_key[entry.rating_key]
        concerned = assignees(item, world["assignments"]) or set(w["viewers"].get(item.rating_key, ()))
        for user in concerned - w["unreachable"]:
            told = w["noticed"].get((user, item.rating_key))
            assert told is not None and told + notice <= now, (user, entry)


@given(notice_worlds)
def test_a_kept_item_is_never_deleted(w):
    world = w["world"]
    kept = {k.rating_key for k in world["keeps"]}
    by_key = {i.rating_key: i for i in world["items"]}
    _, result = run(w)
    for entry in result.to_delete:
        item = by_key[entry.rating_key]
        assert item.rating_key not in kept and item.show_rating_key not in kept


@given(notice_worlds)
def test_a_waiting_entry_says_until_when(w):
    pending, _ = run(w)
    now = w["world"]["now"]
    for entry in pending:
        unsent = [u for u, at in entry.notices if at is None]
        if unsent:
            # Never sooner than a notice sent now could cover. (The reason names the wait only when the date had
            # to move; a date already late enough needs no wait, so the wording is checked by example tests.)
            assert entry.scheduled_at >= now + timedelta(days=w["notice_days"]), entry


def test_the_strategies_reach_deletions_after_a_notice():
    """The properties above are not empty: a told reader's item does go once the notice has run."""
    from pipeline.policy.media import Assignment, MediaItem, Watch

    item = MediaItem(1, "movie", None, "Heat", 1, NOW - timedelta(days=30))
    policy = MediaPolicy(24, None, None, notice_days=3)
    args = ([item], [Assignment(1, 7, NOW - timedelta(days=20))], [Watch(7, 1, NOW - timedelta(days=10))], [], [],
            [])
    _, early = decide(*args, NOW, policy, noticed={(7, 1): NOW - timedelta(days=2)})
    _, late = decide(*args, NOW, policy, noticed={(7, 1): NOW - timedelta(days=3)})
    _, never = decide(*args, NOW, policy, noticed={})
    assert (early.to_delete, [e.rating_key for e in late.to_delete], never.to_delete) == ([], [1], [])
    assert "waits for notice until 2026-11-02" in early.waiting[0].entry.reason


# -- "Still here" on a warning -------------------------------------------------------------------------------------

from dataclasses import replace as _replace  # noqa: E402

from pipeline.policy import MemberState, decide_users  # noqa: E402
from pipeline.policy.users import current_state  # noqa: E402
from tests.fixtures.user_worlds import at, maybe_hours, worlds as user_worlds  # noqa: E402


@given(user_worlds(), st.floats(min_value=0.5, max_value=30), st.lists(maybe_hours, min_size=8, max_size=8))
def test_still_here_never_lets_a_removal_happen_without_its_notice_period(world, extend, answers):
    """Whenever a reader said "still here" (before, at or after the warning), nobody is removed sooner than the
    warning's notice after it, nor before the idle limit; and an answer to the current warning only postpones."""
    ms, ss, now, policy, first_run, started_at = world
    policy = _replace(policy, reader_can_extend_days=extend)
    states = {m.user_id: _replace(ss.get(m.user_id, MemberState()),
                                  still_here_at=None if h is None else at(h))
              for m, h in zip(ms, answers)}
    plan = decide_users(ms, states, now, policy, first_run=first_run, started_at=started_at)
    without = decide_users(ms, {u: _replace(s, still_here_at=None) for u, s in states.items()}, now, policy,
                           first_run=first_run, started_at=started_at)
    by_id = {m.user_id: m for m in ms}
    for action in plan.removals:
        m = by_id[action.user_id]
        state = current_state(m, states[m.user_id])
        assert state.warned_at is not None and now - state.warned_at >= policy.notice, action
        last = m.last_counting_play_at
        assert last is None or now - last >= timedelta(days=policy.kick_days), action
        assert action.user_id in {a.user_id for a in without.removals}, "still here made a removal happen"


def test_still_here_postpones_the_removal_once_by_its_days():
    from pipeline.policy import Member
    from tests.fixtures.policies import user_policy

    now = at(0)
    m = Member(user_id=1, username="ann", email="ann@example.org", is_owner=False, is_home=False,
               is_restricted=False, joined_at=now - timedelta(days=400), last_counting_play_at=now - timedelta(days=31))
    warned = MemberState(welcomed_at=now - timedelta(days=399), warned_at=now - timedelta(days=4),
                         warned_for_idle_since=now - timedelta(days=31))
    policy = user_policy(reader_can_extend_days=7)
    plain = decide_users([m], {1: warned}, now, policy, first_run=False, started_at=now - timedelta(days=500))
    answered = decide_users([m], {1: _replace(warned, still_here_at=now - timedelta(days=1))}, now, policy,
                            first_run=False, started_at=now - timedelta(days=500))
    stale = decide_users([m], {1: _replace(warned, still_here_at=now - timedelta(days=5))}, now, policy,
                         first_run=False, started_at=now - timedelta(days=500))  # before this warning: ignored
    (a,), (b,), (c,) = plain.actions, answered.actions, stale.actions
    assert (a.kind, b.kind, c.kind) == ("remove", "wait", "remove")
    assert b.due_at == now - timedelta(days=1) + timedelta(days=7) and "still here" in b.reason
