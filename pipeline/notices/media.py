"""The leaving-soon e-mail: the notice a deletion waits for, one per reader per day, sent once through the ledger.

The queue (policy.media) says, for each entry, which concerned readers have not been told yet. Each of them gets
one short e-mail listing every title they are about to lose, with its date. What it listed is recorded in
media_notices before sending; it counts as the notice only once the ledger has the message as sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Iterable
from zoneinfo import ZoneInfo

import pyarrow as pa

from pipeline.errors import MarqueeError
from pipeline.policy.media import QueueEntry
from pipeline.render.email.contexts import LeavingItem, LeavingNotice
from pipeline.render.email.message import OutgoingMessage, Recipient
from pipeline.render.email.notice import render_notice
from pipeline.send.address import normalize
from pipeline.send.run import send_messages
from pipeline.tokens import Links, plex_url

if TYPE_CHECKING:
    from pipeline.clock import Clock
    from pipeline.settings import Settings
    from pipeline.store import Store

log = logging.getLogger(__name__)
UTC_TS = pa.timestamp("us", tz="UTC")
NOTICE_ROWS = pa.schema([("user_id", pa.int64()), ("rating_key", pa.int64()), ("message_key", pa.string()),
                         ("email", pa.string()), ("listed_at", UTC_TS), ("leaving_at", UTC_TS)])


@dataclass
class LeavingResult:
    lines: list[str]
    sent: int  # e-mails the ledger has as sent by this call


def leaving_key(user_id: int, now: datetime, timezone: str) -> str:
    """One leaving-soon e-mail per reader per local day."""
    return f"leaving-{user_id}-{now.astimezone(ZoneInfo(timezone)).date().isoformat()}"


def readers_to_tell(entries: Iterable[QueueEntry]) -> dict[int, list[QueueEntry]]:
    """user_id -> every queued entry concerning them, for each reader one entry still waits on."""
    entries = list(entries)
    waiting = {u for e in entries for u, at in e.notices if at is None}
    out: dict[int, list[QueueEntry]] = {}
    for e in entries:
        for u, _ in e.notices:
            if u in waiting:
                out.setdefault(u, []).append(e)
    return out


def send_leaving_soon(store: "Store", settings: "Settings", clock: "Clock", entries: Iterable[QueueEntry], *,
                      apply: bool) -> LeavingResult:
    """Send (apply) or preview the leaving-soon e-mails the queue waits on; what each listed goes in media_notices."""
    now = clock.now()
    readers = readers_to_tell(entries)
    if not readers:
        return LeavingResult([], 0)
    contacts = {r["user_id"]: r for r in store.records("notices/user_contacts")}
    machine = (store.execute("ingest/stored_server") or [(None, None)])[0][0]
    links = Links(settings, now)
    messages, rows, lines = [], [], []
    for uid, items in sorted(readers.items()):
        row = contacts.get(uid)
        email = normalize(row["email"]) if row else None
        if not email:
            continue  # the queue already names readers without an address (unreachable)
        key = leaving_key(uid, now, settings.server.timezone)
        if store.execute("notices/user_delivery", {"key": key, "email": email}):
            lines.append(f"leaving   {row['name'] or uid}: today's notice is already settled; the rest goes tomorrow")
            continue  # the ledger has today's e-mail: new titles wait for tomorrow's, never ride on a sent one
        context = LeavingNotice(key=key, items=tuple(
            LeavingItem(title=e.title or "Untitled", leaving_at=e.scheduled_at,
                        keep_url=links.url(uid, "keep", e.rating_key, e.title),
                        done_url=links.url(uid, "done", e.rating_key, e.title) if e.source == "assigned" else "",
                        plex_url=plex_url(machine, e.rating_key)) for e in items))
        messages.append(render_notice("leaving", Recipient(email, uid, row["name"] or row["username"] or ""),
                                      context, settings, clock=clock))
        rows += [{"user_id": uid, "rating_key": e.rating_key, "message_key": key, "email": email, "listed_at": now,
                  "leaving_at": e.scheduled_at} for e in items]
    if not messages:
        return LeavingResult(lines, 0)
    if not apply:
        summary = send_messages(store, settings, messages, apply=False, clock=clock)
        lines.append(f"leaving   dry run: {summary.dry_run_files} leaving-soon e-mail(s) written to the outbox")
        return LeavingResult(lines, 0)
    _record(store, rows)
    try:
        send_messages(store, settings, messages, apply=True, clock=clock, resend_unknown=True)
    except MarqueeError as exc:  # the deletions wait: a notice that was not sent does not count
        lines.append(f"leaving   not sent: {exc}")
        log.warning("leaving-soon notices not sent: %s", exc)
    sent = sum(1 for m in messages if _sent(store, m))
    lines.append(f"leaving   {sent} of {len(messages)} leaving-soon e-mail(s) sent")
    return LeavingResult(lines, sent)


def _record(store: "Store", rows: list[dict]) -> None:
    store.con.register("notice_rows", pa.Table.from_pylist(rows, schema=NOTICE_ROWS))
    try:
        store.execute("notices/media_notices_add")
    finally:
        store.con.unregister("notice_rows")


def _sent(store: "Store", msg: OutgoingMessage) -> bool:
    rows = store.execute("notices/user_delivery", {"key": msg.key, "email": msg.recipient.email})
    return bool(rows) and rows[0][0] == "sent"
