"""Turn what an admin typed (a title, "Title (Year)", a rating key, a username) into store keys, or say why not.

Every failure is a ConfigError whose one line lists the candidates (ambiguous) or the near matches (unknown).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from pipeline.errors import ConfigError
from pipeline.store import Store

ASSIGNABLE = ("movie", "show", "episode")  # what the policy can judge: a show covers its episodes
YEAR = re.compile(r"^(?P<title>.+?)\s*\((?P<year>\d{4})\)\s*$")
KEY = re.compile(r"^#?(?P<key>\d+)$")


@dataclass(frozen=True)
class Target:
    """A movie, show or episode an assignment or a keep points at."""

    rating_key: int
    type: str
    title: str
    year: int | None = None
    show_title: str | None = None
    removed_at: datetime | None = None  # Plex no longer lists it

    @property
    def name(self) -> str:
        """How lines and the audit name it: "Dune (2021)", "Show: Pilot"."""
        if self.type in ("episode", "season") and self.show_title:
            return f"{self.show_title}: {self.title}"
        return f"{self.title} ({self.year})" if self.year else self.title

    def candidate(self) -> str:
        """Enough to tell two same-named items apart: year, type and rating key."""
        year = self.year if self.year else "no year"
        title = self.name if self.type in ("episode", "season") else self.title
        return f"{title} ({year}, {self.type}, rating key {self.rating_key})"


def _target(row: tuple) -> Target:
    rating_key, type_, title, year, show_title, removed_at = row
    return Target(rating_key, type_, title or "", year, show_title, removed_at)


def _assignable(target: Target, text: str) -> Target:
    if target.type not in ASSIGNABLE:
        hint = "the show or single episodes (or the show with --season N, season = N in retention.toml)" \
            if target.type == "season" else "a movie, a show or an episode"
        raise ConfigError(f"{text!r} is a {target.type} ({target.candidate()}); use {hint}")
    return target


def find_target(store: Store, text: str | int, *, by: str = "auto") -> Target:
    """The movie, show or episode `text` names; a removed one only when nothing listed matches.

    by: "key" (a rating key), "title" ("Title" or "Title (Year)", movies and shows) or "auto" (what the CLI
    takes: digits are a rating key, "#123" always is one, anything else a title).
    """
    text = str(text).strip()
    if not text:
        raise ConfigError("give a title or a rating key")
    key = KEY.match(text) if by != "title" else None
    if by == "key" and key is None:
        raise ConfigError(f"{text!r} is not a rating key (a whole number, as Plex shows in the item's XML)")
    by_key = [_target(r) for r in store.execute("media/item_by_key", {"rating_key": int(key["key"])})] \
        if key else []
    if by == "key" or text.startswith("#"):
        if not by_key:
            raise ConfigError(f"no Plex item has rating key {key['key']}; check the key, or run `invoke ingest` "
                              "if the item is new")
        return _assignable(by_key[0], text)
    listed, removed = _by_title(store, text)
    if by_key and listed:
        raise ConfigError(f"{text!r} is both a rating key ({by_key[0].candidate()}) and a title "
                          f"({'; '.join(t.candidate() for t in listed)}); write \"#{text}\" for the rating key "
                          "or \"Title (Year)\" for the title")
    if by_key:
        return _assignable(by_key[0], text)
    if len(listed) == 1:
        return listed[0]
    if listed:
        raise ConfigError(f"{text!r} matches {len(listed)} titles: {'; '.join(t.candidate() for t in listed)}; "
                          "write \"Title (Year)\" or the rating key")
    if removed:
        return removed[0]
    raise ConfigError(f"no movie or show titled {text!r} in Plex{_suggest(store, text)}; check the spelling, "
                      "or run `invoke ingest` if it is new")


def find_season(store: Store, show: Target, number: int) -> Target:
    """Season `number` of `show`, or a ConfigError naming the seasons Plex lists."""
    if show.type != "show":
        raise ConfigError(f"a season number needs a show, and {show.candidate()} is a {show.type}")
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise ConfigError(f"a season number is a whole number >= 0, not {number!r}")
    rows = store.execute("media/seasons_of_show", {"show": show.rating_key, "show_title": show.title})
    for rating_key, type_, title, index, show_title in rows:
        if index == number:
            return Target(rating_key, type_, title or f"Season {number}", show.year, show_title)
    listed = ", ".join(str(r[3]) for r in rows) or "none"
    raise ConfigError(f"{show.name} has no season {number} in Plex (seasons listed: {listed}); check the number, "
                      "or run `invoke ingest` if it is new")


def _by_title(store: Store, text: str) -> tuple[list[Target], list[Target]]:
    """(listed matches, removed matches): the exact title first, then "Title (Year)"."""
    attempts = [(text, None)]
    if match := YEAR.match(text):
        attempts.append((match["title"], int(match["year"])))
    for title, year in attempts:
        listed = [_target(r) for r in store.execute("media/titles_matching", {"title": title, "year": year})]
        if listed:
            return listed, []
    for title, year in attempts:
        removed = [_target(r) for r in store.execute("media/removed_titles_matching",
                                                     {"title": title, "year": year})]
        if removed:
            return [], removed
    return [], []


def _suggest(store: Store, text: str) -> str:
    """" (did you mean ...?)": the same title in another year, else the closest titles."""
    if match := YEAR.match(text):
        other = [_target(r) for r in store.execute("media/titles_matching",
                                                   {"title": match["title"], "year": None})]
        if other:
            return f" (Plex has {'; '.join(t.candidate() for t in other)})"
        text = match["title"]
    titles = [r[0] for r in store.execute("media/title_choices")]
    by_fold = {t.casefold(): t for t in titles}
    close = difflib.get_close_matches(text.casefold(), list(by_fold), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(by_fold[c]) for c in close)}?)" if close else ""


# -- users -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UserRef:
    user_id: int
    username: str | None
    friendly_name: str | None
    email: str | None
    has_access: bool = True

    @property
    def name(self) -> str:
        return (self.friendly_name or "").strip() or self.username or f"user {self.user_id}"

    def candidate(self) -> str:
        return f"{self.username or self.name} ({self.name}, id {self.user_id})"


class UserDirectory:
    """Every user in the store, looked up by id, username, e-mail or friendly name (in that order)."""

    def __init__(self, users: Iterable[UserRef]) -> None:
        self.users = list(users)
        self._tiers: list[dict[str, list[UserRef]]] = [{}, {}, {}, {}]
        for u in self.users:
            for tier, value in enumerate((str(u.user_id), u.username, u.email, u.friendly_name)):
                if value and value.strip():
                    self._tiers[tier].setdefault(value.strip().casefold(), []).append(u)

    @classmethod
    def load(cls, store: Store) -> "UserDirectory":
        return cls(UserRef(*row) for row in store.execute("media/user_directory"))

    def problem(self, name: str) -> tuple[UserRef | None, str | None]:
        """(the user, None) or (None, why not) for one name."""
        folded = name.strip().casefold()
        for tier in self._tiers:
            found = tier.get(folded, [])
            if len(found) == 1:
                return found[0], None
            if found:
                return None, (f"{name!r} matches {len(found)} users: "
                              f"{', '.join(u.candidate() for u in found)}; use the username or id")
        return None, f"unknown user {name!r}{self._near(folded)}"

    def resolve(self, names: Iterable[str]) -> list[UserRef]:
        """Each name's user, in order and without repeats; one ConfigError naming every name that fails."""
        found: dict[int, UserRef] = {}
        problems = []
        for name in names:
            user, why = self.problem(str(name))
            if user is None:
                problems.append(why)
            else:
                found.setdefault(user.user_id, user)
        if problems:
            raise ConfigError("; ".join(problems))
        return list(found.values())

    def _near(self, folded: str) -> str:
        keys = {k: users[0] for tier in self._tiers[1:] for k, users in tier.items()}
        close = difflib.get_close_matches(folded, list(keys), n=3, cutoff=0.6)
        names = list(dict.fromkeys(keys[c].candidate() for c in close))
        return f" (did you mean {', '.join(names)}?)" if names else " (no username, name, e-mail or id like it)"
