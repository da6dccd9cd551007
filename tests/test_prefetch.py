"""``in_background``: items in order from a producer thread, its errors raised in the consumer,
and the thread gone once the consumer stops, whether it finished or not."""

from __future__ import annotations

import threading
import time

import pytest

from textrec_core.services.prefetch import in_background


def producer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "textrec-prefetch"]


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_every_item_in_order(depth):
    assert list(in_background(iter(range(100)), depth)) == list(range(100))
    assert list(in_background([], depth)) == []
    assert not producer_threads()


def test_the_producer_runs_ahead_by_at_most_depth_items():
    produced = []

    def items():
        for i in range(10):
            produced.append(i)
            yield i

    consumer = in_background(items(), 2)
    assert next(consumer) == 0
    time.sleep(0.3)
    assert len(produced) <= 1 + 2 + 1  # the one taken, the queue full, one waiting to be put
    consumer.close()
    assert not producer_threads()


def test_a_producer_error_is_raised_in_the_consumer_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise OSError("disk gone")

    seen = []
    with pytest.raises(OSError, match="disk gone"):
        for item in in_background(items(), 4):
            seen.append(item)
    assert seen == [1, 2] and not producer_threads()


def test_a_consumer_that_stops_early_stops_the_producer():
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    for item in in_background(endless(), 2):
        if item == 3:
            break
    assert not producer_threads()
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count  # nothing produced once stopped


def test_start_runs_in_the_producer_thread_before_the_first_item():
    seen = []

    def items():
        yield threading.current_thread().name

    def start():
        seen.append(threading.current_thread().name)

    assert list(in_background(items(), 1, start=start)) == ["textrec-prefetch"] and seen == ["textrec-prefetch"]


def test_depth_must_be_at_least_one():
    with pytest.raises(ValueError, match="depth must be at least 1, got 0"):
        list(in_background([1], 0))
