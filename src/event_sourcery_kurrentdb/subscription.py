"""``KurrentDBSubscriptionStrategy``: catch-up subscriptions to ``$all`` with server-side filters.

One subscription call per iterator, live after catching up, feeding the core subscription loop
(``poll_batches``, ADR 0005). Filters are anchored and escaped (see ``stream.scope`` and
``stream.event_types``): a category never matches a longer one, dots in type names are literal,
and snapshot, system and foreign streams never reach a subscriber.

Deleted events stay in ``$all`` until the server scavenges; a subscription skips those its
stream no longer shows (``Visibility``), so that one resumed from any position delivers what
the SQL backends do, where deleted rows are gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from kurrentdbclient import KurrentDBClient, RecordedEvent
from kurrentdbclient.exceptions import NotFoundError, StreamIsDeletedError

from event_sourcery._core.cursor import ALL, Fetched, Selector
from event_sourcery._core.records import Position, RecordedRaw
from event_sourcery._core.strategies import SubscriptionStrategy
from event_sourcery._store.polling import poll_batches
from event_sourcery.exceptions import BackendUnavailable
from event_sourcery_kurrentdb import dto
from event_sourcery_kurrentdb.errors import translated_errors
from event_sourcery_kurrentdb.feed import Feed, FeedEnded
from event_sourcery_kurrentdb.stream import event_types, scope

_GONE = 2**63
"""Above every stream revision: the first revision a missing or tombstoned stream shows."""


class Visibility:
    """Whether the event's stream still shows it: not deleted, truncated or tombstoned.

    One read of the stream from the revision of its first event met since ``forget`` (one per
    stream and fetch): the first revision it returns is where the stream begins now. A stream
    deleted after that read shows its later events of the same fetch, as a SQL read just
    before the delete would.
    """

    def __init__(self, client: KurrentDBClient, timeout: float | None) -> None:
        self._client = client
        self._timeout = timeout
        self._first: dict[str, int] = {}

    def forget(self) -> None:
        self._first.clear()

    def shows(self, event: RecordedEvent) -> bool:
        first = self._first.get(event.stream_name)
        if first is None:
            first = self._first[event.stream_name] = self._first_shown(event)
        return event.stream_position >= first

    def _first_shown(self, event: RecordedEvent) -> int:
        with translated_errors():
            try:
                shown = self._client.get_stream(
                    event.stream_name,
                    stream_position=event.stream_position,
                    limit=1,
                    timeout=self._timeout,
                )
            except (NotFoundError, StreamIsDeletedError):
                return _GONE
        return shown[0].stream_position if shown else _GONE


class SubscriptionSource:
    """The ``EventSource`` of one open catch-up subscription.

    The server pushes events in commit order from where the subscription started, so a fetch
    takes what has arrived (the ``position`` argument is where the subscription already is).
    """

    def __init__(self, feed: Feed[RecordedEvent], visibility: Visibility) -> None:
        self._feed = feed
        self._visibility = visibility
        self._waiting: RecordedEvent | None = None

    def fetch_after(self, position: Position, limit: int, selector: Selector) -> Fetched:
        records: list[RecordedRaw] = []
        self._visibility.forget()
        while len(records) < limit:
            event = self._waiting if self._waiting is not None else self._next(0)
            self._waiting = None
            if event is None:
                break
            position = event.commit_position
            # an event-type filter sees every stream: keep only events of event streams
            record = dto.recorded(event)
            if record is not None and selector.matches(record) and self._visibility.shows(event):
                records.append(record)
        return Fetched(records, position)

    def wait_for_events(self, after: Position, timeout: float) -> None:
        if self._waiting is None:
            self._waiting = self._next(timeout)

    def _next(self, timeout: float) -> RecordedEvent | None:
        with translated_errors():
            try:
                return self._feed.get(timeout)
            except FeedEnded as ended:
                raise BackendUnavailable(
                    "KurrentDB ended the subscription; subscribe again from the position of "
                    "the last delivered event"
                ) from ended


class KurrentDBSubscriptionStrategy(SubscriptionStrategy):
    """Subscriptions of every tenant through one ``KurrentDBClient``."""

    def __init__(self, client: KurrentDBClient, timeout: float | None = None) -> None:
        self._client = client
        self._timeout = timeout

    def subscribe_to_all(
        self, start_from: Position, batch_size: int, timelimit: timedelta
    ) -> Iterator[list[RecordedRaw]]:
        return self._batches(start_from, batch_size, timelimit, ALL, scope(), by_stream_name=True)

    def subscribe_to_category(
        self, start_from: Position, batch_size: int, timelimit: timedelta, category: str
    ) -> Iterator[list[RecordedRaw]]:
        selector, pattern = Selector(category=category), scope(category)
        return self._batches(start_from, batch_size, timelimit, selector, pattern, True)

    def subscribe_to_events(
        self, start_from: Position, batch_size: int, timelimit: timedelta, events: list[str]
    ) -> Iterator[list[RecordedRaw]]:
        selector, pattern = Selector(names=frozenset(events)), event_types(events)
        return self._batches(start_from, batch_size, timelimit, selector, pattern, False)

    def _batches(
        self,
        start_from: Position,
        batch_size: int,
        timelimit: timedelta,
        selector: Selector,
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
            source = SubscriptionSource(feed, Visibility(self._client, self._timeout))
            yield from poll_batches(source, start_from, batch_size, timelimit, selector)
        finally:
            feed.close()
