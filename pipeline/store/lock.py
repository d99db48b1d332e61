"""A single-writer lock: overlapping runs (cron) wait a bounded time, then give up cleanly."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from pipeline.errors import LockBusy


class WriterLock:
    """An flock on `<data dir>/marquee.lock`; the kernel frees it if the process dies."""

    def __init__(self, path: Path, wait_seconds: float) -> None:
        self.path, self.wait_seconds = path, wait_seconds
        self._fd: int | None = None

    def acquire(self) -> "WriterLock":
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data dir: the store names readers
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
                    os.close(fd)
                    raise LockBusy(
                        f"another Marquee run holds {self.path} (pid {holder}); gave up after {self.wait_seconds:g}s"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "WriterLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
