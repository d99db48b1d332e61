"""`invoke queue` and `invoke status`: the deletion queue and what Marquee freed, as lines an admin reads."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from pipeline.clock import Clock
from pipeline.policy.media import QueueEntry
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.media.queue import refresh
from pipeline.media.requests import requesters

GB = 1_000_000_000


def local_time(at: datetime, settings: Settings) -> str:
    """A stored UTC moment in the server's time zone, e.g. "2026-11-17 07:00 EST"."""
    return at.astimezone(ZoneInfo(settings.server.timezone)).strftime("%Y-%m-%d %H:%M %Z")


def gb(size: int | None) -> str:
    return "size ?" if size is None else f"{size / GB:.1f} GB"


def when(scheduled_at: datetime, now: datetime) -> str:
    """"due", or how many (started) days until the entry may be deleted."""
    if scheduled_at <= now:
        return "due"
    days = math.ceil((scheduled_at - now).total_seconds() / 86_400)
    return f"waiting {days} day{'s' if days != 1 else ''}"


def queue_lines(store: Store, settings: Settings, clock: Clock) -> list[str]:
    """Recompute the queue, then list every pending deletion: status, date, size, title, who it is for, why."""
    now = clock.now()
    entries, synced, inputs = refresh(store, settings, now)
    names = dict(store.execute("media/user_names"))
    held = [f"Held: {h.reason}" for h in synced.held]
    unread = inputs.watch_unread_line()
    held += [unread] if unread else []
    if not entries:
        lines = ["Nothing is queued for deletion.",
                 "An item is queued once every user assigned to it has watched it (assign with `invoke assign`, "
                 f"in {settings.retention.file} or with a Plex label such as "
                 f"'{settings.retention.label_prefix or 'marquee:'}alice'), or when a rule in "
                 f"{settings.retention.file} matches it."]
        return lines + held + synced.notes
    due = [e for e in entries if e.scheduled_at <= now]
    lines = [f"Deletion queue: {len(entries)} item{'s' if len(entries) != 1 else ''}, "
             f"{gb(sum(e.size_bytes or 0 for e in entries))}; {len(due)} due now, {len(entries) - len(due)} "
             f"waiting (times in {settings.server.timezone})."]
    asked = requesters(store)
    for e in entries:
        who = f"for {', '.join(names.get(u, f'user {u}') for u in e.users)}: " if e.source == "assigned" else ""
        if asked.get(e.rating_key):
            who = f"requested by {', '.join(names.get(u, f'user {u}') for u in asked[e.rating_key])}; {who}"
        lines.append(f"  {when(e.scheduled_at, now):<16} {local_time(e.scheduled_at, settings)}  "
                     f"{gb(e.size_bytes):>9}  {e.title}  ({who}{e.reason})")
    lines += _caps(settings, due)
    return lines + held + synced.notes


def _caps(settings: Settings, due: list[QueueEntry]) -> list[str]:
    r = settings.retention
    out = []
    if len(due) > r.max_deletions_per_run:
        out.append(f"The next `invoke enforce --apply` deletes at most {r.max_deletions_per_run} of the {len(due)} "
                   "due items (retention.max_deletions_per_run); the rest follow on later runs.")
    due_bytes = sum(e.size_bytes or 0 for e in due)
    if due_bytes > r.max_bytes_per_run:
        out.append(f"The due items hold {gb(due_bytes)}, more than retention.max_bytes_per_run "
                   f"({gb(r.max_bytes_per_run)}) frees in one run; the rest follow on later runs.")
    return out


def status_lines(store: Store, settings: Settings, clock: Clock) -> list[str]:
    """Space freed per month, the stored queue's totals, assignments, unfinished and relisted deletions."""
    now = clock.now()
    tz = settings.server.timezone
    lines = [f"Space freed by Marquee, per month ({tz}):"]
    months = store.execute("media/freed_by_month", {"tz": tz})
    for month, items, size in months:
        lines.append(f"  {month}  {items:>6} item{'s' if items != 1 else ' '}  {gb(size):>10}")
    if months:
        items, size = sum(m[1] for m in months), sum(m[2] for m in months)
        lines.append(f"  total    {items:>6} item{'s' if items != 1 else ' '}  {gb(size):>10}")
    else:
        lines.append("  nothing deleted yet")

    entries, size, due, next_at, computed_at = store.execute("media/queue_summary", {"now": now})[0]
    if entries:
        nxt = f"; next on {local_time(next_at, settings)}" if next_at else ""
        lines.append(f"Deletion queue: {entries} pending ({gb(size)}), {due} due now{nxt} "
                     f"(as computed {local_time(computed_at, settings)}; `invoke queue` recomputes and lists it).")
    else:
        lines.append("Deletion queue: empty (`invoke queue` recomputes it).")
    counts = store.execute("media/assignment_counts")
    kept = store.execute("media/keep_count")[0][0]
    by_source = ", ".join(f"{source} {n}" for source, n, _ in counts)
    total = sum(c[1] for c in counts)
    lines.append(f"Assignments: {total}" + (f" ({by_source})" if counts else "") + f"; kept for good: {kept}.")

    stuck = store.execute("media/assignees_without_access")
    if stuck:
        who = ", ".join(f"{name} ({n} title{'s' if n != 1 else ''})" for _, name, n in stuck)
        lines.append(f"Assigned users who no longer have access (what is theirs stays until you unassign them): "
                     f"{who}.")
    unfinished = store.records("media/unfinished_deletions")
    if unfinished:
        lines.append("Unfinished deletions (the next `invoke enforce --apply` retries them):")
        for d in unfinished:
            done = "Plex deleted" if d["plex_deleted"] else "still in Plex"
            lines.append(f"  {d['title']}: {d['state']} after {d['attempts']} attempt"
                         f"{'s' if d['attempts'] != 1 else ''} ({done}): {d['last_error'] or 'no error recorded'}")
    relisted = store.records("media/relisted_deletions")
    if relisted:
        lines.append("Plex lists these again after Marquee deleted them (never deleted twice; check Plex, "
                     "Sonarr and Radarr by hand):")
        for d in relisted:
            lines.append(f"  {d['title']}: deleted {local_time(d['deleted_at'], settings)}, listed again "
                         f"{local_time(d['last_listed_at'], settings)}")
    return lines
