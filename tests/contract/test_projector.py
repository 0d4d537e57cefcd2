"""Read-model projector (SPEC §15): each stream's events projected once, in version order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from event_sourcery import Event, EventStore, StreamId
from event_sourcery.event import WrappedEvent
from event_sourcery.read_model import InMemoryCursorsDao, Projector


class Counted(Event):
    number: int


class ReadModel:
    """Remembers the (stream, version, event) of every projected event."""

    def __init__(self) -> None:
        self.seen: list[tuple[StreamId, int | None, Event]] = []

    def __call__(self, wrapped_event: WrappedEvent[Any], stream_id: StreamId) -> None:
        self.seen.append((stream_id, wrapped_event.version, wrapped_event.event))

    @property
    def versions(self) -> list[int | None]:
        return [version for _, version, _ in self.seen]


@pytest.fixture
def read_model() -> ReadModel:
    return ReadModel()


@pytest.fixture
def projector(event_store: EventStore, read_model: ReadModel) -> Projector:
    return Projector(event_store, "counter", InMemoryCursorsDao(), read_model)


@pytest.fixture
def stream_id() -> StreamId:
    return StreamId(category="counters")


@pytest.fixture
def events(
    event_store: EventStore, commit: Callable[[], None], stream_id: StreamId
) -> Sequence[WrappedEvent[Any]]:
    """Versions 1 to 5 of ``stream_id``, interleaved with events of another stream."""
    other = StreamId(category="counters")
    for number in range(1, 6):
        event_store.append(Counted(number=number), stream_id=stream_id, expected_version=number - 1)
        event_store.append(Counted(number=-number), stream_id=other, expected_version=number - 1)
    commit()
    loaded = event_store.load_stream(stream_id)
    assert [e.version for e in loaded] == [1, 2, 3, 4, 5]
    return loaded


def project(projector: Projector, stream_id: StreamId, *events: WrappedEvent[Any]) -> None:
    for event in events:
        projector.project(event, stream_id)


def test_projecting_a_whole_stream_applies_every_event_once_in_order(
    projector: Projector,
    read_model: ReadModel,
    stream_id: StreamId,
    events: Sequence[WrappedEvent[Any]],
) -> None:
    project(projector, stream_id, *events)

    assert read_model.versions == [1, 2, 3, 4, 5]
    assert read_model.seen == [(stream_id, e.version, e.event) for e in events]


def test_first_event_seen_of_an_untracked_stream_catches_up_from_the_beginning(
    projector: Projector,
    read_model: ReadModel,
    stream_id: StreamId,
    events: Sequence[WrappedEvent[Any]],
) -> None:
    project(projector, stream_id, events[-1])

    assert read_model.versions == [1, 2, 3, 4, 5]
    assert read_model.seen == [(stream_id, e.version, e.event) for e in events]


def test_gap_in_a_tracked_stream_is_filled_from_the_event_store(
    projector: Projector,
    read_model: ReadModel,
    stream_id: StreamId,
    events: Sequence[WrappedEvent[Any]],
) -> None:
    project(projector, stream_id, events[0], events[1], events[4])

    assert read_model.versions == [1, 2, 3, 4, 5]
    assert read_model.seen == [(stream_id, e.version, e.event) for e in events]


def test_duplicates_from_the_middle_of_the_stream_are_ignored(
    projector: Projector,
    read_model: ReadModel,
    stream_id: StreamId,
    events: Sequence[WrappedEvent[Any]],
) -> None:
    project(projector, stream_id, *events)

    project(projector, stream_id, events[2], events[3])

    assert read_model.versions == [1, 2, 3, 4, 5]


def test_duplicates_from_the_beginning_of_the_stream_are_ignored(
    projector: Projector,
    read_model: ReadModel,
    stream_id: StreamId,
    events: Sequence[WrappedEvent[Any]],
) -> None:
    project(projector, stream_id, events[0], events[1], events[2])

    project(projector, stream_id, events[0], events[1])
    project(projector, stream_id, events[3], events[4])

    assert read_model.versions == [1, 2, 3, 4, 5]


def test_unversioned_event_cannot_be_projected(
    projector: Projector, read_model: ReadModel, stream_id: StreamId
) -> None:
    with pytest.raises(Projector.CantProjectUnversionedEvent):
        projector.project(WrappedEvent.wrap(Counted(number=1), version=None), stream_id)

    assert read_model.seen == []
