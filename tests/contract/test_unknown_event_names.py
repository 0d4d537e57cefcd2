"""A stored event whose name is not registered (issue 10.9): subscriptions and the outbox report
it with its position and raw record and go on past it instead of failing for good."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from event_sourcery import Event, EventStore, StreamId
from event_sourcery._core.serde import Serde
from event_sourcery._core.versioning import ExplicitVersioning
from event_sourcery.backend import Backend
from event_sourcery.event import RawEvent, Recorded, RecordedRaw, WrappedEvent
from event_sourcery.exceptions import UnknownEventName
from event_sourcery.interfaces import StorageStrategy

UNKNOWN = "contract.unknown-event-names.never-registered"
WAIT = 20.0
"""Generous bound for deliveries (other transactions on the server can delay them)."""


class Parcel(Event):
    number: int


def store_unknown(backend: Backend, stream_id: StreamId) -> None:
    """One event stored under a name no class is registered for, as another service wrote it."""
    wrapped = WrappedEvent.wrap(Parcel(number=-1), 1)
    raw = dataclasses.replace(backend[Serde].serialize(wrapped, stream_id), name=UNKNOWN)
    backend[StorageStrategy].insert_events(stream_id, ExplicitVersioning(0, 1), [raw])


def known_unknown_known(
    backend: Backend, commit: Callable[[], None], event_store: EventStore
) -> int:
    """Parcel 1, an unknown event, Parcel 2 (each committed); the position before them."""
    start = event_store.position or 0
    event_store.append(Parcel(number=1), stream_id=StreamId())
    commit()
    store_unknown(backend, StreamId())
    commit()
    event_store.append(Parcel(number=2), stream_id=StreamId())
    commit()
    return start


def numbers(records: list[Recorded]) -> list[int]:
    return [record.wrapped_event.event.number for record in records]


def read_iter(
    iterator: Iterator[Recorded | None], until: int
) -> tuple[list[Any], list[UnknownEventName]]:
    """Parcel numbers and errors (in order, as one list) up to Parcel ``until``."""
    seen: list[Any] = []
    errors: list[UnknownEventName] = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            record = next(iterator)
        except UnknownEventName as error:
            seen.append("unknown")
            errors.append(error)
            continue
        if record is not None:
            seen.append(record.wrapped_event.event.number)
            if seen[-1] == until:
                break
    return seen, errors


def test_iter_raises_the_unknown_name_with_its_position_and_goes_on_past_it(
    backend: Backend, commit: Callable[[], None], event_store: EventStore
) -> None:
    start = known_unknown_known(backend, commit, event_store)

    iterator = backend.subscriber.start_from(start).build_iter(timelimit=1)
    seen, errors = read_iter(iterator, until=2)

    assert seen == [1, "unknown", 2]
    (error,) = errors
    assert isinstance(error, KeyError)
    assert error.name == UNKNOWN
    assert isinstance(error.record, RecordedRaw)
    assert isinstance(error.record.entry, RawEvent)
    assert error.record.entry.name == UNKNOWN
    assert error.position is not None
    assert error.position == error.record.position


def test_resuming_from_the_error_position_skips_exactly_the_unknown_event(
    backend: Backend, commit: Callable[[], None], event_store: EventStore
) -> None:
    start = known_unknown_known(backend, commit, event_store)
    _, (error,) = read_iter(backend.subscriber.start_from(start).build_iter(timelimit=1), 2)
    assert error.position is not None

    resumed = backend.subscriber.start_from(error.position).build_iter(timelimit=1)
    seen, errors = read_iter(resumed, until=2)

    assert (seen, errors) == ([2], [])


def test_batches_deliver_the_records_around_the_unknown_event_and_raise_it_alone(
    backend: Backend, commit: Callable[[], None], event_store: EventStore
) -> None:
    start = known_unknown_known(backend, commit, event_store)
    batches = backend.subscriber.start_from(start).build_batch(size=10, timelimit=1)

    seen: list[Any] = []
    deadline = time.monotonic() + WAIT
    while 2 not in seen and time.monotonic() < deadline:
        try:
            seen.extend(numbers(next(batches)))
        except UnknownEventName as error:
            seen.append(("unknown", error.name, error.position is not None))

    assert seen == [1, ("unknown", UNKNOWN, True), 2]


def test_an_unknown_name_in_the_outbox_is_a_failed_attempt_then_a_dead_letter(
    backend: Backend, commit: Callable[[], None]
) -> None:
    with_outbox = backend.with_outbox()
    with_outbox.event_store.append(Parcel(number=1), stream_id=StreamId())
    store_unknown(with_outbox, StreamId())
    with_outbox.event_store.append(Parcel(number=2), stream_id=StreamId())
    commit()
    published: list[Recorded] = []

    for _ in range(3):  # the backend fixture allows two attempts
        with_outbox.outbox.run(published.append)
        commit()

    assert numbers(published) == [1, 2]
    (dead,) = with_outbox.outbox.dead_letters()
    assert dead.record.entry.name == UNKNOWN
    assert dead.last_error is not None
    assert UNKNOWN in dead.last_error


@pytest.mark.parametrize("arguments", [(UNKNOWN,), (UNKNOWN, None, None)])
def test_unknown_event_name_built_with_only_a_name_has_no_position(arguments: tuple) -> None:
    error = UnknownEventName(*arguments)

    assert (error.name, error.position, error.record) == (UNKNOWN, None, None)
