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


READ_AHEAD = 100
"""Events read per query when delivering one at a time (``batch_size=1``, ``build_iter``)."""


def poll_batches(
    source: EventSource,
    start_from: Position,
    batch_size: int,
    timelimit: timedelta,
    selector: Selector,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[list[RecordedRaw]]:
    """Infinite iterator of batches: full ones at once, otherwise what came within the limit.

    With ``batch_size=1`` each event is yielded as soon as it is available, but events are read
    ``READ_AHEAD`` at a time, so a subscriber catching up does not pay one query per event.
    """
    if batch_size < 1:
        raise ValueError(f"Batch size must be at least 1, got {batch_size}")
    one_by_one = batch_size == 1
    cursor = BatchCursor(position=start_from, batch_size=READ_AHEAD if one_by_one else batch_size)
    limit = timelimit.total_seconds()
    while True:
        deadline = clock() + limit
        while True:
            cursor.advance(source.fetch_after(cursor.position, cursor.wanted, selector))
            remaining = deadline - clock()
            if cursor.full or (one_by_one and cursor.pending) or remaining <= 0:
                break
            source.wait_for_events(cursor.position, remaining)
        batch = cursor.take()
        if one_by_one and batch:
            yield from ([record] for record in batch)
        else:
            yield batch
