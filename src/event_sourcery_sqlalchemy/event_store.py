"""``SqlAlchemyStorageStrategy``: streams and events in the caller's session and transaction.

The library only flushes and executes; the caller commits or rolls back. Every statement is
scoped to the strategy's tenant. The versioning rule comes from the core
(``plan_stored_version``); this module only reads what it needs and applies the result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, insert, select, update
from sqlalchemy.orm import Session
from typing_extensions import Self

from event_sourcery._core.column_limits import check_storable
from event_sourcery._core.records import Position, RawEvent, RecordedRaw
from event_sourcery._core.strategies import StorageStrategy
from event_sourcery._core.stream_id import DEFAULT_TENANT, StreamId, TenantId, trusted_stream_id
from event_sourcery._core.versioning import Versioning, plan_stored_version
from event_sourcery.exceptions import (
    AnotherStreamWithThisNameButOtherIdExists,
    StreamNotFound,
)
from event_sourcery_sqlalchemy import dialects, wakeup
from event_sourcery_sqlalchemy.errors import mapped_table, translated_errors
from event_sourcery_sqlalchemy.models.base import deleted_events_table
from event_sourcery_sqlalchemy.models_set import Models

Enqueue = Callable[[Connection, list[RecordedRaw]], None]
Dispatch = Callable[..., None]


class SqlAlchemyStorageStrategy(StorageStrategy):
    """Stores streams in the tables of ``models`` through ``session``."""

    def __init__(
        self,
        session: Session,
        dispatch: Dispatch,
        models: Models | None = None,
        enqueue: Enqueue | None = None,
        tenant_id: TenantId = DEFAULT_TENANT,
    ) -> None:
        self._session = session
        self._dispatch = dispatch
        self._models = models or Models()
        self._enqueue = enqueue
        self._tenant_id = tenant_id
        self._streams: Table = mapped_table(self._models.stream_model)
        self._events: Table = mapped_table(self._models.event_model)
        self._snapshots: Table = mapped_table(self._models.snapshot_model)

    def _connection(self) -> Connection:
        return self._session.connection()

    def _stream_query(self, stream_id: StreamId) -> Any:
        """SELECT of the stream row (id, uuid, name, version) of ``stream_id`` in this tenant."""
        streams = self._streams
        return select(streams.c.id, streams.c.uuid, streams.c.name, streams.c.version).where(
            streams.c.tenant_id == self._tenant_id,
            streams.c.category == (stream_id.category or ""),
            streams.c.uuid == stream_id,
        )

    def _find_stream(self, connection: Connection, stream_id: StreamId, lock: bool) -> Any:
        """The stream row in this tenant, locked if ``lock``.

        On InnoDB a locking read of a missing row locks the gap and blocks other writers'
        inserts, so there the row is looked up first and then locked by primary key; only a
        row known to exist (created concurrently) is locked by its unique key.
        """
        query = self._stream_query(stream_id)
        if not lock:
            return connection.execute(query).first()
        if not dialects.locks_gaps(connection):
            return connection.execute(query.with_for_update()).first()
        found = connection.execute(query).first()
        if found is None:
            return None
        by_id = query.where(self._streams.c.id == found.id)
        return connection.execute(by_id.with_for_update()).first()

    def _lock_created_stream(self, connection: Connection, stream_id: StreamId) -> Any:
        """Lock a stream row that exists, even if this transaction's snapshot predates it."""
        return connection.execute(self._stream_query(stream_id).with_for_update()).first()

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        with translated_errors():
            connection = self._connection()
            stream = self._find_stream(connection, stream_id, lock=False)
            if stream is None:
                return []
            loaded_id = trusted_stream_id(stream.uuid, stream.name, stream_id.category or None)
            snapshot = self._latest_snapshot(connection, stream.id, loaded_id, start, stop)
            events = self._events
            query = select(*record_columns(events)).where(events.c.db_stream_id == stream.id)
            if start is not None:
                query = query.where(events.c.version >= start)
            if stop is not None:
                query = query.where(events.c.version < stop)
            if snapshot is not None:
                query = query.where(events.c.version > snapshot.version)
            query = query.order_by(events.c.version, events.c.id)
            rows = [raw_event(row, loaded_id) for row in connection.execute(query).all()]
            # the query applied the range and the snapshot already: it only goes first
            return [snapshot, *rows] if snapshot else rows

    def _latest_snapshot(
        self,
        connection: Connection,
        db_stream_id: int,
        stream_id: StreamId,
        start: int | None,
        stop: int | None,
    ) -> RawEvent | None:
        snapshots = self._snapshots
        query = select(*record_columns(snapshots)).where(snapshots.c.db_stream_id == db_stream_id)
        if start is not None:
            query = query.where(snapshots.c.version >= start)
        if stop is not None:
            query = query.where(snapshots.c.version < stop)
        query = query.order_by(snapshots.c.created_at.desc()).limit(1)
        row = connection.execute(query).first()
        return raw_event(row, stream_id) if row else None

    def insert_events(
        self, stream_id: StreamId, versioning: Versioning, events: list[RawEvent]
    ) -> None:
        check_storable(stream_id, self._tenant_id, events)
        with translated_errors():
            connection = self._connection()
            db_stream_id, stored_id = self._prepare_stream(
                connection, stream_id, versioning, events
            )
            records, order_key = self._insert_rows(connection, db_stream_id, stored_id, events)
            if self._enqueue is not None:
                self._enqueue(connection, records)
        wakeup.mark_appended(self._session, records, order_key)
        self._dispatch(*records)

    def _prepare_stream(
        self,
        connection: Connection,
        stream_id: StreamId,
        versioning: Versioning,
        events: list[RawEvent],
    ) -> tuple[int, StreamId]:
        """Create or lock the stream row, apply the versioning rule, move the stored version.

        A new stream costs one INSERT (tried first when ``expected_version`` is 0); an existing
        one a locking SELECT and an UPDATE, plus a look-up of taken versions only when the batch
        reaches below the stored version.
        """
        versions = [event.version for event in events]
        self._check_name(connection, stream_id)
        stored_id = trusted_stream_id(stream_id, stream_id.name, stream_id.category or None)
        stream = None
        if not (versioning.expected_version == 0 and dialects.creates_first(connection)):
            stream = self._find_stream(connection, stream_id, lock=True)
        if stream is None:
            version = plan_stored_version(False, None, versioning, versions)
            values = {
                "uuid": stream_id,
                "name": stream_id.name,
                "category": stream_id.category or "",
                "tenant_id": self._tenant_id,
                "version": version,
            }
            created = dialects.create_unless_exists(connection, self._streams, values)
            if created is not None:
                return created, stored_id
            # it exists (maybe created concurrently): decide against its committed state
            stream = self._lock_created_stream(connection, stream_id)
            assert stream is not None
        numbered = [v for v in versions if v is not None]
        reaches_back = stream.version is None or any(v <= stream.version for v in numbered)
        taken = self._taken_versions(connection, stream.id, versions) if reaches_back else []
        version = plan_stored_version(True, stream.version, versioning, versions, taken)
        name = stream.name or stream_id.name
        if version != stream.version or name != stream.name:
            connection.execute(
                update(self._streams)
                .where(self._streams.c.id == stream.id)
                .values(version=version, name=name)
            )
        return stream.id, trusted_stream_id(stream.uuid, name, stream_id.category or None)

    def _check_name(self, connection: Connection, stream_id: StreamId) -> None:
        if not stream_id.name:
            return
        streams = self._streams
        owner = connection.execute(
            select(streams.c.uuid).where(
                streams.c.tenant_id == self._tenant_id,
                streams.c.category == (stream_id.category or ""),
                streams.c.name == stream_id.name,
            )
        ).scalar()
        if owner is not None and owner != stream_id:
            raise AnotherStreamWithThisNameButOtherIdExists(
                f"Stream {stream_id.name!r} exists with another id in this category and tenant"
            )

    def _taken_versions(
        self, connection: Connection, db_stream_id: int, versions: Sequence[int | None]
    ) -> list[int]:
        wanted = [v for v in versions if v is not None]
        if not wanted:
            return []
        events = self._events
        return list(
            connection.execute(
                select(events.c.version).where(
                    events.c.db_stream_id == db_stream_id, events.c.version.in_(wanted)
                )
            ).scalars()
        )

    def _insert_rows(
        self,
        connection: Connection,
        db_stream_id: int,
        stored_id: StreamId,
        events: list[RawEvent],
    ) -> tuple[list[RecordedRaw], int | None]:
        """The records of the inserted rows and their order key, if the INSERT gave it."""
        rows = [
            {
                "uuid": event.uuid,
                "created_at": event.created_at,
                "name": event.name,
                "data": event.data,
                "event_context": event.context,
                "version": event.version,
                "db_stream_id": db_stream_id,
            }
            for event in events
        ]
        order_key = None
        if connection.dialect.insert_executemany_returning_sort_by_parameter_order:
            dialect = dialects.kind(connection)
            statement = dialects.insert_events(self._events, dialect)
            returned = connection.execute(statement, rows).all()
            ids = [row[0] for row in returned]
            if dialect == "postgresql":
                order_key = int(returned[0][1])
        else:  # MySQL has no RETURNING: one INSERT per row
            statement = insert(self._events)
            ids = [connection.execute(statement, row).inserted_primary_key[0] for row in rows]  # type: ignore[index]
        records = [
            RecordedRaw(
                entry=dataclasses.replace(event, stream_id=stored_id),
                position=position,
                tenant_id=self._tenant_id,
            )
            for event, position in zip(events, ids, strict=True)
        ]
        return records, order_key

    def save_snapshot(self, snapshot: RawEvent) -> None:
        check_storable(snapshot.stream_id, self._tenant_id, [snapshot])
        with translated_errors():
            connection = self._connection()
            stream = self._find_stream(connection, snapshot.stream_id, lock=False)
            if stream is None:
                raise StreamNotFound(
                    f"Cannot snapshot stream {snapshot.stream_id!r}: it has no events"
                )
            connection.execute(
                insert(self._snapshots).values(
                    uuid=snapshot.uuid,
                    created_at=snapshot.created_at,
                    name=snapshot.name,
                    data=snapshot.data,
                    event_context=snapshot.context,
                    version=snapshot.version,
                    db_stream_id=stream.id,
                )
            )

    def delete_stream(self, stream_id: StreamId) -> None:
        with translated_errors():
            connection = self._connection()
            stream = self._find_stream(connection, stream_id, lock=True)
            if stream is None:
                return
            connection.execute(
                delete(self._snapshots).where(self._snapshots.c.db_stream_id == stream.id)
            )
            events = self._events
            if dialects.order_mode(connection) != "id":  # keep the order keys (ADR 0006)
                rows = select(events.c.id, events.c.tx_id).where(events.c.db_stream_id == stream.id)
                connection.execute(
                    insert(deleted_events_table(events)).from_select(["id", "tx_id"], rows)
                )
            connection.execute(delete(events).where(events.c.db_stream_id == stream.id))
            connection.execute(delete(self._streams).where(self._streams.c.id == stream.id))

    @property
    def current_position(self) -> Position:
        """The last committed event in subscription order whose place is final (``0`` when
        empty); the session's own uncommitted events come after it.

        Resuming a subscription from it delivers exactly the events not yet in the order.
        """
        with translated_errors():
            connection = self._connection()
            if dialects.order_mode(connection) != "sequence":
                return self._last_position(connection)
            with dialects.reading_connection(connection.engine) as reader:
                return self._last_position(reader)

    def _last_position(self, connection: Connection) -> Position:
        events = self._events
        key, final, _ = dialects.final_order(connection, events)
        own = wakeup.own_writes(self._session)
        first_own = own.first_position() if own is not None else None
        if first_own is not None and dialects.order_mode(connection) == "id":
            final.append(events.c.id < first_own)  # the session sees its own rows (SQLite)
        last = connection.execute(
            select(events.c.id).where(*final).order_by(key.desc(), events.c.id.desc()).limit(1)
        ).scalar()
        return int(last or 0)

    def scoped_for_tenant(self, tenant_id: TenantId) -> Self:
        return type(self)(self._session, self._dispatch, self._models, self._enqueue, tenant_id)


def record_columns(table: Table) -> tuple[ColumnElement[Any], ...]:
    """The columns of an event or snapshot table that ``raw_event`` reads."""
    c = table.c
    return (c.uuid, c.created_at, c.name, c.data, c.event_context, c.version)


def raw_event(row: Any, stream_id: StreamId) -> RawEvent:
    """The ``RawEvent`` of an event or snapshot row of ``stream_id``."""
    return RawEvent(
        uuid=row.uuid,
        stream_id=stream_id,
        created_at=row.created_at,
        name=row.name,
        data=row.data,
        context=row.event_context,
        version=row.version,
    )


__all__ = ["SqlAlchemyStorageStrategy"]
