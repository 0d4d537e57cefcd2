"""Which events and snapshot a (ranged) load returns (SPEC §4.1, §8)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_sourcery import StreamId
from event_sourcery._core.stream_window import in_range, latest_snapshot, stream_window
from event_sourcery.event import RawEvent

T0 = datetime(2024, 1, 1)


def raw(version: int | None, minute: int = 0, name: str = "Event") -> RawEvent:
    return RawEvent(
        uuid=uuid4(),
        stream_id=StreamId(),
        created_at=T0 + timedelta(minutes=minute),
        name=name,
        data={},
        context={},
        version=version,
    )


def versions(events: list[RawEvent]) -> list[tuple[str, int | None]]:
    return [(e.name, e.version) for e in events]


EVENTS = [raw(v) for v in range(1, 6)]


@pytest.mark.parametrize(
    ("version", "start", "stop", "inside"),
    [
        (3, None, None, True),
        (None, None, None, True),
        (None, 1, None, False),
        (None, None, 5, False),
        (2, 2, None, True),
        (1, 2, None, False),
        (4, None, 5, True),
        (5, None, 5, False),
        (3, 2, 4, True),
        (4, 2, 4, False),
    ],
)
def test_in_range_is_start_inclusive_and_stop_exclusive(
    version: int | None, start: int | None, stop: int | None, inside: bool
) -> None:
    assert in_range(version, start, stop) is inside


def test_without_snapshots_the_range_selects_events_by_version() -> None:
    assert [e.version for e in stream_window(EVENTS, [], None, None)] == [1, 2, 3, 4, 5]
    assert [e.version for e in stream_window(EVENTS, [], 2, 5)] == [2, 3, 4]
    assert [e.version for e in stream_window(EVENTS, [], 4, None)] == [4, 5]
    assert [e.version for e in stream_window(EVENTS, [], None, 2)] == [1]
    assert stream_window(EVENTS, [], 6, None) == []
    assert stream_window([], [], None, None) == []


def test_a_snapshot_replaces_the_events_it_covers() -> None:
    snapshot = raw(3, name="Snapshot")

    assert versions(stream_window(EVENTS, [snapshot], None, None)) == [
        ("Snapshot", 3),
        ("Event", 4),
        ("Event", 5),
    ]


def test_a_ranged_load_uses_only_a_snapshot_inside_the_range() -> None:
    snapshot = raw(3, name="Snapshot")

    assert versions(stream_window(EVENTS, [snapshot], 2, 4)) == [("Snapshot", 3)]
    assert [e.version for e in stream_window(EVENTS, [snapshot], 4, None)] == [4, 5]
    assert [e.version for e in stream_window(EVENTS, [snapshot], 1, 3)] == [1, 2]


def test_the_newest_snapshot_is_the_one_created_last_then_saved_last() -> None:
    old = raw(4, minute=1, name="old")
    new = raw(2, minute=5, name="new")
    twin = raw(3, minute=5, name="twin")

    assert latest_snapshot([old, new], None, None) is new
    assert latest_snapshot([new, twin], None, None) is twin
    assert latest_snapshot([twin, new], None, None) is new
    assert latest_snapshot([old, new], 3, None) is old
    assert latest_snapshot([old], 5, None) is None
    assert latest_snapshot([], None, None) is None


def test_a_snapshot_of_a_versionless_stream_comes_first_before_versioned_events() -> None:
    snapshot = raw(None, name="Snapshot")

    assert versions(stream_window(EVENTS[:2], [snapshot], None, None)) == [
        ("Snapshot", None),
        ("Event", 1),
        ("Event", 2),
    ]
    assert versions(stream_window([raw(None)], [snapshot], None, None)) == [("Snapshot", None)]


@given(
    count=st.integers(0, 12),
    snapshot_at=st.none() | st.integers(1, 12),
    start=st.none() | st.integers(0, 13),
    stop=st.none() | st.integers(0, 13),
)
def test_a_window_is_sorted_in_range_and_contiguous_after_its_snapshot(
    count: int, snapshot_at: int | None, start: int | None, stop: int | None
) -> None:
    events = [raw(v) for v in range(1, count + 1)]
    snapshots = [raw(snapshot_at, name="Snapshot")] if snapshot_at is not None else []

    window = stream_window(events, snapshots, start, stop)

    window_versions = [e.version for e in window]
    assert window_versions == sorted(window_versions)  # type: ignore[type-var]
    assert all(in_range(v, start, stop) for v in window_versions)
    used = window[0].name == "Snapshot" if window else False
    first_event = (snapshot_at + 1) if used else (start or 1)  # type: ignore[operator]
    last_event = min(count, (stop - 1) if stop is not None else count)
    expected = list(range(max(first_event, start or 1), last_event + 1))
    assert [e.version for e in window if e.name == "Event"] == expected
