"""The e-mails a user plan needs: welcome, warning and removal, composed from the plan and sent once.

act asks for them and records what the ledger says afterwards (a warning counts only once its e-mail is SENT).
Every message goes through the ledger, so none goes twice; the ledger keys are those earlier versions used,
so an existing store keeps knowing what already went out.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Mapping, Sequence
from zoneinfo import ZoneInfo

from pipeline.clock import utc_iso
from pipeline.errors import MarqueeError
from pipeline.policy.plan import Action
from pipeline.render.email.contexts import RemovalNotice, WarningNotice, WarningStats, WelcomeNotice
from pipeline.render.email.message import OutgoingMessage, Recipient
from pipeline.render.email.notice import render_notice
from pipeline.render.email.notices import read_house_rules
from pipeline.send.address import normalize
from pipeline.send.ledger import FAILED, SENT, SUPPRESSED, UNKNOWN
from pipeline.send.optout import opted_out
from pipeline.send.run import send_messages
from pipeline.tokens import Links, plex_home

if TYPE_CHECKING:
    from pipeline.clock import Clock
    from pipeline.render.email.contexts import NoticeContext
    from pipeline.settings import Settings
    from pipeline.store import Store

log = logging.getLogger(__name__)
STATS_DAYS = 90  # the warning shows the reader's plays and hours over this many days
SETTLED = (SENT, FAILED, UNKNOWN, SUPPRESSED)  # the ledger will not send these again (by default)
FINAL = (SENT, FAILED, SUPPRESSED)  # not even when an unknown notice is sent again
NO_ADDRESS = "no e-mail address"
OPTED_OUT = "opted out of the newsletter"


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None  # normalized; None when there is no usable address


@dataclass(frozen=True)
class Delivery:
    """One notice as the ledger has it after sending; or, with key None, why there is no notice (error)."""

    key: str | None
    state: str | None = None  # the ledger's state; None: no row
    at: datetime | None = None  # when it left (the ledger's finished_at)
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.state == SENT

    @property
    def unknown(self) -> bool:
        """Handed to the provider without an answer: it may or may not have arrived."""
        return self.state == UNKNOWN

    @property
    def settled(self) -> bool:
        """The ledger will not send it again: sent, failed for good, unknown or suppressed."""
        return self.state in SETTLED


def removal_key(user_id: int, idle_since: datetime) -> str:
    """The removal notice's ledger key: one notice per idle stretch."""
    return f"removal-{user_id}-{utc_iso(idle_since)}"


def warning_key(user_id: int, idle_since: datetime, member_since: datetime | None = None) -> str:
    """The warning's ledger key: one warning per idle stretch of one membership.

    A membership that restarted (member_since: re-shared after Marquee removed them) gets keys of its own, so an
    old warning in the ledger can never stand in for a fresh one; every other key is as earlier versions made it.
    """
    if member_since is None:
        return f"warning-{user_id}-{utc_iso(idle_since)}"
    return f"warning-{user_id}-since-{utc_iso(member_since)}-{utc_iso(idle_since)}"


class UserNotices:
    """One run's lifecycle e-mails; the contacts are read once, on first use."""

    def __init__(self, store: "Store", settings: "Settings", clock: "Clock", *, min_play_seconds: int) -> None:
        self.store, self.settings, self.clock = store, settings, clock
        self.min_play_seconds = min_play_seconds  # the warning's last title is a play that counted
        self._contacts: dict[int, Contact] | None = None

    def contact(self, user_id: int) -> Contact | None:
        if self._contacts is None:
            self._contacts = {r["user_id"]: Contact(r["name"] or r["username"] or f"user {r['user_id']}",
                                                    normalize(r["email"]))
                              for r in self.store.records("notices/user_contacts")}
        return self._contacts.get(user_id)

    # -- sent (an applied run) ----------------------------------------------------------------------------------

    def welcome(self, actions: Sequence[Action]) -> dict[int, Delivery]:
        """Send the welcomes (not to addresses that opted out); user_id -> Delivery."""
        optouts = opted_out(self.store) if actions else set()
        composed = {a.user_id: self._welcome(a) for a in actions}
        for uid, msg in composed.items():
            if isinstance(msg, OutgoingMessage) and msg.recipient.email in optouts:
                composed[uid] = OPTED_OUT
        return self._deliver(composed)

    def warn(self, actions: Sequence[Action]) -> dict[int, Delivery]:
        """Send the warnings; user_id -> Delivery. Only a SENT one counts as a warning."""
        stats = self._stats(actions)
        composed = {a.user_id: self._warning(a, stats.get(a.user_id)) for a in actions}
        # An unknown warning (a run stopped while sending it) is sent again: a duplicate warning is harmless,
        # a warning that never counts would hold this user's removal back for ever.
        return self._deliver(composed, resend_unknown=True)

    def removal(self, a: Action, idle_since: datetime, removed_at: datetime | None = None) -> Delivery:
        """Send one removal notice (an unknown one again); removed_at: None for now."""
        return self._deliver({a.user_id: self._removal(a, idle_since, removed_at)}, resend_unknown=True)[a.user_id]

    def late_removal_contact(self, user_id: int, idle_since: datetime) -> Contact | None:
        """Who gets a removal notice a killed run did not send; None: no address, or it is settled for good."""
        contact = self.contact(user_id)
        if contact is None or contact.email is None:
            return None
        state = self._ledger(removal_key(user_id, idle_since), contact.email)[0]
        return None if state in FINAL else contact

    # -- previewed (a dry run) ----------------------------------------------------------------------------------

    def preview(self, actions: Sequence[Action], removal_since: Mapping[int, datetime]) -> str | None:
        """Write the e-mails the actions would send to the dry-run outbox; the line saying so, or None.

        removal_since: user_id -> the idle stretch each removal is about (its notice's key)."""
        stats = self._stats([a for a in actions if a.kind == "warn"])
        messages = []
        for a in actions:
            msg = (self._welcome(a) if a.kind == "welcome" else self._warning(a, stats.get(a.user_id))
                   if a.kind == "warn" else self._removal(a, removal_since[a.user_id]) if a.kind == "remove"
                   else None)
            if isinstance(msg, OutgoingMessage):
                messages.append(msg)
        if not messages:
            return None
        summary = send_messages(self.store, self.settings, messages, apply=False, clock=self.clock)
        kinds = Counter(m.kind for m in messages)
        return (f"dry run: {summary.dry_run_files} e-mail(s) written to {self.settings.email.outbox_dir}/dry-run/ ("
                + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ")")

    # -- composing ----------------------------------------------------------------------------------------------

    def _welcome(self, a: Action) -> OutgoingMessage | str:
        """The welcome e-mail with the house rules, or why there is none."""
        joined = a.inputs["joined_at"]
        return self._render(a.user_id, WelcomeNotice(key=f"welcome-{a.user_id}-{joined:%Y%m%d}",
                                                     house_rules=read_house_rules()))

    def _warning(self, a: Action, stats: WarningStats | None) -> OutgoingMessage | str:
        """The warning with the exact removal date and the reader's own numbers, or why there is none."""
        day = a.due_at.astimezone(ZoneInfo(self.settings.server.timezone))
        actions = (("I'm still here", Links(self.settings, self.clock.now()).url(
                        a.user_id, "still_here", utc_iso(a.inputs["idle_since"]), f"{day:%-d %b %Y}")),
                   ("Watch something in Plex", plex_home(self._machine())))
        return self._render(a.user_id, WarningNotice(
            key=warning_key(a.user_id, a.inputs["idle_since"], a.inputs.get("member_since")), due_at=a.due_at,
            idle_days=a.inputs.get("idle_days"), kick_days=a.inputs.get("kick_days"),
            last_play_at=a.inputs.get("last_play_at"), stats=stats,
            actions=tuple((label, url) for label, url in actions if url)))

    def _machine(self) -> str | None:
        rows = self.store.execute("ingest/stored_server")
        return rows[0][0] if rows else None

    def _removal(self, a: Action, idle_since: datetime, removed_at: datetime | None = None) -> OutgoingMessage | str:
        """The removal notice, or why there is none."""
        return self._render(a.user_id, RemovalNotice(key=removal_key(a.user_id, idle_since),
                                                     removed_at=removed_at or self.clock.now(),
                                                     idle_days=a.inputs.get("idle_days")))

    def _render(self, user_id: int, context: "NoticeContext") -> OutgoingMessage | str:
        contact = self.contact(user_id)
        if contact is None or contact.email is None:
            return NO_ADDRESS
        return render_notice(context.kind, Recipient(contact.email, user_id, contact.name), context, self.settings,
                             clock=self.clock)

    def _stats(self, actions: Sequence[Action]) -> dict[int, WarningStats]:
        """Each warned user's own numbers over the last STATS_DAYS days, from the store."""
        if not actions:
            return {}
        rows = self.store.records("notices/user_warning_stats", {
            "user_ids": [a.user_id for a in actions], "since": self.clock.now() - timedelta(days=STATS_DAYS),
            "min_play_seconds": self.min_play_seconds})
        return {r["user_id"]: WarningStats(days=STATS_DAYS, plays=int(r["plays"]), hours=float(r["hours"]),
                                           last_title=r["last_title"], last_played_at=r["last_played_at"])
                for r in rows}

    # -- delivering ---------------------------------------------------------------------------------------------

    def _deliver(self, composed: Mapping[int, OutgoingMessage | str], *,
                 resend_unknown: bool = False) -> dict[int, Delivery]:
        """Send through the ledger; user_id -> Delivery as the ledger has it afterwards."""
        messages = [m for m in composed.values() if isinstance(m, OutgoingMessage)]
        error = None
        if messages:
            try:
                send_messages(self.store, self.settings, messages, apply=True, clock=self.clock,
                              resend_unknown=resend_unknown)
            except MarqueeError as exc:  # a backend that cannot start (SES credentials): the actions still go ahead
                error = str(exc)
                log.warning("notices not sent: %s", exc)
        out = {}
        for uid, msg in composed.items():
            if isinstance(msg, str):
                out[uid] = Delivery(None, error=msg)
                continue
            state, at, err = self._ledger(msg.key, msg.recipient.email)
            out[uid] = Delivery(msg.key, state, at, err or error)
        return out

    def _ledger(self, key: str, email: str) -> tuple[str | None, datetime | None, str | None]:
        rows = self.store.execute("notices/user_delivery", {"key": key, "email": email})
        return rows[0] if rows else (None, None, None)
