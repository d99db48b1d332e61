"""Issue 11, item 7: the throttle breaker trips only after continuous throttling for its limit (a clock is passed)."""

from pipeline.send.pacing import ThrottleBreaker


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_trips_after_the_limit_of_unbroken_throttling_and_a_taken_call_resets_it():
    """Item 7."""
    clock = Clock()
    breaker = ThrottleBreaker(300, clock=clock)
    assert not breaker.throttled()  # the first throttled answer starts the count
    clock.now += 299
    assert not breaker.throttled()
    breaker.answered()  # SES took a call: the throttling was not continuous
    clock.now += 10
    assert not breaker.throttled()
    clock.now += 299.5
    assert not breaker.throttled()
    clock.now += 0.5
    assert breaker.throttled()
