"""The token bucket that paces SES calls, and the retry backoff."""

import random
import threading

import pytest

from pipeline.send.pacing import RetryPolicy, TokenBucket


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_rate_and_burst():
    clock = Clock()
    bucket = TokenBucket(10, burst=3, clock=clock)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_time() == pytest.approx(0.1)
    clock.t += 0.05
    assert not bucket.try_take()
    clock.t += 0.05
    assert bucket.try_take()
    # Saving up never goes beyond the burst.
    clock.t += 60
    assert sum(bucket.try_take() for _ in range(10)) == 3


def test_sustained_rate_over_simulated_time():
    clock = Clock()
    bucket = TokenBucket(14, burst=4, clock=clock)
    taken = 0
    for _ in range(10_000):  # 10 s in 1 ms steps
        clock.t += 0.001
        while bucket.try_take():
            taken += 1
    assert 14 * 10 <= taken <= 14 * 10 + 4


def test_pause_empties_the_bucket_and_blocks_until_it_ends():
    clock = Clock()
    bucket = TokenBucket(10, burst=5, clock=clock)
    bucket.pause(2.0)
    assert not bucket.try_take()
    assert bucket.wait_time() == pytest.approx(2.1)
    clock.t += 1.9
    assert not bucket.try_take()
    clock.t += 0.2  # 0.1 s past the pause: one token earned
    assert bucket.try_take() and not bucket.try_take()


def test_give_back_and_unpaced():
    clock = Clock()
    bucket = TokenBucket(1, burst=1, clock=clock)
    assert bucket.try_take() and not bucket.try_take()
    bucket.give_back()
    assert bucket.try_take()
    free = TokenBucket(None)
    assert all(free.try_take() for _ in range(1000)) and free.wait_time() == 0


def test_take_stops_when_asked():
    bucket = TokenBucket(0.001, burst=1)
    assert bucket.take()
    stop = threading.Event()
    stop.set()
    assert bucket.take(stop) is False


def test_backoff_grows_is_capped_and_jittered():
    policy = RetryPolicy(attempts=8, base_seconds=0.5, cap_seconds=4)
    rng = random.Random(7)
    delays = [policy.delay(n, rng) for n in range(1, 8)]
    ceilings = [0.5, 1, 2, 4, 4, 4, 4]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings))
    assert len(set(delays)) == len(delays)
