"""Pacing and retries shared by every backend: a token bucket and capped, jittered backoff."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Callable

_EPS = 1e-9  # float sums of rate * elapsed land a hair under a whole token


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; thread-safe. rate None or 0 means unpaced."""

    def __init__(self, rate: float | None, burst: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate or None
        self.burst = max(1, burst)
        self._clock = clock
        self._tokens = float(self.burst)
        self._at = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        if now > self._at:
            start = max(self._at, self._paused_until)
            if now > start and self.rate is not None:
                self._tokens = min(float(self.burst), self._tokens + (now - start) * self.rate)
            self._at = now

    def wait_time(self) -> float:
        """Seconds until a token is free (0 when one is)."""
        if self.rate is None:
            return 0.0
        with self._lock:
            now = self._clock()
            self._refill(now)
            if now < self._paused_until:
                return self._paused_until - now + max(0.0, 1 - _EPS - self._tokens) / self.rate
            return max(0.0, (1 - _EPS - self._tokens) / self.rate)

    def try_take(self) -> bool:
        """Take a token if one is free now."""
        if self.rate is None:
            return True
        with self._lock:
            now = self._clock()
            self._refill(now)
            if now >= self._paused_until and self._tokens >= 1 - _EPS:
                self._tokens -= 1
                return True
            return False

    def give_back(self) -> None:
        """Return a token taken for a message that turned out not to need a call."""
        if self.rate is not None:
            with self._lock:
                self._tokens = min(float(self.burst), self._tokens + 1)

    def take(self, stop: threading.Event | None = None) -> bool:
        """Wait for a token; False when `stop` was set first."""
        while not self.try_take():
            delay = max(self.wait_time(), 0.001)
            if stop is not None:
                if stop.wait(delay):
                    return False
            else:
                time.sleep(delay)
        return True

    def pause(self, seconds: float) -> None:
        """The provider throttled us: nobody gets a token for `seconds`, and saved-up tokens are gone."""
        if self.rate is None:
            return
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens = 0.0
            self._paused_until = max(self._paused_until, now + seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How often one message is retried within a run, and how long to wait between tries."""

    attempts: int = 8          # provider calls per message per run, the first included
    base_seconds: float = 0.5  # first backoff; doubles each time
    cap_seconds: float = 30.0  # longest single wait

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """Seconds before retry number `retry` (1-based): full jitter over an exponential ceiling."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** (retry - 1)))
        return (rng or random).uniform(ceiling / 2, ceiling)


class ThrottleBreaker:
    """Trips once the provider has answered nothing but throttling for `limit` seconds; thread-safe.

    Retries with backoff ride out a burst of throttling. Throttling that never ends (a new SES
    account at its limit, a suspended sending rate) would otherwise keep a run going for hours.
    """

    def __init__(self, limit: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._since: float | None = None
        self._lock = threading.Lock()

    def throttled(self) -> bool:
        """Count a throttled answer; True when throttling has now lasted `limit` seconds without a break."""
        with self._lock:
            now = self._clock()
            if self._since is None:
                self._since = now
            return now - self._since >= self.limit

    def answered(self) -> None:
        """The provider took a call (sent, refused or unknown): the throttling is over."""
        with self._lock:
            self._since = None
