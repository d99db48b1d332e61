"""Carry out the retention queue: re-check, cascade to Sonarr/Radarr, delete in Plex, audit, tell the admin.

Deciding is pipeline.policy.media (queue, due); the store's side of the queue is pipeline.media.
Dry runs read only the store; an applied run checks Tautulli activity and Plex live just before acting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from pipeline.errors import MarqueeError
from pipeline.logs import Progress
from pipeline.policy.guards import data_refusals
from pipeline.policy.media import Due, MediaPolicy, Playing, QueueEntry, due
from pipeline.act.activity import now_playing
from pipeline.store.audit import Audit, AuditRow
from pipeline.act.deletion import MAX_ATTEMPTS, Deletion, Needs, Step, StepFailed, describe_failure, load_all, save
from pipeline.act.media_remote import Remote, connect_remote
from pipeline.act.redownload import open_requests, series_needed, stop_series
from pipeline.act.seerr_cascade import clear_in_seerr
from pipeline.notices.media import send_leaving_soon

if TYPE_CHECKING:
    from pipeline.clock import Clock
    from pipeline.settings import Settings
    from pipeline.store import Store
    from pipeline.notices.admin import Notifier

log = logging.getLogger(__name__)
Event = Callable[[str, int], None]


@dataclass
class MediaResult:
    lines: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    failures: int = 0
    deleted: int = 0
    bytes_freed: int = 0
    deleted_now: list[Deletion] = field(default_factory=list)  # the deletions this run started, for open_requests


def enforce_media(store: "Store", settings: "Settings", clock: "Clock", audit: Audit, notifier: "Notifier", *,
                  apply: bool, force: bool = False, on_event: Event | None = None) -> MediaResult:
    """Refresh the queue, then delete what is due (apply) or say what would go (dry run).

    on_event(name, rating_key) is called after "cascaded" (Sonarr/Radarr done) and "deleted" (Plex done): a test hook.
    """
    from pipeline.media import refresh_queue
    from pipeline.media.queue import refresh

    now = clock.now()
    result = MediaResult()
    before = dict(store.execute("act/media_queue_keys"))
    dated = {key: (at, reason) for key, at, reason in store.execute("act/media_queue_schedule")}
    entries, synced, inputs = refresh(store, settings, now)  # one read of the inputs serves the queue and due
    policy = MediaPolicy.from_settings(settings)
    _audit_queue_changes(audit, before, entries, inputs.keeps)
    _report_held(audit, notifier, result, synced.held)
    _report_unread(audit, notifier, result, inputs.watch_unread_line())
    _report_relisted(store, audit, notifier, result, now, mark=apply)
    # The notice comes before the act: tell each concerned reader not told yet, then let the wait start from it.
    told = send_leaving_soon(store, settings, clock, entries, apply=apply)
    result.lines += told.lines
    if told.sent:
        entries, synced, inputs = refresh(store, settings, now)
    _audit_notice_waits(audit, entries, now, dated)

    if not apply:
        plan = due(entries, inputs.items, [], now, policy, keeps=inputs.keeps)
        _dry_run(audit, plan, result)
        return result

    refusals = [] if force else _refusals(store, settings, now)
    if refusals:
        result.refusals = refusals
        audit.record(*(AuditRow("run", None, None, "delete", "refused", r) for r in refusals))
        for r in refusals:
            notifier.add("refused", f"media: {r}")
        return result
    try:
        playing = [Playing(k) for k in sorted(now_playing(settings).rating_keys)]
    except MarqueeError as exc:
        result.refusals = [f"cannot check what is playing right now, so nothing is deleted: {exc}"]
        audit.record(AuditRow("run", None, None, "delete", "refused", result.refusals[0]))
        notifier.add("refused", f"media: {result.refusals[0]}")
        return result
    plan = due(entries, inputs.items, playing, now, policy, keeps=inputs.keeps)
    open_rows = load_all(store)
    due_keys = {e.rating_key for e in plan.to_delete}
    # Unfinished deletions not due again: the Sonarr/Radarr part after Plex deleted, or a Plex delete that went
    # through unheard (the item is gone from the queue because Plex no longer lists it).
    retry = [d for d in open_rows.values() if d.rating_key not in due_keys
             and d.state in ("partial", "failed", "started") and d.attempts < MAX_ATTEMPTS]
    for w in plan.waiting:
        if w.why in ("playing", "cap", "gone"):
            audit.record(AuditRow("media", w.entry.rating_key, w.entry.title, "delete", "skipped", w.reason,
                                  _inputs(w.entry)))
            result.lines.append(f"held      {w.entry.title}: {w.reason}")
    if not plan.to_delete and not retry:
        result.lines.append(f"media: nothing due ({len(entries)} queued)")
        if settings.retention.leaving_soon_collection.strip():
            _sync_collection(store, settings, None, notifier, result)
        return result
    try:
        remote = connect_remote(settings, store)
    except MarqueeError as exc:
        result.refusals = [str(exc)]
        audit.record(AuditRow("run", None, None, "delete", "refused", str(exc)))
        notifier.add("refused", f"media: {exc}")
        return result
    try:
        with Progress("delete", total=len(plan.to_delete) + len(retry), unit="items") as progress:
            for entry in plan.to_delete:
                _delete(store, settings, remote, audit, notifier, result, entry, open_rows.get(entry.rating_key), now,
                        on_event or _quiet)
                progress.advance(1)
            for d in retry:
                _finish_cascade(store, settings, remote, audit, notifier, result, d, now)
                progress.advance(1)
        _warn_redownload(notifier, result, open_requests(store, result.deleted_now))
        # What was just deleted leaves the stored queue: `invoke status`, the site and the collection read it.
        refresh_queue(store, settings, clock.now())
        if settings.retention.leaving_soon_collection.strip():
            _sync_collection(store, settings, remote.server, notifier, result)
    finally:
        remote.close()
    if result.deleted:
        result.lines.append(f"media: deleted {result.deleted}, {_gb(result.bytes_freed)} freed")
    return result


def _sync_collection(store, settings, server, notifier, result: MediaResult) -> None:
    """Keep the optional "Leaving soon" collection equal to the queue; a problem there never fails the run."""
    from pipeline.clients.plex import connect_server
    from pipeline.act.collection import sync_leaving_collection

    from pipeline.act.same_server import ensure_same_server, live_identity

    try:
        if server is None:
            server = connect_server(settings.plex)
            ensure_same_server(store, *live_identity(server))
        result.lines += sync_leaving_collection(server, store, settings, apply=True)
    except MarqueeError as exc:
        result.lines.append(f"collection: {exc}")
        notifier.add("info", f"leaving-soon collection not updated: {exc}")


def _refusals(store: "Store", settings: "Settings", now: datetime) -> list[str]:
    # The library and the labels come from Plex: an ingest that skipped Plex does not make them fresh.
    refusals = data_refusals(last_ingest_at=store.execute("policy/last_full_ingest")[0][0],
                             latest_play_at_server=store.execute("policy/latest_play")[0][0], now=now,
                             max_data_age_hours=settings.users.max_data_age_hours,
                             quiet_days=settings.users.quiet_days)
    allowed = store.execute("act/allow_media_deletion")
    if allowed and allowed[0][0] is False:
        refusals.append("Plex does not allow media deletion; turn on Settings > Library > "
                        "'Allow media deletion' in Plex, re-ingest, then enforce again")
    return refusals


def _quiet(name: str, rating_key: int) -> None:
    pass


def _delete(store, settings, remote: Remote, audit, notifier, result, entry: QueueEntry, row: Deletion | None,
            now: datetime, on_event: Event) -> None:
    item = remote.fetch(entry.rating_key)
    if item is None and row is not None:
        # An earlier run started this deletion and Plex's DELETE went through unheard (a timeout, a kill).
        _finish_cascade(store, settings, remote, audit, notifier, result, row, now)
        return
    if item is None:
        reason = "Plex no longer lists it; nothing to delete"
        audit.record(AuditRow("media", entry.rating_key, entry.title, "delete", "skipped", reason, _inputs(entry)))
        result.lines.append(f"gone      {entry.title}: {reason}")
        return
    d = row or Deletion(entry.rating_key, entry.title, "movie" if item.type == "movie" else "episode",
                        entry.size_bytes, started_at=now)
    if not d.agent_ids:
        d = replace(d, agent_ids=remote.agent_ids(item))
    shared = _shared_file(settings, remote, d)
    if shared:
        # Deleting the file (in Sonarr or in Plex) would take episodes nobody finished with it.
        reason = f"its file also holds {', '.join(shared)}, which is not due; delete the file by hand when it is"
        audit.record(AuditRow("media", d.rating_key, d.title, "delete", "skipped", reason, _inputs(entry)))
        notifier.add("info", f"{d.title}: {reason}")
        result.lines.append(f"held      {d.title}: {reason}")
        return
    d = replace(d, attempts=d.attempts + 1, state="started", updated_at=now)
    save(store, d)  # before any far-side change, so a kill leaves a row to resume from
    audit.record(AuditRow("media", d.rating_key, d.title, "delete", "started", entry.reason, _inputs(entry)))
    d, error = _cascade(store, settings, remote, d, now)
    on_event("cascaded", d.rating_key)
    step = Step(store, now)
    try:
        d = step(d, "Plex delete", lambda: remote.delete(item), plex_deleted=True, deleted_at=now)
        on_event("deleted", d.rating_key)
    except StepFailed as exc:
        error = "; ".join(e for e in (error, str(exc)) if e)
    d, seerr_error = clear_in_seerr(store, remote, d, now)
    d, series_error, warnings = stop_series(store, settings, remote, d, now)
    error = "; ".join(e for e in (error, seerr_error, series_error) if e) or None
    _settle(store, settings, audit, notifier, result, d, error, now, entry)
    _warn_redownload(notifier, result, warnings)
    result.deleted_now.append(d)


def _shared_file(settings, remote: Remote, d: Deletion) -> tuple[str, ...]:
    """Other episodes in this episode's file, as Sonarr knows them (a double episode); () when none or unknown."""
    if d.media_type != "episode" or not settings.sonarr.configured or remote.down.get("sonarr"):
        return ()
    try:
        target = remote.find(d)
    except MarqueeError:
        return ()  # the cascade meets the same error and records it
    return target.shares_file_with if target is not None else ()


def _finish_cascade(store, settings, remote: Remote, audit, notifier, result, d: Deletion, now: datetime) -> None:
    if not d.plex_deleted:
        if remote.fetch(d.rating_key) is not None:
            return  # still in Plex and not due now (kept, watched again, held): it waits for the queue
        d = replace(d, plex_deleted=True, deleted_at=d.deleted_at or now)
    d = replace(d, attempts=d.attempts + 1, updated_at=now)
    save(store, d)
    d, error = _cascade(store, settings, remote, d, now)
    d, seerr_error = clear_in_seerr(store, remote, d, now)
    d, series_error, warnings = stop_series(store, settings, remote, d, now)
    error = "; ".join(e for e in (error, seerr_error, series_error) if e) or None
    _settle(store, settings, audit, notifier, result, d, error, now, None)
    _warn_redownload(notifier, result, warnings)


def _cascade(store, settings, remote: Remote, d: Deletion, now: datetime) -> tuple[Deletion, str | None]:
    """Unmonitor, delete the file, add the exclusion: each step that is still missing, in that order."""
    needs = _needs(settings, d)
    if not needs.app_configured or d.arr == "none":
        return d, None
    down = remote.down.get(d.app)
    if down:
        return d, f"{d.app.capitalize()} skipped: {down}"
    client = remote.client(d.app)
    step = Step(store, now)
    try:
        target = remote.find(d)
        if target is None:
            d = replace(d, arr="none", updated_at=now)
            save(store, d)
            return d, None
        d = replace(d, arr=d.app, arr_id=target.item_id)
        if not d.arr_unmonitored:
            d = step(d, f"{d.app.capitalize()} unmonitor", lambda: client.unmonitor(target), arr_unmonitored=True)
        if needs.delete_files and not d.arr_file_deleted:
            d = step(d, f"{d.app.capitalize()} file delete",
                     (lambda: client.delete_file(target)) if target.file_id else (lambda: None),
                     arr_file_deleted=True)
        if needs.exclusion and d.media_type == "movie" and not d.arr_excluded:
            d = step(d, "Radarr exclusion", lambda: client.add_exclusion(target), arr_excluded=True)
    except StepFailed as exc:
        return d, str(exc)
    except MarqueeError as exc:
        return d, f"{d.app.capitalize()}: {exc}"
    return d, None


def _needs(settings, d: Deletion) -> Needs:
    return Needs(app_configured=getattr(settings, d.app).configured,
                 delete_files=settings.retention.arr_delete_files, exclusion=settings.retention.import_exclusion,
                 seerr=settings.seerr.configured)


def _warn_redownload(notifier, result: MediaResult, warnings: list[str]) -> None:
    """What may download a deleted title again: in the admin report and the run's output."""
    for line in warnings:
        notifier.add("redownload", line)
        result.lines.append(f"re-download risk: {line}")


def _settle(store, settings, audit, notifier, result, d: Deletion, error: str | None, now: datetime,
            entry: QueueEntry | None) -> None:
    # last_error says what got done as well, e.g. "Plex deleted; Sonarr skipped: ...".
    needs = replace(_needs(settings, d), series=series_needed(store, settings, d))
    d = d.settle(needs, describe_failure(d, error) if error else None, now)
    if d.state != "done" and d.attempts >= MAX_ATTEMPTS:
        d = replace(d, state="failed")
    save(store, d)
    what = describe_failure(d, error)
    size = _gb(d.size_bytes)
    outcome = {"state": d.state, "steps": what, "bytes_freed": d.size_bytes if d.plex_deleted else 0,
               "attempt": d.attempts, "arr": d.arr, "arr_id": d.arr_id}
    reason = entry.reason if entry else "retrying the unfinished part of an earlier deletion"
    audit.record(AuditRow("media", d.rating_key, d.title, "delete", d.state if d.state != "started" else "failed",
                          reason if d.state == "done" else f"{what}", _inputs(entry) if entry else {}, outcome))
    if d.state == "done":
        if entry is not None:
            result.deleted += 1
            result.bytes_freed += d.size_bytes or 0
            notifier.add("delete", f"deleted {d.title} ({size}): {reason}")
        else:
            notifier.add("delete", f"finished deleting {d.title}: {what}")
        result.lines.append(f"deleted   {d.title} ({size})")
    else:
        result.failures += 1
        if entry is not None and d.plex_deleted:
            result.deleted += 1
            result.bytes_freed += d.size_bytes or 0
        retry = " (retried next run)" if d.attempts < MAX_ATTEMPTS else f" (gave up after {d.attempts} runs; finish it by hand)"
        notifier.add("delete_failed", f"{d.title}: {what}{retry}")
        result.lines.append(f"{d.state:<9} {d.title}: {what}{retry}")


def _dry_run(audit: Audit, plan: Due, result: MediaResult) -> None:
    rows = []
    for e in plan.to_delete:
        rows.append(AuditRow("media", e.rating_key, e.title, "delete", "planned", e.reason, _inputs(e)))
        result.lines.append(f"would delete {e.title} ({_gb(e.size_bytes)}): {e.reason}")
    for w in plan.waiting:
        if w.why == "cap":
            rows.append(AuditRow("media", w.entry.rating_key, w.entry.title, "delete", "skipped", w.reason,
                                 _inputs(w.entry)))
            result.lines.append(f"held         {w.entry.title}: {w.reason}")
    audit.record(*rows)
    waiting = sum(1 for w in plan.waiting if w.why == "delay")
    result.lines.append(f"media: {len(plan.to_delete)} due now, {waiting} waiting for their date "
                        "(`invoke queue` lists them)")


def _audit_queue_changes(audit: Audit, before: dict[int, str], entries: list[QueueEntry], keeps: Any) -> None:
    now_keys = {e.rating_key for e in entries}
    rows = [AuditRow("media", e.rating_key, e.title, "queue", "planned",
                     f"queued for {e.scheduled_at:%Y-%m-%d %H:%M} UTC: {e.reason}", _inputs(e))
            for e in entries if e.rating_key not in before]
    rows += [AuditRow("media", k, title, "dequeue", "done",
                      "left the queue (unassigned, a new assignee, kept, watched again or gone)")
             for k, title in before.items() if k not in now_keys]
    audit.record(*rows)


def _audit_notice_waits(audit: Audit, entries: list[QueueEntry], now: datetime, dated: dict[int, tuple]) -> None:
    """Each queued item that waits for a reader's notice, when the wait starts or, once every reader was told, its
    date moves (`dated`: stored (date, reason) before this run); a daemon's every tick does not repeat it."""
    def new(e: QueueEntry) -> bool:
        at, reason = dated.get(e.rating_key, (None, ""))
        if "waits for notice" not in (reason or ""):
            return True
        return all(t for _, t in e.notices) and at != e.scheduled_at

    rows = [AuditRow("media", e.rating_key, e.title, "delete", "skipped",
                     f"waits for notice until {e.scheduled_at:%Y-%m-%d %H:%M} UTC"
                     + ("" if all(at for _, at in e.notices) else " (a reader has not been sent it yet)"),
                     _inputs(e))
            for e in entries if e.notices and e.scheduled_at > now and "waits for notice" in e.reason and new(e)]
    audit.record(*rows)


def _report_held(audit: Audit, notifier, result: MediaResult, held: list) -> None:
    """Items a bad assignment keeps out of the queue: a problem with each of them, not with the run."""
    for h in held:
        audit.record(AuditRow("media", h.rating_key, h.name, "delete", "skipped", h.reason))
        notifier.add("info", h.reason)
        result.lines.append(f"held      {h.name}: {h.reason}")


def _report_unread(audit: Audit, notifier, result: MediaResult, line: str | None) -> None:
    """Assignees whose Plex watch state could not be read: one line in the plan, the audit and the admin report."""
    if line:
        audit.record(AuditRow("run", None, None, "queue", "skipped", line))
        notifier.add("info", line)
        result.lines.append(line)


def _report_relisted(store, audit: Audit, notifier, result: MediaResult, now: datetime, *, mark: bool) -> None:
    for rating_key, title, deleted_at, listed_at in store.execute("act/media_relisted"):
        reason = (f"Plex still lists {title} after Marquee deleted it on {deleted_at:%Y-%m-%d}; "
                  "it is not deleted again: check Plex (and Sonarr/Radarr) by hand")
        audit.record(AuditRow("media", rating_key, title, "delete", "skipped", reason))
        notifier.add("relisted", reason)
        result.lines.append(f"relisted  {title}: not deleted again")
        if mark:  # told once, by an applied run: a dry run's notice only reaches the dry-run outbox
            store.execute("act/media_mark_relisted", {"rating_key": rating_key, "at": now})


def _inputs(e: QueueEntry | None) -> dict:
    if e is None:
        return {}
    return {"scheduled_at": e.scheduled_at, "source": e.source, "rule": e.rule, "users": list(e.users),
            "size_bytes": e.size_bytes, "matched_at": e.matched_at}


def _gb(size: int | None) -> str:
    return "size unknown" if size is None else f"{size / 1e9:.1f} GB"
