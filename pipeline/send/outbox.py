"""The outbox backend: each message becomes an .eml file, for dry runs and for admins who relay by hand."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError
from pipeline.send.backend import FATAL, SENT, Attempt

if TYPE_CHECKING:
    from pipeline.render.email.message import OutgoingMessage

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


def eml_path(root: Path, msg: "OutgoingMessage") -> Path:
    """<root>/<message key>/<address>.eml, with anything a file system dislikes replaced."""
    return root / _UNSAFE.sub("_", msg.key) / f"{_UNSAFE.sub('_', msg.recipient.email)}.eml"


def write_eml(path: Path, mime: bytes) -> None:
    """Write atomically: a reader (or a crash) never sees half a message.

    Only the owner may read it (0600, in a 0700 folder): a message names its reader and their address.
    """
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) != 0o700:  # made by an older Marquee, or by the umask's rules
        os.chmod(folder, 0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        fh.write(mime)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class OutboxBackend:
    """Writes <outbox_dir>/<key>/<address>.eml; the ledger makes it exactly-once like the others."""

    name = "outbox"
    rate = None
    concurrency = 4  # file writes in parallel let each ledger write cover several messages

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def open(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create email.outbox_dir {self.root}: {exc.strerror}") from None

    def suppressed(self) -> dict[str, str]:
        return {}

    def attempt(self, msg: "OutgoingMessage") -> Attempt:
        path = eml_path(self.root, msg)
        try:
            write_eml(path, msg.mime)
        except OSError as exc:
            # A full disk or a permission problem hits every message alike: stop, leave the rest pending.
            return Attempt(FATAL, fatal=ConfigError(f"cannot write {path}: {exc.strerror}; check email.outbox_dir"))
        return Attempt(SENT, provider_id=str(path))

    def delivered(self, msg: "OutgoingMessage") -> bool | None:
        # The rename is atomic, so a file that exists is a complete message.
        return eml_path(self.root, msg).exists()

    def close(self) -> None:
        pass
