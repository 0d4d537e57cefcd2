"""``Projector``: feeds a read model each stream's events exactly once and in version order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from event_sourcery._core.records import WrappedEvent
from event_sourcery._core.stream_id import StreamId
from event_sourcery._store.event_store import EventStore
from event_sourcery.read_model.cursors_dao import CursorsDao

ReadModel = Callable[[WrappedEvent[Any], StreamId], None]


class Projector:
    """Projects events into ``read_model``, catching up missed ones from the event store."""

    class CantProjectUnversionedEvent(Exception):
        """Events of versionless streams cannot be projected (there is no order to track)."""

    def __init__(
        self, event_store: EventStore, name: str, cursors_dao: CursorsDao, read_model: ReadModel
    ) -> None:
        self._event_store = event_store
        self._name = name
        self._cursors = cursors_dao
        self._read_model = read_model

    def project(self, wrapped_event: WrappedEvent[Any], stream_id: StreamId) -> None:
        """Apply the event, after any earlier events of the stream not yet projected."""
        version = wrapped_event.version
        if version is None:
            raise self.CantProjectUnversionedEvent(stream_id)
        try:
            self._cursors.increment(self._name, stream_id, version)
        except CursorsDao.StreamNotTracked:
            self._cursors.put_at(self._name, stream_id, version)
            self._replay(stream_id, None, version)
        except CursorsDao.BehindStream as behind:
            self._cursors.move_to(self._name, stream_id, version)
            self._replay(stream_id, behind.current_version + 1, version)
        except CursorsDao.AheadOfStream:
            return
        self._read_model(wrapped_event, stream_id)

    def _replay(self, stream_id: StreamId, start: int | None, stop: int) -> None:
        for event in self._event_store.load_stream(stream_id, start=start, stop=stop):
            self._read_model(event, stream_id)
