"""Requests per minute per key (a client address, a link), in memory only: addresses are never written anywhere."""

from __future__ import annotations

import time
from typing import Callable

MAX_KEYS = 100_000  # beyond this many keys in one minute, the oldest window is dropped wholesale


class Limiter:
    """A fixed one-minute window per key; allow() is False once a key used its `per_minute`."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}

    def allow(self, key: str) -> bool:
        window = int(self.clock() // 60)
        if window != self._window or len(self._counts) > MAX_KEYS:
            self._window, self._counts = window, {}
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        return n <= self.per_minute
