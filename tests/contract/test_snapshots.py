"""SPEC §4.5, §8: snapshots are loaded first in place of the events they cover."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from event_sourcery import Event, EventStore, StreamId
from event_sourcery.event import Context, WrappedEvent
from event_sourcery.exceptions import (
    ConcurrentStreamWriteError,
    StreamNotFound,
    VersioningMismatch,
    VersionsDoNotMatchVersioning,
)

Commit = Callable[[], None]

BASE_TIME = datetime(2024, 1, 1, 12, 0, 0)


class Added(Event):
    n: int


class Total(Event):
    total: int


def snapshot(total: int, version: int | None, minutes: int = 0) -> WrappedEvent[Total]:
    """A snapshot with an explicit creation time (later ``minutes`` = newer snapshot)."""
    return WrappedEvent(
        event=Total(total=total),
        version=version,
        created_at=BASE_TIME + timedelta(minutes=minutes),
        context=Context(correlation_id=uuid.uuid4(), components={"snapshot": {"reason": "test"}}),
    )


def summary(events: Sequence[WrappedEvent[Any]]) -> list[tuple[str, int | None, int]]:
    return [
        ("total", e.version, e.event.total)
        if isinstance(e.event, Total)
        else ("added", e.version, e.event.n)
        for e in events
    ]


def stream_of(event_store: EventStore, commit: Commit, count: int) -> StreamId:
    stream_id = StreamId()
    event_store.append(*(Added(n=n) for n in range(1, count + 1)), stream_id=stream_id)
    commit()
    return stream_id


def test_a_snapshot_replaces_the_events_it_covers(event_store: EventStore, commit: Commit) -> None:
    stream_id = stream_of(event_store, commit, 3)
    saved = snapshot(6, 3)
    event_store.save_snapshot(stream_id, saved)
    commit()

    loaded = event_store.load_stream(stream_id)

    assert loaded == [saved]


def test_a_loaded_snapshot_keeps_uuid_time_version_and_context(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_of(event_store, commit, 2)
    saved = snapshot(3, 2)
    event_store.save_snapshot(stream_id, saved)
    commit()

    [loaded] = event_store.load_stream(stream_id)

    assert loaded.uuid == saved.uuid
    assert loaded.created_at == saved.created_at
    assert loaded.version == 2
    assert loaded.context == saved.context
    assert loaded.context.components == {"snapshot": {"reason": "test"}}
    assert loaded.event == Total(total=3)


def test_events_after_a_snapshot_follow_it(event_store: EventStore, commit: Commit) -> None:
    stream_id = stream_of(event_store, commit, 3)
    event_store.save_snapshot(stream_id, snapshot(6, 3))
    commit()
    event_store.append(Added(n=4), Added(n=5), stream_id=stream_id, expected_version=3)
    commit()

    loaded = event_store.load_stream(stream_id)

    assert summary(loaded) == [("total", 3, 6), ("added", 4, 4), ("added", 5, 5)]


def test_the_newest_snapshot_wins(event_store: EventStore, commit: Commit) -> None:
    stream_id = stream_of(event_store, commit, 3)
    event_store.save_snapshot(stream_id, snapshot(6, 3, minutes=1))
    commit()
    event_store.append(Added(n=4), Added(n=5), stream_id=stream_id, expected_version=3)
    commit()
    newest = snapshot(15, 5, minutes=2)
    event_store.save_snapshot(stream_id, newest)
    commit()

    assert event_store.load_stream(stream_id) == [newest]


def test_appending_after_a_snapshot_continues_the_stream_version(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_of(event_store, commit, 3)
    event_store.save_snapshot(stream_id, snapshot(6, 3))
    commit()

    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(Added(n=1), stream_id=stream_id, expected_version=1)
    event_store.append(Added(n=4), stream_id=stream_id, expected_version=3)
    commit()

    assert summary(event_store.load_stream(stream_id)) == [("total", 3, 6), ("added", 4, 4)]


# -- ranged loads --------------------------------------------------------------------------------


def five_with_snapshot_at_three(event_store: EventStore, commit: Commit) -> StreamId:
    stream_id = stream_of(event_store, commit, 5)
    event_store.save_snapshot(stream_id, snapshot(6, 3))
    commit()
    return stream_id


def test_a_ranged_load_containing_the_snapshot_starts_with_it(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = five_with_snapshot_at_three(event_store, commit)

    assert summary(event_store.load_stream(stream_id, start=2, stop=4)) == [("total", 3, 6)]
    assert summary(event_store.load_stream(stream_id, start=2, stop=6)) == [
        ("total", 3, 6),
        ("added", 4, 4),
        ("added", 5, 5),
    ]


def test_a_ranged_load_below_the_snapshot_still_returns_the_events(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = five_with_snapshot_at_three(event_store, commit)

    assert summary(event_store.load_stream(stream_id, start=1, stop=3)) == [
        ("added", 1, 1),
        ("added", 2, 2),
    ]
    assert summary(event_store.load_stream(stream_id, stop=3)) == [("added", 1, 1), ("added", 2, 2)]


def test_a_ranged_load_above_the_snapshot_returns_the_events(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = five_with_snapshot_at_three(event_store, commit)

    assert summary(event_store.load_stream(stream_id, start=4)) == [
        ("added", 4, 4),
        ("added", 5, 5),
    ]
    assert summary(event_store.load_stream(stream_id, start=4, stop=5)) == [("added", 4, 4)]


def test_a_snapshot_never_destroys_history(event_store: EventStore, commit: Commit) -> None:
    stream_id = five_with_snapshot_at_three(event_store, commit)
    newer = snapshot(15, 5, minutes=1)
    event_store.save_snapshot(stream_id, newer)
    commit()

    assert event_store.load_stream(stream_id) == [newer]
    assert summary(event_store.load_stream(stream_id, start=1, stop=3)) == [
        ("added", 1, 1),
        ("added", 2, 2),
    ]
    assert summary(event_store.load_stream(stream_id, start=4, stop=5)) == [("added", 4, 4)]


def test_a_lower_version_snapshot_does_not_roll_the_stream_version_back(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_of(event_store, commit, 5)
    event_store.save_snapshot(stream_id, snapshot(3, 2))
    commit()

    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(Added(n=3), stream_id=stream_id, expected_version=2)
    event_store.append(Added(n=6), stream_id=stream_id, expected_version=5)
    commit()

    assert summary(event_store.load_stream(stream_id, start=3)) == [
        ("added", 3, 3),
        ("added", 4, 4),
        ("added", 5, 5),
        ("added", 6, 6),
    ]


def test_a_lower_version_snapshot_is_followed_by_the_events_after_it(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_of(event_store, commit, 4)
    event_store.save_snapshot(stream_id, snapshot(3, 2))
    commit()

    assert summary(event_store.load_stream(stream_id)) == [
        ("total", 2, 3),
        ("added", 3, 3),
        ("added", 4, 4),
    ]


# -- rejected snapshots --------------------------------------------------------------------------


def test_a_snapshot_of_a_missing_stream_is_stream_not_found(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()

    with pytest.raises(StreamNotFound) as caught:
        event_store.save_snapshot(stream_id, snapshot(1, 1))
    assert isinstance(caught.value, LookupError)

    assert list(event_store.load_stream(stream_id)) == []
    event_store.append(Added(n=1), stream_id=stream_id)
    commit()
    assert summary(event_store.load_stream(stream_id)) == [("added", 1, 1)]


def test_a_snapshot_of_a_deleted_stream_is_stream_not_found(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_of(event_store, commit, 2)
    event_store.delete_stream(stream_id)
    commit()

    with pytest.raises(StreamNotFound):
        event_store.save_snapshot(stream_id, snapshot(3, 2))
    assert list(event_store.load_stream(stream_id)) == []


def test_a_snapshot_without_a_version_is_rejected(event_store: EventStore, commit: Commit) -> None:
    stream_id = stream_of(event_store, commit, 2)

    with pytest.raises(VersionsDoNotMatchVersioning) as caught:
        event_store.save_snapshot(stream_id, snapshot(3, None))
    assert isinstance(caught.value, VersioningMismatch)

    assert summary(event_store.load_stream(stream_id)) == [("added", 1, 1), ("added", 2, 2)]
