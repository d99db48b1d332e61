"""Media retention decisions, scenario by scenario, with an injected `now`."""

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.errors import ConfigError
from pipeline.policy.media import (
    Assignment,
    Keep,
    MediaItem,
    MediaPolicy,
    Playing,
    Rule,
    Watch,
    decide,
    due,
    queue,
    relisted,
)
from pipeline.settings import Settings, load_settings
from tests.fixtures.policies import media_policy

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
DAY, HOUR, SECOND = timedelta(days=1), timedelta(hours=1), timedelta(seconds=1)
ALICE, BOB = 1, 2
GB = 1_000_000_000
POLICY = MediaPolicy(deletion_delay_hours=24, max_deletions_per_run=None, max_bytes_per_run=None)


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def movie(rk, *, size=GB, added=-400, **kw) -> MediaItem:
    return MediaItem(rk, "movie", None, f"Movie {rk}", size, at(added), **kw)


def episode(rk, show=100, *, size=GB, added=-400, **kw) -> MediaItem:
    return MediaItem(rk, "episode", show, f"Episode {rk}", size, at(added), **kw)


def assign(target, user, day=-300) -> Assignment:
    return Assignment(target, user, at(day))


def watch(user, rk, day) -> Watch:
    return Watch(user, rk, at(day))


SHOW = [episode(101), episode(102), episode(103)]

# id, items, assignments, watches, keeps, now, expected {rating_key: scheduled_at}
ASSIGNED = [
    ("movie, two viewers, one has not watched", [movie(1)], [assign(1, ALICE), assign(1, BOB)],
     [watch(ALICE, 1, -5)], [], at(), {}),
    ("movie, two viewers, both watched: the last one plus the delay", [movie(1)],
     [assign(1, ALICE), assign(1, BOB)], [watch(ALICE, 1, -5), watch(BOB, 1, -2)], [], at(), {1: at(-1)}),
    ("a rewatch counts from its end", [movie(1)], [assign(1, ALICE)],
     [watch(ALICE, 1, -5), watch(ALICE, 1, -2)], [], at(), {1: at(-1)}),
    ("a watch recorded after now is not counted", [movie(1)], [assign(1, ALICE)],
     [watch(ALICE, 1, 2)], [], at(), {}),
    ("a watch by someone not assigned does not count", [movie(1)], [assign(1, ALICE)],
     [watch(BOB, 1, -5)], [], at(), {}),
    ("per episode: watched episodes queue, the next stays", SHOW, [assign(100, ALICE)],
     [watch(ALICE, 101, -3), watch(ALICE, 102, -1)], [], at(), {101: at(-2), 102: at()}),
    ("a new episode after the show was fully watched stays until watched",
     SHOW + [episode(104, added=-0.5)], [assign(100, ALICE)],
     [watch(ALICE, 101, -3), watch(ALICE, 102, -3), watch(ALICE, 103, -3)], [], at(),
     {101: at(-2), 102: at(-2), 103: at(-2)}),
    ("an episode assignment and a show assignment both count", SHOW, [assign(100, ALICE), assign(102, BOB)],
     [watch(ALICE, 101, -3), watch(ALICE, 102, -3)], [], at(), {101: at(-2)}),
    ("an assigned user added late who has not watched removes it", [movie(1)],
     [assign(1, ALICE), assign(1, BOB, day=-0.1)], [watch(ALICE, 1, -5)], [], at(), {}),
    ("an assigned user added late who had watched before keeps it queued", [movie(1)],
     [assign(1, ALICE), assign(1, BOB, day=-0.1)], [watch(ALICE, 1, -5), watch(BOB, 1, -30)], [], at(),
     {1: at(-4)}),
    ("unassigned and no rule: never queued", [movie(1)], [], [watch(ALICE, 1, -5)], [], at(), {}),
    ("keep cancels for good", [movie(1)], [assign(1, ALICE)], [watch(ALICE, 1, -5)], [Keep(1, at(-4.5))],
     at(), {}),
    ("keeping a show keeps its episodes", SHOW, [assign(100, ALICE)],
     [watch(ALICE, 101, -3), watch(ALICE, 102, -3)], [Keep(100, at(-1))], at(), {}),
    ("vanished from Plex: never queued", [movie(1, exists=False)], [assign(1, ALICE)],
     [watch(ALICE, 1, -5)], [], at(), {}),
    ("deleted by us: never queued again", [movie(1, deleted_by_us_at=at(-3))], [assign(1, ALICE)],
     [watch(ALICE, 1, -5)], [], at(), {}),
]


@pytest.mark.parametrize("items,assignments,watches,keeps,now,expected",
                         [case[1:] for case in ASSIGNED], ids=[case[0] for case in ASSIGNED])
def test_assigned_queue(items, assignments, watches, keeps, now, expected):
    got = queue(items, assignments, watches, keeps, [], now, POLICY)
    assert {e.rating_key: e.scheduled_at for e in got} == expected
    assert all(e.source == "assigned" for e in got)


def test_unassign_removes_a_queued_item():
    items, watches = [movie(1)], [watch(ALICE, 1, -5)]
    assert [e.rating_key for e in queue(items, [assign(1, ALICE)], watches, [], [], at(), POLICY)] == [1]
    assert queue(items, [], watches, [], [], at(), POLICY) == []


def test_reason_names_who_watched_when():
    got = queue([movie(1)], [assign(1, ALICE), assign(1, BOB)], [watch(ALICE, 1, -5), watch(BOB, 1, -2)], [],
                [], at(), POLICY, names={ALICE: "alice", BOB: "bob"})
    assert got[0].reason == ("every assigned user watched it "
                             "(alice at 2026-10-27 00:00 UTC, bob at 2026-10-30 00:00 UTC)")
    assert got[0].users == (ALICE, BOB)
    assert got[0].size_bytes == GB


RULE = Rule(
    name="old movies", media_type="movie", added_before_days=30, not_played_by_anyone_days=60,
    min_size_bytes=GB, exclude_collections=frozenset({"Favourites"}), exclude_played_within_days=90,
)

# id, item, expected scheduled_at or None
RULE_CASES = [
    ("never played, old enough: added + 30 days + delay", movie(1, added=-400), at(-369)),
    ("played long ago: the later of the two plus the delay", movie(1, added=-400, last_played_at=at(-200)),
     at(-109)),
    ("label keep (any case) protects it", movie(1, labels=frozenset({"Keep"})), None),
    ("collection protects it", movie(1, collections=frozenset({"favourites"})), None),
    ("played recently: within the 90 days exclusion", movie(1, last_played_at=at(-80)), None),
    ("too small", movie(1, size=GB - 1), None),
    ("unknown size never qualifies", movie(1, size=None), None),
    ("too new", movie(1, added=-29), None),
    ("exactly 30 days old: matched now, due after the delay", movie(1, added=-30), at(1)),
    ("an episode is out of a movie rule", episode(101), None),
]


@pytest.mark.parametrize("item,expected", [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES])
def test_rule_queue(item, expected):
    got = queue([item], [], [], [], [RULE], at(), POLICY)
    assert [(e.rating_key, e.scheduled_at, e.source) for e in got] == ([] if expected is None else
                                                                       [(1, expected, "rule")])
    if got:
        assert got[0].rule == "old movies"
        assert got[0].reason.startswith("rule 'old movies' matched: added more than 30 days ago")


def test_rules_skip_assigned_items_even_unwatched():
    assert queue([movie(1)], [assign(1, ALICE)], [], [], [RULE], at(), POLICY) == []


def test_rule_by_library_is_case_insensitive_and_earliest_rule_wins():
    lib = Rule(name="tv", library="TV Shows", added_before_days=10)
    late = Rule(name="late", media_type="episode", added_before_days=300)
    item = episode(101, added=-400, library="tv shows")
    got = queue([item], [], [], [], [late, lib], at(), POLICY)
    assert [(e.rule, e.scheduled_at) for e in got] == [("tv", at(-389))]
    assert queue([episode(101, library="Movies")], [], [], [], [lib], at(), POLICY) == []


def test_first_queued_at_gives_every_entry_its_notice_period():
    items = [movie(1), movie(2)]
    got = queue(items, [], [], [], [RULE], at(), POLICY, first_queued_at={1: at(-0.5)})
    assert {e.rating_key: e.scheduled_at for e in got} == {1: at(0.5), 2: at(1)}
    assert "notice period until" in got[0].reason


DUE_ITEMS = [movie(1), movie(2)]
DUE_QUEUE = queue(DUE_ITEMS, [assign(1, ALICE), assign(2, ALICE)], [watch(ALICE, 1, -5), watch(ALICE, 2, -3)],
                  [], [], at(), POLICY)

# id, items now, playing, keeps, now, expected to_delete, expected {waiting key: why}
DUE_CASES = [
    ("both due", DUE_ITEMS, [], [], at(), [1, 2], {}),
    ("being played at execution time waits", DUE_ITEMS, [Playing(2)], [], at(), [1], {2: "playing"}),
    ("vanished from Plex before its deletion", [movie(1, exists=False), movie(2)], [], [], at(), [2],
     {1: "gone"}),
    ("missing from the rows altogether", [movie(2)], [], [], at(), [2], {1: "gone"}),
    ("deleted by us meanwhile", [movie(1, deleted_by_us_at=at(-0.1)), movie(2)], [], [], at(), [2],
     {1: "deleted"}),
    ("kept after it was queued", DUE_ITEMS, [], [Keep(1, at(-0.1))], at(), [2], {1: "kept"}),
    ("delay: one second before", DUE_ITEMS, [], [], at(-2) - SECOND, [1], {2: "delay"}),
    ("delay: exactly at scheduled_at", DUE_ITEMS, [], [], at(-2), [1, 2], {}),
    ("delay: one second after", DUE_ITEMS, [], [], at(-2) + SECOND, [1, 2], {}),
]


@pytest.mark.parametrize("items,playing,keeps,now,to_delete,waiting",
                         [c[1:] for c in DUE_CASES], ids=[c[0] for c in DUE_CASES])
def test_due(items, playing, keeps, now, to_delete, waiting):
    got = due(DUE_QUEUE, items, playing, now, POLICY, keeps=keeps)
    assert [e.rating_key for e in got.to_delete] == to_delete
    assert {w.entry.rating_key: w.why for w in got.waiting} == waiting


def test_delay_boundary_through_decide():
    items, assignments, watches = [movie(1)], [assign(1, ALICE)], [watch(ALICE, 1, -1)]
    for now, deleted in ((at() - SECOND, []), (at(), [1]), (at() + SECOND, [1])):
        _, result = decide(items, assignments, watches, [], [], [], now, POLICY)
        assert [e.rating_key for e in result.to_delete] == deleted, now


@pytest.mark.parametrize("policy,to_delete,capped", [
    (media_policy(max_deletions_per_run=2), [10, 11], [12, 13]),
    (media_policy(max_deletions_per_run=None, max_bytes_per_run=3 * GB), [10, 12], [11, 13]),
    (media_policy(max_deletions_per_run=0), [], [10, 11, 12, 13]),
    (media_policy(max_deletions_per_run=None, max_bytes_per_run=GB // 2), [], [10, 11, 12, 13]),
])
def test_caps_in_scheduled_order(policy, to_delete, capped):
    sizes = {10: GB, 11: 3 * GB, 12: 2 * GB, 13: GB}
    items = [movie(rk, size=size) for rk, size in sizes.items()]
    # scheduled order 10, 11, 12, 13: one day apart
    watches = [watch(ALICE, rk, -10 + i) for i, rk in enumerate(sizes)]
    pending, got = decide(items, [assign(rk, ALICE) for rk in sizes], watches, [], [], [], at(), policy)
    assert [e.rating_key for e in pending] == [10, 11, 12, 13]
    assert [e.rating_key for e in got.to_delete] == to_delete
    assert [w.entry.rating_key for w in got.waiting if w.why == "cap"] == capped
    assert all(w.reason.startswith("cap:") for w in got.waiting)


def test_unknown_size_waits_under_a_bytes_cap():
    _, got = decide([movie(1, size=None)], [assign(1, ALICE)], [watch(ALICE, 1, -5)], [], [], [], at(),
                    media_policy(max_bytes_per_run=10 * GB))
    assert got.to_delete == [] and got.waiting[0].reason.startswith("cap: size unknown")


def test_relisted_after_deletion_is_reported_not_queued():
    items = [movie(1, deleted_by_us_at=at(-3)), movie(2, deleted_by_us_at=at(-3), exists=False), movie(3)]
    assert [i.rating_key for i in relisted(items)] == [1]
    pending, got = decide(items, [assign(k, ALICE) for k in (1, 2, 3)],
                          [watch(ALICE, k, -5) for k in (1, 2, 3)], [], [], [], at(), POLICY)
    assert [e.rating_key for e in pending] == [3]
    assert [e.rating_key for e in got.to_delete] == [3]


# The delay and caps are checked once, where settings are loaded (settings.py); the policy takes them as they are.
@pytest.mark.parametrize("change,message", [
    ({"retention.deletion_delay_hours": -1}, "retention.deletion_delay_hours: Input should be greater than or equal"),
    ({"retention.deletion_delay_hours": float("inf")}, "retention.deletion_delay_hours: Input should be a finite"),
    ({"retention.max_deletions_per_run": -1}, "retention.max_deletions_per_run: Input should be greater than or equal"),
    ({"retention.max_bytes_per_run": 1.5}, "retention.max_bytes_per_run: Input should be a valid integer"),
    ({"retention.max_deletions_per_run": True}, "retention.max_deletions_per_run: must be a number, not true"),
])
def test_policy_validate(change, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={}, dotenv_path=None, overrides=change)


def test_the_policy_takes_the_delay_and_caps_from_the_settings():
    assert MediaPolicy.from_settings(Settings()) == MediaPolicy(deletion_delay_hours=24, max_deletions_per_run=20,
                                                                max_bytes_per_run=500 * GB, notice_days=3)


@pytest.mark.parametrize("rule,message", [
    (Rule(name="", media_type="movie", added_before_days=1), "without a name"),
    (Rule(name="r", added_before_days=1), "set library or media_type"),
    (Rule(name="r", media_type="show", added_before_days=1), "media_type must be 'movie' or 'episode'"),
    (Rule(name="r", media_type="movie", min_size_bytes=GB), "set added_before_days or not_played_by_anyone_days"),
    (Rule(name="r", media_type="movie", added_before_days=-1), "added_before_days must be a number of days"),
    (Rule(name="r", media_type="movie", added_before_days=1, min_size_bytes=-1), "min_size_bytes must be"),
])
def test_rule_validate_through_queue(rule, message):
    with pytest.raises(ConfigError, match=message):
        queue([movie(1)], [], [], [], [rule], at(), POLICY)


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        queue([], [], [], [], [], datetime(2026, 11, 1), POLICY)


# -- Plex's own watch state (issue #13) ---------------------------------------------------------------------------

def test_a_watch_only_plex_knows_counts_and_the_reason_says_so():
    (entry,) = queue([movie(1)], [assign(1, ALICE), assign(1, BOB)],
                     [Watch(ALICE, 1, at(-5), "plex"), Watch(BOB, 1, at(-3), "tautulli")], [], [], at(), POLICY,
                     names={ALICE: "alice", BOB: "bob"})
    assert entry.scheduled_at == at(-2)
    assert "alice at 2026-10-27 00:00 UTC, watched per Plex (no play in Tautulli)" in entry.reason
    assert entry.reason.count("watched per Plex") == 1, "bob's play is Tautulli's"


def test_a_watch_both_sources_know_is_tautullis_and_the_later_end_wins():
    (entry,) = queue([movie(1)], [assign(1, ALICE)],
                     [Watch(ALICE, 1, at(-5), "tautulli"), Watch(ALICE, 1, at(-4), "plex")], [], [], at(), POLICY)
    assert entry.scheduled_at == at(-3)
    assert "per Plex" not in entry.reason


def test_a_plex_watch_of_a_show_counts_for_none_of_its_episodes():
    entries = queue(SHOW, [assign(100, ALICE)], [Watch(ALICE, 100, at(-5), "plex"), Watch(ALICE, 102, at(-5), "plex")],
                    [], [], at(), POLICY)
    assert [e.rating_key for e in entries] == [102]
