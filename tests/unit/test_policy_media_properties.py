"""Media retention safety properties over random worlds: what must never be deleted."""

import random
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from pipeline.policy.media import Assignment, MediaItem, QueueEntry, decide, due
from tests.fixtures.media_worlds import GB, ITEM_KEYS, NOW, USERS, assignees, offsets, sizes, worlds
from tests.fixtures.policies import media_policy


def run(world):
    return decide(world["items"], world["assignments"], world["watches"], world["keeps"], world["rules"],
                  world["playing"], world["now"], world["policy"])


def rule_allows(item, rule, now, delay):
    """An independent reading of a rule: does it allow deleting `item` at `now`?"""
    if rule.media_type is not None and item.type != rule.media_type:
        return False
    if rule.library is not None and (item.library or "").lower() != rule.library.lower():
        return False
    if rule.min_size_bytes is not None and (item.size_bytes is None or item.size_bytes < rule.min_size_bytes):
        return False
    if {x.lower() for x in item.labels} & {x.lower() for x in rule.exclude_labels}:
        return False
    if {x.lower() for x in item.collections} & {x.lower() for x in rule.exclude_collections}:
        return False
    if item.added_at is None or item.added_at + delay > now:
        return False
    if rule.added_before_days is not None and item.added_at + timedelta(days=rule.added_before_days) + delay > now:
        return False
    if item.last_played_at is not None:
        for n in (rule.not_played_by_anyone_days, rule.exclude_played_within_days):
            if n is not None and item.last_played_at + timedelta(days=n) + delay > now:
                return False
    return True


@given(worlds)
def test_nothing_unsafe_is_ever_deleted(world):
    pending, result = run(world)
    now, policy = world["now"], world["policy"]
    delay = timedelta(hours=policy.deletion_delay_hours)
    by_key = {i.rating_key: i for i in world["items"]}
    kept = {k.rating_key for k in world["keeps"]}
    playing = {p.rating_key for p in world["playing"]}
    deleted = result.to_delete

    # every queued entry is accounted for exactly once
    assert sorted([e.rating_key for e in deleted] + [w.entry.rating_key for w in result.waiting]) == sorted(
        e.rating_key for e in pending)

    for entry in deleted:
        item = by_key[entry.rating_key]
        assert item.exists and item.deleted_by_us_at is None
        assert item.rating_key not in kept and item.show_rating_key not in kept
        assert item.rating_key not in playing
        assert entry.scheduled_at <= now
        users = assignees(item, world["assignments"])
        if users:
            assert entry.source == "assigned"
            for user in users:
                finished = [w.watched_at for w in world["watches"]
                            if w.user_id == user and w.rating_key == item.rating_key and w.watched_at <= now]
                assert finished, f"user {user} has not watched {item.rating_key}"
                assert max(finished) + delay <= now
        else:
            assert entry.source == "rule"
            assert any(rule_allows(item, rule, now, delay) for rule in world["rules"])

    if policy.max_deletions_per_run is not None:
        assert len(deleted) <= policy.max_deletions_per_run
    if policy.max_bytes_per_run is not None:
        assert all(e.size_bytes is not None for e in deleted)
        assert sum(e.size_bytes for e in deleted) <= policy.max_bytes_per_run


@given(worlds, st.randoms(use_true_random=False))
def test_pure_and_independent_of_row_order(world, rnd: random.Random):
    first = run(world)
    assert run(world) == first
    shuffled = {k: (rnd.sample(v, len(v)) if isinstance(v, list) else v) for k, v in world.items()}
    assert run(shuffled) == first
    pending, result = first
    assert pending == sorted(pending, key=lambda e: (e.scheduled_at, e.rating_key))
    assert result.to_delete == sorted(result.to_delete, key=lambda e: (e.scheduled_at, e.rating_key))


@given(worlds, st.sampled_from(USERS))
def test_a_new_assignee_who_has_not_watched_blocks_deletion(world, user):
    pending, _ = run(world)
    blocked = {e.rating_key for e in pending if e.source == "assigned"}
    if not blocked:
        return
    target = min(blocked)
    watches = [w for w in world["watches"] if not (w.user_id == user and w.rating_key == target)]
    world = {**world, "watches": watches,
             "assignments": world["assignments"] + [Assignment(target, user, world["now"])]}
    pending, result = run(world)
    assert target not in {e.rating_key for e in pending}
    assert target not in {e.rating_key for e in result.to_delete}


@given(worlds, worlds)
def test_due_rechecks_a_stale_queue_against_fresh_rows(before, after):
    """A queue computed on an earlier run, acted on with today's rows: the re-checks still hold."""
    pending, _ = run(before)
    now, policy = after["now"], after["policy"]
    result = due(pending, after["items"], after["playing"], now, policy, keeps=after["keeps"])
    by_key = {i.rating_key: i for i in after["items"]}
    kept = {k.rating_key for k in after["keeps"]}
    for entry in result.to_delete:
        item = by_key[entry.rating_key]
        assert item.exists and item.deleted_by_us_at is None
        assert not {item.rating_key, item.show_rating_key} & kept
        assert item.rating_key not in {p.rating_key for p in after["playing"]}
        assert entry.scheduled_at <= now
    if policy.max_deletions_per_run is not None:
        assert len(result.to_delete) <= policy.max_deletions_per_run
    if policy.max_bytes_per_run is not None:
        assert sum(e.size_bytes for e in result.to_delete) <= policy.max_bytes_per_run


@given(st.lists(st.tuples(st.sampled_from(ITEM_KEYS), sizes, offsets), max_size=12, unique_by=lambda t: t[0]),
       st.one_of(st.none(), st.integers(min_value=0, max_value=6)),
       st.one_of(st.none(), st.integers(min_value=0, max_value=8 * GB)))
def test_caps_are_never_exceeded(rows, max_count, max_bytes):
    """Many due entries against the caps alone: the count and byte budgets hold, in scheduled order."""
    entries = [QueueEntry(rk, min(at, NOW), "r", "rule", size) for rk, size, at in rows]
    items_now = [MediaItem(rk, "movie", None, "t", size, NOW) for rk, size, _ in rows]
    policy = media_policy(max_deletions_per_run=max_count, max_bytes_per_run=max_bytes)
    result = due(entries, items_now, [], NOW, policy, keeps=[])
    if max_count is not None:
        assert len(result.to_delete) <= max_count
    if max_bytes is not None:
        assert all(e.size_bytes is not None for e in result.to_delete)
        assert sum(e.size_bytes for e in result.to_delete) <= max_bytes
    if max_count is None and max_bytes is None:
        assert len(result.to_delete) == len(entries)
    assert all(w.why == "cap" for w in result.waiting)


@given(worlds, st.randoms(use_true_random=False))
def test_where_a_watch_was_read_changes_the_words_never_the_decision(world, rnd):
    """Tautulli, Plex (issue #13) or a reader's "done": any counts the same, so no source deletes sooner."""
    from dataclasses import replace

    from pipeline.policy.media import PLEX_ONLY

    relabelled = [replace(w, source=rnd.choice(["tautulli", "plex", "done"])) for w in world["watches"]]
    before, _ = run(world)
    after, _ = run({**world, "watches": relabelled})
    assert [(e.rating_key, e.scheduled_at, e.users) for e in after] == \
        [(e.rating_key, e.scheduled_at, e.users) for e in before]
    assert not any(PLEX_ONLY in e.reason for e in before)
    if not any(w.source == "plex" for w in relabelled):
        assert not any(PLEX_ONLY in e.reason for e in after)
