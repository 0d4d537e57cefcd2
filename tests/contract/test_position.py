"""SPEC §4.6, §7: the store position is global (every stream, every tenant) and grows."""

from __future__ import annotations

from collections.abc import Callable

from event_sourcery import Event, EventStore, StreamId
from event_sourcery.backend import Backend

Commit = Callable[[], None]


class Pinged(Event):
    n: int


def position(event_store: EventStore) -> int:
    return event_store.position or 0


def test_an_empty_store_is_at_position_zero(event_store: EventStore) -> None:
    assert position(event_store) == 0


def test_the_position_grows_with_every_append(event_store: EventStore, commit: Commit) -> None:
    seen = [position(event_store)]
    for n in range(1, 4):
        event_store.append(Pinged(n=n), stream_id=StreamId())
        commit()
        seen.append(position(event_store))

    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)
    assert seen[0] == 0


def test_the_position_grows_by_at_least_the_number_of_events_appended(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(Pinged(n=1), stream_id=stream_id)
    commit()
    before = position(event_store)

    event_store.append(
        Pinged(n=2), Pinged(n=3), Pinged(n=4), stream_id=stream_id, expected_version=1
    )
    commit()

    assert position(event_store) >= before + 3


def test_the_position_covers_every_stream(event_store: EventStore, commit: Commit) -> None:
    first, second = StreamId(), StreamId(category="other")
    event_store.append(Pinged(n=1), stream_id=first)
    commit()
    after_first = position(event_store)
    event_store.append(Pinged(n=2), stream_id=second)
    commit()

    assert position(event_store) > after_first


def test_the_position_is_global_across_tenants(backend: Backend, commit: Commit) -> None:
    tenant = backend.in_tenant_mode("acme")
    start = position(backend.event_store)

    tenant.event_store.append(Pinged(n=1), stream_id=StreamId())
    commit()
    after_tenant = position(backend.event_store)
    assert after_tenant > start
    assert position(tenant.event_store) == after_tenant

    backend.event_store.append(Pinged(n=2), stream_id=StreamId())
    commit()
    after_default = position(tenant.event_store)
    assert after_default > after_tenant
    assert position(backend.event_store) == after_default
    assert position(backend.in_tenant_mode("someoneelse").event_store) == after_default


def test_loading_does_not_move_the_position(event_store: EventStore, commit: Commit) -> None:
    stream_id = StreamId()
    event_store.append(Pinged(n=1), Pinged(n=2), stream_id=stream_id)
    commit()
    before = position(event_store)

    event_store.load_stream(stream_id)
    event_store.load_stream(StreamId())

    assert position(event_store) == before
