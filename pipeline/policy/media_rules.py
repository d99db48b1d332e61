"""Retention rules for media nobody is assigned to: when a rule first matched an item, or why it never will."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError

if TYPE_CHECKING:  # media.py imports this module; the item is only read here
    from pipeline.policy.media import MediaItem

MEDIA_TYPES = ("movie", "episode")


@dataclass(frozen=True)
class Rule:
    """One declarative rule from retention.toml; a None criterion is not checked."""

    name: str
    library: str | None = None  # Plex library (section) title; None = any library
    media_type: str | None = None  # "movie" | "episode"; None = any
    added_before_days: float | None = None  # added more than N days ago
    not_played_by_anyone_days: float | None = None  # nobody played it for N days (never played counts)
    min_size_bytes: int | None = None  # only items at least this big
    exclude_labels: frozenset[str] = frozenset({"keep"})  # compared case-insensitively
    exclude_collections: frozenset[str] = frozenset()  # compared case-insensitively
    exclude_played_within_days: float | None = None  # anything played in the last N days stays

    def validate(self) -> None:
        """Raise ConfigError with a one-line fix when the rule is unusable."""
        where = f"retention rule {self.name!r}"
        if not self.name or not self.name.strip():
            raise ConfigError("retention rule without a name: give every rule a name")
        if self.library is None and self.media_type is None:
            raise ConfigError(f"{where}: set library or media_type so it cannot match everything")
        if self.media_type is not None and self.media_type not in MEDIA_TYPES:
            raise ConfigError(f"{where}: media_type must be 'movie' or 'episode', not {self.media_type!r}")
        # A rule with no age criterion would queue whatever is added, the moment it is added.
        if self.added_before_days is None and self.not_played_by_anyone_days is None:
            raise ConfigError(f"{where}: set added_before_days or not_played_by_anyone_days")
        for name in ("added_before_days", "not_played_by_anyone_days", "exclude_played_within_days"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise ConfigError(f"{where}: {name} must be a number of days >= 0, not {value!r}")
        size = self.min_size_bytes
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise ConfigError(f"{where}: min_size_bytes must be a whole number of bytes >= 0, not {size!r}")


def _folded(values: frozenset[str]) -> set[str]:
    return {v.casefold() for v in values}


def excluded_by(item: MediaItem, rule: Rule) -> str | None:
    """The label or collection exclusion protecting `item` from `rule`, as a phrase, or None."""
    labels = sorted(_folded(item.labels) & _folded(rule.exclude_labels))
    if labels:
        return f"label {labels[0]!r}"
    collections = sorted(_folded(item.collections) & _folded(rule.exclude_collections))
    if collections:
        return f"collection {collections[0]!r}"
    return None


def applies_to(item: MediaItem, rule: Rule) -> bool:
    """True when the rule's library / media type / size scope covers the item."""
    if rule.media_type is not None and item.type != rule.media_type:
        return False
    if rule.library is not None and (item.library or "").casefold() != rule.library.casefold():
        return False
    if rule.min_size_bytes is not None and (item.size_bytes is None or item.size_bytes < rule.min_size_bytes):
        return False  # an unknown size never qualifies: deleting is the irreversible side
    return True


def match_time(item: MediaItem, rule: Rule) -> datetime | None:
    """The moment the rule first matched (or will match) the item; None if it never can.

    Deterministic from the rows: the latest of added_at + added_before_days, last play +
    not_played_by_anyone_days and last play + exclude_played_within_days.
    """
    if not applies_to(item, rule) or excluded_by(item, rule) is not None:
        return None
    if item.added_at is None:
        return None  # no age, no rule: we cannot show it is old enough
    moments = [item.added_at]
    if rule.added_before_days is not None:
        moments.append(item.added_at + timedelta(days=rule.added_before_days))
    if item.last_played_at is not None:
        for days in (rule.not_played_by_anyone_days, rule.exclude_played_within_days):
            if days is not None:
                moments.append(item.last_played_at + timedelta(days=days))
    return max(moments)


def describe(item: MediaItem, rule: Rule) -> str:
    """The sentence saying why the rule matched, for the queue and the audit."""
    parts = []
    if rule.added_before_days is not None:
        parts.append(f"added more than {rule.added_before_days:g} days ago")
    if rule.not_played_by_anyone_days is not None:
        parts.append(
            "never played"
            if item.last_played_at is None
            else f"not played by anyone for {rule.not_played_by_anyone_days:g} days"
        )
    if rule.min_size_bytes is not None:
        parts.append(f"at least {rule.min_size_bytes} bytes")
    return f"rule {rule.name!r} matched: " + ", ".join(parts)
