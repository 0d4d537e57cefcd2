"""Subscriptions read their own writes (issue 9, ADR 0006): a subscription built from a backend
delivers the events its session appended before the commit, once, and other callers' events
only once committed, never skipped nor twice whatever their own transaction does.

``Capability.OWN_UNCOMMITTED_WRITES``: the caller owns a transaction that stays open after an
append (SQLAlchemy). Elsewhere appends are durable at once and the rules hold trivially; the
tests that need no open transaction run there too. Django's ``atomic()`` and ``TestCase`` are
covered in ``tests/backends/django/test_own_writes.py``, savepoints in
``tests/backends/sqlalchemy/test_own_writes.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from event_sourcery import Event, EventStore, StreamId
from event_sourcery.backend import Backend
from event_sourcery.event import Recorded
from tests.contract.backends import BackendFactory, Capability
from tests.contract.reading import collect, nothing_more

SHORT = 0.2


class Pinged(Event):
    number: int


class Ponged(Event):
    number: int


Subscription = Iterator[Any]
Build = Callable[[Any], Subscription]

BUILDS = [
    pytest.param(lambda b: b.build_iter(SHORT), id="iter"),
    pytest.param(lambda b: b.build_batch(3, SHORT), id="batch"),
]
FILTERS = [
    pytest.param(lambda b: b, [1, 2, 90, 3], id="all"),
    pytest.param(lambda b: b.to_category("pings"), [1, 2, 3], id="category"),
    pytest.param(lambda b: b.to_events([Pinged]), [1, 2, 3], id="events"),
]


def numbers(records: list[Recorded]) -> list[int]:
    return [record.wrapped_event.event.number for record in records]


def ping(store: EventStore, *numbers: int, category: str = "pings") -> StreamId:
    stream_id = StreamId(category=category)
    kind = Pinged if category == "pings" else Ponged
    store.append(*(kind(number=n) for n in numbers), stream_id=stream_id)
    return stream_id


def start_here(store: EventStore) -> int:
    return store.position or 0


# --- the session's own appends ----------------------------------------------------------------


@pytest.mark.requires(Capability.OWN_UNCOMMITTED_WRITES)
@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize(("narrow", "expected"), FILTERS)
def test_own_uncommitted_appends_are_delivered_with_every_filter(
    backend: Backend,
    event_store: EventStore,
    build: Build,
    narrow: Callable[[Any], Any],
    expected: list[int],
) -> None:
    start = start_here(event_store)
    ping(event_store, 1, 2)
    ping(event_store, 90, category="pongs")
    ping(event_store, 3)

    subscription = build(narrow(backend.subscriber.start_from(start)))
    records = collect(subscription, len(expected))

    assert numbers(records) == expected
    positions = [r.position for r in records]
    assert positions == sorted(positions)
    assert nothing_more(subscription)


@pytest.mark.requires(Capability.OWN_UNCOMMITTED_WRITES)
def test_own_appends_come_after_the_committed_events_from_any_start_position(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    ping(event_store, 1, 2, 3)
    commit()
    committed = collect(backend.subscriber.start_from(start).build_batch(3, SHORT), 3)
    ping(event_store, 4, 5)
    own = collect(backend.subscriber.start_from(start).build_iter(SHORT), 5)[3:]

    def delivered_from(position: int, expected: list[int]) -> None:
        subscription = backend.subscriber.start_from(position).build_batch(10, SHORT)
        assert numbers(collect(subscription, len(expected))) == expected, f"from {position}"
        assert nothing_more(subscription)

    assert numbers(own) == [4, 5]
    delivered_from(start, [1, 2, 3, 4, 5])
    delivered_from(committed[1].position, [3, 4, 5])
    delivered_from(event_store.position or 0, [4, 5])  # own uncommitted events follow it
    delivered_from(own[0].position, [5])


@pytest.mark.requires(Capability.OWN_UNCOMMITTED_WRITES)
def test_own_appends_made_after_the_subscription_started_are_delivered(
    backend: Backend, event_store: EventStore
) -> None:
    subscription = backend.subscriber.start_from(start_here(event_store)).build_iter(SHORT)
    assert next(subscription) is None

    ping(event_store, 1)
    first = collect(subscription, 1)
    ping(event_store, 2, 3)

    assert numbers(first + collect(subscription, 2)) == [1, 2, 3]
    assert nothing_more(subscription)


@pytest.mark.parametrize("build", BUILDS)
def test_an_event_delivered_before_the_commit_is_not_delivered_again_after_it(
    backend: Backend, event_store: EventStore, commit: Callable[[], None], build: Build
) -> None:
    subscription = build(backend.subscriber.start_from(start_here(event_store)))
    ping(event_store, 1, 2)
    delivered = collect(subscription, 2)
    commit()
    ping(event_store, 3)
    commit()

    later = collect(subscription, 1)

    assert numbers(delivered) == [1, 2]
    assert numbers(later) == [3]
    assert nothing_more(subscription)


# --- other callers ----------------------------------------------------------------------------


@pytest.mark.requires(Capability.SECOND_TRANSACTION)
@pytest.mark.parametrize("build", BUILDS)
def test_another_callers_appends_are_delivered_only_once_committed(
    factory: BackendFactory, backend: Backend, event_store: EventStore, build: Build
) -> None:
    subscription = build(backend.subscriber.start_from(start_here(event_store)))
    with factory.other_caller(backend) as other:
        ping(other.event_store, 1, 2)
        assert nothing_more(subscription)
        factory.commit(other)

        assert numbers(collect(subscription, 2)) == [1, 2]
        assert nothing_more(subscription)


@pytest.mark.requires(Capability.SECOND_TRANSACTION)
def test_a_reading_session_sees_neither_its_nor_others_uncommitted_events_twice(
    factory: BackendFactory, backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    """A session that only reads behaves as before: committed events, in order, once."""
    subscription = backend.subscriber.start_from(start_here(event_store)).build_iter(SHORT)
    with factory.other_caller(backend) as other:
        ping(other.event_store, 1)
        factory.commit(other)
        ping(other.event_store, 2)
        assert numbers(collect(subscription, 1)) == [1]
        assert nothing_more(subscription)
        factory.rollback(other)
        ping(other.event_store, 3)
        factory.commit(other)

        assert numbers(collect(subscription, 1)) == [3]
        assert nothing_more(subscription)


@pytest.mark.requires(Capability.SECOND_TRANSACTION)
@pytest.mark.requires(Capability.OWN_UNCOMMITTED_WRITES)
@pytest.mark.parametrize("build", BUILDS)
def test_after_the_own_rollback_nothing_is_delivered_again_and_nothing_skipped(
    factory: BackendFactory, backend: Backend, event_store: EventStore, build: Build
) -> None:
    """Rolled-back ids may be taken again by others (SQLite): their events still come."""
    subscription = build(backend.subscriber.start_from(start_here(event_store)))
    ping(event_store, 1, 2)
    assert numbers(collect(subscription, 2)) == [1, 2]
    factory.rollback(backend)

    with factory.other_caller(backend) as other:
        ping(other.event_store, 3, 4)
        factory.commit(other)
        assert numbers(collect(subscription, 2)) == [3, 4]
        ping(event_store, 5)
        factory.commit(backend)
        ping(other.event_store, 6)
        factory.commit(other)

        assert numbers(collect(subscription, 2)) == [5, 6]
        assert nothing_more(subscription)


@pytest.mark.requires(Capability.SECOND_TRANSACTION)
@pytest.mark.requires(Capability.OWN_UNCOMMITTED_WRITES)
def test_own_commit_after_delivery_then_others_commits_come_once_each(
    factory: BackendFactory, backend: Backend, event_store: EventStore
) -> None:
    batches = backend.subscriber.start_from(start_here(event_store)).build_batch(10, SHORT)
    with factory.other_caller(backend) as other:
        ping(other.event_store, 1)
        factory.commit(other)
        ping(event_store, 2, 3)
        assert numbers(collect(batches, 3)) == [1, 2, 3]
        factory.commit(backend)
        ping(other.event_store, 4)
        factory.commit(other)

        assert numbers(collect(batches, 1)) == [4]
        assert nothing_more(batches)


@pytest.mark.requires(Capability.SECOND_TRANSACTION)
@pytest.mark.requires(Capability.OWN_UNCOMMITTED_WRITES)
def test_resuming_after_the_commit_from_an_event_delivered_before_it_is_exact(
    factory: BackendFactory, backend: Backend, event_store: EventStore
) -> None:
    start = start_here(event_store)
    ping(event_store, 1, 2)
    first = collect(backend.subscriber.start_from(start).build_iter(SHORT), 1)
    factory.commit(backend)
    with factory.other_caller(backend) as other:
        ping(other.event_store, 3)
        factory.commit(other)

        resumed = backend.subscriber.start_from(first[0].position).build_batch(2, SHORT)

        assert numbers(first) == [1]
        assert numbers(collect(resumed, 2)) == [2, 3]
        assert nothing_more(resumed)
