"""The one subscription loop every backend's ``SubscriptionStrategy`` is built on."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Protocol

from event_sourcery._core.cursor import BatchCursor, Fetched, Selector
from event_sourcery._core.records import Position, RecordedRaw


class EventSource(Protocol):
    """What a backend provides to subscriptions: exact reads and a wake-up."""

    def fetch_after(self, position: Position, limit: int, selector: Selector) -> Fetched:
        """Up to ``limit`` committed matching events after ``position``, in position order.

        Must never return an event after one that can still appear with a lower position.
        """

    def wait_for_events(self, after: Position, timeout: float) -> None:
        """Block until events after ``after`` may exist, or ``timeout`` seconds pass."""


def poll_batches(
    source: EventSource,
    start_from: Position,
    batch_size: int,
    timelimit: timedelta,
    selector: Selector,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[list[RecordedRaw]]:
    """Infinite iterator of batches: full ones at once, otherwise what came within the limit."""
    if batch_size < 1:
        raise ValueError(f"Batch size must be at least 1, got {batch_size}")
    cursor = BatchCursor(position=start_from, batch_size=batch_size)
    limit = timelimit.total_seconds()
    while True:
        deadline = clock() + limit
        while True:
            cursor.advance(source.fetch_after(cursor.position, cursor.wanted, selector))
            remaining = deadline - clock()
            if cursor.full or remaining <= 0:
                break
            source.wait_for_events(cursor.position, remaining)
        yield cursor.take()
