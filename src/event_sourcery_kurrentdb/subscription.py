"""``KurrentDBSubscriptionStrategy``: catch-up subscriptions to ``$all`` with server-side filters.

One subscription call per iterator, live after catching up. Filters are anchored and escaped
(see ``stream.scope`` and ``stream.event_types``): a category never matches a longer one, dots in
type names are literal, and snapshot, system and foreign streams never reach a subscriber.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

from kurrentdbclient import KurrentDBClient, RecordedEvent

from event_sourcery._core.records import Position, RecordedRaw
from event_sourcery._core.strategies import SubscriptionStrategy
from event_sourcery.exceptions import BackendUnavailable
from event_sourcery_kurrentdb import dto
from event_sourcery_kurrentdb.errors import translated_errors
from event_sourcery_kurrentdb.feed import Feed, FeedEnded
from event_sourcery_kurrentdb.stream import event_types, scope


class KurrentDBSubscriptionStrategy(SubscriptionStrategy):
    """Subscriptions of every tenant through one ``KurrentDBClient``."""

    def __init__(self, client: KurrentDBClient) -> None:
        self._client = client

    def subscribe_to_all(
        self, start_from: Position, batch_size: int, timelimit: timedelta
    ) -> Iterator[list[RecordedRaw]]:
        return self._batches(start_from, batch_size, timelimit, scope(), by_stream_name=True)

    def subscribe_to_category(
        self, start_from: Position, batch_size: int, timelimit: timedelta, category: str
    ) -> Iterator[list[RecordedRaw]]:
        pattern = scope(category)
        return self._batches(start_from, batch_size, timelimit, pattern, by_stream_name=True)

    def subscribe_to_events(
        self, start_from: Position, batch_size: int, timelimit: timedelta, events: list[str]
    ) -> Iterator[list[RecordedRaw]]:
        pattern = event_types(events)
        return self._batches(start_from, batch_size, timelimit, pattern, by_stream_name=False)

    def _batches(
        self,
        start_from: Position,
        batch_size: int,
        timelimit: timedelta,
        pattern: str,
        *,
        by_stream_name: bool,
    ) -> Iterator[list[RecordedRaw]]:
        if batch_size < 1:
            raise ValueError(f"Batch size must be at least 1, got {batch_size}")
        return self._deliver(
            start_from, batch_size, timelimit.total_seconds(), pattern, by_stream_name
        )

    def _deliver(
        self,
        start_from: Position,
        batch_size: int,
        limit: float,
        pattern: str,
        by_stream_name: bool,
    ) -> Iterator[list[RecordedRaw]]:
        with translated_errors():
            subscription = self._client.subscribe_to_all(
                commit_position=start_from or None,
                filter_include=[pattern],
                filter_by_stream_name=by_stream_name,
            )
        feed: Feed[RecordedEvent] = Feed(iter(subscription), subscription.stop)
        try:
            while True:
                deadline = time.monotonic() + limit
                batch: list[RecordedRaw] = []
                while len(batch) < batch_size:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    with translated_errors():
                        try:
                            event = feed.get(remaining)
                        except FeedEnded as ended:
                            raise BackendUnavailable(
                                "KurrentDB ended the subscription; subscribe again from the "
                                "position of the last delivered event"
                            ) from ended
                    if event is None:
                        break
                    # event-type filters see every stream: keep only events of event streams
                    record = dto.recorded(event)
                    if record is not None:
                        batch.append(record)
                yield batch
        finally:
            feed.close()
