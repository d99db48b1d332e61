"""The outbox: each message a dry run would send becomes an .eml file. Nothing here delivers anything."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

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
