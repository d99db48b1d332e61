"""A plan: the actions policy decided, one per user at most, each with its reason and inputs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping

# "protect" and "wait" change nothing; they are in the plan so the table and the audit show every decision.
KINDS = ("welcome", "warn", "remove", "clear_warning", "protect", "wait")
ACTING = ("welcome", "warn", "remove", "clear_warning")


@dataclass(frozen=True)
class Action:
    """One decision about one user."""

    kind: str  # one of KINDS
    user_id: int
    reason: str  # a human sentence with the numbers, shown in the plan table and the e-mail to the admin
    due_at: datetime | None = None  # warn: the promised removal date; wait: when the next step falls due
    inputs: Mapping[str, Any] = field(default_factory=dict, compare=True)  # what the decision was made from
    username: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown action kind {self.kind!r}; expected one of {', '.join(KINDS)}")

    def row(self) -> dict[str, Any]:
        """JSON-ready dict for the plan table and the audit table (datetimes as ISO 8601 UTC)."""
        return {
            "user_id": self.user_id,
            "username": self.username,
            "kind": self.kind,
            "reason": self.reason,
            "due_at": _json(self.due_at),
            "inputs": {k: _json(v) for k, v in self.inputs.items()},
        }


@dataclass(frozen=True)
class Plan:
    """All actions of one run, ordered by user_id, decided at `now`."""

    now: datetime
    actions: tuple[Action, ...] = ()

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.actions, key=lambda a: a.user_id))
        ids = [a.user_id for a in ordered]
        if len(ids) != len(set(ids)):
            raise ValueError("a plan holds at most one action per user")
        object.__setattr__(self, "actions", ordered)

    def of_kind(self, *kinds: str) -> tuple[Action, ...]:
        """The actions of the given kinds, in user_id order."""
        return tuple(a for a in self.actions if a.kind in kinds)

    @property
    def removals(self) -> tuple[Action, ...]:
        return self.of_kind("remove")

    def for_user(self, user_id: int) -> Action | None:
        """The action for one user, or None when policy decided nothing (already removed)."""
        return next((a for a in self.actions if a.user_id == user_id), None)

    def counts(self) -> dict[str, int]:
        """Number of actions per kind, every kind present (zeros included)."""
        got = Counter(a.kind for a in self.actions)
        return {k: got.get(k, 0) for k in KINDS}

    def rows(self) -> list[dict[str, Any]]:
        """JSON-ready rows, one per action."""
        return [a.row() for a in self.actions]

    def with_actions(self, actions: tuple[Action, ...]) -> "Plan":
        """The same run with other actions (used by guards.cap)."""
        return replace(self, actions=actions)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
