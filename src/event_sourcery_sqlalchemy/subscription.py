"""``SqlAlchemySubscriptionStrategy``: exact subscriptions over the events table.

Reads never skip or repeat an event, whatever the commit order (ADR 0006):

* PostgreSQL orders events by (writer transaction id, id) and reads only below the oldest
  running transaction id, so every event read is final;
* SQLite has one writer at a time, so ids are in commit order;
* MariaDB/MySQL: committed rows are numbered after the fact and read in that order.

A subscription also delivers the uncommitted appends of its own session (``OwnWritesSource``).

A waiting reader wakes on a commit in this process, on PostgreSQL ``NOTIFY`` from any process,
and otherwise polls every ``gap_retry_interval``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from event_sourcery._core.cursor import ALL, Fetched, OrderCursor, Selector
from event_sourcery._core.records import Position, RecordedRaw
from event_sourcery._core.strategies import SubscriptionStrategy
from event_sourcery._core.stream_id import trusted_stream_id
from event_sourcery._store.own_writes import OwnWritesSource
from event_sourcery._store.polling import poll_batches
from event_sourcery_sqlalchemy import dialects, wakeup
from event_sourcery_sqlalchemy.errors import mapped_table, translated_errors
from event_sourcery_sqlalchemy.event_store import raw_event, record_columns
from event_sourcery_sqlalchemy.models.base import BaseEvent, BaseStream, deleted_events_table
from event_sourcery_sqlalchemy.models.default import DefaultEvent, DefaultStream


class SqlAlchemySubscriptionStrategy(SubscriptionStrategy):
    """Subscriptions reading committed events with their own connections from the session's
    engine, and the session's own uncommitted appends."""

    def __init__(
        self,
        session: Session,
        gap_retry_interval: timedelta = timedelta(seconds=0.5),
        event_model: type[BaseEvent] = DefaultEvent,
        stream_model: type[BaseStream] = DefaultStream,
    ) -> None:
        self._session = session
        self._interval = gap_retry_interval.total_seconds()
        self._events: Table = mapped_table(event_model)
        self._streams: Table = mapped_table(stream_model)

    def _source(self, selector: Selector) -> SqlEventSource:
        return SqlEventSource(self._session, self._events, self._streams, selector, self._interval)

    def subscribe_to_all(
        self, start_from: Position, batch_size: int, timelimit: timedelta
    ) -> Iterator[list[RecordedRaw]]:
        return _batches(self._source(ALL), start_from, batch_size, timelimit)

    def subscribe_to_category(
        self, start_from: Position, batch_size: int, timelimit: timedelta, category: str
    ) -> Iterator[list[RecordedRaw]]:
        source = self._source(Selector(category=category))
        return _batches(source, start_from, batch_size, timelimit)

    def subscribe_to_events(
        self, start_from: Position, batch_size: int, timelimit: timedelta, events: list[str]
    ) -> Iterator[list[RecordedRaw]]:
        source = self._source(Selector(names=frozenset(events)))
        return _batches(source, start_from, batch_size, timelimit)


def _batches(
    source: SqlEventSource, start_from: Position, batch_size: int, timelimit: timedelta
) -> Iterator[list[RecordedRaw]]:
    session = source.session
    reading = OwnWritesSource(source, lambda: wakeup.own_writes(session))
    try:
        yield from poll_batches(reading, start_from, batch_size, timelimit, source.selector)
    finally:
        source.close()


class SqlEventSource:
    """One subscription's reads. Keeps the (tx id, id) cursor behind the public int position."""

    def __init__(
        self,
        session: Session,
        events: Table,
        streams: Table,
        selector: Selector,
        interval: float,
    ) -> None:
        self.selector = selector
        self.session = session
        self._events = events
        self._streams = streams
        self._interval = interval
        bind = session.get_bind()
        self._engine: Engine = bind if isinstance(bind, Engine) else bind.engine
        self._key = wakeup.database_key(self._engine)
        self._shared = isinstance(self._engine.pool, (StaticPool, SingletonThreadPool))
        self._cursor = OrderCursor()
        self._listener: wakeup.PostgresListener | None = None
        self._generation = wakeup.generation(self._key)
        self.horizon: int | None = None
        """Order keys below it were final at the last read (PostgreSQL; ``None`` elsewhere)."""

    def _read(self, work: Any) -> Any:
        with translated_errors():
            if self._shared:  # one in-memory database: only the session's connection sees it
                return work(self.session.connection())
            with dialects.reading_connection(self._engine) as connection:
                return work(connection)

    def fetch_after(self, position: Position, limit: int, selector: Selector) -> Fetched:
        self._generation = wakeup.generation(self._key)
        fetched: Fetched = self._read(
            lambda connection: self._fetch(connection, position, limit, selector)
        )
        return fetched

    def _fetch(
        self, connection: Connection, position: Position, limit: int, selector: Selector
    ) -> Fetched:
        events, streams = self._events, self._streams
        query: Select[Any] = (
            select(
                events.c.id,
                events.c.tx_id,
                *record_columns(events),
                streams.c.uuid.label("s_uuid"),
                streams.c.name.label("s_name"),
                streams.c.category,
                streams.c.tenant_id,
            )
            .join(streams, streams.c.id == events.c.db_stream_id)
            .limit(limit)
        )
        if selector.category is not None:
            query = query.where(streams.c.category == selector.category)
        if selector.names is not None:
            query = query.where(events.c.name.in_(sorted(selector.names)))
        key, final, self.horizon = dialects.final_order(connection, events)
        cursor = self._cursor.resume(position, lambda p: self._key_at(connection, p, key))
        conditions = [dialects.after(key, events, cursor), *final]
        end = None
        if selector != ALL and not self._shared:
            end = self._end(connection, key, conditions)
            if end is None:
                return Fetched([], position)
            conditions.append(dialects.at_most(key, events, end))
        query = query.where(*conditions)
        query = query.order_by(key, events.c.id).add_columns(key.label("order_key"))
        query = dialects.read_along_order(connection, query, events, selector.names)
        rows = connection.execute(query).all()
        if end is not None and len(rows) < limit:  # every row up to the end was looked at
            self._cursor.move(*end)
            return Fetched([_record(row) for row in rows], end[1])
        if not rows:
            return Fetched([], position)
        last = rows[-1]
        self._cursor.move(last.order_key, last.id)
        return Fetched([_record(row) for row in rows], last.id)

    def _end(
        self, connection: Connection, key: Any, conditions: list[Any]
    ) -> tuple[int, int] | None:
        """The last row after the cursor whose place is final, as (key, id) (``None``: none).

        A filtered read looks at every row up to it, so the cursor moves there even when the
        last rows do not match: a caught-up subscription to a rare category or event types
        reads only the rows that arrived since its last read. Taken before the filtered read:
        rows that become final later come after it (on MariaDB the sequencer numbers them
        higher). Not on a shared connection, where the session's uncommitted rows are visible.
        """
        events = self._events
        last = select(key, events.c.id).where(*conditions)
        last = last.order_by(key.desc(), events.c.id.desc()).limit(1)
        found = connection.execute(dialects.read_along_order(connection, last, events)).first()
        return None if found is None else (int(found[0] or 0), int(found[1]))

    def _key_at(self, connection: Connection, position: Position, key: Any) -> int | None:
        """The order key of a delivered position (looked up once per resume)."""
        events = self._events
        found = connection.execute(select(key).where(events.c.id == position)).first()
        if found is None and key is not events.c.id:  # deleted: its key was kept
            deleted = deleted_events_table(events)
            found = connection.execute(
                select(deleted.c.tx_id).where(deleted.c.id == position)
            ).first()
        if found is None or found[0] is None:
            # deleted before keys were kept (or not yet ordered): resume after the newest key
            # at or before it, found walking the order index down from its end
            newest = select(key).where(events.c.id <= position, key.is_not(None))
            newest = dialects.read_along_order(connection, newest.order_by(key.desc()), events)
            found = connection.execute(newest.limit(1)).first()
        return found[0] if found else None

    def wait_for_events(self, after: Position, timeout: float) -> None:
        timeout = min(timeout, self._interval)
        if not self._shared and self._engine.dialect.name == "postgresql":
            if self._listener is None:
                self._listener = wakeup.PostgresListener(self._engine)
                return  # events may have committed before LISTEN: read again first
            self._listener.wait(timeout)
            return
        wakeup.wait_local(self._key, self._generation, timeout)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None


def _record(row: Any) -> RecordedRaw:
    stream_id = trusted_stream_id(row.s_uuid, row.s_name, row.category or None)
    return RecordedRaw(entry=raw_event(row, stream_id), position=row.id, tenant_id=row.tenant_id)
