"""The in-memory storage strategy seen through its ``StorageStrategy`` interface."""

from __future__ import annotations

from event_sourcery import StreamId
from event_sourcery.backend import InMemoryBackend
from event_sourcery.event import Event
from event_sourcery.interfaces import StorageStrategy


class Noted(Event):
    __event_name__ = "unit-tests.in_memory.Noted"


def test_a_strategy_scoped_for_a_tenant_sees_that_tenants_streams_only() -> None:
    backend = InMemoryBackend()
    stream_id = StreamId(name="shared")
    backend.in_tenant_mode("acme").event_store.append(Noted(), stream_id=stream_id)
    default = backend[StorageStrategy]

    scoped = default.scoped_for_tenant("acme")

    assert [e.version for e in scoped.fetch_events(stream_id)] == [1]
    assert default.fetch_events(stream_id) == []
    assert scoped.current_position == default.current_position == 1
