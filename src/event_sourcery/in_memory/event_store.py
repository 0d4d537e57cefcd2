"""``InMemoryStorageStrategy``: streams per tenant, atomic appends, snapshots beside history."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from typing_extensions import Self

from event_sourcery._core.records import Position, RawEvent, RecordedRaw
from event_sourcery._core.strategies import StorageStrategy
from event_sourcery._core.stream_id import DEFAULT_TENANT, StreamId, TenantId, trusted_stream_id
from event_sourcery._core.stream_window import stream_window
from event_sourcery._core.versioning import Versioning, plan_stored_version
from event_sourcery._store.listeners import Dispatcher
from event_sourcery.exceptions import (
    AnotherStreamWithThisNameButOtherIdExists,
    DuplicateEventUuid,
    StreamNotFound,
)
from event_sourcery.in_memory.outbox import InMemoryOutboxStorageStrategy
from event_sourcery.in_memory.storage import InMemoryStorage, StreamState, stream_key

Filterer = Callable[[RawEvent], bool]


class InMemoryStorageStrategy(StorageStrategy):
    """Stores streams in an ``InMemoryStorage``.

    An append is all-or-nothing: if an in-transaction listener raises, the events, the stream
    version and the outbox entries it added are taken back (like a rolled-back transaction).
    """

    def __init__(
        self,
        storage: InMemoryStorage,
        dispatcher: Dispatcher,
        outbox: InMemoryOutboxStorageStrategy | None = None,
        filterer: Filterer | None = None,
        tenant_id: TenantId = DEFAULT_TENANT,
    ) -> None:
        self._storage = storage
        self._dispatcher = dispatcher
        self._outbox = outbox
        self._filterer = filterer
        self._tenant_id = tenant_id

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        with self._storage.lock:
            stream = self._storage.streams.get(stream_key(self._tenant_id, stream_id))
            if stream is None:
                return []
            return stream_window(stream.ordered_events(), stream.snapshots, start, stop)

    def insert_events(
        self, stream_id: StreamId, versioning: Versioning, events: list[RawEvent]
    ) -> None:
        storage = self._storage
        key = stream_key(self._tenant_id, stream_id)
        with storage.lock:
            stream = storage.streams.get(key)
            versions = [event.version for event in events]
            taken = [v for v in versions if stream is not None and v in stream.versions]
            new_version = plan_stored_version(
                stream is not None,
                stream.version if stream else None,
                versioning,
                versions,
                taken,
            )
            name_key = self._check_name(stream_id)
            stored = [str(e.uuid) for e in events if e.uuid in storage.uuids]
            if stored:
                raise DuplicateEventUuid(f"Event uuid {stored[0]} is already stored")
            created = stream is None
            if stream is None:
                stream = StreamState(stream_id=_canonical(stream_id, None), version=None)
            old = (stream.version, stream.stream_id, len(stream.events))
            if stream_id.name and not stream.stream_id.name:
                stream.stream_id = _canonical(stream_id, stream_id.name)
            records = []
            canonical = stream.stream_id
            for event in events:
                if event.stream_id is not canonical:
                    event = dataclasses.replace(event, stream_id=canonical)
                position = len(storage.log) + 1
                record = RecordedRaw(entry=event, position=position, tenant_id=self._tenant_id)
                storage.log.append(record)
                storage.uuids.add(event.uuid)
                stream.events.append(event)
                stream.positions.append(position)
                if event.version is not None:
                    stream.versions.add(event.version)
                records.append(record)
            stream.version = new_version
            if created:
                storage.streams[key] = stream
            if name_key is not None:
                storage.names[name_key] = stream_id.int
            outbox_ids = self._enqueue(records)
            try:
                self._dispatcher.dispatch(*records)
            except BaseException:
                self._undo(key, stream, created, old, records, outbox_ids, name_key)
                raise
            storage.changed.notify_all()

    def _check_name(self, stream_id: StreamId) -> tuple[TenantId, str, str] | None:
        if not stream_id.name:
            return None
        name_key = (self._tenant_id, stream_id.category or "", stream_id.name)
        owner = self._storage.names.get(name_key)
        if owner is not None and owner != stream_id.int:
            raise AnotherStreamWithThisNameButOtherIdExists(
                f"Stream {stream_id.name!r} exists with another id in this category and tenant"
            )
        return name_key

    def _enqueue(self, records: list[RecordedRaw]) -> list[int]:
        if self._outbox is None:
            return []
        chosen = [r for r in records if self._filterer is None or self._filterer(r.entry)]
        return self._outbox.enqueue(chosen)

    def _undo(
        self,
        key: tuple[TenantId, int, str],
        stream: StreamState,
        created: bool,
        old: tuple[int | None, StreamId, int],
        records: list[RecordedRaw],
        outbox_ids: list[int],
        name_key: tuple[TenantId, str, str] | None,
    ) -> None:
        storage = self._storage
        stream.version, stream.stream_id, kept = old
        del stream.events[kept:]
        del stream.positions[kept:]
        stream.versions = {e.version for e in stream.events if e.version is not None}
        for record in records:
            storage.log[record.position - 1] = None
            storage.uuids.discard(record.entry.uuid)
        if created:
            storage.streams.pop(key, None)
            if name_key is not None:
                storage.names.pop(name_key, None)
        if self._outbox is not None:
            self._outbox.discard(outbox_ids)

    def save_snapshot(self, snapshot: RawEvent) -> None:
        with self._storage.lock:
            stream = self._storage.streams.get(stream_key(self._tenant_id, snapshot.stream_id))
            if stream is None:
                raise StreamNotFound(
                    f"Cannot snapshot stream {snapshot.stream_id!r}: it has no events"
                )
            stream.snapshots.append(dataclasses.replace(snapshot, stream_id=stream.stream_id))

    def delete_stream(self, stream_id: StreamId) -> None:
        storage = self._storage
        with storage.lock:
            stream = storage.streams.pop(stream_key(self._tenant_id, stream_id), None)
            if stream is None:
                return
            for position in stream.positions:
                storage.log[position - 1] = None
            storage.uuids.difference_update(event.uuid for event in stream.events)
            if stream.stream_id.name:
                name_key = (self._tenant_id, stream_id.category or "", stream.stream_id.name)
                storage.names.pop(name_key, None)

    @property
    def current_position(self) -> Position:
        with self._storage.lock:
            return len(self._storage.log)

    def scoped_for_tenant(self, tenant_id: TenantId) -> Self:
        return type(self)(self._storage, self._dispatcher, self._outbox, self._filterer, tenant_id)


def _canonical(stream_id: StreamId, name: str | None) -> StreamId:
    """The id records carry: the stream's known name and ``None`` for the empty category."""
    name = name or stream_id.name
    category = stream_id.category or None
    if type(stream_id) is StreamId and stream_id.name == name and stream_id.category == category:
        return stream_id
    return trusted_stream_id(stream_id, name, category)
