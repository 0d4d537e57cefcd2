"""SPEC §2.3, §4.4, §22 item 2: the category is part of a stream's identity in storage."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from event_sourcery import Event, EventStore, StreamId
from event_sourcery.exceptions import ConcurrentStreamWriteError

Commit = Callable[[], None]


class Counted(Event):
    n: int


def numbers(event_store: EventStore, stream_id: StreamId) -> list[tuple[int | None, int]]:
    return [(e.version, e.event.n) for e in event_store.load_stream(stream_id)]


def test_the_same_uuid_in_two_categories_is_two_streams(
    event_store: EventStore, commit: Commit
) -> None:
    shared = uuid.uuid4()
    first, second = StreamId(shared, category="c1"), StreamId(shared, category="c2")
    event_store.append(Counted(n=1), Counted(n=2), stream_id=first)
    commit()
    event_store.append(Counted(n=10), stream_id=second)
    commit()

    assert numbers(event_store, first) == [(1, 1), (2, 2)]
    assert numbers(event_store, second) == [(1, 10)]


def test_the_same_uuid_with_and_without_category_is_two_streams(
    event_store: EventStore, commit: Commit
) -> None:
    shared = uuid.uuid4()
    event_store.append(Counted(n=1), stream_id=StreamId(shared))
    event_store.append(Counted(n=2), stream_id=StreamId(shared, category="c"))
    commit()

    assert numbers(event_store, StreamId(shared)) == [(1, 1)]
    assert numbers(event_store, StreamId(shared, category="c")) == [(1, 2)]


def test_each_category_keeps_its_own_versions(event_store: EventStore, commit: Commit) -> None:
    shared = uuid.uuid4()
    first, second = StreamId(shared, category="c1"), StreamId(shared, category="c2")
    event_store.append(Counted(n=1), Counted(n=2), Counted(n=3), stream_id=first)
    commit()

    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(Counted(n=4), stream_id=second, expected_version=3)
    event_store.append(Counted(n=10), stream_id=second, expected_version=0)
    commit()
    event_store.append(Counted(n=4), stream_id=first, expected_version=3)
    commit()

    assert numbers(event_store, first) == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert numbers(event_store, second) == [(1, 10)]


def test_a_named_stream_in_two_categories_is_two_streams(
    event_store: EventStore, commit: Commit
) -> None:
    event_store.append(Counted(n=1), stream_id=StreamId(name="shared", category="c1"))
    event_store.append(Counted(n=2), stream_id=StreamId(name="shared", category="c2"))
    commit()

    assert numbers(event_store, StreamId(name="shared", category="c1")) == [(1, 1)]
    assert numbers(event_store, StreamId(name="shared", category="c2")) == [(1, 2)]


def test_deleting_a_named_stream_in_one_category_leaves_the_other_category(
    event_store: EventStore, commit: Commit
) -> None:
    in_c1 = StreamId(name="to-delete", category="c1")
    in_c2 = StreamId(name="to-delete", category="c2")
    event_store.append(Counted(n=1), stream_id=in_c1)
    event_store.append(Counted(n=2), Counted(n=3), stream_id=in_c2)
    commit()

    event_store.delete_stream(in_c1)
    commit()

    assert numbers(event_store, in_c1) == []
    assert numbers(event_store, in_c2) == [(1, 2), (2, 3)]


def test_a_category_is_not_loaded_by_the_bare_uuid(event_store: EventStore, commit: Commit) -> None:
    shared = uuid.uuid4()
    event_store.append(Counted(n=1), stream_id=StreamId(shared, category="c"))
    commit()

    assert numbers(event_store, StreamId(shared)) == []
    assert numbers(event_store, StreamId(shared, category="other")) == []


def test_category_none_and_empty_string_address_the_same_stored_stream(
    event_store: EventStore, commit: Commit
) -> None:
    # StreamIds with category None and "" differ in Python equality (SPEC §2.3), but SQL
    # stores None as "" and the store treats them as one stream (SPEC §16, §19 item 17).
    shared = uuid.uuid4()
    event_store.append(Counted(n=1), stream_id=StreamId(shared, category=None))
    commit()
    event_store.append(Counted(n=2), stream_id=StreamId(shared, category=""), expected_version=1)
    commit()

    assert numbers(event_store, StreamId(shared, category="")) == [(1, 1), (2, 2)]
    assert numbers(event_store, StreamId(shared)) == [(1, 1), (2, 2)]
