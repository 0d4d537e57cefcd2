"""``CursorsDao``: where a projector keeps, per stream, the last version it projected."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod

from event_sourcery._core.stream_id import StreamId


class CursorsDao(ABC):
    """Cursor storage for projectors (one cursor per projector name and stream)."""

    class StreamNotTracked(Exception):
        """No cursor exists for the stream."""

    class BehindStream(Exception):
        """The cursor is behind: events between it and the new one were not projected."""

        def __init__(self, current_version: int) -> None:
            super().__init__(current_version)
            self.current_version = current_version

    class AheadOfStream(Exception):
        """The cursor is at or past the version: the event was projected already."""

        def __init__(self, current_version: int) -> None:
            super().__init__(current_version)
            self.current_version = current_version

    @abstractmethod
    def increment(self, name: str, stream_id: StreamId, version: int) -> None:
        """Move the cursor from ``version - 1`` to ``version`` or raise one of the above."""

    @abstractmethod
    def put_at(self, name: str, stream_id: StreamId, version: int) -> None:
        """Start tracking the stream at ``version``."""

    @abstractmethod
    def move_to(self, name: str, stream_id: StreamId, version: int) -> None:
        """Set the cursor to ``version`` unconditionally."""


class InMemoryCursorsDao(CursorsDao):
    """Cursors in a dict (same semantics as the SQL implementation)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursors: dict[tuple[str, int, str | None], int] = {}

    def increment(self, name: str, stream_id: StreamId, version: int) -> None:
        key = (name, stream_id.int, stream_id.category)
        with self._lock:
            current = self._cursors.get(key)
            if current is None:
                if version == 1:
                    self._cursors[key] = 1
                    return
                raise self.StreamNotTracked()
            if current == version - 1:
                self._cursors[key] = version
                return
            if current < version:
                raise self.BehindStream(current)
            raise self.AheadOfStream(current)

    def put_at(self, name: str, stream_id: StreamId, version: int) -> None:
        with self._lock:
            self._cursors[(name, stream_id.int, stream_id.category)] = version

    def move_to(self, name: str, stream_id: StreamId, version: int) -> None:
        with self._lock:
            self._cursors[(name, stream_id.int, stream_id.category)] = version
