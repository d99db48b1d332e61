"""Signed action links: what render puts in e-mails and the web app checks, and links into Plex.

A token is itsdangerous' HMAC-SHA256 over (reader, action, target, expiry). The secret comes from
MARQUEE_SECRET_KEY (web.secret_key) or, failing that, is made once into <data.dir>/secret_key with mode 0600.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.settings import Settings

ACTIONS = ("unsubscribe", "keep", "done", "still_here")
SALT = "marquee-action-v1"
SECRET_FILE = "secret_key"


@dataclass(frozen=True)
class Claim:
    """What a valid token says: this reader may do this action on this target until expires (epoch seconds)."""

    reader: int
    action: str
    target: str
    expires: int
    label: str = ""  # what the page shows: the title, the address or the date (signed, so nobody else's words)


class BadToken(Exception):
    """A token that is forged, damaged or not a token at all (the page says so; nothing changes)."""


def secret_key(settings: "Settings") -> bytes:
    """MARQUEE_SECRET_KEY, else <data.dir>/secret_key, made once with mode 0600."""
    given = settings.web.secret_key.get_secret_value()
    if given:
        if len(given) < 16:
            raise ConfigError("MARQUEE_SECRET_KEY: use at least 16 random characters (or unset it to have one made)")
        return given.encode()
    path = Path(settings.data.dir) / SECRET_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: theirs wins
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_urlsafe(48).encode())
        out.flush()
        os.fsync(out.fileno())
    return path.read_bytes().strip()


class Signer:
    """Makes and checks action tokens with one secret."""

    def __init__(self, key: bytes) -> None:
        self._s = URLSafeSerializer(key, salt=SALT)

    def token(self, reader: int, action: str, target: str, expires: datetime, label: str = "") -> str:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        return self._s.dumps([int(reader), action, str(target), int(expires.timestamp()), str(label)[:200]])

    def claim(self, token: str) -> Claim:
        """The token's claim; BadToken when the signature or the shape is wrong (expiry is the caller's)."""
        try:
            reader, action, target, expires, label = self._s.loads(token)
        except (BadSignature, ValueError, TypeError) as exc:
            raise BadToken("not a valid link") from exc
        if action not in ACTIONS or not isinstance(reader, int) or not isinstance(expires, int):
            raise BadToken("not a valid link")
        return Claim(reader, action, str(target), expires, str(label))


class Links:
    """Action URLs for e-mails; every one is '' when web.public_url is unset (then e-mails promise none)."""

    def __init__(self, settings: "Settings", now: datetime) -> None:
        self.base = settings.web.public_url
        self.expires = now + timedelta(days=settings.web.link_days)
        self.keeps = settings.retention.reader_keeps == "on"
        self.extend = settings.users.reader_can_extend_days > 0
        self._signer = Signer(secret_key(settings)) if self.base else None

    @property
    def on(self) -> bool:
        return self._signer is not None

    def url(self, reader: int | None, action: str, target: object, label: str = "") -> str:
        """The signed page for one action, or '' (no web app, no reader, or an action this server turned off)."""
        if self._signer is None or reader is None:
            return ""
        if (action == "keep" and not self.keeps) or (action == "still_here" and not self.extend):
            return ""
        return f"{self.base}/a/{int(reader)}/{self._signer.token(reader, action, str(target), self.expires, label)}"


def plex_url(machine_id: str | None, rating_key: int | None) -> str:
    """The item's page in Plex Web (app.plex.tv), or '' when the server or the item is unknown."""
    if not machine_id or rating_key is None:
        return ""
    key = quote(f"/library/metadata/{int(rating_key)}", safe="")
    return f"https://app.plex.tv/desktop/#!/server/{quote(machine_id, safe='')}/details?key={key}"


def plex_home(machine_id: str | None) -> str:
    """The server's libraries in Plex Web, or '' when the server is unknown."""
    if not machine_id:
        return ""
    return f"https://app.plex.tv/desktop/#!/media/{quote(machine_id, safe='')}/com.plexapp.plugins.library"
