"""``DjangoSubscriptionStrategy``: exact subscriptions over the app's events table (ADR 0006).

Reads run on the calling thread's connection for database ``using``; they also deliver that
connection's own uncommitted appends (``OwnWritesSource``), inside ``atomic()`` and in a
``TestCase``. A waiting reader wakes on a commit of appended events in this
process, on PostgreSQL on ``NOTIFY`` from any process (``LISTEN`` on a dedicated connection
opened from the alias's settings, closed with the subscription iterator), and otherwise polls
every ``gap_retry_interval``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from event_sourcery._core.cursor import ALL, Fetched, OrderCursor, Selector
from event_sourcery._core.records import Position, RecordedRaw
from event_sourcery._core.strategies import SubscriptionStrategy
from event_sourcery._core.stream_id import trusted_stream_id
from event_sourcery._store.notifications import NotificationListener
from event_sourcery._store.own_writes import OwnWritesSource
from event_sourcery._store.polling import poll_batches
from event_sourcery._store.wakeups import generation, wait_local
from event_sourcery_django.errors import translated_errors
from event_sourcery_django.event_store import own_writes, raw_event
from event_sourcery_django.models import DeletedEvent, Event
from event_sourcery_django.ordering import after, database_key, final_order, vendor


class DjangoSubscriptionStrategy(SubscriptionStrategy):
    """Subscriptions on database ``using``."""

    def __init__(
        self, gap_retry_interval: timedelta = timedelta(seconds=0.5), using: str = "default"
    ) -> None:
        self._interval = gap_retry_interval.total_seconds()
        self._using = using

    def _batches(
        self, selector: Selector, start_from: Position, batch_size: int, timelimit: timedelta
    ) -> Iterator[list[RecordedRaw]]:
        source = DjangoEventSource(self._using, self._interval)
        reading = OwnWritesSource(source, lambda: own_writes(self._using))
        try:
            yield from poll_batches(reading, start_from, batch_size, timelimit, selector)
        finally:
            source.close()

    def subscribe_to_all(
        self, start_from: Position, batch_size: int, timelimit: timedelta
    ) -> Iterator[list[RecordedRaw]]:
        return self._batches(ALL, start_from, batch_size, timelimit)

    def subscribe_to_category(
        self, start_from: Position, batch_size: int, timelimit: timedelta, category: str
    ) -> Iterator[list[RecordedRaw]]:
        return self._batches(Selector(category=category), start_from, batch_size, timelimit)

    def subscribe_to_events(
        self, start_from: Position, batch_size: int, timelimit: timedelta, events: list[str]
    ) -> Iterator[list[RecordedRaw]]:
        selector = Selector(names=frozenset(events))
        return self._batches(selector, start_from, batch_size, timelimit)


class DjangoEventSource:
    """One subscription's reads; keeps the (order key, id) cursor behind the int position."""

    def __init__(self, using: str, interval: float) -> None:
        self._using = using
        self._interval = interval
        self._key = database_key(using)
        self._generation = generation(self._key)
        self._cursor = OrderCursor()
        self._push = vendor(using) == "postgresql"
        self._listener: NotificationListener | None = None
        self.horizon: int | None = None
        """Order keys below it were final at the last read (PostgreSQL; ``None`` elsewhere)."""

    def fetch_after(self, position: Position, limit: int, selector: Selector) -> Fetched:
        self._generation = generation(self._key)
        with translated_errors():
            key, final, self.horizon = final_order(self._using)
            cursor = self._cursor.resume(position, lambda p: self._key_at(p, key))
            query = (
                Event.objects.using(self._using)
                .select_related("stream")
                .filter(after(key, cursor), *final)
            )
            if selector.category is not None:
                query = query.filter(stream__category=selector.category)
            if selector.names is not None:
                query = query.filter(name__in=sorted(selector.names))
            rows = list(query.order_by(key, "id")[:limit])
        if not rows:
            return Fetched([], position)
        last = rows[-1]
        self._cursor.move(getattr(last, key), int(last.pk))
        return Fetched([_record(row) for row in rows], int(last.pk))

    def _key_at(self, position: Position, key: str) -> int | None:
        """The order key of a delivered position (looked up once per resume)."""
        events = Event.objects.using(self._using)
        value = events.filter(id=position).values_list(key, flat=True).first()
        if value is None and key != "id":  # deleted: its key was kept
            kept = DeletedEvent.objects.using(self._using).filter(id=position)
            value = kept.values_list("tx_id", flat=True).first()
        if value is None:
            # deleted before keys were kept (or not yet ordered): resume after the newest key
            # at or before it
            value = (
                events.filter(id__lte=position, **{f"{key}__isnull": False})
                .order_by(f"-{key}")
                .values_list(key, flat=True)
                .first()
            )
        return None if value is None else int(value)

    def wait_for_events(self, after: Position, timeout: float) -> None:
        """On PostgreSQL wait for a ``NOTIFY``; if the ``LISTEN`` connection cannot be opened
        or breaks, poll this time and open a new one next time (a server that is really gone
        fails the next read with ``BackendUnavailable``)."""
        timeout = min(timeout, self._interval)
        if self._push:
            try:
                if self._listener is None:
                    self._listener = _listen(self._using)
                    return  # events may have committed before LISTEN: read again first
                self._listener.wait(timeout)
                return
            except _driver_errors(self._using):
                self.close()
        wait_local(self._key, self._generation, timeout)

    def close(self) -> None:
        """Close the ``LISTEN`` connection, if one was opened."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None


def _driver_errors(using: str) -> type[Exception]:
    """The DB-API base error of the alias's driver (psycopg or psycopg2)."""
    from django.db import connections

    wrapper: Any = connections[using]
    return wrapper.Database.Error  # type: ignore[no-any-return]


def _listen(using: str) -> NotificationListener:
    """A ``LISTEN``ing connection of its own, opened from the alias's connection settings.

    Opened with the driver directly, never from Django's connection pool (``OPTIONS["pool"]``):
    a connection that ``LISTEN``s must not go back to a pool.
    """
    from django.db import connections

    wrapper: Any = connections[using]  # a PostgreSQL wrapper: its ``Database`` is the driver
    driver = wrapper.Database.connect(**wrapper.get_connection_params())
    try:
        return NotificationListener(driver)
    except BaseException:
        driver.close()
        raise


def _record(row: Event) -> RecordedRaw:
    stream = row.stream
    stream_id = trusted_stream_id(stream.uuid, stream.name, stream.category or None)
    return RecordedRaw(
        entry=raw_event(row, stream_id), position=int(row.pk), tenant_id=stream.tenant_id
    )
