"""SPEC §4.4: deleting a stream removes its events and snapshots; unknown streams are ignored."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest

from event_sourcery import NO_VERSIONING, Event, EventStore, StreamId
from event_sourcery.event import WrappedEvent
from event_sourcery.exceptions import ConcurrentStreamWriteError

Commit = Callable[[], None]


class OtherNamespaceStreamId(StreamId):
    NAMESPACE = UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8")


class Logged(Event):
    line: str


class LogSummary(Event):
    lines: int


def lines(event_store: EventStore, stream_id: StreamId) -> list[tuple[int | None, str]]:
    return [
        (e.version, e.event.line if isinstance(e.event, Logged) else f"summary:{e.event.lines}")
        for e in event_store.load_stream(stream_id)
    ]


def test_a_deleted_stream_loads_as_empty(event_store: EventStore, commit: Commit) -> None:
    stream_id = StreamId()
    event_store.append(Logged(line="a"), Logged(line="b"), stream_id=stream_id)
    commit()

    event_store.delete_stream(stream_id)
    commit()

    assert lines(event_store, stream_id) == []


def test_deleting_a_missing_stream_is_a_no_op(event_store: EventStore, commit: Commit) -> None:
    other = StreamId()
    event_store.append(Logged(line="kept"), stream_id=other)
    commit()
    missing = StreamId()

    event_store.delete_stream(missing)
    commit()

    assert lines(event_store, missing) == []
    assert lines(event_store, other) == [(1, "kept")]


def test_deleting_twice_is_a_no_op_the_second_time(event_store: EventStore, commit: Commit) -> None:
    stream_id = StreamId()
    event_store.append(Logged(line="a"), stream_id=stream_id)
    commit()

    event_store.delete_stream(stream_id)
    commit()
    event_store.delete_stream(stream_id)
    commit()

    assert lines(event_store, stream_id) == []


def test_deleting_a_stream_leaves_other_streams(event_store: EventStore, commit: Commit) -> None:
    doomed, kept = StreamId(), StreamId()
    event_store.append(Logged(line="doomed"), stream_id=doomed)
    event_store.append(Logged(line="kept1"), Logged(line="kept2"), stream_id=kept)
    commit()

    event_store.delete_stream(doomed)
    commit()

    assert lines(event_store, kept) == [(1, "kept1"), (2, "kept2")]


def test_deleting_a_stream_removes_its_snapshots(event_store: EventStore, commit: Commit) -> None:
    stream_id = StreamId()
    event_store.append(Logged(line="a"), Logged(line="b"), stream_id=stream_id)
    commit()
    event_store.save_snapshot(stream_id, WrappedEvent.wrap(LogSummary(lines=2), 2))
    commit()

    event_store.delete_stream(stream_id)
    commit()
    assert lines(event_store, stream_id) == []

    event_store.append(
        Logged(line="new1"), Logged(line="new2"), Logged(line="new3"), stream_id=stream_id
    )
    commit()
    assert lines(event_store, stream_id) == [(1, "new1"), (2, "new2"), (3, "new3")]


def test_a_deleted_stream_can_be_recreated_from_version_one(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(Logged(line="a"), Logged(line="b"), Logged(line="c"), stream_id=stream_id)
    commit()
    event_store.delete_stream(stream_id)
    commit()

    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(Logged(line="x"), stream_id=stream_id, expected_version=3)
    event_store.append(Logged(line="again"), stream_id=stream_id)
    commit()

    assert lines(event_store, stream_id) == [(1, "again")]


def test_a_deleted_versionless_stream_can_be_recreated_with_versions(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(Logged(line="a"), stream_id=stream_id, expected_version=NO_VERSIONING)
    commit()
    event_store.delete_stream(stream_id)
    commit()

    event_store.append(Logged(line="b"), stream_id=stream_id, expected_version=0)
    commit()

    assert lines(event_store, stream_id) == [(1, "b")]


def test_deleting_a_named_stream_by_its_uuid_deletes_it(
    event_store: EventStore, commit: Commit
) -> None:
    named = StreamId(name="logs/1")
    event_store.append(Logged(line="a"), stream_id=named)
    commit()

    event_store.delete_stream(StreamId(uuid=named))
    commit()

    assert lines(event_store, StreamId(name="logs/1")) == []


def test_deleting_a_stream_without_category_leaves_the_same_uuid_in_a_category(
    event_store: EventStore, commit: Commit
) -> None:
    plain = StreamId()
    categorised = StreamId(uuid=plain, category="logs")
    event_store.append(Logged(line="plain"), stream_id=plain)
    event_store.append(Logged(line="categorised"), stream_id=categorised)
    commit()

    event_store.delete_stream(plain)
    commit()

    assert lines(event_store, plain) == []
    assert lines(event_store, categorised) == [(1, "categorised")]


def test_deleting_a_named_stream_frees_its_name(event_store: EventStore, commit: Commit) -> None:
    event_store.append(Logged(line="old"), stream_id=StreamId(name="logs/2"))
    commit()
    event_store.delete_stream(StreamId(name="logs/2"))
    commit()

    newcomer = OtherNamespaceStreamId(name="logs/2")
    event_store.append(Logged(line="new"), stream_id=newcomer)
    commit()

    assert lines(event_store, newcomer) == [(1, "new")]
    assert lines(event_store, StreamId(name="logs/2")) == []
