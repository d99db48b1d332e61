"""retention.toml: `[[assign]]` entries (who each title is for) and `[[rule]]` entries, checked key by key.

Parsing only: names are resolved against the store in pipeline.media.resolve. Every error is one line
naming the file, the entry and the key, so the admin can fix the file without guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.policy.media_rules import MEDIA_TYPES, Rule
from pipeline.settings import read_toml

GB = 1_000_000_000
ASSIGN_KEYS = ("title", "rating_key", "season", "users")
RULE_KEYS = ("name", "library", "media_type", "added_before_days", "not_played_by_anyone_days", "min_size_gb",
             "exclude_labels", "exclude_collections", "exclude_played_within_days")
DAY_KEYS = ("added_before_days", "not_played_by_anyone_days", "exclude_played_within_days")
ALWAYS_EXCLUDED = frozenset({"keep"})  # a `keep` label protects from every rule, whatever the rule lists


@dataclass(frozen=True)
class FileAssignment:
    """One `[[assign]]` entry: a title or a rating key, and the users it is for (as written)."""

    entry: int  # 1-based position among the file's [[assign]] entries
    title: str | None
    rating_key: int | None
    users: tuple[str, ...]
    season: int | None = None  # one season of the show the entry names

    def where(self, path: Path) -> str:
        what = f"title = {self.title!r}" if self.title is not None else f"rating_key = {self.rating_key}"
        if self.season is not None:
            what += f", season = {self.season}"
        return f"{path} [[assign]] #{self.entry} ({what})"


@dataclass(frozen=True)
class RetentionFile:
    path: Path
    exists: bool
    assignments: tuple[FileAssignment, ...] = ()
    rules: tuple[Rule, ...] = ()


def load_retention(path: Path) -> RetentionFile:
    """Read and check retention.toml; a missing file means no file assignments and no rules."""
    path = Path(path)
    if not path.is_file():
        return RetentionFile(path, exists=False)
    data = read_toml(path)
    unknown = sorted(set(data) - {"assign", "rule"})
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} (retention.toml holds [[assign]] and [[rule]] "
                          "entries only)")
    assigns = [_assignment(path, n, entry) for n, entry in enumerate(_tables(path, data, "assign"), 1)]
    rules = [_rule(path, n, entry) for n, entry in enumerate(_tables(path, data, "rule"), 1)]
    seen: set[str] = set()
    for n, rule in enumerate(rules, 1):
        if rule.name.casefold() in seen:
            raise ConfigError(f"{path} [[rule]] #{n}: name {rule.name!r} is used twice; give each rule its own name")
        seen.add(rule.name.casefold())
    return RetentionFile(path, True, tuple(assigns), tuple(rules))


def _tables(path: Path, data: dict, key: str) -> list[dict]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{path}: {key} must be written as [[{key}]] tables")
    return value


def _unknown(where: str, entry: dict, allowed: tuple[str, ...]) -> None:
    for key in entry:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})")


def _assignment(path: Path, n: int, entry: dict) -> FileAssignment:
    where = f"{path} [[assign]] #{n}"
    _unknown(where, entry, ASSIGN_KEYS)
    title, key = entry.get("title"), entry.get("rating_key")
    if (title is None) == (key is None):
        raise ConfigError(f"{where}: set exactly one of title or rating_key")
    if title is not None and (not isinstance(title, str) or not title.strip()):
        raise ConfigError(f"{where}: title must be a non-empty string, not {title!r}")
    if key is not None and (isinstance(key, bool) or not isinstance(key, int) or key <= 0):
        raise ConfigError(f"{where}: rating_key must be a positive whole number, not {key!r}")
    season = entry.get("season")
    if season is not None and (isinstance(season, bool) or not isinstance(season, int) or season < 0):
        raise ConfigError(f"{where}: season must be a whole number >= 0 (a season of the show), not {season!r}")
    users = entry.get("users")
    if not isinstance(users, list) or not users:
        raise ConfigError(f"{where}: users must be a non-empty list of usernames, e.g. users = [\"alice\"]")
    for user in users:
        if isinstance(user, bool) or not isinstance(user, str | int) or not str(user).strip():
            raise ConfigError(f"{where}: users must hold usernames, names, e-mails or user ids, not {user!r}")
    return FileAssignment(n, title.strip() if title is not None else None, key, tuple(str(u).strip() for u in users),
                          season)


def _rule(path: Path, n: int, entry: dict) -> Rule:
    name = entry.get("name")
    where = f"{path} [[rule]] #{n}" + (f" ({name!r})" if isinstance(name, str) else "")
    _unknown(where, entry, RULE_KEYS)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name must be a non-empty string (every rule needs one)")
    for key in ("library", "media_type"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            raise ConfigError(f"{where}: {key} must be a non-empty string, not {entry[key]!r}")
    if "media_type" in entry and entry["media_type"] not in MEDIA_TYPES:
        raise ConfigError(f"{where}: media_type must be 'movie' or 'episode' (a show's episodes are judged one "
                          f"by one), not {entry['media_type']!r}")
    for key in (*DAY_KEYS, "min_size_gb"):
        if key in entry:
            _number(where, key, entry[key])
    labels = _names(where, entry, "exclude_labels")
    rule = Rule(
        name=name.strip(),
        library=entry.get("library"),
        media_type=entry.get("media_type"),
        added_before_days=entry.get("added_before_days"),
        not_played_by_anyone_days=entry.get("not_played_by_anyone_days"),
        min_size_bytes=round(entry["min_size_gb"] * GB) if "min_size_gb" in entry else None,
        exclude_labels=ALWAYS_EXCLUDED | labels,
        exclude_collections=_names(where, entry, "exclude_collections"),
        exclude_played_within_days=entry.get("exclude_played_within_days"),
    )
    try:
        rule.validate()
    except ConfigError as exc:
        raise ConfigError(f"{path} [[rule]] #{n}: {exc}") from None
    return rule


def _number(where: str, key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {key} must be a number >= 0, not {value!r}")


def _names(where: str, entry: dict, key: str) -> frozenset[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: {key} must be a list of names, e.g. {key} = [\"keep\"]")
    return frozenset(v.strip() for v in value)
