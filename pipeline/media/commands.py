"""The admin's retention commands: assign, unassign, keep (each audited), and the queue and status listings.

Each returns the lines to print; a name that does not resolve raises ConfigError before anything is written.
"""

from __future__ import annotations

from datetime import datetime

from pipeline.store.audit import Audit, AuditRow
from pipeline.clock import Clock
from pipeline.errors import ConfigError, MarqueeError
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.media.assignments import write_pairs
from pipeline.media.queue import refresh_queue
from pipeline.media.report import local_time, queue_lines, status_lines
from pipeline.media.resolve import Target, UserDirectory, find_season, find_target

__all__ = ["assign", "keep", "queue_lines", "status_lines", "unassign"]

SOURCES = {"cli": "invoke assign", "file": "retention.toml", "label": "a Plex label"}


def assign(store: Store, settings: Settings, clock: Clock, target: str, users: list[str],
           season: int | str | None = None) -> list[str]:
    """Assign users to a movie, a show (its current and future episodes), one season of a show, or an episode."""
    now = clock.now()
    item = _listed(find_target(store, target), "assign")
    if season is not None:
        item = find_season(store, item, _season_number(season))
    if not users:
        raise ConfigError(f"name the users to assign {item.name} to")
    people = UserDirectory.load(store).resolve(users)
    had = {uid for uid, source, _ in _assignments(store, item) if source == "cli"}
    new = [u for u in people if u.user_id not in had]
    with store.transaction():
        write_pairs(store, "cli", [(item.rating_key, u.user_id) for u in new], now, replace=False)
    lines = [f"Assigned {_what(item)} to {_names(new)}." if new else f"Nothing changed for {_what(item)}."]
    if len(new) < len(people):
        lines.append(f"Already assigned with invoke assign: {_names(u for u in people if u.user_id in had)}.")
    if new:
        _audit(store, clock, item, "assign", f"assigned to {_names(new)} with invoke assign",
               {"users": [u.user_id for u in new], "source": "cli"})
    for u in new:
        if not u.has_access:
            lines.append(f"Note: {u.name} has no access to this server now; {item.name} stays until they watch it "
                         "or are unassigned.")
    lines += _assignees(store, item)
    if item.type == "show":
        lines.append("A show assignment covers its current and future episodes: each episode is queued once every "
                     "assigned user has watched it.")
    if item.type == "season":
        lines.append("A season assignment covers that season's episodes: each is queued once every assigned user "
                     "has watched it.")
    return lines + _requeue(store, settings, now, item)


def unassign(store: Store, settings: Settings, clock: Clock, target: str, users: list[str]) -> list[str]:
    """Drop command-line assignments (no users: all of them); say where file and label ones must be removed."""
    now = clock.now()
    item = find_target(store, target)
    rows = _assignments(store, item)
    directory = UserDirectory.load(store)
    if users:
        people = directory.resolve(users)
    else:
        cli = {uid for uid, source, _ in rows if source == "cli"}
        people = [u for u in directory.users if u.user_id in cli]
    with store.transaction():
        removed = {r[0] for r in store.execute("media/assignments_remove", {
            "target": item.rating_key, "user_ids": [u.user_id for u in people]})}
    gone = [u for u in people if u.user_id in removed]
    lines = [f"Unassigned {_names(gone)} from {_what(item)}." if gone else f"Nothing changed for {_what(item)}."]
    for u in people:
        other = sorted({source for uid, source, _ in rows if uid == u.user_id and source != "cli"})
        still = "still " if u.user_id in removed else ""
        if "file" in other:
            lines.append(f"{u.name} is {still}assigned in {settings.retention.file}: remove them there.")
        if "label" in other:
            labels = _labels_for(store, settings, directory, item, u) or [f"{settings.retention.label_prefix}…"]
            lines.append(f"{u.name} is {still}assigned by the Plex label {', '.join(map(repr, labels))}: "
                         "remove it in Plex.")
        if not other and u.user_id not in removed:
            lines.append(f"{u.name} was not assigned to {item.name}.")
    if gone:
        _audit(store, clock, item, "unassign", f"unassigned {_names(gone)} with invoke unassign",
               {"users": [u.user_id for u in gone], "source": "cli"})
    lines += _assignees(store, item)
    return lines + _requeue(store, settings, now, item)


def keep(store: Store, settings: Settings, clock: Clock, target: str, note: str = "") -> list[str]:
    """Cancel the deletion of an item for good (a show: every episode); it leaves the queue at once."""
    now = clock.now()
    item = _listed(find_target(store, target), "keep")
    before = store.execute("media/keep_of", {"rating_key": item.rating_key})
    with store.transaction():
        store.execute("media/keep_add", {"rating_key": item.rating_key, "title": item.name, "now": now,
                                             "note": note or ""})
        dropped = [r[0] for r in store.execute("media/queue_drop_kept", {"rating_key": item.rating_key})]
    scope = " or any of its episodes" if item.type == "show" else ""
    if before:
        lines = [f"{_what(item)} was already kept (since {before[0][0]:%Y-%m-%d})."]
    else:
        lines = [f"Kept {_what(item)} for good: Marquee will never delete it{scope}."]
    if dropped:
        lines.append(f"Removed {len(dropped)} entr{'y' if len(dropped) == 1 else 'ies'} from the deletion queue.")
    if not before or dropped:
        reason = "kept for good with invoke keep" + (f": {note}" if note else "")
        _audit(store, clock, item, "keep", reason, {"note": note, "dequeued": sorted(dropped)})
    return lines


# -- helpers -------------------------------------------------------------------------------------------------

def _listed(item: Target, verb: str) -> Target:
    if item.removed_at is not None:
        raise ConfigError(f"Plex no longer lists {item.candidate()} (gone since {item.removed_at:%Y-%m-%d}); "
                          f"nothing to {verb}")
    return item


def _season_number(season: int | str) -> int:
    """--season as typed: a whole number."""
    text = str(season).strip()
    if not text.isdigit():
        raise ConfigError(f"--season takes a season number such as 2, not {season!r}")
    return int(text)


def _what(item: Target) -> str:
    return item.candidate()


def _names(users) -> str:
    return ", ".join(u.name for u in users) or "nobody"


def _assignments(store: Store, item: Target) -> list[tuple]:
    return store.execute("media/assignments_of_target", {"target": item.rating_key})


def _assignees(store: Store, item: Target) -> list[str]:
    """Everyone now assigned to the item, with where each assignment comes from."""
    names = dict(store.execute("media/user_names"))
    by_user: dict[int, list[str]] = {}
    for uid, source, _ in _assignments(store, item):
        by_user.setdefault(uid, []).append(SOURCES.get(source, source))
    if not by_user:
        return [f"{item.name} is assigned to nobody now."]
    who = "; ".join(f"{names.get(uid, f'user {uid}')} ({', '.join(srcs)})" for uid, srcs in by_user.items())
    return [f"{item.name} is assigned to: {who}."]


def _labels_for(store: Store, settings: Settings, directory: UserDirectory, item: Target, user) -> list[str]:
    """The Plex labels on the item that assign it to this user, as written in Plex."""
    prefix = settings.retention.label_prefix
    rows = store.execute("media/label_assignments", {"prefix": prefix}) if prefix else []
    return [label for rk, _, _, _, _, label in rows if rk == item.rating_key
            and directory.problem(label[len(prefix):].strip())[0] == user]


def _audit(store: Store, clock: Clock, item: Target, action: str, reason: str, inputs: dict) -> None:
    audit = Audit(store, clock, applied=True, scope="media")
    audit.record(AuditRow("media", item.rating_key, item.name, action, "done", reason,
                          {**inputs, "type": item.type}))
    audit.finish("ok", f"{action} {item.name}: {reason}")


def _requeue(store: Store, settings: Settings, now: datetime, item: Target) -> list[str]:
    """Recompute the queue so notices and `invoke queue` reflect the change at once."""
    try:
        entries = refresh_queue(store, settings, now)
    except MarqueeError as exc:
        return [f"The deletion queue was not recomputed ({exc}); fix that, then run `invoke queue`."]
    if item.type == "show":
        keys = {r[0] for r in store.execute("media/episodes_of_show", {"show": item.rating_key})}
    elif item.type == "season":
        keys = {r[0] for r in store.execute("media/episodes_of_season", {"season": item.rating_key})}
    else:
        keys = {item.rating_key}
    mine = [e for e in entries if e.rating_key in keys]
    if not mine:
        return ["Not queued for deletion now (`invoke queue` lists what is)."]
    first = local_time(min(e.scheduled_at for e in mine), settings)
    if item.type in ("show", "season"):
        return [f"{len(mine)} of its episodes are queued for deletion, the first on {first} (`invoke queue`)."]
    return [f"Queued for deletion on {first} (`invoke queue`)."]

