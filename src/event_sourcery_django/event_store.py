"""``DjangoStorageStrategy``: streams and events through Django's ORM on one database alias.

Each append runs in ``transaction.atomic`` (a savepoint inside the caller's transaction, or its
own transaction in autocommit mode), so it is all-or-nothing. The versioning rule comes from the
core (``plan_stored_version``); only reads and the atomic write live here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any
from uuid import UUID
from weakref import WeakKeyDictionary

from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from typing_extensions import Self

from event_sourcery._core.column_limits import check_storable
from event_sourcery._core.records import Position, RawEvent, RecordedRaw
from event_sourcery._core.strategies import StorageStrategy
from event_sourcery._core.stream_id import DEFAULT_TENANT, StreamId, TenantId, trusted_stream_id
from event_sourcery._core.versioning import Versioning, plan_stored_version
from event_sourcery._store.own_writes import OwnWrites
from event_sourcery._store.wakeups import notify_local
from event_sourcery.exceptions import (
    AnotherStreamWithThisNameButOtherIdExists,
    StreamNotFound,
)
from event_sourcery_django.errors import translated_errors
from event_sourcery_django.models import (
    Event,
    Snapshot,
    Stream,
)
from event_sourcery_django.ordering import (
    database_key,
    final_order,
    keep_deleted_keys,
    writer_tx_id,
)
from event_sourcery_django.timestamps import from_db, to_db
from event_sourcery_django.write_lock import take_write_lock

Enqueue = Callable[[list[RecordedRaw]], None]
Dispatch = Callable[..., None]


class DjangoStorageStrategy(StorageStrategy):
    """Stores streams in the app's tables on database ``using``."""

    def __init__(
        self,
        dispatch: Dispatch,
        enqueue: Enqueue | None = None,
        tenant_id: TenantId = DEFAULT_TENANT,
        using: str = "default",
    ) -> None:
        self._dispatch = dispatch
        self._enqueue = enqueue
        self._tenant_id = tenant_id
        self._using = using

    def _streams(self, stream_id: StreamId) -> Any:
        return Stream.objects.using(self._using).filter(
            tenant_id=self._tenant_id,
            category=stream_id.category or "",
            uuid=UUID(int=stream_id.int),
        )

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        with translated_errors():
            stream = self._streams(stream_id).first()
            if stream is None:
                return []
            loaded_id = trusted_stream_id(stream.uuid, stream.name, stream_id.category or None)
            snapshots = Snapshot.objects.using(self._using).filter(stream=stream)
            events = Event.objects.using(self._using).filter(stream=stream)
            if start is not None:
                snapshots, events = (
                    snapshots.filter(version__gte=start),
                    events.filter(version__gte=start),
                )
            if stop is not None:
                snapshots, events = (
                    snapshots.filter(version__lt=stop),
                    events.filter(version__lt=stop),
                )
            snapshot = snapshots.order_by("-created_at").first()
            if snapshot is not None:
                events = events.filter(version__gt=snapshot.version)
            rows = [raw_event(row, loaded_id) for row in events.order_by("version", "id")]
            return [raw_event(snapshot, loaded_id), *rows] if snapshot else rows

    def insert_events(
        self, stream_id: StreamId, versioning: Versioning, events: list[RawEvent]
    ) -> None:
        check_storable(stream_id, self._tenant_id, events)
        with translated_errors(), transaction.atomic(using=self._using):
            take_write_lock(self._using)  # SQLite: before the reads, or the write cannot wait
            stream, stored_id = self._prepare_stream(stream_id, versioning, events)
            tx_id = writer_tx_id(self._using)
            rows = Event.objects.using(self._using).bulk_create(
                [
                    Event(
                        uuid=event.uuid,
                        created_at=to_db(event.created_at),
                        name=event.name,
                        data=event.data,
                        event_context=event.context,
                        version=event.version,
                        stream=stream,
                        tx_id=tx_id,
                    )
                    for event in events
                ]
            )
            records = [
                RecordedRaw(
                    entry=dataclasses.replace(event, stream_id=stored_id),
                    position=int(row.pk),
                    tenant_id=self._tenant_id,
                )
                for event, row in zip(events, rows, strict=True)
            ]
            if self._enqueue is not None:
                self._enqueue(records)
            committed = _Committed(self._using)
            _appending(self._using).add(records, committed, tx_id)
            transaction.on_commit(committed, using=self._using)
            self._dispatch(*records)

    def _prepare_stream(
        self, stream_id: StreamId, versioning: Versioning, events: list[RawEvent]
    ) -> tuple[Stream, StreamId]:
        """Create or lock the stream row, apply the versioning rule, move the stored version."""
        versions = [event.version for event in events]
        self._check_name(stream_id)
        stream = self._streams(stream_id).select_for_update().first()
        if stream is None:
            version = plan_stored_version(False, None, versioning, versions)
            try:
                with transaction.atomic(using=self._using):
                    created = Stream.objects.using(self._using).create(
                        uuid=UUID(int=stream_id.int),
                        name=stream_id.name,
                        category=stream_id.category or "",
                        tenant_id=self._tenant_id,
                        version=version,
                    )
                stored_id = trusted_stream_id(stream_id, stream_id.name, stream_id.category or None)
                return created, stored_id
            except IntegrityError:  # created concurrently: decide against its committed state
                stream = self._streams(stream_id).select_for_update().get()
        numbered = [v for v in versions if v is not None]
        reaches_back = stream.version is None or any(v <= stream.version for v in numbered)
        taken: list[int] = []
        if reaches_back and numbered:
            stored = Event.objects.using(self._using).filter(stream=stream, version__in=numbered)
            taken = [v for v in stored.values_list("version", flat=True) if v is not None]
        version = plan_stored_version(True, stream.version, versioning, versions, taken)
        name = stream.name or stream_id.name
        if version != stream.version or name != stream.name:
            stream.version, stream.name = version, name
            stream.save(using=self._using, update_fields=["version", "name"])
        return stream, trusted_stream_id(stream.uuid, name, stream_id.category or None)

    def _check_name(self, stream_id: StreamId) -> None:
        if not stream_id.name:
            return
        owner = (
            Stream.objects.using(self._using)
            .filter(
                tenant_id=self._tenant_id,
                category=stream_id.category or "",
                name=stream_id.name,
            )
            .values_list("uuid", flat=True)
            .first()
        )
        if owner is not None and owner.int != stream_id.int:
            raise AnotherStreamWithThisNameButOtherIdExists(
                f"Stream {stream_id.name!r} exists with another id in this category and tenant"
            )

    def save_snapshot(self, snapshot: RawEvent) -> None:
        check_storable(snapshot.stream_id, self._tenant_id, [snapshot])
        with translated_errors():
            stream = self._streams(snapshot.stream_id).first()
            if stream is None:
                raise StreamNotFound(
                    f"Cannot snapshot stream {snapshot.stream_id!r}: it has no events"
                )
            Snapshot.objects.using(self._using).create(
                uuid=snapshot.uuid,
                created_at=to_db(snapshot.created_at),
                name=snapshot.name,
                data=snapshot.data,
                event_context=snapshot.context,
                version=int(snapshot.version or 0),  # EventStore.save_snapshot checked it
                stream=stream,
            )

    def delete_stream(self, stream_id: StreamId) -> None:
        with translated_errors(), transaction.atomic(using=self._using):
            take_write_lock(self._using)
            locked = list(self._streams(stream_id).select_for_update().values_list("pk", flat=True))
            if not locked:
                return
            events = Event.objects.using(self._using).filter(stream_id__in=locked)
            keep_deleted_keys(self._using, events)  # resuming from them stays exact (ADR 0006)
            Stream.objects.using(self._using).filter(pk__in=locked).delete()  # rows cascade

    @property
    def current_position(self) -> Position:
        with translated_errors():
            key, final, _ = final_order(self._using)
            own = own_writes(self._using)
            first_own = own.first_position() if own is not None else None
            if first_own is not None and key == "id":  # the connection sees its own rows
                final.append(Q(id__lt=first_own))
            last = (
                Event.objects.using(self._using)
                .filter(*final)
                .order_by(f"-{key}", "-id")
                .values_list("id", flat=True)
                .first()
            )
            return int(last or 0)

    def scoped_for_tenant(self, tenant_id: TenantId) -> Self:
        return type(self)(self._dispatch, self._enqueue, tenant_id, self._using)


_own_writes: WeakKeyDictionary[Any, OwnWrites] = WeakKeyDictionary()


def own_writes(using: str) -> OwnWrites | None:
    """The appends of the open transaction of this thread's connection to ``using``.

    An append is pending while its ``on_commit`` callback waits in the connection: Django drops
    the callbacks of a rolled-back savepoint or transaction, and in a ``TestCase`` (which never
    commits) they stay.
    """
    connection = connections[using]
    own = _own_writes.get(connection)
    if own is not None and own.groups:
        waiting = {id(entry[1]) for entry in connection.run_on_commit}
        own.roll_back(lambda scope: id(scope) not in waiting)
    return own


def _appending(using: str) -> OwnWrites:
    connection = connections[using]
    own = _own_writes.get(connection)
    if own is None:
        own = _own_writes[connection] = OwnWrites()
    return own


class _Committed:
    """The ``on_commit`` callback of one append: wakes this process's subscribers."""

    def __init__(self, using: str) -> None:
        self._using = using
        self._key = database_key(using)

    def __call__(self) -> None:
        notify_local(self._key)
        connection = connections[self._using]
        own = _own_writes.get(connection)
        # run inside an atomic block (``captureOnCommitCallbacks(execute=True)``): not committed
        if own is not None and not connection.in_atomic_block:
            own.commit(lambda scope: scope is self)


def raw_event(row: Event | Snapshot, stream_id: StreamId) -> RawEvent:
    """The ``RawEvent`` of an event or snapshot row of ``stream_id``."""
    return RawEvent(
        uuid=row.uuid,
        stream_id=stream_id,
        created_at=from_db(row.created_at),
        name=row.name,
        data=row.data,
        context=row.event_context,
        version=row.version,
    )


__all__ = ["DjangoStorageStrategy"]
