"""Issue 2 "Bad input": each mistake raises its documented exception and changes nothing.

"Nothing changed" is checked by loading the stream afterwards, comparing the store position,
and making the append that would have been correct.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import pydantic
import pytest

from event_sourcery import NO_VERSIONING, Event, EventStore, StreamId
from event_sourcery.backend import Backend
from event_sourcery.event import Context, EventRegistry, WrappedEvent
from event_sourcery.exceptions import (
    ConcurrentStreamWriteError,
    DuplicateEventUuid,
    EventStoreException,
    IllegalCategoryName,
    IllegalStreamName,
    IllegalTenantId,
    InvalidEventData,
    MixedEventKinds,
    NotAnEvent,
    NotAStreamId,
    NothingToAppend,
    UnknownEventName,
    VersioningMismatch,
    VersionOutOfRange,
    VersionsDoNotMatchVersioning,
)
from tests.contract.backends import BackendFactory, Capability

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


# -- issue 10.7: values no backend can store exactly ---------------------------------------------


class Inner(pydantic.BaseModel):
    value: Any = None


class Anything(Event):
    text: str = ""
    number: float = 0.0
    payload: Any = None
    values: list[float] = []
    mapping: dict[str, Any] = {}
    items: list[Any] = []
    inner: Inner | None = None


@pytest.mark.parametrize(
    "event",
    [
        Anything(text="a\x00b"),
        Anything(payload={"nested": ["ok", "nul\x00"]}),
        Anything(payload={"key\x00": 1}),
        Anything(text="lone \ud800 surrogate"),
        Anything(payload={"\udfff": 1}),
        Anything(number=float("nan")),
        Anything(number=float("inf")),
        Anything(values=[1.0, float("-inf")]),
        Anything(payload=float("nan")),
        Anything(payload={"a": [1.0, float("inf")]}),
        Anything(mapping={"m": float("-inf")}),
        Anything(items=[float("nan")]),
        Anything(inner=Inner(value=float("nan"))),
    ],
    ids=[
        "nul",
        "nested-nul",
        "nul-key",
        "surrogate",
        "surrogate-key",
        "nan",
        "inf",
        "-inf",
        "nan-in-any",
        "inf-nested-in-any",
        "-inf-in-dict-of-any",
        "nan-in-list-of-any",
        "nan-in-a-nested-model",
    ],
)
def test_data_no_backend_stores_exactly_raises_invalid_event_data(
    event_store: EventStore, commit: Commit, stream_id: StreamId, event: Anything
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(InvalidEventData) as caught:
        event_store.append(Filed(n=3), event, stream_id=stream_id, expected_version=2)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, EventStoreException)

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [float("-inf")]])
def test_a_non_finite_float_in_the_context_raises_invalid_event_data(
    event_store: EventStore, commit: Commit, stream_id: StreamId, value: object
) -> None:
    before = state(event_store, stream_id)
    context = Context(components={"measure": {"value": value}})

    with pytest.raises(InvalidEventData):
        event_store.append(
            WrappedEvent.wrap(Filed(n=3), 3, context), stream_id=stream_id, expected_version=2
        )

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


def test_a_non_finite_float_in_a_snapshot_raises_invalid_event_data(
    event_store: EventStore, commit: Commit, stream_id: StreamId
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(InvalidEventData):
        event_store.save_snapshot(
            stream_id, WrappedEvent.wrap(Anything(payload={"x": float("nan")}), 2)
        )

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


def test_a_nul_in_the_context_raises_invalid_event_data(
    event_store: EventStore, commit: Commit, stream_id: StreamId
) -> None:
    before = state(event_store, stream_id)
    wrapped = WrappedEvent.wrap(Filed(n=3), 3, Context(components={"note": {"text": "a\x00"}}))

    with pytest.raises(InvalidEventData):
        event_store.append(wrapped, stream_id=stream_id, expected_version=2)

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


@pytest.mark.parametrize(
    ("make_id", "error"),
    [
        (lambda: StreamId(name="a\x00b"), IllegalStreamName),
        (lambda: StreamId(category="a\x00b"), IllegalCategoryName),
        (lambda: StreamId(category="\ud800"), IllegalCategoryName),
    ],
    ids=["nul-name", "nul-category", "surrogate-category"],
)
def test_a_stream_id_no_backend_stores_raises_before_writing(
    event_store: EventStore,
    commit: Commit,
    stream_id: StreamId,
    make_id: Callable[[], StreamId],
    error: type[Exception],
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(error):
        event_store.append(Filed(n=1), stream_id=make_id())

    assert (event_store.position or 0) == before.position
    assert_unchanged_and_usable(event_store, commit, stream_id, before)


@pytest.mark.parametrize("tenant", ["a\x00b", "\ud800"], ids=["nul", "surrogate"])
def test_a_tenant_id_no_backend_stores_raises_illegal_tenant_id_on_append(
    backend: Backend, event_store: EventStore, commit: Commit, stream_id: StreamId, tenant: str
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(IllegalTenantId):  # KurrentDB raises already in in_tenant_mode
        backend.in_tenant_mode(tenant).event_store.append(Filed(n=1), stream_id=stream_id)

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


@pytest.mark.parametrize("bad", [None, "order-1", 42], ids=["None", "str", "int"])
def test_a_stream_id_that_is_not_a_stream_id_raises_not_a_stream_id(
    event_store: EventStore, commit: Commit, stream_id: StreamId, bad: object
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(NotAStreamId) as caught:
        event_store.append(Filed(n=1), stream_id=bad)  # type: ignore[arg-type]
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, AttributeError)
    with pytest.raises(NotAStreamId):
        event_store.load_stream(bad)  # type: ignore[arg-type]

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


@pytest.mark.parametrize(
    ("events", "expected_version"),
    [
        (lambda: [WrappedEvent.wrap(Filed(n=3), 2**31)], 2),
        (lambda: [WrappedEvent.wrap(Filed(n=3), -(2**31) - 1)], 2),
        (lambda: [Filed(n=3)], 2**31 - 1),
        (lambda: [Filed(n=3)], 2**63),
    ],
    ids=["wrapped-2**31", "wrapped-below", "bare-after-max", "expected-2**63"],
)
def test_a_version_beyond_the_columns_range_raises_version_out_of_range(
    event_store: EventStore,
    commit: Commit,
    stream_id: StreamId,
    events: Callable[[], list[Any]],
    expected_version: int,
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(VersionOutOfRange) as caught:
        event_store.append(*events(), stream_id=stream_id, expected_version=expected_version)
    assert isinstance(caught.value, ValueError)

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


def test_an_aware_created_at_is_stored_as_the_same_instant_in_naive_utc(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    aware = datetime(2024, 5, 6, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    wrapped = WrappedEvent(event=Filed(n=1), version=1, created_at=aware)

    event_store.append(wrapped, stream_id=stream_id)
    commit()

    (loaded,) = event_store.load_stream(stream_id)
    assert loaded.created_at == datetime(2024, 5, 6, 10, 30, 15, 123456)
    assert loaded.created_at.tzinfo is None


@pytest.mark.parametrize(
    "broken",
    [
        lambda: WrappedEvent(event=Filed(n=3), version=3, created_at=None),  # type: ignore[arg-type]
        lambda: WrappedEvent(event=Filed(n=3), version=3, created_at="2024-01-01"),  # type: ignore[arg-type]
        lambda: WrappedEvent(event=Filed(n=3), version=3, uuid=None),  # type: ignore[arg-type]
    ],
    ids=["created_at-None", "created_at-str", "uuid-None"],
)
def test_an_envelope_without_uuid_or_created_at_raises_invalid_event_data(
    event_store: EventStore,
    commit: Commit,
    stream_id: StreamId,
    broken: Callable[[], WrappedEvent[Any]],
) -> None:
    before = state(event_store, stream_id)

    with pytest.raises(InvalidEventData) as caught:
        event_store.append(broken(), stream_id=stream_id, expected_version=2)
    assert not isinstance(caught.value, ConcurrentStreamWriteError)

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


# -- issue 10.8: duplicate event uuids -----------------------------------------------------------


def test_one_uuid_twice_in_an_append_raises_duplicate_event_uuid(
    event_store: EventStore, commit: Commit, stream_id: StreamId
) -> None:
    before = state(event_store, stream_id)
    first = WrappedEvent.wrap(Filed(n=3), 3)
    again = WrappedEvent(event=Filed(n=4), version=4, uuid=first.uuid)

    with pytest.raises(DuplicateEventUuid) as caught:
        event_store.append(first, again, stream_id=stream_id, expected_version=2)
    assert not isinstance(caught.value, ConcurrentStreamWriteError)
    assert isinstance(caught.value, ValueError)

    assert_unchanged_and_usable(event_store, commit, stream_id, before)


@pytest.mark.requires(Capability.UNIQUE_EVENT_UUIDS)
@pytest.mark.parametrize("same_stream", [False, True], ids=["other-stream", "same-stream"])
def test_a_stored_uuid_appended_again_raises_duplicate_event_uuid(
    factory: BackendFactory,
    backend: Backend,
    event_store: EventStore,
    commit: Commit,
    stream_id: StreamId,
    same_stream: bool,
) -> None:
    stored = event_store.load_stream(stream_id)[0]
    other = stream_id if same_stream else StreamId()
    event_store.append(Filed(n=1), stream_id=StreamId())  # an unrelated stream, kept
    commit()
    before = state(event_store, stream_id)
    other_before = state(event_store, other)
    again = WrappedEvent(event=Filed(n=3), version=3, uuid=stored.uuid)

    with pytest.raises(DuplicateEventUuid) as caught:
        event_store.append(again, stream_id=other, expected_version=2 if same_stream else 0)
    assert not isinstance(caught.value, ConcurrentStreamWriteError)
    if factory.supports(Capability.ROLLBACK):  # a database error: the caller rolls back
        factory.rollback(backend)

    assert state(event_store, other) == other_before
    assert_unchanged_and_usable(event_store, commit, stream_id, before)
