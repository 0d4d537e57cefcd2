"""In-transaction listeners: called synchronously inside ``append`` (SPEC §10)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Protocol

from event_sourcery._core.records import Position, RecordedRaw, WrappedEvent
from event_sourcery._core.serde import Serde
from event_sourcery._core.stream_id import StreamCategory, StreamId, TenantId
from event_sourcery.exceptions import UnknownEventName


class Listener(Protocol):
    """Called with ``(wrapped_event, stream_id, tenant_id, position)``."""

    def __call__(
        self,
        wrapped_event: WrappedEvent[Any],
        stream_id: StreamId,
        tenant_id: TenantId,
        position: Position,
    ) -> None: ...


class Listeners:
    """Listeners by event type (subclass-aware) or by stream category (a ``str`` key)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_type: dict[type, set[Listener]] = defaultdict(set)
        self._by_category: dict[StreamCategory, set[Listener]] = defaultdict(set)

    def register(self, listener: Listener, to: type | StreamCategory) -> None:
        """Register ``listener``; registering the same one twice has no further effect."""
        with self._lock:
            self._table(to)[to].add(listener)

    def remove(self, listener: Listener, to: type | StreamCategory) -> None:
        """Unregister ``listener``; removing one that is not registered is a no-op."""
        with self._lock:
            table = self._table(to)
            listeners = table.get(to)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del table[to]

    def __getitem__(self, key: type | StreamCategory) -> Iterator[Listener]:
        with self._lock:
            if isinstance(key, str):
                found = set(self._by_category.get(key, ()))
            else:
                found = set()
                for base in getattr(key, "__mro__", (key,)):
                    found |= self._by_type.get(base, set())
        return iter(found)

    def __bool__(self) -> bool:
        return bool(self._by_type) or bool(self._by_category)

    def _table(self, key: type | StreamCategory) -> dict[Any, set[Listener]]:
        return self._by_category if isinstance(key, str) else self._by_type


class Dispatcher:
    """Calls the listeners of each appended record once (type and category listeners merged).

    Records nobody listens to are not deserialised (nor decrypted).
    """

    def __init__(self, serde: Serde, listeners: Listeners) -> None:
        self._serde = serde
        self._listeners = listeners

    def dispatch(self, *raws: RecordedRaw) -> None:
        if not self._listeners:
            return
        for raw in raws:
            event_type = self._event_type(raw)
            category = raw.entry.stream_id.category or ""
            listeners = set(self._listeners[event_type]) | set(self._listeners[category])
            if not listeners:
                continue
            record = self._serde.deserialize_record(raw)
            for listener in listeners:
                listener(record.wrapped_event, record.stream_id, record.tenant_id, record.position)

    def _event_type(self, raw: RecordedRaw) -> type:
        """The registered type of ``raw``; ``UnknownEventName`` carries its position and record.

        Appends name their events with the registry the dispatcher reads, so only a dispatcher
        wired by hand to another registry (or given other records) meets an unknown name.
        """
        try:
            return self._serde.registry.type_for_name(raw.entry.name)
        except UnknownEventName as error:
            error.position = raw.position
            error.record = raw
            raise
