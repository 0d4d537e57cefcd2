"""``Repository`` and ``WrappedAggregate``: load an aggregate from its stream, save its events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from event_sourcery._core.context import Context, TContext, context_as
from event_sourcery._core.records import WrappedEvent
from event_sourcery._core.stream_id import StreamId, StreamUUID
from event_sourcery._store.event_store import EventStore
from event_sourcery.event_sourcing.aggregate import Aggregate

TAggregate = TypeVar("TAggregate", bound=Aggregate)


@dataclass
class WrappedAggregate(Generic[TAggregate]):
    """An aggregate with its stream id, context, stored version and timestamps."""

    aggregate: TAggregate
    stream_id: StreamId
    context: Context = field(default_factory=Context)
    stored_version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def version(self) -> int:
        """Stored version plus pending events."""
        return self.stored_version + len(self.aggregate.__changes__)

    @property
    def is_new(self) -> bool:
        """No event of this aggregate is stored yet."""
        return self.stored_version == 0

    def get_context(self, context_type: type[TContext]) -> TContext:
        return context_as(self.context, context_type)


class Repository(Generic[TAggregate]):
    """Loads aggregates by replaying their stream and saves their new events atomically."""

    def __init__(self, event_store: EventStore) -> None:
        self._event_store = event_store

    @contextmanager
    def aggregate(
        self, uuid: StreamUUID, aggregate: TAggregate, context: Context | None = None
    ) -> Iterator[WrappedAggregate[TAggregate]]:
        """Yield the loaded aggregate; on normal exit append its pending events.

        The append uses the loaded version as ``expected_version``, so a concurrent change
        raises ``ConcurrentStreamWriteError``. If the block raises, nothing is saved.
        """
        stream_id = StreamId(uuid=uuid, name=uuid.name, category=aggregate.category)
        wrapped = WrappedAggregate(aggregate, stream_id, context or Context())
        for event in self._event_store.load_stream(stream_id):
            aggregate.__apply__(event.event)
            wrapped.stored_version = event.version or wrapped.stored_version
            wrapped.created_at = wrapped.created_at or event.created_at
            wrapped.updated_at = event.created_at
        yield wrapped
        with aggregate.__persisting_changes__() as changes:
            events = [
                WrappedEvent.wrap(event, wrapped.stored_version + n, wrapped.context)
                for n, event in enumerate(changes, 1)
            ]
            if events:
                self._event_store.append(
                    *events, stream_id=stream_id, expected_version=wrapped.stored_version
                )
        if events:
            wrapped.stored_version = events[-1].version or wrapped.stored_version
            wrapped.updated_at = events[-1].created_at
            wrapped.created_at = wrapped.created_at or events[0].created_at
