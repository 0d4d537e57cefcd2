"""``EventStore``: append, load, snapshot and delete streams through a storage strategy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from event_sourcery._core.append_plan import plan_append
from event_sourcery._core.enrichment import ContextEnrichers
from event_sourcery._core.input_checks import check_data, check_envelopes, check_stream_id
from event_sourcery._core.records import Event, Position, WrappedEvent
from event_sourcery._core.serde import Serde
from event_sourcery._core.strategies import StorageStrategy
from event_sourcery._core.stream_id import DEFAULT_TENANT, StreamId, TenantId
from event_sourcery._core.versioning import Versioning
from event_sourcery.exceptions import VersionsDoNotMatchVersioning

NO_ENRICHERS = ContextEnrichers()


class EventStore:
    """The event store of one tenant."""

    def __init__(
        self,
        storage_strategy: StorageStrategy,
        serde: Serde,
        enrichers: ContextEnrichers = NO_ENRICHERS,
        tenant_id: TenantId = DEFAULT_TENANT,
    ) -> None:
        self._storage_strategy = storage_strategy
        self._serde = serde
        self._enrichers = enrichers
        self._tenant_id = tenant_id

    def load_stream(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> Sequence[WrappedEvent[Any]]:
        """Events ordered by version (``start`` inclusive, ``stop`` exclusive), snapshot first."""
        check_stream_id(stream_id, self._tenant_id)
        return self._serde.deserialize_many(
            self._storage_strategy.fetch_events(stream_id, start=start, stop=stop)
        )

    def append(
        self,
        *events: Event | WrappedEvent[Any],
        stream_id: StreamId,
        expected_version: int | Versioning = 0,
    ) -> None:
        """Append events atomically.

        Bare events are numbered ``expected_version + 1, …``; ``WrappedEvent`` versions are kept.
        ``expected_version=0`` skips the comparison with the stored version (but a version that
        exists already is still a ``ConcurrentStreamWriteError``); ``NO_VERSIONING`` appends to a
        versionless stream. The backend's context enrichers add their components to copies of
        the events first.
        """
        check_stream_id(stream_id, self._tenant_id)
        planned, versioning = plan_append(events, expected_version)
        wrapped = self._enrichers.apply(planned, stream_id)
        raw = self._serde.serialize_many(wrapped, stream_id)
        check_data(raw)
        self._storage_strategy.insert_events(stream_id, versioning, raw)

    def save_snapshot(self, stream_id: StreamId, snapshot: WrappedEvent[Any]) -> None:
        """Store ``snapshot`` (its version = the last event it summarises) for the stream."""
        if isinstance(snapshot.version, bool) or not isinstance(snapshot.version, int):
            raise VersionsDoNotMatchVersioning(
                "A snapshot needs the version of the last event it summarises"
            )
        check_stream_id(stream_id, self._tenant_id)
        check_envelopes([snapshot])
        raw = self._serde.serialize(snapshot, stream_id)
        check_data([raw])
        self._storage_strategy.save_snapshot(raw)

    def delete_stream(self, stream_id: StreamId) -> None:
        """Delete the stream with its events and snapshots; unknown streams are ignored."""
        check_stream_id(stream_id, self._tenant_id)
        self._storage_strategy.delete_stream(stream_id)

    @property
    def position(self) -> Position | None:
        """The global position of the last stored event (of every tenant)."""
        return self._storage_strategy.current_position
