"""The outcome journal: each provider answer is appended here the moment it arrives, before the ledger write.

The ledger batches its DuckDB writes (a statement costs milliseconds), so an outcome can wait a
moment for the next one. A kill in that moment used to leave a delivered message 'unknown'. A
line in this file costs microseconds and survives a killed process (it is in the kernel once
write() returns), so the next run applies it to its claim and only calls truly in flight stay unknown.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.send.ledger import Outcome
    from pipeline.render.email.message import OutgoingMessage

log = logging.getLogger(__name__)


class Journal:
    """Append-only outcome lines next to the store; a store in memory (path None) keeps none."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._broken = False

    def append(self, msg: "OutgoingMessage", claim: int, outcome: "Outcome", at: datetime) -> bool:
        """Record one outcome of claim number `claim`; thread-safe. False when it could not be written."""
        if self.path is None or self._broken:
            return False
        line = json.dumps({"key": msg.key, "email": msg.recipient.email, "claim": claim, "state": outcome.state,
                           "provider_id": outcome.provider_id, "error": outcome.error, "at": at.isoformat()})
        with self._lock:
            try:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                os.write(self._fd, (line + "\n").encode())  # one write per line: lines never interleave
            except OSError as exc:
                # The ledger write still records it; only a kill before that would now leave it unknown.
                self._broken = True
                log.warning("send: cannot write the outcome journal %s (%s); outcomes are recorded in the store "
                            "only", self.path, exc.strerror)
                return False
        return True

    def read(self) -> list[dict]:
        """Every complete line a run left; a line cut short by a kill is skipped."""
        if self.path is None or not self.path.is_file():
            return []
        found = []
        for raw in self.path.read_bytes().splitlines():
            try:
                row = json.loads(raw)
                found.append({**row, "at": datetime.fromisoformat(row["at"])})
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def clear(self) -> None:
        """Empty it, once the store holds every outcome written here."""
        with self._lock:
            self._close()
            if self.path is not None:
                try:
                    self.path.unlink(missing_ok=True)
                except OSError as exc:
                    log.warning("send: cannot remove the outcome journal %s (%s)", self.path, exc.strerror)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
