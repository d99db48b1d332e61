"""The sandbox world generator: deterministic, scripted edge cases present, plays shaped like Tautulli's."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from pipeline.sandbox.seed import DEFAULT_NOW, IDLE_DAYS, SPECIAL_MOVIES, add_plays, credits_percent, generate
from pipeline.sandbox.world import PLAY_COLUMNS

DAY = 86_400


@pytest.fixture(scope="module")
def world():
    return generate(seed=1)


def by_note(world, note):
    return next(u for u in world.users if u.note == note)


def plays_of(world, user):
    return world.plays.cols["user_id"] == user.user_id


def test_same_arguments_give_the_same_world():
    a, b = generate(seed=7, users=30, plays=2000), generate(seed=7, users=30, plays=2000)
    assert a.users == b.users
    assert a.items == b.items
    assert a.sections == b.sections
    assert (a.tautulli_api_key, a.owner_token, a.machine_identifier) == \
        (b.tautulli_api_key, b.owner_token, b.machine_identifier)
    for name in PLAY_COLUMNS:
        assert np.array_equal(a.plays.cols[name], b.plays.cols[name]), name


def test_another_seed_gives_another_world():
    a, b = generate(seed=1, plays=2000), generate(seed=2, plays=2000)
    assert not np.array_equal(a.plays.cols["started"], b.plays.cols["started"])
    assert a.tautulli_api_key != b.tautulli_api_key


def test_defaults(world):
    assert world.now == DEFAULT_NOW == 1794830400  # 2026-11-16T12:00:00Z
    assert len(world.users) == 24
    assert len(world.plays) == 6000
    assert len(world.tautulli_api_key) == 32
    assert [(s.title, s.type) for s in world.sections] == [("Movies", "movie"), ("TV Shows", "show"),
                                                          ("Music", "artist")]


def test_user_ids_and_emails(world):
    ids = [u.user_id for u in world.users]
    assert len(set(ids)) == len(ids)
    assert all(10_000_000 <= i <= 99_999_999 for i in ids)
    assert len({u.username for u in world.users}) == len(world.users)
    for u in world.users:
        if u.email is not None:
            assert u.email.endswith(("@example.com", "@example.org")), u.email


def test_owner_and_home_users(world):
    owner = world.owner
    assert owner.share_id is None and owner.accepted_at is None
    managed = [u for u in world.users if u.is_restricted]
    assert len(managed) >= 2
    assert all(u.is_home and u.email is None for u in managed)
    assert any(u.is_home and not u.is_restricted and not u.is_owner for u in world.users)


@pytest.mark.parametrize("days", IDLE_DAYS)
def test_idle_users_last_played_exactly_that_long_ago(world, days):
    user = by_note(world, f"idle {days}d")
    started = world.plays.cols["started"][plays_of(world, user)]
    assert len(started) > 1
    assert started.max() == world.now - days * DAY


def test_users_who_never_played(world):
    for note in ("never watched", "welcome", "grace", "pending"):
        assert not plays_of(world, by_note(world, note)).any(), note
    assert by_note(world, "welcome").accepted_at == world.now - 2 * DAY
    assert by_note(world, "grace").accepted_at == world.now - 12 * 3600
    pending = by_note(world, "pending")
    assert pending.accepted_at is None and pending.invited_at is not None


def test_deleted_user_still_has_history(world):
    user = by_note(world, "deleted")
    assert not user.in_tautulli and not user.has_share
    assert plays_of(world, user).sum() > 10


def test_awkward_names(world):
    assert by_note(world, "blank name").friendly_name.strip() == ""
    assert by_note(world, "blank name").friendly_name != ""
    assert any(ord(c) > 0x3000 for c in by_note(world, "unicode name").friendly_name)


def test_share_dates_and_sections(world):
    accepted = [u.accepted_at for u in world.users if u.accepted_at]
    assert world.now - min(accepted) > 365 * DAY
    assert all(u.invited_at <= u.accepted_at for u in world.users if u.accepted_at)
    partial = [u for u in world.users if not u.all_libraries]
    assert partial and all(set(u.section_ids) < {1, 2, 3} for u in partial)


def test_users_only_play_their_libraries(world):
    items, cols = world.items, world.plays.cols
    allowed = {u.user_id: set(u.section_ids) for u in world.users}
    sections = np.array([items[k].section_id for k in cols["rating_key"].tolist()])
    for uid in np.unique(cols["user_id"]).tolist():
        assert set(np.unique(sections[cols["user_id"] == uid]).tolist()) <= allowed[uid]


def test_titles_that_break_careless_code(world):
    titles = {i.title for i in world.items.values() if i.type == "movie"}
    for title in ("<script>alert(1)</script>", "Tom & Jerry", "\"Quoted\" 'Title'", "千と千尋の神隠し"):
        assert title in titles
    assert any("🎬" in t for t in titles)
    assert set(SPECIAL_MOVIES) <= titles
    assert any("keep" in i.labels for i in world.items.values() if i.type == "movie")


def test_item_tree_and_keys(world):
    items = world.items
    assert all(k == i.rating_key for k, i in items.items())
    types = Counter(i.type for i in items.values())
    assert types["movie"] >= 60 and types["show"] >= 12 and types["artist"] >= 8
    assert types["season"] > types["show"] and types["episode"] > types["season"]
    assert types["album"] >= types["artist"] and types["track"] > types["album"]
    for item in items.values():
        if item.type in ("episode", "track"):
            parent, grand = items[item.parent_rating_key], items[item.grandparent_rating_key]
            assert parent.parent_rating_key == grand.rating_key
            assert item.grandparent_title == grand.title and item.parent_title == parent.title
        if item.type == "season":
            assert items[item.parent_rating_key].type == "show"


def test_sizes_and_durations(world):
    for item in world.items.values():
        if item.type == "movie":
            assert 1e9 <= item.size_bytes <= 60e9 and 80 * 60_000 <= item.duration_ms <= 181 * 60_000
        elif item.type == "episode":
            assert 0.3e9 <= item.size_bytes <= 4e9
        elif item.type == "track":
            assert 5e6 <= item.size_bytes <= 50e6
        else:
            assert item.size_bytes is None
        assert item.updated_at >= item.added_at


def test_recently_added_items(world):
    recent = [i for i in world.items.values() if i.added_at >= world.now - 7 * DAY and i.type != "show"]
    assert sum(1 for i in recent if i.type == "movie") >= 3
    seasons = Counter((i.grandparent_rating_key, i.parent_index) for i in recent if i.type == "episode")
    (show, season), episodes = seasons.most_common(1)[0]
    assert episodes >= 8
    numbers = sorted(i.index for i in recent if i.type == "episode" and i.grandparent_rating_key == show)
    assert numbers[:8] == list(range(1, 9))


def test_sections_updated_at_is_their_newest_item(world):
    for section in world.sections:
        assert section.updated_at == max(i.updated_at for i in world.items.values()
                                         if i.section_id == section.section_id)


def test_plays_are_sorted_and_numbered(world):
    cols = world.plays.cols
    assert (np.diff(cols["started"]) >= 0).all()
    assert np.array_equal(cols["id"], np.arange(1, len(world.plays) + 1))
    assert (cols["stopped"] <= world.now).all()
    assert (cols["stopped"] - cols["started"] - cols["paused"] >= 0).all()
    assert cols["started"].min() >= world.now - 181 * DAY
    for name, dtype in PLAY_COLUMNS.items():
        assert cols[name].dtype == dtype and len(cols[name]) == len(world.plays)


def test_plays_start_after_the_item_was_added(world):
    cols = world.plays.cols
    added = np.array([world.items[k].added_at for k in cols["rating_key"].tolist()])
    assert (cols["started"] >= added).all()


def test_watched_status_follows_tautulli(world):
    cols = world.plays.cols
    pct, ws = cols["percent"].astype(float), cols["watched_status"]
    tiers = np.where(pct >= 63.75, 0.75, np.where(pct >= 42.5, 0.5, np.where(pct >= 21.25, 0.25, 0.0)))
    assert (ws[pct >= 85] == 1).all()
    assert np.array_equal(ws[pct < 80], tiers[pct < 80])
    early = np.array([credits_percent(world.items[k]) is not None for k in cols["rating_key"].tolist()])
    band = (pct >= 80) & (pct < 85)
    assert (ws[band & early] == 1).all() and np.array_equal(ws[band & ~early], tiers[band & ~early])
    # Rows that count as watched below 85% exist, so nobody can recompute "watched" from the percent.
    assert (band & early).any()


def test_resumed_sessions_point_at_their_first_part(world):
    cols = world.plays.cols
    joined = np.flatnonzero(cols["reference_id"] != cols["id"])
    assert 0.01 * len(world.plays) < len(joined) < 0.06 * len(world.plays)
    row_of = {int(i): n for n, i in enumerate(cols["id"].tolist())}
    for n in joined.tolist():
        first = row_of[int(cols["reference_id"][n])]
        assert first < n
        assert cols["reference_id"][first] == cols["id"][first]
        assert cols["user_id"][first] == cols["user_id"][n]
        assert cols["rating_key"][first] == cols["rating_key"][n]
        assert cols["percent"][first] <= cols["percent"][n]
        assert cols["stopped"][first] <= cols["started"][n]


def test_evenings_and_weekends_are_busier(world):
    zone = ZoneInfo(world.timezone)
    local = [datetime.fromtimestamp(t, zone) for t in world.plays.cols["started"].tolist()]
    hours = Counter(t.hour for t in local)
    assert sum(hours[h] for h in range(19, 23)) > 3 * sum(hours[h] for h in range(5, 9))
    days = Counter(t.weekday() for t in local)
    assert (days[5] + days[6]) / 2 > sum(days[d] for d in range(5)) / 5


def test_users_have_uneven_activity():
    big = generate(seed=3, users=200, plays=20_000)
    counts = np.sort(np.bincount(np.unique(big.plays.cols["user_id"], return_inverse=True)[1]))[::-1]
    assert counts[: len(counts) // 10].sum() > 0.3 * counts.sum()


def test_add_plays_appends_new_activity():
    world = generate(seed=5, plays=3000)
    before = {name: col.copy() for name, col in world.plays.cols.items()}
    idle = {u.user_id: world.plays.cols["started"][plays_of(world, u)].max()
            for u in world.users if u.note.startswith("idle")}
    ids = add_plays(world, 200, rng_seed=9, advance=3 * DAY)
    cols = world.plays.cols
    assert len(world.plays) == 3200
    assert np.array_equal(ids, np.arange(3001, 3201))
    for name in PLAY_COLUMNS:
        assert np.array_equal(cols[name][:3000], before[name]), name
    assert (np.diff(cols["started"]) >= 0).all()
    assert cols["started"][3000:].min() > before["started"].max()
    assert (cols["stopped"] <= world.now).all()
    for uid, last in idle.items():
        assert cols["started"][cols["user_id"] == uid].max() == last


@pytest.mark.slow
def test_a_million_plays_generate():
    world = generate(seed=1, users=2000, plays=1_000_000)
    assert len(world.plays) == 1_000_000
    assert len(world.users) == 2000
    assert sum(1 for i in world.items.values() if i.type == "movie") == 4000
    assert (np.diff(world.plays.cols["started"]) >= 0).all()
    assert len(np.unique(world.plays.cols["user_id"])) > 1500
