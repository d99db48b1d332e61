"""Vectorised play generation for the sandbox world: a million plays in a few seconds.

Only per-user and per-item loops run in Python; every per-play step is a numpy operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from pipeline.sandbox.world import PLATFORMS, PLAY_COLUMNS, Plays, World

DAY = 86_400
KINDS = ("movie", "episode", "track")
SECTION_OF_KIND = (1, 2, 3)
# Relative chance of starting a play in each local hour: evenings dominate.
HOUR_WEIGHTS = np.array([2, 1, .5, .3, .2, .2, .4, 1, 1.5, 1.5, 1.5, 2, 2.5, 2.5, 2.5, 3, 3.5, 4.5, 6, 8, 9, 8.5,
                         6, 4], dtype=float)
RESUMED_SHARE = 0.03


@dataclass
class _Leaves:
    """Leaves of one kind grouped by show/artist (a movie is its own group), in the order they were added."""

    keys: np.ndarray       # rating keys in watch order
    duration: np.ndarray   # seconds
    added: np.ndarray
    credits: np.ndarray    # bool: an early end-credits marker (watched from 80%)
    group_start: np.ndarray
    group_len: np.ndarray
    popularity: np.ndarray  # per group, sums to 1


def generate_plays(world: World, rng: np.random.Generator, count: int, days: int) -> None:
    """Fill world.plays with `count` rows over the `days` before world.now (scripted users included)."""
    now, window = world.now, world.now - days * DAY
    users = world.users
    weight = np.zeros(len(users))
    start = np.full(len(users), window, dtype=np.int64)
    end = np.full(len(users), now, dtype=np.int64)
    anchors: list[tuple[int, int]] = []  # (user index, exact start of the last play)
    for i, u in enumerate(users):
        if u.accepted_at is not None:
            start[i] = max(window, u.accepted_at)
        note = u.note
        if note.startswith("idle "):
            last = now - int(note[5:-1]) * DAY
            anchors.append((i, last))
            end[i] = last - 4 * 3600
            weight[i] = 1.0
        elif note in ("never watched", "welcome", "grace", "pending"):
            weight[i] = 0.0
        elif note == "deleted":
            end[i] = now - 70 * DAY
            weight[i] = 1.0
        elif note == "owner":
            weight[i] = 3.0
        elif note in ("home", "managed"):
            weight[i] = 1.5
        elif note:
            weight[i] = 1.0
        else:
            weight[i] = min(40.0, float(rng.pareto(1.2)) + 0.05)
    span = np.clip(end - start, 0, None) / max(1, now - window)
    weight = weight * span
    weight[end - start < min(2 * DAY, (now - window) // 2)] = 0.0  # too short a window to play in

    if count < len(anchors):
        anchors = []  # too few plays to script anyone
    catalog = _catalog(world, rng)
    splits = int(round(count * RESUMED_SHARE))
    base = max(0, count - splits - len(anchors))
    uidx = rng.choice(len(users), size=base, p=weight / weight.sum()) if weight.sum() > 0 else np.zeros(0, int)
    started = _start_times(rng, world.timezone, start[uidx], end[uidx], now)
    if anchors:
        uidx = np.concatenate([uidx, np.array([a[0] for a in anchors])])
        started = np.concatenate([started, np.array([a[1] for a in anchors], dtype=np.int64)])
    limit = end[uidx]
    limit[base:] = now  # anchors end where they end
    cols = _sessions(world, rng, catalog, uidx, started, limit, splits, fixed_from=base)
    world.plays = Plays(cols)


def add_plays(world: World, count: int, rng_seed: int = 2, advance: int = 0) -> np.ndarray:
    """Append `count` new plays after the newest one (moving world.now on by `advance` seconds first).

    Scripted users (idle, welcome, grace, pending, deleted...) stay as they are. Returns the new ids.
    """
    rng = np.random.default_rng([world.seed, rng_seed])
    world.now += int(advance)
    plays = world.plays
    last = int(plays.cols["started"].max()) + 1 if len(plays) else world.now - DAY
    if world.now - last < 6 * 3600:
        world.now = last + DAY  # room for the new activity to start and finish
    eligible = [i for i, u in enumerate(world.users) if u.note in ("", "owner", "home", "managed", "blank name",
                                                                  "unicode name")]
    uidx = rng.choice(np.array(eligible), size=count)
    started = np.sort(rng.integers(last, world.now - 4 * 3600, size=count))
    limit = np.full(count, world.now, dtype=np.int64)
    cols = _sessions(world, rng, _catalog(world, rng), uidx, started, limit, 0, fixed_from=count,
                     first_id=int(plays.cols["id"].max()) + 1 if len(plays) else 1)
    cols["started"] = np.maximum(cols["started"], last)  # a long pause must not reach back past older plays
    plays.append(**cols)
    return cols["id"]


# -- pieces ----------------------------------------------------------------------------------------

def _catalog(world: World, rng: np.random.Generator) -> dict[str, _Leaves]:
    from pipeline.sandbox.seed import credits_percent

    out = {}
    for kind in KINDS:
        leaves = sorted((i for i in world.items.values() if i.type == kind),
                        key=lambda i: (i.grandparent_rating_key or i.rating_key, i.added_at, i.parent_index or 0,
                                       i.index or 0, i.rating_key))
        parents = np.array([i.grandparent_rating_key or i.rating_key for i in leaves], dtype=np.int64)
        _, group_start, group_len = np.unique(parents, return_index=True, return_counts=True)
        n = len(group_start)
        rank = rng.permutation(n)  # popularity is not alphabetical
        pop = 1.0 / (rank + 2.0) ** 0.9
        out[kind] = _Leaves(
            keys=np.array([i.rating_key for i in leaves], dtype=np.int64),
            duration=np.array([(i.duration_ms or 1000) // 1000 for i in leaves], dtype=np.int64),
            added=np.array([i.added_at for i in leaves], dtype=np.int64),
            credits=np.array([credits_percent(i) is not None for i in leaves]),
            group_start=group_start.astype(np.int64), group_len=group_len.astype(np.int64),
            popularity=pop / pop.sum())
    return out


def _local_midnights(tz: str, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Epochs of each local midnight from before `first` to after `last`, and their weekdays."""
    zone = ZoneInfo(tz)
    day = datetime.fromtimestamp(first, zone).date() - timedelta(days=1)
    end = datetime.fromtimestamp(last, zone).date() + timedelta(days=1)
    epochs, weekdays = [], []
    while day <= end:
        epochs.append(int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()))
        weekdays.append(day.weekday())
        day += timedelta(days=1)
    return np.array(epochs, dtype=np.int64), np.array(weekdays)


def _start_times(rng: np.random.Generator, tz: str, lo: np.ndarray, hi: np.ndarray, now: int) -> np.ndarray:
    """A start in [lo, hi) per play, more in local evenings and at weekends."""
    n = len(lo)
    out = np.zeros(n, dtype=np.int64)
    if n == 0:
        return out
    midnights, weekdays = _local_midnights(tz, int(lo.min()), now)
    d_lo = np.searchsorted(midnights, lo, "right") - 1
    d_hi = np.searchsorted(midnights, hi, "right") - 1
    hour_p = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
    todo = np.arange(n)
    for _ in range(60):
        day = d_lo[todo] + (rng.random(len(todo)) * (d_hi[todo] - d_lo[todo] + 1)).astype(np.int64)
        t = midnights[day] + rng.choice(24, size=len(todo), p=hour_p) * 3600 + rng.integers(0, 3600, len(todo))
        keep = (t >= lo[todo]) & (t < hi[todo]) & ((weekdays[day] >= 5) | (rng.random(len(todo)) < 0.7))
        out[todo[keep]] = t[keep]
        todo = todo[~keep]
        if len(todo) == 0:
            break
    out[todo] = lo[todo] + (rng.random(len(todo)) * np.maximum(1, hi[todo] - lo[todo])).astype(np.int64)
    return out


def _sessions(world: World, rng: np.random.Generator, catalog: dict[str, _Leaves], uidx: np.ndarray,
              started: np.ndarray, limit: np.ndarray, splits: int, fixed_from: int, first_id: int = 1) -> dict:
    """Turn (user, start) pairs into play rows: item, progress, pauses, platform; split some into two."""
    n = len(uidx)
    users = world.users
    kind_p = np.zeros((len(users), 3))
    for i, u in enumerate(users):
        prefs = rng.dirichlet([2.0, 2.5, 1.0])
        allowed = np.array([s in u.section_ids for s in SECTION_OF_KIND], dtype=float)
        if u.is_restricted:
            prefs = np.array([0.3, 0.7, 0.0])
        p = prefs * allowed
        kind_p[i] = p / p.sum() if p.sum() > 0 else [1.0, 0.0, 0.0]
    cum = np.cumsum(kind_p[uidx], axis=1)
    kind = (rng.random(n)[:, None] > cum[:, :2]).sum(axis=1)

    leaf = np.zeros(n, dtype=np.int64)  # index into the kind's leaves
    for k, name in enumerate(KINDS):
        sel = np.flatnonzero(kind == k)
        if len(sel):
            leaf[sel] = _pick(rng, catalog[name], name, uidx[sel], started[sel])
    keys = np.zeros(n, dtype=np.int64)
    duration = np.zeros(n, dtype=np.int64)
    credits = np.zeros(n, dtype=bool)
    for k, name in enumerate(KINDS):
        sel = kind == k
        keys[sel] = catalog[name].keys[leaf[sel]]
        duration[sel] = catalog[name].duration[leaf[sel]]
        credits[sel] = catalog[name].credits[leaf[sel]]

    # How far each play got, as a fraction of the item's length.
    r = rng.random(n)
    video = kind < 2
    finished_share = np.where(kind == 0, 0.62, np.where(kind == 1, 0.72, 0.85))
    frac = np.where(r < finished_share, rng.uniform(0.9, 1.0, n),
                    np.where(r < finished_share + 0.08, rng.uniform(0.76, 0.9, n),
                             np.where(r < finished_share + 0.2, rng.uniform(0.2, 0.76, n), rng.uniform(0.005, 0.2, n))))
    percent_final = np.clip(np.round(frac * 100), 0, 100).astype(np.int64)
    paused = np.where(video & (rng.random(n) < 0.35), rng.exponential(240, n), 0).astype(np.int64)
    jitter = rng.uniform(0.97, 1.0, n)
    played_total = (duration * frac * jitter).astype(np.int64)

    # A resumed play: part one up to first_frac, a gap, then part two up to frac; it must end by `limit`.
    first_frac = frac * rng.uniform(0.15, 0.7, n)
    part1 = (duration * first_frac * jitter).astype(np.int64)
    pause1 = paused // 2
    start2 = started + part1 + pause1 + (300 + rng.exponential(7200, n)).astype(np.int64)
    stop2 = start2 + (played_total - part1) + (paused - pause1)
    fits = video & (frac > 0.3) & (stop2 <= limit) & (np.arange(n) < fixed_from)
    candidates = np.flatnonzero(fits)
    split = rng.choice(candidates, size=min(splits, len(candidates)), replace=False) if splits else candidates[:0]
    is_split = np.zeros(n, dtype=bool)
    is_split[split] = True
    pause1 = np.where(is_split, pause1, paused)
    stop1 = started + np.where(is_split, part1, played_total) + pause1
    # Nothing may still be playing at `limit`: pull late whole plays back.
    over = np.where(is_split, 0, np.maximum(0, stop1 - limit))
    over[fixed_from:] = 0
    started = started - over
    stop1 = stop1 - over

    pct1 = np.where(is_split, np.round(first_frac * 100), percent_final).astype(np.int64)
    two = np.flatnonzero(is_split)
    platform = _platforms(rng, len(users))[uidx, (rng.random(n)[:, None] > [0.7, 0.9]).sum(axis=1)]

    rows = {
        "started": np.concatenate([started, start2[two]]),
        "stopped": np.concatenate([stop1, stop2[two]]),
        "paused": np.concatenate([pause1, (paused - pause1)[two]]),
        "user_id": np.array([u.user_id for u in users], dtype=np.int64)[np.concatenate([uidx, uidx[two]])],
        "rating_key": np.concatenate([keys, keys[two]]),
        "percent": np.concatenate([pct1, percent_final[two]]),
        "platform": np.concatenate([platform, platform[two]]),
    }
    video_rows = np.concatenate([video, video[two]])
    credit_rows = np.concatenate([credits, credits[two]])
    rows["watched_status"] = _watched(rows["percent"], credit_rows & video_rows)
    partner = np.concatenate([np.full(n, -1), two])  # row index of part one, for part two rows

    order = np.lexsort((np.arange(len(partner)), rows["started"]))
    out = {name: rows[name][order] for name in rows}
    ids = np.arange(first_id, first_id + len(order), dtype=np.int64)
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    partner_sorted = partner[order]
    reference = ids.copy()
    has = partner_sorted >= 0
    reference[has] = ids[position[partner_sorted[has]]]
    out["id"] = ids
    out["reference_id"] = reference
    return {name: np.asarray(out[name], dtype=dt) for name, dt in PLAY_COLUMNS.items()}


def _pick(rng: np.random.Generator, leaves: _Leaves, kind: str, uidx: np.ndarray, started: np.ndarray) -> np.ndarray:
    """Leaf index per play: popular groups more often, episodes in order, never before the item was added."""
    n = len(uidx)
    group = rng.choice(len(leaves.group_start), size=n, p=leaves.popularity)
    gstart, glen = leaves.group_start[group], leaves.group_len[group]
    # Within a group the leaves are ordered by addition, so the available ones are a prefix.
    sort_key = np.repeat(np.arange(len(leaves.group_start)), leaves.group_len) * (1 << 40) + leaves.added
    available = np.searchsorted(sort_key, group * (1 << 40) + started, "right") - gstart
    if kind == "movie":
        bad = available < 1
        old = np.flatnonzero(leaves.added <= started.min()) if bad.any() else None
        pos = np.zeros(n, dtype=np.int64)
        if bad.any():
            fallback = old if len(old) else np.array([int(np.argmin(leaves.added))])
            p = leaves.popularity[fallback] / leaves.popularity[fallback].sum()
            pos_abs = rng.choice(fallback, size=int(bad.sum()), p=p)
            result = gstart + pos
            result[bad] = pos_abs
            return result
        return gstart + pos
    available = np.maximum(available, 1)
    if kind == "episode":
        # Binge in order: the k-th time a user picks a show they get its k-th episode (from a per-user offset).
        order = np.lexsort((started, group, uidx))
        g_sorted, u_sorted = group[order], uidx[order]
        new_run = np.ones(n, dtype=bool)
        new_run[1:] = (g_sorted[1:] != g_sorted[:-1]) | (u_sorted[1:] != u_sorted[:-1])
        run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n) - run_start
        offset = ((uidx * 2654435761 + group * 40503) % 97) % 4  # most start at or near episode one
        pos = (offset + rank) % available
    else:
        pos = (rng.random(n) * available).astype(np.int64)
    return gstart + np.minimum(pos, glen - 1)


def _platforms(rng: np.random.Generator, n_users: int) -> np.ndarray:
    """Three platforms per user, the first the usual one."""
    return np.stack([rng.permutation(len(PLATFORMS))[:3] for _ in range(n_users)]).astype(np.int8)


def _watched(percent: np.ndarray, early_credits: np.ndarray) -> np.ndarray:
    """Tautulli's watched_status: 1 from 85% (or the credits marker), else quarters of 85%."""
    pct = percent.astype(float)
    tiers = np.where(pct >= 63.75, 0.75, np.where(pct >= 42.5, 0.5, np.where(pct >= 21.25, 0.25, 0.0)))
    return np.where((pct >= 85) | (early_credits & (pct >= 80)), 1.0, tiers).astype(np.float32)
