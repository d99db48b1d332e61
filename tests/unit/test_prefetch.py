"""prefetched(): pages come in order, errors cross the thread, and the producer never runs far ahead."""

import threading

import pytest

from pipeline.ingest.history import prefetched


def counting(n, fail_at=None):
    state = {"produced": 0}

    def items():
        for i in range(n):
            if i == fail_at:
                raise ValueError(f"page {i} is broken")
            state["produced"] += 1
            yield i

    return items(), state


def test_items_arrive_in_order_and_never_more_than_one_ahead():
    items, state = counting(50)
    seen = []
    for item in prefetched(items):
        assert state["produced"] <= len(seen) + 2  # the one held plus one ahead
        seen.append(item)
    assert seen == list(range(50))


def test_an_error_in_the_producer_is_raised_to_the_caller():
    items, _ = counting(10, fail_at=3)
    seen = []
    with pytest.raises(ValueError, match="page 3 is broken"):
        for item in prefetched(items):
            seen.append(item)
    assert seen == [0, 1, 2]


def test_leaving_early_stops_the_producer_thread():
    items, state = counting(1000)
    before = threading.active_count()
    with pytest.raises(RuntimeError), prefetched(items) as pages:  # the `with` is what stops the thread
        for item in pages:
            if item == 2:
                raise RuntimeError("the caller failed")
    assert state["produced"] <= 4
    assert threading.active_count() == before
