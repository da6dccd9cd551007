"""Iterating in a background thread: the next items are produced while the consumer works.

:func:`in_background` runs an iterator in a daemon thread, at most ``depth`` items ahead of its
consumer, in order, after calling ``start`` (if given) in that thread. An exception in the
producer is raised in the consumer at the item where it happened; a consumer that stops early
(``break``, an exception, closing the generator) stops the producer before the next item, and
the thread is joined before the generator finishes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
#: Seconds between checks, while the queue is full, that the consumer still wants items.
_POLL_SECONDS = 0.1


def in_background(items: Iterable[T], depth: int, start: Callable[[], None] | None = None) -> Iterator[T]:
    """``items``, produced by a background thread up to ``depth`` (at least 1) items ahead; the
    thread calls ``start()`` first (e.g. to set a thread-local setting)."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            if start is not None:
                start()
            for item in items:
                if not offer((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            offer((_DONE, exc))
            return
        offer((_DONE, None))

    thread = threading.Thread(target=produce, name="textrec-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()
