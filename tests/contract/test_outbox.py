"""The transactional outbox (SPEC §11): at-least-once publishing, retries and dead letters."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import BaseModel

from event_sourcery import DEFAULT_TENANT, Event, EventStore, StreamId
from event_sourcery.backend import Backend
from event_sourcery.event import EventRegistry, RawEvent, Recorded, WrappedEvent
from event_sourcery.outbox import OutboxEntry
from tests.contract.backends import Capability

ATTEMPTS = 2
"""``outbox_attempts`` of the ``backend`` fixture."""


class Shipped(Event):
    parcel: int


class Returned(Event):
    parcel: int


class Publisher:
    """Records what it is asked to publish; raises while ``failing`` is set."""

    def __init__(self, failing: bool = False) -> None:
        self.failing = failing
        self.calls: list[Recorded] = []

    def __call__(self, record: Recorded) -> None:
        self.calls.append(record)
        if self.failing:
            raise RuntimeError(f"broker down for parcel {record.wrapped_event.event.parcel}")

    @property
    def events(self) -> list[Event]:
        return [call.wrapped_event.event for call in self.calls]


@pytest.fixture
def run(backend: Backend, commit: Callable[[], None]) -> Callable[..., None]:
    """One outbox run followed by a commit (the caller owns the transaction)."""

    def run_once(publisher: Publisher, limit: int = 100) -> None:
        backend.outbox.run(publisher, limit=limit)
        commit()

    return run_once


def ship(event_store: EventStore, *parcels: int, stream_id: StreamId | None = None) -> None:
    event_store.append(*(Shipped(parcel=p) for p in parcels), stream_id=stream_id or StreamId())


def test_with_outbox_returns_the_backend(backend: Backend) -> None:
    assert backend.with_outbox() is backend


def test_without_with_outbox_run_publishes_nothing(
    backend: Backend, event_store: EventStore, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    ship(event_store, 1, 2)
    commit()
    publisher = Publisher()

    run(publisher)

    assert publisher.calls == []
    assert backend.outbox.dead_letters() == []


def test_appended_event_is_published_once_with_its_record(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    event_store = backend.with_outbox().event_store
    stream_id = StreamId()
    wrapped = WrappedEvent.wrap(Shipped(parcel=1), version=1)
    event_store.append(wrapped, stream_id=stream_id)
    commit()
    publisher = Publisher()

    run(publisher)
    run(publisher)

    assert len(publisher.calls) == 1
    (record,) = publisher.calls
    assert record.wrapped_event.event == Shipped(parcel=1)
    assert record.wrapped_event.uuid == wrapped.uuid
    assert record.wrapped_event.version == 1
    assert record.stream_id == stream_id
    assert record.tenant_id == DEFAULT_TENANT
    assert record.position == event_store.position


def test_events_are_published_in_append_order(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    event_store = backend.with_outbox().event_store
    ship(event_store, 1, 2)
    ship(event_store, 3)
    commit()
    publisher = Publisher()

    run(publisher)

    assert publisher.events == [Shipped(parcel=1), Shipped(parcel=2), Shipped(parcel=3)]
    positions = [call.position for call in publisher.calls]
    assert positions == sorted(positions)


def test_publisher_error_is_swallowed_and_retried_up_to_the_attempt_limit(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    event_store = backend.with_outbox().event_store
    ship(event_store, 1)
    commit()
    publisher = Publisher(failing=True)

    for _ in range(ATTEMPTS + 1):
        run(publisher)  # does not raise

    assert len(publisher.calls) == ATTEMPTS
    assert publisher.events == [Shipped(parcel=1)] * ATTEMPTS


def test_a_failing_entry_does_not_stop_the_run(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    event_store = backend.with_outbox().event_store
    ship(event_store, 1, 2, 3)
    commit()

    class FailsOnParcel2(Publisher):
        def __call__(self, record: Recorded) -> None:
            self.calls.append(record)
            if record.wrapped_event.event.parcel == 2:
                raise RuntimeError("parcel 2 cannot be published")

    publisher = FailsOnParcel2()
    run(publisher)
    run(publisher)

    assert publisher.events == [
        Shipped(parcel=1),
        Shipped(parcel=2),
        Shipped(parcel=3),
        Shipped(parcel=2),
    ]


def test_run_respects_the_limit(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    event_store = backend.with_outbox().event_store
    ship(event_store, 1, 2, 3)
    commit()
    publisher = Publisher()

    run(publisher, limit=2)
    assert publisher.events == [Shipped(parcel=1), Shipped(parcel=2)]

    run(publisher, limit=2)
    assert publisher.events == [Shipped(parcel=1), Shipped(parcel=2), Shipped(parcel=3)]


def test_published_named_stream_id_equals_the_named_stream_id(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    event_store = backend.with_outbox().event_store
    ship(event_store, 1, stream_id=StreamId(name="parcels/1"))
    commit()
    publisher = Publisher()

    run(publisher)

    assert [call.stream_id for call in publisher.calls] == [StreamId(name="parcels/1")]


@pytest.mark.requires(Capability.STREAM_NAMES_STORED)
def test_published_named_stream_id_keeps_its_name(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    event_store = backend.with_outbox().event_store
    ship(event_store, 1, stream_id=StreamId(name="parcels/2"))
    commit()
    publisher = Publisher()

    run(publisher)

    assert [call.stream_id.name for call in publisher.calls] == ["parcels/2"]


def test_published_stream_id_keeps_its_category(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    event_store = backend.with_outbox().event_store
    stream_id = StreamId(category="parcels")
    ship(event_store, 1, stream_id=stream_id)
    commit()
    publisher = Publisher()

    run(publisher)

    assert [call.stream_id for call in publisher.calls] == [stream_id]
    assert publisher.calls[0].stream_id.category == "parcels"


def test_events_of_all_tenants_are_published_in_append_order_with_their_tenant(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    backend.with_outbox()
    stream_id = StreamId()
    ship(backend.in_tenant_mode("tenant_a").event_store, 1, stream_id=stream_id)
    ship(backend.event_store, 2, stream_id=stream_id)
    ship(backend.in_tenant_mode("tenant_b").event_store, 3, stream_id=stream_id)
    commit()
    publisher = Publisher()

    run(publisher)

    assert publisher.events == [Shipped(parcel=1), Shipped(parcel=2), Shipped(parcel=3)]
    assert [call.tenant_id for call in publisher.calls] == ["tenant_a", DEFAULT_TENANT, "tenant_b"]
    assert all(call.stream_id == stream_id for call in publisher.calls)


def test_filterer_receives_the_raw_event_and_false_keeps_it_out_of_the_outbox(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    seen: list[RawEvent] = []

    def reject_all(entry: RawEvent) -> bool:
        seen.append(entry)
        return False

    event_store = backend.with_outbox(filterer=reject_all).event_store
    stream_id = StreamId(category="parcels")
    ship(event_store, 1, 2, stream_id=stream_id)
    commit()
    publisher = Publisher()

    run(publisher)
    run(publisher)

    assert publisher.calls == []
    assert backend.outbox.dead_letters() == []
    assert seen, "the filterer was never asked"
    assert all(isinstance(entry, RawEvent) for entry in seen)
    assert {entry.name for entry in seen} == {backend[EventRegistry].name_for_type(Shipped)}
    assert {entry.stream_id for entry in seen} == {stream_id}
    assert sorted(entry.data["parcel"] for entry in seen) == [1, 2]


def test_filterer_selects_which_events_are_published(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    returned_name = backend[EventRegistry].name_for_type(Returned)
    event_store = backend.with_outbox(
        filterer=lambda entry: entry.name == returned_name
    ).event_store
    event_store.append(
        Shipped(parcel=1), Returned(parcel=1), Shipped(parcel=2), stream_id=StreamId()
    )
    commit()
    publisher = Publisher()

    run(publisher)

    assert publisher.events == [Returned(parcel=1)]


# --- dead letters -----------------------------------------------------------------------------


def test_exhausted_entry_is_kept_as_a_dead_letter_with_its_failures(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    event_store = backend.with_outbox().event_store
    stream_id = StreamId()
    wrapped = WrappedEvent.wrap(Shipped(parcel=7), version=1)
    event_store.append(wrapped, stream_id=stream_id)
    ship(event_store, 8)
    commit()
    failing = Publisher(failing=True)

    run(failing, limit=1)
    assert backend.outbox.dead_letters() == []
    run(failing, limit=1)

    dead = backend.outbox.dead_letters()
    assert len(dead) == 1
    (entry,) = dead
    assert isinstance(entry, OutboxEntry)
    assert entry.failures == ATTEMPTS
    assert entry.last_error is not None
    assert "broker down for parcel 7" in entry.last_error
    assert entry.record.entry.uuid == wrapped.uuid
    assert entry.record.entry.stream_id == stream_id

    healthy = Publisher()
    run(healthy)
    assert healthy.events == [Shipped(parcel=8)], "a dead letter is not offered again"


def test_requeued_dead_letter_is_published_again(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    event_store = backend.with_outbox().event_store
    ship(event_store, 7)
    commit()
    failing = Publisher(failing=True)
    for _ in range(ATTEMPTS):
        run(failing)
    (entry,) = backend.outbox.dead_letters()

    assert backend.outbox.requeue([entry.id]) == 1
    commit()
    assert backend.outbox.dead_letters() == []
    healthy = Publisher()
    run(healthy)
    run(healthy)

    assert healthy.events == [Shipped(parcel=7)]
    assert backend.outbox.dead_letters() == []


def test_requeue_ignores_ids_that_are_not_dead_letters(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    event_store = backend.with_outbox().event_store
    ship(event_store, 7)
    commit()
    for _ in range(ATTEMPTS):
        run(Publisher(failing=True))
    (entry,) = backend.outbox.dead_letters()

    assert backend.outbox.requeue([entry.id + 1_000_000]) == 0
    commit()

    assert [d.id for d in backend.outbox.dead_letters()] == [entry.id]


class Discontinued(BaseModel):
    """An event type a later deployment no longer knows (registered explicitly, not scanned)."""

    __event_name__ = "contract.outbox.discontinued"
    parcel: int


def test_entry_whose_event_type_is_unknown_is_kept_not_lost(
    backend: Backend, commit: Callable[[], None], run: Callable[..., None]
) -> None:
    known = backend[EventRegistry]
    known.add(Discontinued)
    event_store = backend.with_outbox().event_store
    event_store.append(Discontinued(parcel=9), stream_id=StreamId())
    commit()
    backend[EventRegistry] = EventRegistry()  # the type is gone: records cannot be read
    publisher = Publisher()

    for _ in range(ATTEMPTS + 1):
        run(publisher)

    assert publisher.calls == []
    (entry,) = backend.outbox.dead_letters()
    assert entry.record.entry.name == "contract.outbox.discontinued"
    assert entry.record.entry.data == {"parcel": 9}
    assert entry.last_error is not None
    assert "contract.outbox.discontinued" in entry.last_error

    backend[EventRegistry] = known  # the type is back: the entry can be delivered
    assert backend.outbox.requeue([entry.id]) == 1
    commit()
    run(publisher)

    assert [call.wrapped_event.event for call in publisher.calls] == [Discontinued(parcel=9)]
