"""Deleting streams never makes a subscription skip or repeat an event (issue 10.2, 10.3).

Live subscriptions keep delivering what is appended after a delete, and resuming from any
delivered position, deleted ones included, continues exactly where the delivery left off.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from event_sourcery import Event, EventStore, StreamId
from event_sourcery.backend import Backend
from event_sourcery.event import Recorded
from tests.contract.backends import BackendFactory, Capability
from tests.contract.reading import collect, nothing_more

SHORT = 0.2
Commit = Callable[[], None]


class Noted(Event):
    text: str


def texts(records: list[Recorded]) -> list[str]:
    return [r.wrapped_event.event.text for r in records]  # type: ignore[attr-defined]


def note(store: EventStore, *lines: str) -> StreamId:
    """Append ``lines`` to a new stream."""
    stream_id = StreamId()
    store.append(*(Noted(text=line) for line in lines), stream_id=stream_id)
    return stream_id


def resumed(backend: Backend, position: int, count: int) -> list[str]:
    """What a subscription resumed from ``position`` delivers (``count`` expected, then none)."""
    subscription = backend.subscriber.start_from(position).build_batch(10, SHORT)
    got = texts(collect(subscription, count))
    assert nothing_more(subscription), got
    return got


def test_a_live_subscription_gets_what_follows_deleting_the_newest_events(
    backend: Backend, event_store: EventStore, commit: Commit
) -> None:
    subscription = backend.subscriber.start_from(event_store.position).build_batch(10, SHORT)
    note(event_store, "k1")
    commit()
    doomed = note(event_store, "d1", "d2")
    commit()
    assert texts(collect(subscription, 3)) == ["k1", "d1", "d2"]
    last = event_store.position

    event_store.delete_stream(doomed)
    commit()
    note(event_store, "k2")
    commit()
    note(event_store, "n1")
    commit()

    assert texts(collect(subscription, 2)) == ["k2", "n1"]
    assert nothing_more(subscription)
    assert resumed(backend, last, 2) == ["k2", "n1"]


@pytest.mark.requires(Capability.RESUME_AFTER_DELETED_POSITION)
def test_resuming_from_a_deleted_position_after_the_newest_events_were_deleted(
    backend: Backend, event_store: EventStore, commit: Commit
) -> None:
    start = event_store.position
    note(event_store, "k1")
    commit()
    doomed = note(event_store, "d1")
    commit()
    delivered = collect(backend.subscriber.start_from(start).build_batch(10, SHORT), 2)
    assert texts(delivered) == ["k1", "d1"]

    event_store.delete_stream(doomed)
    commit()
    note(event_store, "k2")
    commit()
    note(event_store, "k3")
    commit()

    assert resumed(backend, delivered[1].position, 2) == ["k2", "k3"]
    assert resumed(backend, delivered[0].position, 2) == ["k2", "k3"]


@pytest.mark.requires(Capability.SECOND_TRANSACTION)
@pytest.mark.requires(Capability.INTERLEAVED_COMMITS)
def test_resuming_from_any_delivered_position_after_out_of_order_commits_and_a_delete(
    factory: BackendFactory, backend: Backend, event_store: EventStore, commit: Commit
) -> None:
    """e.g. delivered e1, d1, d2, e2 (the doomed transaction began writing first, committed
    last); whichever was handled last, its stream deleted, the rest follows exactly."""
    start = event_store.position
    note(event_store, "e1")
    commit()
    doomed = note(event_store, "d1")
    with factory.other_caller(backend) as other:
        note(other.event_store, "e2")
        factory.commit(other)
        assert other.event_store.position  # MariaDB numbers the committed rows here
    doomed_too = note(event_store, "d2")
    commit()
    delivered = collect(backend.subscriber.start_from(start).build_batch(10, SHORT), 4)
    assert sorted(texts(delivered)) == ["d1", "d2", "e1", "e2"]

    event_store.delete_stream(doomed)
    event_store.delete_stream(doomed_too)
    commit()
    note(event_store, "new")
    commit()

    for handled, record in enumerate(delivered, 1):
        rest = [t for t in texts(delivered[handled:]) if not t.startswith("d")] + ["new"]
        assert resumed(backend, record.position, len(rest)) == rest, texts(delivered)
