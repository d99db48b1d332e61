"""Who may be named in public, and how: the site.names policy and site.exclude_users.

Everything the archive shows about a person goes through a `Namer`; the issue view never reads
a username, e-mail address or user id itself, so none of them can reach a template.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

POLICIES = ("friendly", "initials", "hidden")
ANONYMOUS = "a viewer"

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_WORD_SPLIT = re.compile(r"[\s._\-+]+")
_SYLLABIC = ("CJK ", "HIRAGANA ", "KATAKANA ", "HANGUL ")  # scripts not shortened with a dot


def _initial(ch: str) -> str:
    """'a' -> 'A.'; a CJK character stays bare: '山' stands for a whole syllable, and '山.' reads wrong."""
    if unicodedata.name(ch, "").startswith(_SYLLABIC):
        return ch
    return ch.upper() + "."


def initials(name: str) -> str:
    """'Alice Smith' -> 'A. S.'; 'bob' -> 'B.'; '山田 太郎' -> '山 太'; at most three; '' -> 'a viewer'."""
    text = (name or "").strip()
    if "@" in text:
        text = text.split("@", 1)[0]  # an e-mail used as a name: its local part only
    letters = []
    for word in _WORD_SPLIT.split(text):
        first = next((ch for ch in word if ch.isalnum()), "")
        if first:
            letters.append(_initial(first))
    return " ".join(letters[:3]) if letters else ANONYMOUS


def public_name(name: str, policy: str) -> str | None:
    """How one person is shown: their friendly name, their initials, or None (hidden)."""
    if policy == "hidden":
        return None
    text = " ".join((name or "").split())
    if policy == "friendly" and text and not _EMAIL.search(text):
        return text
    return initials(text)


def _keys(user: Mapping[str, Any]) -> set[str]:
    """Every way an admin may have written this user in site.exclude_users, lower-cased."""
    keys = set()
    for field_name in ("user_id", "username", "email"):
        value = user.get(field_name)
        if value not in (None, ""):
            keys.add(str(value).strip().lower())
    return keys


@dataclass
class Namer:
    """Names the people of one issue; built from the snapshot's users and the site settings."""

    policy: str
    exclude: frozenset[str]
    names: dict[str, str | None] = field(default_factory=dict)   # user_id -> public name
    excluded_ids: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, users: Iterable[Mapping[str, Any]], policy: str, exclude: Iterable[str]) -> "Namer":
        if policy not in POLICIES:
            raise ValueError(f"site.names must be one of {', '.join(POLICIES)}")
        namer = cls(policy, frozenset(str(e).strip().lower() for e in exclude if str(e).strip()))
        for user in users:
            namer.add(user)
        return namer

    def add(self, user: Mapping[str, Any]) -> None:
        uid = str(user.get("user_id"))
        if _keys(user) & self.exclude:
            self.excluded_ids.add(uid)
            return
        name = user.get("friendly_name") or user.get("username") or ""
        self.names[uid] = public_name(str(name), self.policy)

    def is_excluded(self, user: Mapping[str, Any] | int | str) -> bool:
        """True for a user the admin listed in site.exclude_users (by id, username or e-mail)."""
        if isinstance(user, Mapping):
            return str(user.get("user_id")) in self.excluded_ids or bool(_keys(user) & self.exclude)
        return str(user) in self.excluded_ids or str(user).strip().lower() in self.exclude

    def name(self, user: Mapping[str, Any] | int | str) -> str | None:
        """The public name, or None when names are hidden; excluded users must be filtered first."""
        if self.policy == "hidden":
            return None
        if isinstance(user, Mapping):
            uid = str(user.get("user_id"))
            if uid not in self.names:
                self.add(user)
            return self.names.get(uid) or ANONYMOUS
        return self.names.get(str(user)) or ANONYMOUS

    @property
    def hidden(self) -> bool:
        return self.policy == "hidden"
