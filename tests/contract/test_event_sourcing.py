"""Event sourcing (SPEC §14): aggregates, ``WrappedAggregate`` and the ``Repository``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from event_sourcery import Event, EventStore, StreamId, StreamUUID
from event_sourcery.backend import Backend
from event_sourcery.event import Context
from event_sourcery.event_sourcing import Aggregate, Repository, WrappedAggregate
from event_sourcery.exceptions import ConcurrentStreamWriteError
from tests.contract.backends import BackendFactory


class TurnedOn(Event):
    pass


class TurnedOff(Event):
    pass


class LightSwitch(Aggregate):
    category = "light_switch"

    def __init__(self) -> None:
        self.shines = False
        self.switched = 0

    def __apply__(self, event: Any) -> None:
        match event:
            case TurnedOn():
                self.shines = True
            case TurnedOff():
                self.shines = False
        self.switched += 1

    def turn_on(self) -> None:
        self._emit(TurnedOn())

    def turn_off(self) -> None:
        self._emit(TurnedOff())


class UserContext(Context):
    user_id: str | None = None


class BodyFailed(Exception):
    pass


@pytest.fixture
def repository(event_store: EventStore) -> Repository[LightSwitch]:
    return Repository[LightSwitch](event_store)


def stream_of(uuid: StreamUUID) -> StreamId:
    return StreamId(uuid=uuid, name=uuid.name, category=LightSwitch.category)


def test_state_is_rebuilt_from_stored_events(
    repository: Repository[LightSwitch], commit: Callable[[], None]
) -> None:
    uuid = StreamUUID()
    with repository.aggregate(uuid, LightSwitch()) as wrapped:
        wrapped.aggregate.turn_on()
        wrapped.aggregate.turn_off()
        wrapped.aggregate.turn_on()
    commit()

    with repository.aggregate(uuid, LightSwitch()) as loaded:
        assert loaded.aggregate.shines is True
        assert loaded.aggregate.switched == 3


def test_events_are_stored_in_the_aggregates_category_with_consecutive_versions(
    repository: Repository[LightSwitch], event_store: EventStore, commit: Callable[[], None]
) -> None:
    uuid = StreamUUID()
    with repository.aggregate(uuid, LightSwitch()) as wrapped:
        wrapped.aggregate.turn_on()
        wrapped.aggregate.turn_off()
    commit()
    with repository.aggregate(uuid, LightSwitch()) as wrapped:
        wrapped.aggregate.turn_on()
    commit()

    stored = event_store.load_stream(StreamId(uuid=uuid, category="light_switch"))
    assert [(e.version, type(e.event)) for e in stored] == [
        (1, TurnedOn),
        (2, TurnedOff),
        (3, TurnedOn),
    ]
    assert event_store.load_stream(StreamId(uuid=uuid)) == [], "another category, another stream"


def test_new_aggregate_is_new_at_version_zero_without_timestamps(
    repository: Repository[LightSwitch],
) -> None:
    uuid = StreamUUID()
    with repository.aggregate(uuid, LightSwitch()) as wrapped:
        assert isinstance(wrapped, WrappedAggregate)
        assert wrapped.is_new is True
        assert wrapped.version == 0
        assert wrapped.stored_version == 0
        assert wrapped.created_at is None
        assert wrapped.updated_at is None
        assert wrapped.stream_id == stream_of(uuid)
        assert wrapped.stream_id.category == "light_switch"
        assert wrapped.context == Context()


def test_version_counts_pending_events_while_is_new_stays_true(
    repository: Repository[LightSwitch],
) -> None:
    with repository.aggregate(StreamUUID(), LightSwitch()) as wrapped:
        wrapped.aggregate.turn_on()
        wrapped.aggregate.turn_off()

        assert wrapped.version == 2
        assert wrapped.stored_version == 0
        assert wrapped.is_new is True


def test_loaded_aggregate_has_stored_version_and_timestamps_of_its_events(
    repository: Repository[LightSwitch], event_store: EventStore, commit: Callable[[], None]
) -> None:
    uuid = StreamUUID()
    with repository.aggregate(uuid, LightSwitch()) as wrapped:
        wrapped.aggregate.turn_on()
    commit()
    with repository.aggregate(uuid, LightSwitch()) as wrapped:
        wrapped.aggregate.turn_off()
    commit()
    first, second = event_store.load_stream(stream_of(uuid))

    with repository.aggregate(uuid, LightSwitch()) as loaded:
        assert loaded.is_new is False
        assert loaded.stored_version == 2
        assert loaded.version == 2
        assert loaded.created_at == first.created_at
        assert loaded.updated_at == second.created_at
        loaded.aggregate.turn_on()
        assert loaded.version == 3
        assert loaded.is_new is False


def test_context_is_stored_with_every_event_and_recoverable_as_a_typed_context(
    repository: Repository[LightSwitch], event_store: EventStore, commit: Callable[[], None]
) -> None:
    uuid = StreamUUID()
    correlation = uuid4()
    context = UserContext(user_id="user-1", correlation_id=correlation)
    with repository.aggregate(uuid, LightSwitch(), context=context) as wrapped:
        assert wrapped.get_context(UserContext).user_id == "user-1"
        wrapped.aggregate.turn_on()
        wrapped.aggregate.turn_off()
    commit()

    stored = event_store.load_stream(stream_of(uuid))
    assert len(stored) == 2
    for event in stored:
        typed = event.get_context(UserContext)
        assert isinstance(typed, UserContext)
        assert typed.user_id == "user-1"
        assert typed.correlation_id == correlation
        assert typed.causation_id is None
        assert event.get_context(Context).correlation_id == correlation


def test_events_get_an_empty_context_by_default(
    repository: Repository[LightSwitch], event_store: EventStore, commit: Callable[[], None]
) -> None:
    uuid = StreamUUID()
    with repository.aggregate(uuid, LightSwitch()) as wrapped:
        wrapped.aggregate.turn_on()
    commit()

    (stored,) = event_store.load_stream(stream_of(uuid))
    assert stored.context == Context()
    assert stored.get_context(UserContext).user_id is None


def test_concurrent_change_between_load_and_save_raises_concurrent_stream_write_error(
    factory: BackendFactory,
    backend: Backend,
    repository: Repository[LightSwitch],
    commit: Callable[[], None],
) -> None:
    uuid = StreamUUID()
    with repository.aggregate(uuid, LightSwitch()) as wrapped:
        wrapped.aggregate.turn_on()
    commit()

    with (  # noqa: PT012 - the error comes from leaving the outer session
        pytest.raises(ConcurrentStreamWriteError),
        repository.aggregate(uuid, LightSwitch()) as outer,
    ):
        with repository.aggregate(uuid, LightSwitch()) as inner:
            inner.aggregate.turn_off()
        commit()
        outer.aggregate.turn_off()
    factory.rollback(backend)

    stored = backend.event_store.load_stream(stream_of(uuid))
    assert [(e.version, type(e.event)) for e in stored] == [(1, TurnedOn), (2, TurnedOff)]


def test_concurrent_creation_of_the_same_aggregate_raises_concurrent_stream_write_error(
    factory: BackendFactory,
    backend: Backend,
    repository: Repository[LightSwitch],
    commit: Callable[[], None],
) -> None:
    uuid = StreamUUID()

    with (  # noqa: PT012 - the error comes from leaving the outer session
        pytest.raises(ConcurrentStreamWriteError),
        repository.aggregate(uuid, LightSwitch()) as outer,
    ):
        with repository.aggregate(uuid, LightSwitch()) as inner:
            inner.aggregate.turn_on()
        commit()
        outer.aggregate.turn_off()
    factory.rollback(backend)

    stored = backend.event_store.load_stream(stream_of(uuid))
    assert [(e.version, type(e.event)) for e in stored] == [(1, TurnedOn)]


def test_nothing_is_saved_when_the_body_raises(
    factory: BackendFactory,
    backend: Backend,
    repository: Repository[LightSwitch],
) -> None:
    uuid = StreamUUID()

    with pytest.raises(BodyFailed), repository.aggregate(uuid, LightSwitch()) as wrapped:  # noqa: PT012
        wrapped.aggregate.turn_on()
        raise BodyFailed
    factory.rollback(backend)

    assert backend.event_store.load_stream(stream_of(uuid)) == []


def test_session_without_new_events_writes_nothing(
    repository: Repository[LightSwitch], event_store: EventStore, commit: Callable[[], None]
) -> None:
    uuid = StreamUUID()
    position = event_store.position

    with repository.aggregate(uuid, LightSwitch()):
        pass
    commit()

    assert event_store.load_stream(stream_of(uuid)) == []
    assert event_store.position == position


def test_saved_events_are_no_longer_pending(
    repository: Repository[LightSwitch], event_store: EventStore, commit: Callable[[], None]
) -> None:
    uuid = StreamUUID()
    with repository.aggregate(uuid, LightSwitch()) as wrapped:
        wrapped.aggregate.turn_on()
        wrapped.aggregate.turn_off()
    commit()

    assert wrapped.aggregate.__changes__ == []
    assert wrapped.stored_version == 2
    assert wrapped.version == 2
    with wrapped.aggregate.__persisting_changes__() as changes:
        assert list(changes) == []


def test_reused_aggregate_instance_saves_only_its_new_events(
    repository: Repository[LightSwitch], event_store: EventStore, commit: Callable[[], None]
) -> None:
    uuid = StreamUUID()
    switch = LightSwitch()
    with repository.aggregate(uuid, switch):
        switch.turn_on()
    commit()

    with repository.aggregate(uuid, switch) as wrapped:
        switch.turn_off()
        assert wrapped.version == 2
    commit()

    stored = event_store.load_stream(stream_of(uuid))
    assert [(e.version, type(e.event)) for e in stored] == [(1, TurnedOn), (2, TurnedOff)]


def test_persisting_changes_clears_them_only_when_the_block_succeeds() -> None:
    switch = LightSwitch()
    switch.turn_on()

    with pytest.raises(BodyFailed), switch.__persisting_changes__() as changes:  # noqa: PT012
        assert [type(e) for e in changes] == [TurnedOn]
        raise BodyFailed
    assert [type(e) for e in switch.__changes__] == [TurnedOn]

    with switch.__persisting_changes__() as changes:
        assert [type(e) for e in changes] == [TurnedOn]
    assert switch.__changes__ == []


def test_named_aggregate_is_saved_and_loaded_by_its_name(
    repository: Repository[LightSwitch], event_store: EventStore, commit: Callable[[], None]
) -> None:
    with repository.aggregate(StreamUUID(name="light_switch/1"), LightSwitch()) as wrapped:
        assert wrapped.stream_id.name == "light_switch/1"
        assert wrapped.stream_id == StreamId(name="light_switch/1", category="light_switch")
        wrapped.aggregate.turn_on()
    commit()

    with repository.aggregate(StreamUUID(name="light_switch/1"), LightSwitch()) as loaded:
        assert loaded.aggregate.shines is True
        assert loaded.stored_version == 1
    stored = event_store.load_stream(StreamId(name="light_switch/1", category="light_switch"))
    assert [type(e.event) for e in stored] == [TurnedOn]


def test_aggregates_with_different_ids_do_not_share_state(
    repository: Repository[LightSwitch], commit: Callable[[], None]
) -> None:
    kitchen, hall = StreamUUID(), StreamUUID()
    with repository.aggregate(kitchen, LightSwitch()) as wrapped:
        wrapped.aggregate.turn_on()
    commit()

    with repository.aggregate(hall, LightSwitch()) as loaded:
        assert loaded.is_new is True
        assert loaded.aggregate.shines is False


def test_aggregate_without_category_cannot_be_used_with_a_repository(
    event_store: EventStore,
) -> None:
    class Uncategorised(Aggregate):
        def __apply__(self, event: Any) -> None:
            pass

    with (
        pytest.raises(AttributeError),
        Repository[Uncategorised](event_store).aggregate(StreamUUID(), Uncategorised()),
    ):
        pass
