"""``InMemorySubscriptionStrategy``: reads the global log, woken by a condition variable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from event_sourcery._core.cursor import ALL, Selector
from event_sourcery._core.records import Position, RecordedRaw
from event_sourcery._core.strategies import SubscriptionStrategy
from event_sourcery._store.polling import poll_batches
from event_sourcery.in_memory.storage import InMemoryStorage


class InMemorySubscriptionStrategy(SubscriptionStrategy):
    """Subscriptions over an ``InMemoryStorage``; a waiting reader wakes on every append."""

    def __init__(self, storage: InMemoryStorage) -> None:
        self._storage = storage

    def subscribe_to_all(
        self, start_from: Position, batch_size: int, timelimit: timedelta
    ) -> Iterator[list[RecordedRaw]]:
        return poll_batches(self._storage, start_from, batch_size, timelimit, ALL)

    def subscribe_to_category(
        self, start_from: Position, batch_size: int, timelimit: timedelta, category: str
    ) -> Iterator[list[RecordedRaw]]:
        selector = Selector(category=category)
        return poll_batches(self._storage, start_from, batch_size, timelimit, selector)

    def subscribe_to_events(
        self, start_from: Position, batch_size: int, timelimit: timedelta, events: list[str]
    ) -> Iterator[list[RecordedRaw]]:
        selector = Selector(names=frozenset(events))
        return poll_batches(self._storage, start_from, batch_size, timelimit, selector)
