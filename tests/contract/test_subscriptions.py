"""Subscriptions (SPEC §9): positions, filters, tenants, batches and the timing contract."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from event_sourcery import DEFAULT_TENANT, Event, EventStore, StreamId
from event_sourcery.backend import Backend
from event_sourcery.event import Recorded, WrappedEvent
from event_sourcery.exceptions import InvalidTimelimit, MissingStartPosition

SHORT = 0.2
"""The time limit used wherever a test has to wait for a timeout (keeps the module fast)."""


class Pinged(Event):
    number: int


class PingedTwice(Event):
    """Its default name extends ``Pinged``'s: a prefix match would confuse the two."""

    number: int


class PingedLoudly(Pinged):
    """A subclass of ``Pinged`` with a name of its own (filters are not subclass-aware)."""


class DottedName(Event):
    """Its name contains dots: a filter treating dots as wildcards would also match the next."""

    __event_name__ = "contract.subscriptions.dotted"
    number: int


class LookalikeName(Event):
    __event_name__ = "contractXsubscriptionsXdotted"
    number: int


def start_here(event_store: EventStore) -> int:
    """The current position: a subscription started here sees only events appended later."""
    return event_store.position or 0


def timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def assert_about(elapsed: float, limit: float) -> None:
    """The timing contract: within ±50 % of the time limit."""
    assert limit * 0.5 <= elapsed <= limit * 1.5, f"took {elapsed:.3f} s, limit {limit} s"


def events_of(records: list[Recorded]) -> list[Event]:
    return [record.wrapped_event.event for record in records]


def drain(iterator: Iterator[list[Recorded]]) -> list[Recorded]:
    """The next batch of a ``build_batch`` iterator (all that is available within its limit)."""
    return next(iterator)


def ping_all(event_store: EventStore, *numbers: int, stream_id: StreamId | None = None) -> None:
    stream = stream_id or StreamId()
    stored = len(event_store.load_stream(stream))
    event_store.append(
        *(Pinged(number=n) for n in numbers), stream_id=stream, expected_version=stored
    )


# --- positions --------------------------------------------------------------------------------


def test_records_carry_event_stream_position_and_tenant(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    stream_id = StreamId(category="pings")
    first = WrappedEvent.wrap(Pinged(number=1), version=1)
    second = WrappedEvent.wrap(Pinged(number=2), version=2)
    event_store.append(first, second, stream_id=stream_id)
    commit()

    records = drain(backend.subscriber.start_from(start).build_batch(10, SHORT))

    assert [r.wrapped_event.uuid for r in records] == [first.uuid, second.uuid]
    assert [r.wrapped_event.version for r in records] == [1, 2]
    assert events_of(records) == [Pinged(number=1), Pinged(number=2)]
    assert all(r.stream_id == stream_id for r in records)
    assert all(r.tenant_id == DEFAULT_TENANT for r in records)
    assert start < records[0].position < records[1].position
    assert records[1].position == event_store.position


def test_records_come_in_global_append_order_across_streams(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    a, b = StreamId(), StreamId()
    event_store.append(Pinged(number=1), stream_id=a)
    event_store.append(Pinged(number=2), stream_id=b)
    event_store.append(Pinged(number=3), stream_id=a, expected_version=1)
    event_store.append(Pinged(number=4), stream_id=b, expected_version=1)
    commit()

    records = drain(backend.subscriber.start_from(start).build_batch(10, SHORT))

    assert events_of(records) == [Pinged(number=n) for n in (1, 2, 3, 4)]
    assert [r.stream_id for r in records] == [a, b, a, b]
    positions = [r.position for r in records]
    assert positions == sorted(positions)
    assert len(set(positions)) == 4


def test_start_from_is_exclusive(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    ping_all(event_store, 1, 2, 3)
    commit()
    first = next(backend.subscriber.start_from(start).build_iter(SHORT))
    assert first is not None

    records = drain(backend.subscriber.start_from(first.position).build_batch(10, SHORT))

    assert events_of(records) == [Pinged(number=2), Pinged(number=3)]


def test_start_from_zero_reads_from_the_beginning(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    ping_all(event_store, 1, 2)
    commit()

    records = drain(backend.subscriber.start_from(0).build_batch(100, SHORT))

    assert events_of(records)[-2:] == [Pinged(number=1), Pinged(number=2)]


def test_start_from_current_position_gets_only_new_events(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    ping_all(event_store, 1, 2, stream_id=stream_id)
    commit()
    iterator = backend.subscriber.start_from(event_store.position or 0).build_iter(SHORT)
    ping_all(event_store, 3, stream_id=stream_id)
    commit()

    record = next(iterator)

    assert record is not None
    assert record.wrapped_event.event == Pinged(number=3)
    assert record.wrapped_event.version == 3
    assert next(iterator) is None


# --- filters ----------------------------------------------------------------------------------


def test_to_category_delivers_only_that_exact_category(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    for number, category in enumerate(["shop", "shopping", "myshop", "Shop", None, "shop"]):
        event_store.append(Pinged(number=number), stream_id=StreamId(category=category))
    commit()

    records = drain(backend.subscriber.start_from(start).to_category("shop").build_batch(10, SHORT))

    assert events_of(records) == [Pinged(number=0), Pinged(number=5)]
    assert all(r.stream_id.category == "shop" for r in records)


def test_to_events_delivers_only_those_exact_event_types(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    stream_id = StreamId()
    event_store.append(
        Pinged(number=1),
        PingedTwice(number=2),
        PingedLoudly(number=3),
        LookalikeName(number=4),
        DottedName(number=5),
        Pinged(number=6),
        stream_id=stream_id,
    )
    commit()

    pinged = drain(backend.subscriber.start_from(start).to_events([Pinged]).build_batch(10, SHORT))
    dotted = drain(
        backend.subscriber.start_from(start).to_events([DottedName]).build_batch(10, SHORT)
    )

    assert events_of(pinged) == [Pinged(number=1), Pinged(number=6)]
    assert all(type(e) is Pinged for e in events_of(pinged))
    assert events_of(dotted) == [DottedName(number=5)]


def test_to_events_with_several_types_delivers_each_of_them_in_order(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    event_store.append(
        Pinged(number=1), DottedName(number=2), PingedTwice(number=3), stream_id=StreamId()
    )
    commit()

    records = drain(
        backend.subscriber.start_from(start).to_events([PingedTwice, Pinged]).build_batch(10, SHORT)
    )

    assert events_of(records) == [Pinged(number=1), PingedTwice(number=3)]


# --- tenants and independent subscriptions ----------------------------------------------------


def test_subscription_receives_events_of_all_tenants_with_their_tenant_id(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    stream_id = StreamId()
    backend.event_store.append(Pinged(number=1), stream_id=stream_id)
    backend.in_tenant_mode("tenant_a").event_store.append(Pinged(number=2), stream_id=stream_id)
    backend.in_tenant_mode("tenant_b").event_store.append(Pinged(number=3), stream_id=stream_id)
    commit()

    records = drain(
        backend.in_tenant_mode("tenant_a").subscriber.start_from(start).build_batch(10, SHORT)
    )

    assert events_of(records) == [Pinged(number=1), Pinged(number=2), Pinged(number=3)]
    assert [r.tenant_id for r in records] == [DEFAULT_TENANT, "tenant_a", "tenant_b"]
    assert all(r.stream_id == stream_id for r in records)


def test_two_subscriptions_each_receive_every_event(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    first = backend.subscriber.start_from(start).build_iter(SHORT)
    second = backend.subscriber.start_from(start).build_iter(SHORT)
    ping_all(event_store, 1, 2)
    commit()

    from_first = [next(first), next(first)]
    from_second = [next(second), next(second)]

    assert [r and r.wrapped_event.event for r in from_first] == [Pinged(number=1), Pinged(number=2)]
    assert [r and r.wrapped_event.event for r in from_second] == [
        Pinged(number=1),
        Pinged(number=2),
    ]
    assert next(first) is None
    assert next(second) is None


def test_builder_returned_by_subscriber_is_fresh_each_time(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    event_store.append(Pinged(number=1), stream_id=StreamId(category="one"))
    event_store.append(Pinged(number=2), stream_id=StreamId(category="two"))
    commit()
    backend.subscriber.start_from(start).to_category("one")

    records = drain(backend.subscriber.start_from(start).build_batch(10, SHORT))

    assert events_of(records) == [Pinged(number=1), Pinged(number=2)]


# --- the timing contract (§9.2) ---------------------------------------------------------------


def test_iter_returns_none_after_the_time_limit_when_no_event_arrives(
    backend: Backend, event_store: EventStore
) -> None:
    iterator = backend.subscriber.start_from(start_here(event_store)).build_iter(SHORT)

    record, elapsed = timed(lambda: next(iterator))

    assert record is None
    assert_about(elapsed, SHORT)


def test_iter_keeps_yielding_none_and_never_stops(
    backend: Backend, event_store: EventStore
) -> None:
    iterator = backend.subscriber.start_from(start_here(event_store)).build_iter(
        timedelta(seconds=SHORT)
    )

    assert [next(iterator), next(iterator)] == [None, None]


def test_filtered_iter_returns_none_after_the_time_limit_when_only_other_events_arrive(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    ping_all(event_store, 1, 2, 3)
    commit()
    iterator = backend.subscriber.start_from(start).to_events([DottedName]).build_iter(1)

    record, elapsed = timed(lambda: next(iterator))

    assert record is None
    assert_about(elapsed, 1)


def test_partial_batch_is_returned_when_the_time_limit_expires(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    ping_all(event_store, 1)
    commit()
    iterator = backend.subscriber.start_from(start).build_batch(2, SHORT)

    batch, elapsed = timed(lambda: next(iterator))

    assert isinstance(batch, list)
    assert events_of(batch) == [Pinged(number=1)]
    assert_about(elapsed, SHORT)


def test_batches_are_full_when_possible_partial_or_empty_on_timeout_and_resume_where_they_left(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    start = start_here(event_store)
    ping_all(event_store, 1, 2, 3, stream_id=stream_id)
    commit()
    batches = backend.subscriber.start_from(start).build_batch(2, SHORT)

    def numbers() -> list[int]:
        return [e.number for e in events_of(next(batches))]  # type: ignore[attr-defined]

    assert numbers() == [1, 2]
    ping_all(event_store, 4, 5, stream_id=stream_id)
    commit()
    assert [numbers(), numbers(), numbers()] == [[3, 4], [5], []]
    ping_all(event_store, 6, 7, stream_id=stream_id)
    commit()
    assert [numbers(), numbers(), numbers()] == [[6, 7], [], []]


def test_full_batch_is_returned_without_waiting_for_the_time_limit(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    ping_all(event_store, 1, 2, 3)
    commit()
    iterator = backend.subscriber.start_from(start).build_batch(2, 2)

    batch, elapsed = timed(lambda: next(iterator))

    assert isinstance(batch, list)
    assert events_of(batch) == [Pinged(number=1), Pinged(number=2)]
    assert elapsed < 1


def test_iter_returns_available_events_without_waiting_for_the_time_limit(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    start = start_here(event_store)
    ping_all(event_store, 1, 2, 3, 4, 5)
    commit()
    iterator = backend.subscriber.start_from(start).build_iter(2)

    records, elapsed = timed(lambda: [next(iterator) for _ in range(5)])

    assert isinstance(records, list)
    assert [r and r.wrapped_event.event for r in records] == [Pinged(number=n) for n in range(1, 6)]
    assert elapsed < 1, "an available event must be returned at once, not after a poll interval"


def test_waiting_subscriber_is_woken_by_an_append_from_another_thread(
    backend: Backend, event_store: EventStore, commit: Callable[[], None]
) -> None:
    limit = 2.0
    iterator = backend.subscriber.start_from(start_here(event_store)).build_iter(limit)
    errors: list[BaseException] = []

    def append_soon() -> None:
        try:
            time.sleep(0.1)
            event_store.append(Pinged(number=42), stream_id=StreamId())
            commit()
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    writer = threading.Thread(target=append_soon)
    writer.start()
    record, elapsed = timed(lambda: next(iterator))
    writer.join()

    assert errors == []
    assert isinstance(record, Recorded)
    assert record.wrapped_event.event == Pinged(number=42)
    assert elapsed < limit / 2, f"woken after {elapsed:.3f} s"


# --- bad input --------------------------------------------------------------------------------

TOO_SHORT = [
    pytest.param(0.09, "0.09", id="0.09"),
    pytest.param(0, "0.00", id="0"),
    pytest.param(-1, "-1.00", id="-1"),
    pytest.param(-1.9999, "-2.00", id="-1.9999"),
    pytest.param(timedelta(seconds=0.09), "0.09", id="timedelta-0.09"),
    pytest.param(timedelta(seconds=-10), "-10.00", id="timedelta--10"),
]


@pytest.mark.parametrize(("timelimit", "shown"), TOO_SHORT)
def test_iter_rejects_a_time_limit_below_100_ms_when_built(
    backend: Backend, timelimit: float | timedelta, shown: str
) -> None:
    message = f"Timebox must be at least 100 milliseconds. Received: {shown}"
    with pytest.raises(InvalidTimelimit, match=f"^{re.escape(message)}$") as caught:
        backend.subscriber.start_from(0).build_iter(timelimit)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("timelimit", "shown"), TOO_SHORT)
def test_batch_rejects_a_time_limit_below_100_ms_when_built(
    backend: Backend, timelimit: float | timedelta, shown: str
) -> None:
    message = f"Timebox must be at least 100 milliseconds. Received: {shown}"
    with pytest.raises(InvalidTimelimit, match=f"^{re.escape(message)}$") as caught:
        backend.subscriber.start_from(0).to_category("any").build_batch(2, timelimit)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("timelimit", [0.1, timedelta(milliseconds=100)])
def test_a_time_limit_of_exactly_100_ms_is_accepted(
    backend: Backend, event_store: EventStore, timelimit: float | timedelta
) -> None:
    iterator = backend.subscriber.start_from(start_here(event_store)).build_iter(timelimit)

    assert next(iterator) is None


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda b: b.build_iter(1), id="build_iter"),
        pytest.param(lambda b: b.build_batch(2, 1), id="build_batch"),
        pytest.param(lambda b: b.to_category("c"), id="to_category"),
        pytest.param(lambda b: b.to_events([Pinged]), id="to_events"),
    ],
)
def test_building_or_filtering_without_start_from_raises_missing_start_position(
    backend: Backend, build: Callable[[object], object]
) -> None:
    with pytest.raises(MissingStartPosition) as caught:
        build(backend.subscriber)
    assert isinstance(caught.value, TypeError)
    assert "start_from" in str(caught.value)
