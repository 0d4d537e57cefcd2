"""SPEC §4.2-§4.3: how appends number events and when the stream's version forbids them.

"Our rule": the versioning mode is checked first; a non-zero ``expected_version`` must equal the
stored version; a version already used by the stream (or repeated in the batch) is a
``ConcurrentStreamWriteError`` even with ``expected_version=0``; on success the stored version
moves to the batch's last version. Nothing is written when an append is rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from event_sourcery import NO_VERSIONING, Event, EventStore, StreamId
from event_sourcery.event import WrappedEvent
from event_sourcery.exceptions import (
    ConcurrentStreamWriteError,
    EventStoreException,
    ExpectedVersionUsedOnVersionlessStream,
    NoExpectedVersionGivenOnVersionedStream,
    VersioningMismatch,
    VersionsDoNotMatchVersioning,
)


class Ticked(Event):
    n: int


Commit = Callable[[], None]


def ticks(*numbers: int) -> list[Ticked]:
    return [Ticked(n=n) for n in numbers]


def wrapped(*versions: int | None) -> list[WrappedEvent[Ticked]]:
    return [WrappedEvent.wrap(Ticked(n=v or 0), v) for v in versions]


def versions_of(events: Sequence[WrappedEvent[Any]]) -> list[int | None]:
    return [e.version for e in events]


def stream_with(event_store: EventStore, commit: Commit, count: int) -> StreamId:
    stream_id = StreamId()
    event_store.append(*ticks(*range(1, count + 1)), stream_id=stream_id)
    commit()
    return stream_id


# -- numbering -----------------------------------------------------------------------------------


def test_bare_events_on_a_new_stream_are_numbered_from_one(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 3)
    loaded = event_store.load_stream(stream_id)
    assert versions_of(loaded) == [1, 2, 3]
    assert [e.event.n for e in loaded] == [1, 2, 3]


def test_bare_events_are_numbered_after_the_expected_version(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 2)
    event_store.append(*ticks(3, 4), stream_id=stream_id, expected_version=2)
    commit()
    event_store.append(*ticks(5), stream_id=stream_id, expected_version=4)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2, 3, 4, 5]


def test_expected_version_one_after_one_event_is_accepted(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 1)
    event_store.append(*ticks(2), stream_id=stream_id, expected_version=1)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2]


def test_wrapped_events_keep_their_versions_and_are_not_renumbered(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 2)
    event_store.append(*wrapped(10, 11), stream_id=stream_id, expected_version=2)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2, 10, 11]


def test_a_new_stream_may_start_at_any_version(event_store: EventStore, commit: Commit) -> None:
    stream_id = StreamId()
    event_store.append(*wrapped(5, 6), stream_id=stream_id)
    commit()
    event_store.append(*ticks(7), stream_id=stream_id, expected_version=6)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [5, 6, 7]


def test_a_pre_numbered_batch_with_gaps_is_accepted(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(*wrapped(1, 3, 7), stream_id=stream_id)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1, 3, 7]
    event_store.append(*ticks(8), stream_id=stream_id, expected_version=7)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1, 3, 7, 8]


# -- optimistic lock with a non-zero expected version --------------------------------------------


def test_expected_version_on_an_empty_stream_is_a_concurrent_write_error(
    event_store: EventStore,
) -> None:
    stream_id = StreamId()
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(*ticks(1), stream_id=stream_id, expected_version=10)
    assert list(event_store.load_stream(stream_id)) == []


def test_a_stale_expected_version_is_a_concurrent_write_error(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 3)
    with pytest.raises(ConcurrentStreamWriteError) as caught:
        event_store.append(*ticks(9), stream_id=stream_id, expected_version=2)
    assert isinstance(caught.value, EventStoreException)
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2, 3]


def test_an_expected_version_ahead_of_the_stream_is_a_concurrent_write_error(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 3)
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(*wrapped(5), stream_id=stream_id, expected_version=4)
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2, 3]


def test_a_rejected_append_leaves_the_stored_version_unchanged(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 2)
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(*ticks(3, 4, 5), stream_id=stream_id, expected_version=1)
    event_store.append(*ticks(3), stream_id=stream_id, expected_version=2)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2, 3]


def test_two_writers_with_the_same_expected_version_only_the_first_wins(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 1)
    event_store.append(Ticked(n=20), stream_id=stream_id, expected_version=1)
    commit()
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(Ticked(n=30), stream_id=stream_id, expected_version=1)
    loaded = event_store.load_stream(stream_id)
    assert [(e.version, e.event.n) for e in loaded] == [(1, 1), (2, 20)]


# -- expected_version=0: no comparison, but no collisions either --------------------------------


def test_expected_version_zero_does_not_compare_with_the_stored_version(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 2)
    event_store.append(*wrapped(3, 4), stream_id=stream_id)
    commit()
    event_store.append(*wrapped(5), stream_id=stream_id, expected_version=0)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2, 3, 4, 5]


def test_expected_version_zero_still_rejects_a_taken_version(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(Ticked(n=1), stream_id=stream_id)
    commit()
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(Ticked(n=2), stream_id=stream_id)
    loaded = event_store.load_stream(stream_id)
    assert [(e.version, e.event.n) for e in loaded] == [(1, 1)]


def test_expected_version_zero_rejects_a_batch_overlapping_the_stream_and_writes_none_of_it(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 3)
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(*wrapped(3, 4), stream_id=stream_id)
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2, 3]
    event_store.append(*ticks(4), stream_id=stream_id, expected_version=3)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2, 3, 4]


def test_expected_version_zero_moves_the_stored_version_to_the_last_appended(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 2)
    event_store.append(*wrapped(3, 4), stream_id=stream_id)
    commit()
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(*ticks(3), stream_id=stream_id, expected_version=2)
    event_store.append(*ticks(5), stream_id=stream_id, expected_version=4)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2, 3, 4, 5]


def test_creating_the_same_new_stream_twice_is_a_concurrent_write_error(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(*ticks(1, 2), stream_id=stream_id, expected_version=0)
    commit()
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(*ticks(10, 20), stream_id=stream_id, expected_version=0)
    loaded = event_store.load_stream(stream_id)
    assert [e.event.n for e in loaded] == [1, 2]


def test_a_batch_repeating_a_version_is_rejected_and_writes_nothing(
    event_store: EventStore,
) -> None:
    stream_id = StreamId()
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(*wrapped(1, 2, 1), stream_id=stream_id)
    assert list(event_store.load_stream(stream_id)) == []


def test_a_batch_repeating_a_version_on_an_existing_stream_writes_nothing(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 2)
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(*wrapped(3, 3), stream_id=stream_id, expected_version=2)
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2]
    event_store.append(*ticks(3), stream_id=stream_id, expected_version=2)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2, 3]


def test_a_batch_filling_a_gap_does_not_roll_the_stored_version_back(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(*wrapped(1, 2, 5), stream_id=stream_id)
    commit()
    event_store.append(*wrapped(3), stream_id=stream_id)
    commit()
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(*ticks(4), stream_id=stream_id, expected_version=3)
    event_store.append(*ticks(6), stream_id=stream_id, expected_version=5)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2, 3, 5, 6]


def test_an_unsorted_pre_numbered_batch_leaves_the_stream_at_its_highest_version(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(*wrapped(7, 5, 6), stream_id=stream_id)
    commit()
    with pytest.raises(ConcurrentStreamWriteError):
        event_store.append(*wrapped(8), stream_id=stream_id, expected_version=6)
    event_store.append(*ticks(8), stream_id=stream_id, expected_version=7)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [5, 6, 7, 8]


# -- versionless streams -------------------------------------------------------------------------


def test_no_versioning_stores_events_without_versions_in_append_order(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(*ticks(1, 2), stream_id=stream_id, expected_version=NO_VERSIONING)
    commit()
    event_store.append(*ticks(3), stream_id=stream_id, expected_version=NO_VERSIONING)
    commit()

    loaded = event_store.load_stream(stream_id)

    assert versions_of(loaded) == [None, None, None]
    assert [e.event.n for e in loaded] == [1, 2, 3]


def test_no_versioning_accepts_wrapped_events_without_versions(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(*wrapped(None, None), stream_id=stream_id, expected_version=NO_VERSIONING)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [None, None]


@pytest.mark.parametrize("expected_version", [0, 1, 5])
def test_an_integer_expected_version_on_a_versionless_stream_is_a_versioning_mismatch(
    event_store: EventStore, commit: Commit, expected_version: int
) -> None:
    stream_id = StreamId()
    event_store.append(*ticks(1), stream_id=stream_id, expected_version=NO_VERSIONING)
    commit()
    with pytest.raises(ExpectedVersionUsedOnVersionlessStream) as caught:
        event_store.append(*ticks(2), stream_id=stream_id, expected_version=expected_version)
    assert isinstance(caught.value, VersioningMismatch)
    assert versions_of(event_store.load_stream(stream_id)) == [None]


def test_pre_numbered_events_on_a_versionless_stream_are_a_versioning_mismatch(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(*ticks(1), stream_id=stream_id, expected_version=NO_VERSIONING)
    commit()
    with pytest.raises(ExpectedVersionUsedOnVersionlessStream):
        event_store.append(*wrapped(1), stream_id=stream_id)
    assert versions_of(event_store.load_stream(stream_id)) == [None]


def test_no_versioning_on_a_versioned_stream_is_a_versioning_mismatch(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 2)
    with pytest.raises(NoExpectedVersionGivenOnVersionedStream) as caught:
        event_store.append(*ticks(3), stream_id=stream_id, expected_version=NO_VERSIONING)
    assert isinstance(caught.value, VersioningMismatch)
    assert versions_of(event_store.load_stream(stream_id)) == [1, 2]


def test_the_versioning_mode_is_checked_before_the_expected_version(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(*ticks(1), stream_id=stream_id, expected_version=NO_VERSIONING)
    commit()
    # A wrong expected version on a versionless stream: the mode mismatch is what is reported.
    with pytest.raises(ExpectedVersionUsedOnVersionlessStream):
        event_store.append(*ticks(2), stream_id=stream_id, expected_version=7)


def test_no_versioning_with_versioned_wrapped_events_is_rejected(
    event_store: EventStore,
) -> None:
    stream_id = StreamId()
    with pytest.raises(VersionsDoNotMatchVersioning) as caught:
        event_store.append(*wrapped(1, 2), stream_id=stream_id, expected_version=NO_VERSIONING)
    assert isinstance(caught.value, VersioningMismatch)
    assert list(event_store.load_stream(stream_id)) == []


def test_no_versioning_with_partly_versioned_wrapped_events_is_rejected(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    event_store.append(*ticks(1), stream_id=stream_id, expected_version=NO_VERSIONING)
    commit()
    with pytest.raises(VersionsDoNotMatchVersioning):
        event_store.append(*wrapped(None, 3), stream_id=stream_id, expected_version=NO_VERSIONING)
    assert versions_of(event_store.load_stream(stream_id)) == [None]


def test_an_unversioned_wrapped_event_in_a_versioned_append_is_rejected(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = stream_with(event_store, commit, 1)
    with pytest.raises(VersionsDoNotMatchVersioning):
        event_store.append(*wrapped(2, None), stream_id=stream_id, expected_version=1)
    assert versions_of(event_store.load_stream(stream_id)) == [1]


def test_unversioned_wrapped_events_do_not_silently_create_a_versionless_stream(
    event_store: EventStore, commit: Commit
) -> None:
    stream_id = StreamId()
    with pytest.raises(VersionsDoNotMatchVersioning):
        event_store.append(*wrapped(None), stream_id=stream_id)
    assert list(event_store.load_stream(stream_id)) == []
    event_store.append(*ticks(1), stream_id=stream_id)
    commit()
    assert versions_of(event_store.load_stream(stream_id)) == [1]
