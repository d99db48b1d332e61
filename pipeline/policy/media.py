"""Media retention decisions: which movies and episodes are queued for deletion, and which are due now.

Pure: rows and an explicit `now` in, a queue or a due list out. Nothing here reads the store,
touches the network or calls the clock; `pipeline.act` does the deleting and the recording.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from pipeline.policy.media_notice import wait_for_notice
from pipeline.policy.media_rules import MEDIA_TYPES, Rule, describe, match_time

if TYPE_CHECKING:
    from pipeline.settings import Settings

__all__ = [
    "Assignment",
    "Due",
    "Keep",
    "MediaItem",
    "MediaPolicy",
    "Playing",
    "QueueEntry",
    "Rule",
    "Waiting",
    "Watch",
    "decide",
    "due",
    "queue",
    "relisted",
]

PUBLIC_WINDOW_DAYS = 14  # the archive's home page lists what leaves within this many days of the build


@dataclass(frozen=True)
class MediaItem:
    """A movie or an episode as the store knows it (an episode's labels should include its show's)."""

    rating_key: int
    type: str  # "movie" | "episode"
    show_rating_key: int | None  # the episode's show (grandparent); None for movies
    title: str
    size_bytes: int | None
    added_at: datetime | None
    labels: frozenset[str] = frozenset()
    collections: frozenset[str] = frozenset()
    exists: bool = True  # Plex still lists it
    deleted_by_us_at: datetime | None = None
    last_played_at: datetime | None = None  # anyone's last play, watched or not
    library: str | None = None  # Plex library (section) title, for rules


@dataclass(frozen=True)
class Assignment:
    """A user who must finish a movie, or every episode of a show (current and future), before it goes."""

    target_rating_key: int  # a movie, a show or a single episode
    user_id: int
    assigned_at: datetime


PLEX_ONLY = "watched per Plex (no play in Tautulli)"


@dataclass(frozen=True)
class Watch:
    """The moment a user finished an item: a play with watched_status == 1 ("tautulli"), their own watch state
    in Plex ("plex": viewCount > 0, at lastViewedAt), or their "I'm done with it" ("done")."""

    user_id: int
    rating_key: int
    watched_at: datetime
    source: str = "tautulli"


@dataclass(frozen=True)
class Keep:
    """`invoke keep`: never delete this item (a show's key keeps all its episodes)."""

    rating_key: int
    at: datetime


@dataclass(frozen=True)
class Playing:
    """An item somebody is playing right now (Tautulli activity)."""

    rating_key: int


@dataclass(frozen=True)
class MediaPolicy:
    """Delay and per-run caps. [retention] in settings.py holds their defaults and checks; see from_settings."""

    deletion_delay_hours: float  # after the last assigned viewer finished (or a rule matched)
    max_deletions_per_run: int | None  # None: no cap (settings always set one)
    max_bytes_per_run: int | None  # None: no cap (settings always set one)
    notice_days: float = 0.0  # every concerned reader is told this long before; 0: no notice wait

    @classmethod
    def from_settings(cls, settings: "Settings") -> "MediaPolicy":
        """The one way from settings to a policy: the delay and caps of [retention], already checked when loaded."""
        r = settings.retention
        return cls(deletion_delay_hours=r.deletion_delay_hours, max_deletions_per_run=r.max_deletions_per_run,
                   max_bytes_per_run=r.max_bytes_per_run, notice_days=r.notice_days)

    @property
    def delay(self) -> timedelta:
        return timedelta(hours=self.deletion_delay_hours)

    @property
    def notice(self) -> timedelta:
        return timedelta(days=self.notice_days)


@dataclass(frozen=True)
class QueueEntry:
    """One movie or episode scheduled for deletion, with why."""

    rating_key: int
    scheduled_at: datetime
    reason: str
    source: str  # "assigned" | "rule"
    size_bytes: int | None
    title: str = ""
    users: tuple[int, ...] = ()  # assigned users, for their leaving-soon notice
    rule: str | None = None
    matched_at: datetime | None = field(default=None, compare=False)  # last watch or rule match
    # Each reader the deletion concerns, with when their notice was sent (None: not yet); due() checks it.
    notices: tuple[tuple[int, datetime | None], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Waiting:
    """A queued item not deleted this run; `why` is a code, `reason` the sentence."""

    entry: QueueEntry
    why: str  # "delay" | "notice" | "playing" | "gone" | "deleted" | "kept" | "cap"
    reason: str


class Due(NamedTuple):
    to_delete: list[QueueEntry]
    waiting: list[Waiting]


def _utc(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("media policy needs an aware UTC `now`")


def _order(entry: QueueEntry) -> tuple:
    return (entry.scheduled_at, entry.rating_key)


def _kept_keys(keeps: Iterable[Keep]) -> set[int]:
    return {k.rating_key for k in keeps}


def _is_kept(item: MediaItem, kept: set[int]) -> bool:
    return item.rating_key in kept or (item.show_rating_key is not None and item.show_rating_key in kept)


def _assignees(item: MediaItem, by_target: Mapping[int, set[int]]) -> set[int]:
    users = set(by_target.get(item.rating_key, ()))
    if item.type == "episode" and item.show_rating_key is not None:
        users |= by_target.get(item.show_rating_key, set())
    return users


def _assigned_entry(item, users, last_watch, delay, names, plex_only=frozenset()) -> QueueEntry | None:
    finished = {u: last_watch.get((u, item.rating_key)) for u in users}
    if any(at is None for at in finished.values()):
        return None  # someone assigned has not watched it: it stays
    last = max(finished.values())
    who = ", ".join(
        f"{names.get(u, f'user {u}')} at {_utc(at)}" + (f", {PLEX_ONLY}" if (u, item.rating_key) in plex_only else "")
        for u, at in sorted(finished.items(), key=lambda p: (p[1], p[0]))
    )
    return QueueEntry(
        rating_key=item.rating_key,
        scheduled_at=last + delay,
        reason=f"every assigned user watched it ({who})",
        source="assigned",
        size_bytes=item.size_bytes,
        title=item.title,
        users=tuple(sorted(users)),
        matched_at=last,
    )


def _rule_entry(item, rules, now, delay) -> QueueEntry | None:
    matches = sorted(
        (at, rule.name, rule) for rule in rules if (at := match_time(item, rule)) is not None and at <= now
    )
    if not matches:
        return None
    at, _, rule = matches[0]  # the earliest match decides, so adding a rule never delays a deletion
    return QueueEntry(
        rating_key=item.rating_key,
        scheduled_at=at + delay,
        reason=f"{describe(item, rule)} on {_utc(at)}",
        source="rule",
        size_bytes=item.size_bytes,
        title=item.title,
        rule=rule.name,
        matched_at=at,
    )


def queue(
    items: Iterable[MediaItem],
    assignments: Iterable[Assignment],
    watches: Iterable[Watch],
    keeps: Iterable[Keep],
    rules: Iterable[Rule],
    now: datetime,
    policy: MediaPolicy,
    *,
    names: Mapping[int, str] | None = None,
    first_queued_at: Mapping[int, datetime] | None = None,
    noticed: Mapping[tuple[int, int], datetime] | None = None,
    viewers: Mapping[int, Iterable[int]] | None = None,
    unreachable: Iterable[int] = (),
) -> list[QueueEntry]:
    """Every movie and episode pending deletion, recomputed from scratch, ordered by (scheduled_at, rating_key).

    names: user_id -> display name for reasons. first_queued_at: when the store first saw each
    entry queued; when given, nothing is scheduled sooner than delay after it was first queued
    (an entry not in it counts as queued now), so users always get the notice period.
    noticed: (user_id, rating_key) -> when that reader's leaving-soon notice was sent; when given and
    policy.notice_days > 0, nothing is scheduled sooner than notice_days after every concerned reader's
    notice (the assignees; for a rule, `viewers[rating_key]`, who played it lately or part-watched it).
    unreachable: readers no notice can reach (no address): they are named in the reason, not waited for.
    """
    _aware(now)
    rules = list(rules)
    for rule in rules:
        rule.validate()
    names = names or {}
    delay = policy.delay
    kept = _kept_keys(keeps)
    by_target: dict[int, set[int]] = defaultdict(set)
    for a in assignments:
        by_target[a.target_rating_key].add(a.user_id)
    # A rewatch counts from its end: someone still watching it again delays the deletion. Each watch is of one
    # movie or episode (a show's own view count never counts); any source counts, the latest end wins.
    last_watch: dict[tuple[int, int], datetime] = {}
    sources: dict[tuple[int, int], set[str]] = defaultdict(set)
    for w in watches:
        if w.watched_at <= now:
            key = (w.user_id, w.rating_key)
            sources[key].add(w.source)
            if key not in last_watch or w.watched_at > last_watch[key]:
                last_watch[key] = w.watched_at
    plex_only = frozenset(k for k, s in sources.items() if s == {"plex"})

    entries = []
    for item in {i.rating_key: i for i in items}.values():
        if item.type not in MEDIA_TYPES or not item.exists or item.deleted_by_us_at is not None:
            continue
        if _is_kept(item, kept):
            continue
        users = _assignees(item, by_target)
        if users:
            entry = _assigned_entry(item, users, last_watch, delay, names, plex_only)
        else:
            entry = _rule_entry(item, rules, now, delay)
        if entry is None:
            continue
        if first_queued_at is not None:
            floor = first_queued_at.get(item.rating_key, now) + delay
            if floor > entry.scheduled_at:
                entry = _replace_schedule(entry, floor)
        if noticed is not None and policy.notice_days > 0:
            concerned = set(users) if users else set((viewers or {}).get(item.rating_key, ()))
            entry = wait_for_notice(entry, concerned, noticed, set(unreachable), now, policy.notice, names)
        entries.append(entry)
    return sorted(entries, key=_order)


def _replace_schedule(entry: QueueEntry, at: datetime) -> QueueEntry:
    return replace(entry, scheduled_at=at, reason=f"{entry.reason}; notice period until {_utc(at)}")


def due(
    entries: Iterable[QueueEntry],
    items: Iterable[MediaItem],
    playing: Iterable[Playing],
    now: datetime,
    policy: MediaPolicy,
    *,
    keeps: Iterable[Keep],
) -> Due:
    """Re-check queued entries just before acting and apply the per-run caps in scheduled order.

    Pass entries from `queue()` over the same fresh rows (or use `decide`): that is what makes
    "still fully watched and still assigned" hold at the moment of acting.
    """
    _aware(now)
    by_key = {i.rating_key: i for i in items}
    kept = _kept_keys(keeps)
    busy = {p.rating_key for p in playing}
    to_delete: list[QueueEntry] = []
    waiting: list[Waiting] = []
    count = 0
    spent = 0
    seen: set[int] = set()
    for entry in sorted(entries, key=_order):
        if entry.rating_key in seen:
            continue
        seen.add(entry.rating_key)
        item = by_key.get(entry.rating_key)
        hold = _hold(entry, item, kept, busy, now, policy)
        if hold is not None:
            waiting.append(Waiting(entry, *hold))
            continue
        cap = _cap(entry, count, spent, policy)
        if cap is not None:
            waiting.append(Waiting(entry, "cap", cap))
            continue
        to_delete.append(entry)
        count += 1
        spent += entry.size_bytes or 0
    return Due(to_delete, waiting)


def _hold(entry, item, kept, busy, now, policy) -> tuple[str, str] | None:
    if item is None or not item.exists:
        return ("gone", "Plex no longer lists it; nothing to delete")
    if item.deleted_by_us_at is not None:
        return ("deleted", f"already deleted by Marquee on {_utc(item.deleted_by_us_at)}")
    if _is_kept(item, kept):
        return ("kept", "kept by the admin")
    unsent = [u for u, at in entry.notices if at is None or at > now]
    if unsent:
        return ("notice", f"waits for notice: not yet sent to {len(unsent)} reader(s)")
    last = max((at for _, at in entry.notices if at is not None), default=None)
    if last is not None and last + policy.notice > now:
        return ("notice", f"waits for notice until {_utc(last + policy.notice)}")
    if entry.scheduled_at > now:
        return ("delay", f"scheduled for {_utc(entry.scheduled_at)}")
    if item.rating_key in busy:
        return ("playing", "someone is playing it right now")
    return None


def _cap(entry: QueueEntry, count: int, spent: int, policy: MediaPolicy) -> str | None:
    if policy.max_deletions_per_run is not None and count >= policy.max_deletions_per_run:
        return f"cap: max_deletions_per_run={policy.max_deletions_per_run} reached; next run"
    if policy.max_bytes_per_run is not None:
        if entry.size_bytes is None:
            return "cap: size unknown, so max_bytes_per_run cannot be checked; delete it by hand"
        if spent + entry.size_bytes > policy.max_bytes_per_run:
            if entry.size_bytes > policy.max_bytes_per_run:
                return f"cap: larger than max_bytes_per_run={policy.max_bytes_per_run}; raise it or delete by hand"
            return f"cap: max_bytes_per_run={policy.max_bytes_per_run} would be exceeded; next run"
    return None


def decide(
    items: Iterable[MediaItem],
    assignments: Iterable[Assignment],
    watches: Iterable[Watch],
    keeps: Iterable[Keep],
    rules: Iterable[Rule],
    playing: Iterable[Playing],
    now: datetime,
    policy: MediaPolicy,
    *,
    names: Mapping[int, str] | None = None,
    first_queued_at: Mapping[int, datetime] | None = None,
    noticed: Mapping[tuple[int, int], datetime] | None = None,
    viewers: Mapping[int, Iterable[int]] | None = None,
    unreachable: Iterable[int] = (),
) -> tuple[list[QueueEntry], Due]:
    """The whole decision for one enforce run: the fresh queue and what of it is due now."""
    items, keeps = list(items), list(keeps)
    pending = queue(
        items, assignments, watches, keeps, rules, now, policy, names=names, first_queued_at=first_queued_at,
        noticed=noticed, viewers=viewers, unreachable=unreachable,
    )
    return pending, due(pending, items, playing, now, policy, keeps=keeps)


def relisted(items: Iterable[MediaItem]) -> list[MediaItem]:
    """Items Marquee deleted that Plex still lists: report them, never delete them again."""
    found = {i.rating_key: i for i in items if i.deleted_by_us_at is not None and i.exists}
    return [found[k] for k in sorted(found)]
