"""In-transaction listeners (SPEC §10): synchronous reactions inside ``append``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pydantic
import pytest

from event_sourcery import DEFAULT_TENANT, Event, EventStore, StreamId, TenantId
from event_sourcery._core.encryption import Encryption
from event_sourcery.backend import Backend
from event_sourcery.event import (
    EventRegistry,
    Position,
    RawEvent,
    Recorded,
    RecordedRaw,
    Serde,
    WrappedEvent,
)
from event_sourcery.exceptions import ConcurrentStreamWriteError, UnknownEventName
from event_sourcery.in_transaction import Listeners
from event_sourcery.interfaces import StorageStrategy
from tests.contract.backends import BackendFactory, Capability

pytestmark = pytest.mark.requires(Capability.IN_TRANSACTION_LISTENERS)


class Deposited(Event):
    amount: int


class Withdrawn(Event):
    amount: int


class LargeDeposit(Deposited):
    """A subclass: listeners of ``Deposited`` receive it too."""


@dataclass(frozen=True)
class Call:
    wrapped_event: WrappedEvent[Any]
    stream_id: StreamId
    tenant_id: TenantId
    position: Position


class Recorder:
    """A hashable listener remembering each call."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def __call__(
        self,
        wrapped_event: WrappedEvent[Any],
        stream_id: StreamId,
        tenant_id: TenantId,
        position: Position,
    ) -> None:
        self.calls.append(Call(wrapped_event, stream_id, tenant_id, position))

    @property
    def events(self) -> list[Event]:
        return [call.wrapped_event.event for call in self.calls]


class ListenerFailed(Exception):
    pass


def failing_listener(
    wrapped_event: WrappedEvent[Any], stream_id: StreamId, tenant_id: TenantId, position: Position
) -> None:
    raise ListenerFailed(f"cannot handle {wrapped_event.event!r}")


@pytest.fixture
def listeners(backend: Backend) -> Listeners:
    return backend.in_transaction  # type: ignore[attr-defined,no-any-return]


def test_listener_receives_all_appended_events_in_order_with_their_record(
    listeners: Listeners, event_store: EventStore, commit: Callable[[], None]
) -> None:
    recorder = Recorder()
    listeners.register(recorder, to=Event)
    stream_id = StreamId(category="accounts")
    first = WrappedEvent.wrap(Deposited(amount=1), version=1)
    second = WrappedEvent.wrap(Withdrawn(amount=2), version=2)

    event_store.append(first, second, stream_id=stream_id)

    assert recorder.events == [Deposited(amount=1), Withdrawn(amount=2)]
    assert [c.wrapped_event.uuid for c in recorder.calls] == [first.uuid, second.uuid]
    assert [c.wrapped_event.version for c in recorder.calls] == [1, 2]
    assert all(c.stream_id == stream_id for c in recorder.calls)
    assert all(c.tenant_id == DEFAULT_TENANT for c in recorder.calls)
    assert recorder.calls[0].position < recorder.calls[1].position
    commit()  # the store position counts committed events only (exact resumes, ADR 0006)
    assert recorder.calls[1].position == event_store.position


def test_listener_positions_are_the_positions_subscriptions_see(
    backend: Backend, listeners: Listeners, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = event_store.position or 0
    recorder = Recorder()
    listeners.register(recorder, to=Event)

    event_store.append(Deposited(amount=1), Deposited(amount=2), stream_id=StreamId())
    commit()

    records: list[Recorded] = next(backend.subscriber.start_from(start).build_batch(2, 1))
    assert [c.position for c in recorder.calls] == [r.position for r in records]


def test_listener_receives_only_the_event_type_it_subscribed_to_and_its_subclasses(
    listeners: Listeners, event_store: EventStore
) -> None:
    recorder = Recorder()
    listeners.register(recorder, to=Deposited)

    event_store.append(
        Deposited(amount=1),
        Withdrawn(amount=2),
        LargeDeposit(amount=3),
        stream_id=StreamId(),
    )

    assert recorder.events == [Deposited(amount=1), LargeDeposit(amount=3)]


def test_listener_receives_events_of_several_streams_in_append_order(
    listeners: Listeners, event_store: EventStore
) -> None:
    recorder = Recorder()
    listeners.register(recorder, to=Event)
    a, b = StreamId(), StreamId(category="other")

    event_store.append(Deposited(amount=1), stream_id=a)
    event_store.append(Deposited(amount=2), stream_id=b)
    event_store.append(Deposited(amount=3), stream_id=a, expected_version=1)

    assert recorder.events == [Deposited(amount=1), Deposited(amount=2), Deposited(amount=3)]
    assert [c.stream_id for c in recorder.calls] == [a, b, a]


def test_each_append_delivers_only_its_own_events_once(
    listeners: Listeners, event_store: EventStore, commit: Callable[[], None]
) -> None:
    recorder = Recorder()
    listeners.register(recorder, to=Event)
    stream_id = StreamId()
    event_store.append(Deposited(amount=1), Deposited(amount=2), stream_id=stream_id)
    commit()
    assert len(recorder.calls) == 2

    event_store.load_stream(stream_id)
    commit()
    assert len(recorder.calls) == 2, "reading or committing calls no listener"

    event_store.append(Deposited(amount=3), stream_id=stream_id, expected_version=2)
    assert recorder.events[2:] == [Deposited(amount=3)]


def test_listener_receives_events_of_all_tenants_with_their_tenant_id(
    backend: Backend, listeners: Listeners
) -> None:
    recorder = Recorder()
    listeners.register(recorder, to=Event)
    stream_id = StreamId()

    backend.in_tenant_mode("tenant_a").event_store.append(Deposited(amount=1), stream_id=stream_id)
    backend.event_store.append(Deposited(amount=2), stream_id=stream_id)
    backend.in_tenant_mode("tenant_b").event_store.append(Deposited(amount=3), stream_id=stream_id)

    assert recorder.events == [Deposited(amount=1), Deposited(amount=2), Deposited(amount=3)]
    assert [c.tenant_id for c in recorder.calls] == ["tenant_a", DEFAULT_TENANT, "tenant_b"]


def test_listeners_registered_in_a_tenant_copy_are_shared_with_the_backend(
    backend: Backend, event_store: EventStore
) -> None:
    recorder = Recorder()
    backend.in_tenant_mode("tenant_a").in_transaction.register(recorder, to=Event)  # type: ignore[attr-defined]

    event_store.append(Deposited(amount=1), stream_id=StreamId())

    assert recorder.events == [Deposited(amount=1)]


def test_registering_the_same_listener_twice_calls_it_once(
    listeners: Listeners, event_store: EventStore
) -> None:
    recorder = Recorder()
    listeners.register(recorder, to=Deposited)
    listeners.register(recorder, to=Deposited)

    event_store.append(Deposited(amount=1), stream_id=StreamId())

    assert recorder.events == [Deposited(amount=1)]


def test_listener_registered_to_a_category_receives_its_events(
    listeners: Listeners, event_store: EventStore
) -> None:
    recorder = Recorder()
    listeners.register(recorder, to="accounts")
    stream_id = StreamId(category="accounts")

    event_store.append(Deposited(amount=1), Withdrawn(amount=2), stream_id=stream_id)

    assert recorder.events == [Deposited(amount=1), Withdrawn(amount=2)]
    assert all(c.stream_id == stream_id for c in recorder.calls)


def test_listener_registered_to_a_category_receives_only_that_exact_category(
    listeners: Listeners, event_store: EventStore
) -> None:
    recorder = Recorder()
    listeners.register(recorder, to="accounts")

    for amount, category in enumerate(["accounts", "accounts_archive", "my_accounts", None]):
        event_store.append(Deposited(amount=amount), stream_id=StreamId(category=category))

    assert recorder.events == [Deposited(amount=0)]


def test_listener_registered_to_type_and_category_is_called_once_per_event(
    listeners: Listeners, event_store: EventStore
) -> None:
    recorder = Recorder()
    listeners.register(recorder, to=Deposited)
    listeners.register(recorder, to=Event)
    listeners.register(recorder, to="accounts")

    event_store.append(Deposited(amount=1), stream_id=StreamId(category="accounts"))

    assert recorder.events == [Deposited(amount=1)]


def test_removed_listener_is_no_longer_called(
    listeners: Listeners, event_store: EventStore
) -> None:
    by_type, by_category = Recorder(), Recorder()
    listeners.register(by_type, to=Deposited)
    listeners.register(by_category, to="accounts")
    listeners.remove(by_type, to=Deposited)
    listeners.remove(by_category, to="accounts")

    event_store.append(Deposited(amount=1), stream_id=StreamId(category="accounts"))

    assert by_type.calls == []
    assert by_category.calls == []


@pytest.mark.parametrize("to", [Deposited, "accounts"], ids=["event type", "category"])
def test_removing_an_unknown_listener_is_a_no_op(
    listeners: Listeners, event_store: EventStore, to: type[Event] | str
) -> None:
    registered, unknown = Recorder(), Recorder()
    listeners.remove(unknown, to=to)  # nothing registered to the key at all
    listeners.register(registered, to=to)
    listeners.remove(unknown, to=to)  # the key has other listeners

    event_store.append(Deposited(amount=1), stream_id=StreamId(category="accounts"))

    assert registered.events == [Deposited(amount=1)]
    assert unknown.calls == []


def test_failing_listener_makes_append_raise_and_stores_nothing(
    factory: BackendFactory,
    backend: Backend,
    listeners: Listeners,
    event_store: EventStore,
    commit: Callable[[], None],
) -> None:
    stream_id = StreamId()
    event_store.append(Deposited(amount=1), stream_id=stream_id)
    commit()
    listeners.register(failing_listener, to=Withdrawn)

    with pytest.raises(ListenerFailed):
        event_store.append(Withdrawn(amount=2), stream_id=stream_id, expected_version=1)
    factory.rollback(backend)

    assert [e.event for e in backend.event_store.load_stream(stream_id)] == [Deposited(amount=1)]
    listeners.remove(failing_listener, to=Withdrawn)
    backend.event_store.append(Deposited(amount=3), stream_id=stream_id, expected_version=1)
    commit()
    loaded = backend.event_store.load_stream(stream_id)
    assert [(e.version, e.event) for e in loaded] == [
        (1, Deposited(amount=1)),
        (2, Deposited(amount=3)),
    ]


def test_failing_listener_on_a_new_stream_leaves_no_stream(
    factory: BackendFactory,
    backend: Backend,
    listeners: Listeners,
    event_store: EventStore,
    commit: Callable[[], None],
) -> None:
    stream_id = StreamId(name="accounts/failed", category="accounts")
    listeners.register(failing_listener, to=Event)

    with pytest.raises(ListenerFailed):
        event_store.append(Deposited(amount=1), stream_id=stream_id)
    factory.rollback(backend)
    listeners.remove(failing_listener, to=Event)

    assert backend.event_store.load_stream(stream_id) == []
    backend.event_store.append(Deposited(amount=2), stream_id=stream_id)
    commit()
    assert [e.version for e in backend.event_store.load_stream(stream_id)] == [1]


def test_failing_listener_leaves_nothing_in_the_outbox_nor_for_subscribers(
    factory: BackendFactory, backend: Backend, commit: Callable[[], None]
) -> None:
    backend.with_outbox()
    event_store = backend.event_store
    start = event_store.position or 0
    listeners: Listeners = backend.in_transaction  # type: ignore[attr-defined]
    listeners.register(failing_listener, to=Withdrawn)

    with pytest.raises(ListenerFailed):
        event_store.append(Deposited(amount=1), Withdrawn(amount=2), stream_id=StreamId())
    factory.rollback(backend)

    published: list[Recorded] = []
    backend.outbox.run(published.append)
    commit()
    assert published == []
    assert next(backend.subscriber.start_from(start).build_batch(10, 0.2)) == []


def test_append_rejected_by_the_version_check_calls_no_listener(
    listeners: Listeners, event_store: EventStore
) -> None:
    recorder = Recorder()
    listeners.register(recorder, to=Event)
    stream_id = StreamId()
    event_store.append(Deposited(amount=1), stream_id=stream_id)

    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(Deposited(amount=2), stream_id=stream_id, expected_version=5)

    assert recorder.events == [Deposited(amount=1)], "a rejected append calls no listener"


# -- issue 10.9: names listeners cannot resolve ----------------------------------------------------


class Unlisted(pydantic.BaseModel):
    """Not an ``Event`` subclass: only a registry it was added to knows its name."""

    __event_name__: ClassVar[str] = "contract.in_transaction.UnlistedEventType"
    n: int


def test_listeners_resolve_names_with_the_registry_that_named_the_event(
    backend: Backend, commit: Callable[[], None]
) -> None:
    """Listeners get the records just appended, named by the same registry, so a type known only
    to a replaced registry reaches them: their path meets no unknown name."""
    registry = EventRegistry()
    registry.add(Unlisted)
    backend[EventRegistry] = registry
    recorder = Recorder()
    backend.in_transaction.register(recorder, to=Unlisted)  # type: ignore[attr-defined]
    stream_id = StreamId(category="unlisted")

    backend.event_store.append(Unlisted(n=1), stream_id=stream_id)
    commit()

    assert [call.wrapped_event.event for call in recorder.calls] == [Unlisted(n=1)]
    assert recorder.calls[0].stream_id == stream_id


def test_a_record_the_dispatcher_cannot_name_raises_unknown_event_name_with_its_record(
    factory: BackendFactory, backend: Backend, commit: Callable[[], None]
) -> None:
    """An event store whose serde names a type the dispatcher's registry lacks (wired by hand):
    the error carries the record's position and raw record, as from a subscription."""
    naming = EventRegistry()
    naming.add(Unlisted)
    encryption = dataclasses.replace(backend[Encryption], registry=naming)
    event_store = EventStore(backend[StorageStrategy], Serde(naming, encryption))
    recorder = Recorder()
    backend.in_transaction.register(recorder, to="unlisted")  # type: ignore[attr-defined]
    stream_id = StreamId(category="unlisted")

    with pytest.raises(UnknownEventName) as caught:
        event_store.append(Unlisted(n=1), stream_id=stream_id)
    factory.rollback(backend)

    error = caught.value
    assert error.name == "contract.in_transaction.UnlistedEventType"
    assert isinstance(error.record, RecordedRaw)
    assert isinstance(error.record.entry, RawEvent)
    assert error.record.entry.name == error.name
    assert error.record.entry.stream_id == stream_id
    assert error.position is not None
    assert error.position == error.record.position
    assert recorder.calls == []
