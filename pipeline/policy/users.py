"""User lifecycle policy: welcome, warn, remove. Pure: rows and a clock in, a Plan out."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Iterable, Mapping

from pipeline.policy.plan import Action, Plan

if TYPE_CHECKING:
    from pipeline.settings import Settings

ZERO = timedelta(0)


@dataclass(frozen=True)
class Member:
    """A user who has (or had) access to this server, as the caller read it from the store."""

    user_id: int
    username: str
    email: str | None
    is_owner: bool
    is_home: bool
    is_restricted: bool  # a managed user (always part of the owner's Home)
    joined_at: datetime  # plex.tv acceptedAt, else when Marquee first saw them
    last_counting_play_at: datetime | None  # latest play of at least min_play_seconds; None = never watched
    join_is_estimate: bool = False  # True when joined_at is first_seen_at (acceptedAt unknown)
    first_seen_at: datetime | None = None  # when this membership was first listed (reset when a user comes back)

    def __post_init__(self) -> None:
        _aware(self.joined_at, "joined_at")
        if self.last_counting_play_at is not None:
            _aware(self.last_counting_play_at, "last_counting_play_at")
        if self.first_seen_at is not None:
            _aware(self.first_seen_at, "first_seen_at")


@dataclass(frozen=True)
class MemberState:
    """What earlier runs did for one user (the acting side stores it; see next_state)."""

    welcomed_at: datetime | None = None
    warned_at: datetime | None = None
    warned_for_idle_since: datetime | None = None  # the idle stretch the warning was about
    removed_at: datetime | None = None
    removal_attempts: int = 0  # failed or successful unshare attempts in this membership
    last_error: str | None = None
    # When this membership started, if later than the join date: a user Marquee removed whom the admin re-shared
    # (plex.tv may keep acceptedAt). Stored, so the restart outlives the removal it was detected from.
    member_since: datetime | None = None
    still_here_at: datetime | None = None  # the reader answered the current warning "Still here" (read, not saved)


NEW = MemberState()


@dataclass(frozen=True)
class UserPolicy:
    """Thresholds of the lifecycle policy. [users] in settings.py holds their defaults and checks; see from_settings."""

    welcome_window_days: float  # welcome users who joined this recently and were never welcomed
    grace_hours: float  # never inactive this soon after joining
    min_play_seconds: int  # a play counts if it lasted this long (used by the caller's SQL)
    warn_days: float  # idle this long: warning e-mail with the exact removal date
    kick_days: float  # idle this long and warned early enough: removal
    vip: frozenset[str]  # usernames, e-mail addresses or user ids; never warned or removed
    include_home_users: bool  # apply the policy to home and managed users too
    admin_email: str | None  # the admin is never warned or removed
    max_removals_per_run: int  # refuse (or cap) a run that would remove more
    max_removal_share: float  # refuse a run that would remove more than this share of all members
    max_data_age_hours: float  # refuse to warn or remove on older data
    quiet_days: float  # no plays server-wide this long: Tautulli was probably down; refuse
    max_removal_attempts: int  # failed unshares are retried on later runs up to this many times
    reader_can_extend_days: float = 0  # "Still here" on a warning postpones its removal once by this much; 0: off

    def __post_init__(self) -> None:
        # Matched case-insensitively; ids arrive as numbers from a hand-built policy.
        object.__setattr__(self, "vip", frozenset(str(v).strip().lower() for v in self.vip if str(v).strip()))

    @classmethod
    def from_settings(cls, settings: "Settings") -> "UserPolicy":
        """The one way from settings to a policy: [users] and email.admin_email, already checked when loaded."""
        users = settings.users
        return cls(
            welcome_window_days=users.welcome_window_days, grace_hours=users.grace_hours,
            min_play_seconds=users.min_play_seconds, warn_days=users.warn_days, kick_days=users.kick_days,
            vip=frozenset(users.vip), include_home_users=users.include_home_users,
            admin_email=settings.email.admin_email.strip() or None, max_removals_per_run=users.max_removals_per_run,
            max_removal_share=users.max_removal_share, max_data_age_hours=users.max_data_age_hours,
            quiet_days=users.quiet_days, max_removal_attempts=users.max_removal_attempts,
            reader_can_extend_days=users.reader_can_extend_days)

    @property
    def notice(self) -> timedelta:
        """The notice a warning promises: kick_days - warn_days."""
        return timedelta(days=self.kick_days - self.warn_days)


def decide_users(members: Iterable[Member], states: Mapping[int, MemberState], now: datetime,
                 policy: UserPolicy, *, first_run: bool, started_at: datetime | None = None) -> Plan:
    """Decide zero or one action per member.

    `first_run` is True when no earlier enforce run exists; `started_at` is when the first one ran. A member whose
    join date is only an estimate (first seen) is welcomed only if first seen after `started_at`: everyone listed
    before enforcement started is an existing user, not a new one.
    """
    _aware(now, "now")
    if first_run:
        started_at = now
    actions = []
    seen: set[int] = set()
    for m in sorted(members, key=lambda m: m.user_id):
        if m.user_id in seen:
            raise ValueError(f"user {m.user_id} is listed twice")
        seen.add(m.user_id)
        action = decide_member(m, states.get(m.user_id, NEW), now, policy, started_at=started_at)
        if action is not None:
            actions.append(action)
    return Plan(now=now, actions=tuple(actions))


def decide_member(m: Member, state: MemberState, now: datetime, policy: UserPolicy, *,
                  started_at: datetime | None) -> Action | None:
    """The one decision for one member, or None when they are already removed."""
    state = current_state(m, state)
    if state.removed_at is not None:
        return None
    start = membership_start(m, state)
    since = idle_since(m, policy, start)
    idle = max(now - since, ZERO)
    warned = warning_current(state, m)
    protected, by_role = protection(m, policy)
    inputs = {
        "joined_at": m.joined_at, "last_play_at": m.last_counting_play_at, "idle_since": since,
        "idle_days": round(idle / timedelta(days=1), 2), "warn_days": policy.warn_days,
        "kick_days": policy.kick_days, "grace_hours": policy.grace_hours,
        "welcome_window_days": policy.welcome_window_days, "welcomed_at": state.welcomed_at,
        "warned_at": state.warned_at, "removal_attempts": state.removal_attempts,
        "last_error": state.last_error, "protected": protected,
    }
    if start != m.joined_at:
        inputs["member_since"] = start  # also keys this membership's warning e-mail (notices/users.py)

    def act(kind: str, reason: str, due_at: datetime | None = None) -> Action:
        return Action(kind, m.user_id, reason, due_at, inputs, m.username)

    welcome_due = (state.welcomed_at is None and policy.welcome_window_days > 0
                   and now - m.joined_at < timedelta(days=policy.welcome_window_days)
                   and (not m.join_is_estimate or (started_at is not None and m.joined_at > started_at)))
    welcome = f"joined {_fmt(m.joined_at)}, within the {_n(policy.welcome_window_days)}-day welcome window"
    seen = _seen(m, idle)

    if protected:
        if welcome_due and not by_role:
            return act("welcome", f"{welcome} (protected: {protected})")
        if state.warned_at is not None:
            return act("clear_warning", f"protected ({protected}); the warning of {_fmt(state.warned_at)} is withdrawn")
        return act("protect", f"protected ({protected}): never warned or removed; {seen}")

    warn_at = since + timedelta(days=policy.warn_days)
    kick_at = since + timedelta(days=policy.kick_days)
    if state.warned_at is not None and not warned:
        if now >= warn_at:
            removal_at = max(kick_at, now + policy.notice)
            return act("warn", f"{seen}, idle again since the warning of {_fmt(state.warned_at)} "
                               f"(warn at {_n(policy.warn_days)}); removal on {_fmt(removal_at)}", removal_at)
        return act("clear_warning", f"watched again ({seen}) after the warning of {_fmt(state.warned_at)}")
    if warned:
        notice_ends = state.warned_at + policy.notice
        # "Still here" adds days once, on top of the warning's own notice, never in place of it.
        extra = (timedelta(days=policy.reader_can_extend_days) if policy.reader_can_extend_days > 0
                 and state.still_here_at is not None and state.still_here_at >= state.warned_at else ZERO)
        kick_at += extra
        removal_at = max(kick_at, notice_ends)
        if extra:
            inputs["still_here_at"] = state.still_here_at
            seen += (f"; said \u201cstill here\u201d on {_fmt(state.still_here_at)} "
                     f"(+{_n(policy.reader_can_extend_days)} days)")
        if now >= removal_at:
            if state.removal_attempts >= policy.max_removal_attempts:
                return act("wait", f"{seen}; removal failed {state.removal_attempts} times "
                                   f"(last error: {state.last_error or 'unknown'}); remove by hand, then reset")
            retry = (f"; retry {state.removal_attempts + 1} of {policy.max_removal_attempts} "
                     f"(last error: {state.last_error or 'unknown'})") if state.removal_attempts else ""
            return act("remove", f"{seen} (remove at {_n(policy.kick_days)}); warned {_fmt(state.warned_at)}, "
                                 f"{_n(policy.kick_days - policy.warn_days)} days' notice given{retry}", removal_at)
        if now >= kick_at:
            return act("wait", f"{seen} (remove at {_n(policy.kick_days)}) but warned only on "
                               f"{_fmt(state.warned_at)}; removal waits until {_fmt(notice_ends)} so the promised "
                               f"{_n(policy.kick_days - policy.warn_days)} days' notice runs", notice_ends)
        return act("wait", f"{seen}; warned {_fmt(state.warned_at)}, removal on {_fmt(removal_at)} "
                           "unless they watch", removal_at)
    if now >= warn_at:
        removal_at = max(kick_at, now + policy.notice)
        return act("warn", f"{seen} (warn at {_n(policy.warn_days)}, remove at {_n(policy.kick_days)}); "
                           f"removal on {_fmt(removal_at)}", removal_at)
    if welcome_due:
        return act("welcome", welcome)
    grace_ends = start + timedelta(hours=policy.grace_hours)
    if now < grace_ends:
        return act("wait", f"in grace until {_fmt(grace_ends)}; warning due {_fmt(warn_at)} if they never watch",
                   warn_at)
    return act("wait", f"{seen}; warning due {_fmt(warn_at)} if they do not watch", warn_at)


def current_state(m: Member, state: MemberState) -> MemberState:
    """The state of this membership: a user re-invited (or listed again) after removal starts afresh.

    plex.tv's acceptedAt can stay the same when access comes back (a listing that missed a user for one ingest,
    or a re-share), so being first seen again after the removal also starts a new membership.
    """
    if state.removed_at is None or (m.joined_at <= state.removed_at
                                    and (m.first_seen_at is None or m.first_seen_at <= state.removed_at)):
        return state
    since_join = lambda t: t if t is not None and t >= m.joined_at else None  # noqa: E731
    if m.joined_at <= state.removed_at and state.removal_attempts > 0 and state.last_error is None:
        # Marquee removed them and the admin let them back in: nothing of the old membership counts, and it
        # starts when they were listed again (member_since is stored, so later runs keep it).
        return MemberState(welcomed_at=since_join(state.welcomed_at), member_since=m.first_seen_at)
    # A gap in plex.tv's listing (a removal Marquee did not make) with an unchanged join date: a warning of this
    # membership still counts, since it was about the same idle stretch and its e-mail cannot go out twice.
    start = membership_start(m, state)
    warned_at = since_join(state.warned_at)
    warned_at = warned_at if warned_at is not None and warned_at >= start else None
    return MemberState(welcomed_at=since_join(state.welcomed_at), warned_at=warned_at,
                       warned_for_idle_since=state.warned_for_idle_since if warned_at else None,
                       member_since=start if start != m.joined_at else None)


def membership_start(m: Member, state: MemberState) -> datetime:
    """When the current membership started: the join date, or a later restart stored in the state."""
    return state.member_since if state.member_since is not None and state.member_since > m.joined_at \
        else m.joined_at


def idle_since(m: Member, policy: UserPolicy, start: datetime | None = None) -> datetime:
    """Start of the current idle stretch: the latest counting play, but never before the membership's start + grace.

    start: when the membership started (membership_start); the join date when None."""
    floor = (start or m.joined_at) + timedelta(hours=policy.grace_hours)
    last = m.last_counting_play_at
    return floor if last is None or last < floor else last


def warning_current(state: MemberState, m: Member) -> bool:
    """True when a warning is recorded and no counting play came after the idle stretch it was about."""
    if state.warned_at is None:
        return False
    # Only a real play ends the stretch: a shifted join date or grace setting must not trigger a second warning.
    stretch = state.warned_for_idle_since or state.warned_at
    return m.last_counting_play_at is None or m.last_counting_play_at <= stretch


def protection(m: Member, policy: UserPolicy) -> tuple[str | None, bool]:
    """(why this member is protected or None, whether by role: owner, admin or home user)."""
    email = (m.email or "").strip().lower()
    if m.is_owner:
        return "server owner", True
    if policy.admin_email and email == policy.admin_email.strip().lower():
        return "admin e-mail", True
    for label, key in (("username", (m.username or "").strip().lower()), ("e-mail", email),
                       ("id", str(m.user_id))):
        if key and key in policy.vip:
            return f"vip by {label}", False
    if (m.is_home or m.is_restricted) and not policy.include_home_users:
        return ("managed user" if m.is_restricted else "home user"), True
    return None, False


def next_state(m: Member, state: MemberState, action: Action, at: datetime, *, ok: bool = True,
               error: str | None = None) -> MemberState:
    """The state to store after the acting side carried out `action` at `at` (ok) or failed (error)."""
    state = current_state(m, state)
    if action.kind == "remove":
        if ok:
            return replace(state, removed_at=at, removal_attempts=state.removal_attempts + 1, last_error=None)
        return replace(state, removal_attempts=state.removal_attempts + 1, last_error=error or "unknown error")
    if not ok:
        # Nothing is recorded: a failed e-mail is retried next run, and an unrecorded warning keeps removal postponed.
        return state
    if action.kind == "welcome":
        return replace(state, welcomed_at=at)
    if action.kind == "warn":
        return replace(state, warned_at=at, warned_for_idle_since=action.inputs["idle_since"],
                       removal_attempts=0, last_error=None)
    if action.kind == "clear_warning":
        return replace(state, warned_at=None, warned_for_idle_since=None, removal_attempts=0, last_error=None)
    return state


def _days(idle: timedelta) -> str:
    """'10.5', '27', '1,006': tenths below 100 days, whole days above; never rounded up past a threshold."""
    days = idle / timedelta(days=1)
    if days >= 100:
        return f"{math.floor(days):,}"
    return _n(math.floor(days * 10 + 1e-9) / 10)


def _seen(m: Member, idle: timedelta) -> str:
    days = _days(idle)
    days = f"{days} day" if days == "1" else f"{days} days"
    if m.last_counting_play_at is None:
        return f"never watched, idle {days} counted from join + grace"
    return f"idle {days} since the last play on {_fmt(m.last_counting_play_at)}"


def _fmt(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _n(x: float) -> str:
    return f"{x:g}"


def _aware(t: datetime, name: str) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be an aware UTC datetime, got {t!r}")
