"""The shared state of an in-memory backend: streams, the global log and its wake-up."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from uuid import UUID

from event_sourcery._core.cursor import Fetched, Selector
from event_sourcery._core.records import Position, RawEvent, RecordedRaw
from event_sourcery._core.stream_id import StreamId, TenantId

StreamKey = tuple[TenantId, int, str]


def stream_key(tenant_id: TenantId, stream_id: StreamId) -> StreamKey:
    """Streams are per tenant; a ``None`` category and ``""`` are the same stream (as in SQL)."""
    return tenant_id, stream_id.int, stream_id.category or ""


@dataclass
class StreamState:
    """One stream of one tenant."""

    stream_id: StreamId
    version: int | None
    events: list[RawEvent] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    versions: set[int] = field(default_factory=set)
    snapshots: list[RawEvent] = field(default_factory=list)

    def ordered_events(self) -> list[RawEvent]:
        if self.version is None:
            return list(self.events)
        return sorted(self.events, key=lambda e: e.version or 0)


class InMemoryStorage:
    """Everything an in-memory backend stores, shared by its tenant copies.

    ``lock`` guards all state; ``changed`` is notified when events become visible.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.streams: dict[StreamKey, StreamState] = {}
        self.names: dict[tuple[TenantId, str, str], int] = {}
        self.uuids: set[UUID] = set()
        """The uuids of stored events (of every tenant), unique like the SQL uuid index."""
        self.log: list[RecordedRaw | None] = []

    def fetch_after(self, position: Position, limit: int, selector: Selector) -> Fetched:
        with self.lock:
            found: list[RecordedRaw] = []
            scanned = max(position, 0)
            end = len(self.log)
            while scanned < end and len(found) < limit:
                record = self.log[scanned]
                scanned += 1
                if record is not None and selector.matches(record):
                    found.append(record)
            return Fetched(found, scanned)

    def wait_for_events(self, after: Position, timeout: float) -> None:
        with self.changed:
            self.changed.wait_for(lambda: len(self.log) > after, timeout)
