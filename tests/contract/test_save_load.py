"""SPEC §3, §4.1, §4.2: appending events and loading them back exactly."""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pydantic

from event_sourcery import Event, EventStore, StreamId
from event_sourcery.backend import Backend
from event_sourcery.event import Context, Recorded, WrappedEvent


class Deposited(Event):
    amount: int


class Renamed(Event):
    name: str


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(pydantic.BaseModel):
    street: str
    number: int


@dataclasses.dataclass
class Dimensions:
    width: float
    height: float


class Everything(Event):
    """Field types that JSON does not carry natively (or that look like other JSON values)."""

    identifier: UUID
    amount: Decimal
    aware: datetime
    naive: datetime
    day: date
    duration: timedelta
    colour: Colour
    address: Address
    addresses: list[Address]
    dimensions: Dimensions
    counts: dict[str, int]
    tags: set[str]
    pair: tuple[int, str]
    optional: str | None
    json_looking: list[str]
    ratio: float
    flag: bool


class UserContext(Context):
    user_id: UUID
    role: str = "reader"


def everything() -> Everything:
    return Everything(
        identifier=uuid.uuid4(),
        amount=Decimal("1234.5600"),
        aware=datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=5))),
        naive=datetime(1999, 12, 31, 23, 59, 58, 1),
        day=date(2000, 1, 1),
        duration=timedelta(days=2, microseconds=3),
        colour=Colour.GREEN,
        address=Address(street="Main", number=1),
        addresses=[Address(street="A", number=2), Address(street="B", number=3)],
        dimensions=Dimensions(width=1.5, height=0.1),
        counts={"a": 1, "b": -2},
        tags={"x", "y"},
        pair=(7, "seven"),
        optional=None,
        json_looking=["123", "true", "null", "", '{"a": 1}', "[1]", '"quoted"'],
        ratio=-0.25,
        flag=False,
    )


def utc_naive_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def test_loading_an_unknown_stream_returns_an_empty_list(event_store: EventStore) -> None:
    assert list(event_store.load_stream(StreamId())) == []
    assert list(event_store.load_stream(StreamId(name="never/written", category="c"))) == []


def test_a_wrapped_event_round_trips_exactly(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    wrapped = WrappedEvent(
        event=Deposited(amount=10),
        version=1,
        uuid=uuid.uuid4(),
        created_at=datetime(2023, 5, 17, 8, 30, 15, 123456),
        context=Context(correlation_id=uuid.uuid4(), causation_id=uuid.uuid4()),
    )
    event_store.append(wrapped, stream_id=stream_id)
    commit()

    [loaded] = event_store.load_stream(stream_id)

    assert loaded == wrapped
    assert loaded.uuid == wrapped.uuid
    assert loaded.version == 1
    assert loaded.created_at == datetime(2023, 5, 17, 8, 30, 15, 123456)
    assert loaded.created_at.tzinfo is None
    assert type(loaded.event) is Deposited
    assert isinstance(loaded.context.correlation_id, UUID)
    assert loaded.context.correlation_id == wrapped.context.correlation_id
    assert loaded.context.causation_id == wrapped.context.causation_id


def test_bare_events_are_wrapped_with_fresh_uuids_naive_utc_time_and_empty_context(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    before = utc_naive_now()
    event_store.append(Deposited(amount=1), Deposited(amount=2), stream_id=stream_id)
    commit()
    after = utc_naive_now()

    loaded = event_store.load_stream(stream_id)

    assert [e.event for e in loaded] == [Deposited(amount=1), Deposited(amount=2)]
    assert [e.version for e in loaded] == [1, 2]
    assert loaded[0].uuid != loaded[1].uuid
    for event in loaded:
        assert event.created_at.tzinfo is None
        assert before - timedelta(seconds=1) <= event.created_at <= after + timedelta(seconds=1)
        assert event.context == Context()
        assert event.context.correlation_id is None
        assert event.context.causation_id is None


def test_context_components_round_trip(event_store: EventStore, commit: Callable[[], None]) -> None:
    stream_id = StreamId()
    payload = {
        "note": "from the web",
        "attempt": 3,
        "ratio": 0.5,
        "nested": {"a": [1, 2], "b": None},
        "flags": ["x", "y"],
        "empty": "",
    }
    context = Context(correlation_id=uuid.uuid4(), components={"app.request": payload})
    wrapped = WrappedEvent.wrap(Renamed(name="n"), 1, context=context)
    event_store.append(wrapped, stream_id=stream_id)
    commit()

    [loaded] = event_store.load_stream(stream_id)

    assert loaded.context == context
    assert loaded.context.components == {"app.request": payload}


def test_a_typed_context_is_recovered_with_get_context(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    user_id, correlation_id = uuid.uuid4(), uuid.uuid4()
    context = UserContext(user_id=user_id, role="admin", correlation_id=correlation_id)
    event_store.append(
        WrappedEvent.wrap(Renamed(name="n"), 1, context=context), stream_id=stream_id
    )
    commit()

    [loaded] = event_store.load_stream(stream_id)
    typed = loaded.get_context(UserContext)

    assert isinstance(typed, UserContext)
    assert typed.user_id == user_id
    assert isinstance(typed.user_id, UUID)
    assert typed.role == "admin"
    assert typed.correlation_id == correlation_id
    assert typed.causation_id is None


def test_json_unfriendly_field_types_round_trip(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    event = everything()
    event_store.append(event, stream_id=stream_id)
    commit()

    [loaded] = event_store.load_stream(stream_id)

    assert loaded.event == event
    restored = loaded.event
    assert isinstance(restored, Everything)
    assert isinstance(restored.identifier, UUID)
    assert isinstance(restored.amount, Decimal)
    assert str(restored.amount) == "1234.5600"
    assert restored.aware.utcoffset() == timedelta(hours=5)
    assert restored.naive.tzinfo is None
    assert restored.colour is Colour.GREEN
    assert isinstance(restored.address, Address)
    assert isinstance(restored.dimensions, Dimensions)
    assert restored.json_looking == ["123", "true", "null", "", '{"a": 1}', "[1]", '"quoted"']
    assert restored.optional is None


def test_json_looking_strings_stay_strings(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    texts = ["123", "true", "null", "", "1.5", '{"a": 1}', "[]", '"x"']
    event_store.append(*(Renamed(name=text) for text in texts), stream_id=stream_id)
    commit()

    loaded = event_store.load_stream(stream_id)

    assert [e.event.name for e in loaded] == texts
    assert all(isinstance(e.event.name, str) for e in loaded)


def test_events_of_several_types_load_in_version_order_across_appends(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    event_store.append(Deposited(amount=1), Renamed(name="a"), stream_id=stream_id)
    commit()
    event_store.append(Deposited(amount=2), stream_id=stream_id, expected_version=2)
    commit()
    event_store.append(
        Renamed(name="b"), Deposited(amount=3), stream_id=stream_id, expected_version=3
    )
    commit()

    loaded = event_store.load_stream(stream_id)

    assert [e.version for e in loaded] == [1, 2, 3, 4, 5]
    assert [e.event for e in loaded] == [
        Deposited(amount=1),
        Renamed(name="a"),
        Deposited(amount=2),
        Renamed(name="b"),
        Deposited(amount=3),
    ]


def test_a_stream_loads_only_its_own_events(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    mine, other = StreamId(), StreamId()
    event_store.append(Deposited(amount=1), stream_id=mine)
    event_store.append(Deposited(amount=100), Deposited(amount=200), stream_id=other)
    commit()
    event_store.append(Deposited(amount=2), stream_id=mine, expected_version=1)
    commit()

    assert [e.event.amount for e in event_store.load_stream(mine)] == [1, 2]
    assert [e.event.amount for e in event_store.load_stream(other)] == [100, 200]


def test_pre_numbered_events_load_ordered_by_version_not_by_append_order(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    event_store.append(
        WrappedEvent.wrap(Deposited(amount=5), 5),
        WrappedEvent.wrap(Deposited(amount=6), 6),
        stream_id=stream_id,
    )
    commit()
    event_store.append(WrappedEvent.wrap(Deposited(amount=3), 3), stream_id=stream_id)
    commit()

    assert [e.version for e in event_store.load_stream(stream_id)] == [3, 5, 6]


# -- ranged loads --------------------------------------------------------------------------------


def five_events(event_store: EventStore, commit: Callable[[], None]) -> StreamId:
    stream_id = StreamId()
    event_store.append(*(Deposited(amount=n) for n in range(1, 6)), stream_id=stream_id)
    commit()
    return stream_id


def versions(events: Sequence[WrappedEvent[Any]]) -> list[int | None]:
    return [e.version for e in events]


def test_ranged_load_start_is_inclusive_and_stop_exclusive(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = five_events(event_store, commit)

    loaded = event_store.load_stream(stream_id, start=2, stop=5)

    assert versions(loaded) == [2, 3, 4]
    assert [e.event.amount for e in loaded] == [2, 3, 4]


def test_ranged_load_with_start_only_returns_the_rest(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = five_events(event_store, commit)
    assert versions(event_store.load_stream(stream_id, start=4)) == [4, 5]
    assert versions(event_store.load_stream(stream_id, start=1)) == [1, 2, 3, 4, 5]


def test_ranged_load_with_stop_only_returns_the_beginning(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = five_events(event_store, commit)
    assert versions(event_store.load_stream(stream_id, stop=3)) == [1, 2]
    assert versions(event_store.load_stream(stream_id, stop=6)) == [1, 2, 3, 4, 5]


def test_ranged_load_of_an_empty_or_outside_range_returns_nothing(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = five_events(event_store, commit)
    assert versions(event_store.load_stream(stream_id, start=3, stop=3)) == []
    assert versions(event_store.load_stream(stream_id, start=6)) == []
    assert versions(event_store.load_stream(stream_id, stop=1)) == []


def test_ranged_load_counts_versions_not_list_positions(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    event_store.append(
        *(WrappedEvent.wrap(Deposited(amount=v), v) for v in (10, 11, 12, 13)),
        stream_id=stream_id,
    )
    commit()

    assert versions(event_store.load_stream(stream_id, start=11, stop=13)) == [11, 12]
    assert versions(event_store.load_stream(stream_id, start=1, stop=3)) == []


# -- issue 10.7: JSON numbers come back as the type they were ------------------------------------

FLOATS = [1e308, -1e20, 1e16, 1.2345678901234568e17, 1.7976931348623157e308, 3.0, -0.5, 1.5e-7]
"""Floats PostgreSQL's jsonb would hand back as integers if written as ``1e+308`` (jsonb keeps a
number's digits, not its notation), next to ordinary ones."""


class Untyped(Event):
    anything: Any = None
    mapping: dict[str, Any] = {}
    items: list[Any] = []
    either: int | float = 0


def untyped() -> Untyped:
    return Untyped(
        anything=1e308,
        mapping={"big": -1e20, "nested": {"deep": [1e16, 3.0]}, "int": 10**20},
        items=[*FLOATS, 7, 10**30],
        either=1e20,
    )


def assert_same_json_types(loaded: object, expected: object) -> None:
    """Equal, and every number has the same Python type (a float that came back as an int would
    still compare equal)."""
    assert loaded == expected
    assert type(loaded) is type(expected), (loaded, expected)
    if isinstance(expected, dict):
        assert isinstance(loaded, dict)
        for key, value in expected.items():
            assert_same_json_types(loaded[key], value)
    elif isinstance(expected, list):
        assert isinstance(loaded, list)
        for item, value in zip(loaded, expected, strict=True):
            assert_same_json_types(item, value)


def test_floats_in_untyped_fields_come_back_as_the_same_floats(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    event = untyped()
    event_store.append(event, stream_id=stream_id)
    commit()

    [loaded] = event_store.load_stream(stream_id)

    assert isinstance(loaded.event, Untyped)
    assert_same_json_types(loaded.event.model_dump(), event.model_dump())


def test_floats_in_context_components_come_back_as_the_same_floats(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    payload = {"floats": FLOATS, "one": 1e300, "int": 10**20}
    context = Context(components={"app.measure": payload})
    event_store.append(
        WrappedEvent.wrap(Renamed(name="n"), 1, context=context), stream_id=stream_id
    )
    commit()

    [loaded] = event_store.load_stream(stream_id)

    assert_same_json_types(loaded.context.components, {"app.measure": payload})


def test_floats_in_untyped_fields_of_a_snapshot_come_back_as_the_same_floats(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    event_store.append(Renamed(name="n"), stream_id=stream_id)
    commit()
    event_store.save_snapshot(stream_id, WrappedEvent.wrap(untyped(), 1))
    commit()

    [loaded] = event_store.load_stream(stream_id)

    assert isinstance(loaded.event, Untyped)
    assert_same_json_types(loaded.event.model_dump(), untyped().model_dump())


def test_floats_in_untyped_fields_are_published_by_the_outbox_as_the_same_floats(
    backend: Backend, commit: Callable[[], None]
) -> None:
    with_outbox = backend.with_outbox()
    with_outbox.event_store.append(untyped(), stream_id=StreamId())
    commit()
    published: list[Recorded] = []

    with_outbox.outbox.run(published.append)
    commit()

    [record] = published
    assert_same_json_types(record.wrapped_event.event.model_dump(), untyped().model_dump())
