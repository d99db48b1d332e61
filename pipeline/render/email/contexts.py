"""What each one-off e-mail is told: one frozen dataclass per notice kind.

A value keeps the name policy gave it all the way to the words (due_at, idle_days, kick_days), and keeps its
type: times stay aware datetimes, shown in the server's zone only by the builder in notices.py. A renamed or
unknown field is a TypeError where the context is built, never a value silently left out of an e-mail.
notices/ builds these; render_notice takes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
        raise ValueError(f"{name} must be an aware datetime, not {value!r}")


@dataclass(frozen=True)
class WelcomeNotice:
    """The welcome, with the admin's house rules."""

    kind: ClassVar[str] = "welcome"
    key: str = "welcome"  # the ledger key
    house_rules: str = ""  # content/pages/house-rules.md as Markdown; empty: no rules block
    issue_url: str | None = None  # the button's link; None: site.siteurl
    period: str | None = None  # "weekly" | "monthly"; None: newsletter.period


@dataclass(frozen=True)
class WarningStats:
    """The reader's own numbers over the last `days` days."""

    days: int
    plays: int
    hours: float
    last_title: str | None = None  # the last title they watched long enough to count
    last_played_at: datetime | None = None  # when they started it

    def __post_init__(self) -> None:
        _aware(self.last_played_at, "last_played_at")


@dataclass(frozen=True)
class WarningNotice:
    """The inactivity warning: when access ends, and why."""

    kind: ClassVar[str] = "warning"
    due_at: datetime  # Action.due_at: when the removal falls due
    key: str | None = None  # the ledger key; None: warning-<due day>
    idle_days: float | None = None  # Action.inputs["idle_days"]: how long they have not watched
    kick_days: float | None = None  # UserPolicy.kick_days: how long an account may stay idle
    last_play_at: datetime | None = None  # Action.inputs["last_play_at"]: their last counting play
    stats: WarningStats | None = None
    keep: str | None = None  # how to keep access, in the admin's words; None: play anything before due_at
    url: str | None = None  # a link under that line
    actions: tuple[tuple[str, str], ...] = ()  # (label, url) buttons: "I'm still here", "Watch something in Plex"

    def __post_init__(self) -> None:
        if self.due_at is None:
            raise ValueError("a warning needs due_at, the removal date it promises")
        _aware(self.due_at, "due_at")
        _aware(self.last_play_at, "last_play_at")


@dataclass(frozen=True)
class RemovalNotice:
    """The notice that access ended."""

    kind: ClassVar[str] = "removal"
    removed_at: datetime  # when access ended
    key: str | None = None  # the ledger key; None: removal-<day removed>
    idle_days: float | None = None  # Action.inputs["idle_days"]
    contact: str | None = None  # how to come back; None: reply, or ask the admin

    def __post_init__(self) -> None:
        _aware(self.removed_at, "removed_at")


@dataclass(frozen=True)
class ReportSection:
    """One block of the admin's report: lines, or a table."""

    heading: str
    lines: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[object, ...], ...] = ()


@dataclass(frozen=True)
class AdminReport:
    """A report to email.admin_email."""

    kind: ClassVar[str] = "admin_report"
    title: str
    key: str | None = None  # the ledger key; None: admin-report-<day>
    summary: str = ""
    sub: str = ""
    sections: tuple[ReportSection, ...] = ()
    subject: str | None = None  # None: "<server>: <title>"
    url: str | None = None
    button_label: str | None = None


@dataclass(frozen=True)
class LeavingItem:
    """One title a reader is about to lose, with the links they may act through ('' when there are none)."""

    title: str
    leaving_at: datetime  # the queue's scheduled_at: the day it may go
    year: int | None = None
    keep_url: str = ""
    done_url: str = ""
    plex_url: str = ""

    def __post_init__(self) -> None:
        _aware(self.leaving_at, "leaving_at")


@dataclass(frozen=True)
class LeavingNotice:
    """The short leaving-soon e-mail: every title this reader is about to lose, each with its date."""

    kind: ClassVar[str] = "leaving"
    key: str
    items: tuple[LeavingItem, ...]
    keep_rule: str = ""  # how to keep one when there is no Keep link


NoticeContext = WelcomeNotice | WarningNotice | RemovalNotice | AdminReport | LeavingNotice
CONTEXTS: dict[str, type] = {c.kind: c for c in (WelcomeNotice, WarningNotice, RemovalNotice, AdminReport,
                                                 LeavingNotice)}
