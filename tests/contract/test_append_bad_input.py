"""Issue 2 "Bad input": each mistake raises its documented exception and changes nothing.

"Nothing changed" is checked by loading the stream afterwards, comparing the store position,
and making the append that would have been correct.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pydantic
import pytest

from event_sourcery import NO_VERSIONING, Event, EventStore, StreamId
from event_sourcery.backend import Backend
from event_sourcery.event import EventRegistry, WrappedEvent
from event_sourcery.exceptions import (
    ConcurrentStreamWriteError,
    EventStoreException,
    IllegalStreamName,
    MixedEventKinds,
    NotAnEvent,
    NothingToAppend,
    UnknownEventName,
    VersioningMismatch,
    VersionsDoNotMatchVersioning,
)
from tests.contract.backends import BackendFactory

Commit = Callable[[], None]


class Filed(Event):
    n: int


class Unlisted(pydantic.BaseModel):
    """Not an ``Event`` subclass, so a fresh registry never discovers it by itself."""

    __event_name__: ClassVar[str] = "contract.bad_input.UnlistedEventType"
    n: int


@dataclass(frozen=True)
class State:
    events: list[WrappedEvent[Any]]
    position: int


def state(event_store: EventStore, stream_id: StreamId) -> State:
    return State(list(event_store.load_stream(stream_id)), event_store.position or 0)


def versions(events: Sequence[WrappedEvent[Any]]) -> list[int | None]:
    return [e.version for e in events]


@pytest.fixture
def stream_id(event_store: EventStore, commit: Commit) -> StreamId:
    """A stream holding two events (versions 1 and 2)."""
    stream_id = StreamId()
    event_store.append(Filed(n=1), Filed(n=2), stream_id=stream_id)
    commit()
    return stream_id


def assert_unchanged_and_usable(
    event_store: EventStore, commit: Commit, stream_id: StreamId, before: State
) -> None:
    assert state(event_store, stream_id) == before
    event_store.append(Filed(n=3), stream_id=stream_id, expected_version=2)
    commit()
    assert versions(event_store.load_stream(stream_id)) == [1, 2, 3]


# -- nothing to append ---------------------------------------------------------------------------


def test_appending_zero_events_raises_nothing_to_append(
    event_store: EventStore, commit: Commit, stream_id: StreamId
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(NothingToAppend) as caught:
        event_store.append(stream_id=stream_id, expected_version=2)
    assert isinstance(caught.value, EventStoreException)
    assert isinstance(caught.value, ValueError)

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


def test_appending_zero_events_does_not_create_a_stream(event_store: EventStore) -> None:
    new_stream = StreamId()
    position = event_store.position or 0

    with pytest.raises(NothingToAppend):
        event_store.append(stream_id=new_stream)

    assert list(event_store.load_stream(new_stream)) == []
    assert (event_store.position or 0) == position


# -- not an event --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "not_an_event",
    [{"n": 3}, "Filed(n=3)", 3, None, Filed],
    ids=["dict", "str", "int", "None", "event-class"],
)
def test_appending_something_that_is_not_an_event_raises_not_an_event(
    event_store: EventStore, commit: Commit, stream_id: StreamId, not_an_event: object
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(NotAnEvent) as caught:
        event_store.append(not_an_event, stream_id=stream_id, expected_version=2)  # type: ignore[arg-type]
    assert isinstance(caught.value, EventStoreException)
    assert isinstance(caught.value, TypeError)

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


def test_a_non_event_after_valid_events_rejects_the_whole_append(
    event_store: EventStore, commit: Commit, stream_id: StreamId
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(NotAnEvent):
        event_store.append(
            Filed(n=3),
            {"n": 4},  # type: ignore[arg-type]
            stream_id=stream_id,
            expected_version=2,
        )

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


def test_a_wrapped_non_event_raises_not_an_event(
    event_store: EventStore, commit: Commit, stream_id: StreamId
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(NotAnEvent):
        event_store.append(
            WrappedEvent(event={"n": 3}, version=3),  # type: ignore[type-var]
            stream_id=stream_id,
            expected_version=2,
        )

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


# -- mixed kinds ---------------------------------------------------------------------------------


def test_mixing_bare_and_wrapped_events_raises_mixed_event_kinds(
    event_store: EventStore, commit: Commit, stream_id: StreamId
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(MixedEventKinds) as caught:
        event_store.append(
            Filed(n=3), WrappedEvent.wrap(Filed(n=4), 4), stream_id=stream_id, expected_version=2
        )
    assert isinstance(caught.value, EventStoreException)
    assert isinstance(caught.value, TypeError)

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


def test_mixing_wrapped_then_bare_events_raises_mixed_event_kinds(
    event_store: EventStore, commit: Commit, stream_id: StreamId
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(MixedEventKinds):
        event_store.append(
            WrappedEvent.wrap(Filed(n=3), 3), Filed(n=4), stream_id=stream_id, expected_version=2
        )

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


# -- versions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("wrong", [1, 3, 99])
def test_a_wrong_expected_version_raises_concurrent_stream_write_error(
    event_store: EventStore, commit: Commit, stream_id: StreamId, wrong: int
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(ConcurrentStreamWriteError) as caught:
        event_store.append(Filed(n=3), Filed(n=4), stream_id=stream_id, expected_version=wrong)
    assert isinstance(caught.value, EventStoreException)

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


def test_no_versioning_mixed_with_versions_raises_versions_do_not_match_versioning(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(Filed(n=1), stream_id=stream_id, expected_version=NO_VERSIONING)
    commit()
    before = state(event_store, stream_id)

    with pytest.raises(VersionsDoNotMatchVersioning) as caught:
        event_store.append(
            WrappedEvent.wrap(Filed(n=2), None),
            WrappedEvent.wrap(Filed(n=3), 3),
            stream_id=stream_id,
            expected_version=NO_VERSIONING,
        )
    assert isinstance(caught.value, VersioningMismatch)
    assert isinstance(caught.value, EventStoreException)

    assert state(event_store, stream_id) == before
    event_store.append(Filed(n=2), stream_id=stream_id, expected_version=NO_VERSIONING)
    commit()
    assert versions(event_store.load_stream(stream_id)) == [None, None]


def test_no_versioning_on_a_versioned_stream_changes_nothing(
    event_store: EventStore, commit: Commit, stream_id: StreamId
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(VersioningMismatch):
        event_store.append(Filed(n=3), stream_id=stream_id, expected_version=NO_VERSIONING)

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


# -- unknown event name on load ------------------------------------------------------------------


def test_an_unknown_event_name_on_load_raises_unknown_event_name_naming_the_type(
    backend: Backend, commit: Commit
) -> None:
    registry = EventRegistry()
    registry.add(Unlisted)
    backend[EventRegistry] = registry
    stream_id = StreamId()
    backend.event_store.append(Filed(n=1), Unlisted(n=2), stream_id=stream_id)
    commit()

    backend[EventRegistry] = EventRegistry()
    with pytest.raises(UnknownEventName) as caught:
        backend.event_store.load_stream(stream_id)

    error = caught.value
    assert isinstance(error, KeyError)
    assert isinstance(error, EventStoreException)
    assert error.name == "contract.bad_input.UnlistedEventType"
    assert "contract.bad_input.UnlistedEventType" in str(error)

    backend[EventRegistry] = registry
    loaded = backend.event_store.load_stream(stream_id)
    assert [e.event for e in loaded] == [Filed(n=1), Unlisted(n=2)]
    assert versions(loaded) == [1, 2]


def test_an_unknown_event_name_is_still_caught_as_a_key_error(
    backend: Backend, commit: Commit
) -> None:
    registry = EventRegistry()
    registry.add(Unlisted)
    backend[EventRegistry] = registry
    stream_id = StreamId()
    backend.event_store.append(Unlisted(n=1), stream_id=stream_id)
    commit()
    backend[EventRegistry] = EventRegistry()

    with pytest.raises(KeyError):
        backend.event_store.load_stream(stream_id)


# -- stream name longer than the storage holds ---------------------------------------------------


def test_a_stream_name_longer_than_the_storage_holds_raises_illegal_stream_name(
    factory: BackendFactory, event_store: EventStore, commit: Commit, stream_id: StreamId
) -> None:
    """Backends with a name column reject a longer name before writing; others store it."""
    limit = factory.stream_name_limit
    longest = StreamId(name="n" * (limit or 2000), category="names")
    event_store.append(Filed(n=1), stream_id=longest)
    commit()
    assert versions(event_store.load_stream(longest)) == [1]
    if limit is None:
        return
    before = state(event_store, stream_id)
    too_long = StreamId(name="n" * (limit + 1), category="names")

    with pytest.raises(IllegalStreamName) as caught:
        event_store.append(Filed(n=1), stream_id=too_long)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, EventStoreException)
    assert f"longer than {limit}" in str(caught.value)

    assert list(event_store.load_stream(too_long)) == []
    assert_unchanged_and_usable(event_store, commit, stream_id, before)
