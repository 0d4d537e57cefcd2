"""Which stored events and snapshot a (ranged) stream load returns (SPEC §4.1, §8)."""

from __future__ import annotations

from collections.abc import Sequence

from event_sourcery._core.records import RawEvent


def in_range(version: int | None, start: int | None, stop: int | None) -> bool:
    """Whether ``version`` lies in ``[start, stop)``; open bounds are ``None``."""
    if start is None and stop is None:
        return True
    if version is None:
        return False
    return (start is None or version >= start) and (stop is None or version < stop)


def latest_snapshot(
    snapshots: Sequence[RawEvent], start: int | None, stop: int | None
) -> RawEvent | None:
    """The newest snapshot (greatest ``created_at``, then last saved) whose version is in range."""
    candidates = [s for s in snapshots if in_range(s.version, start, stop)]
    if not candidates:
        return None
    return max(enumerate(candidates), key=lambda pair: (pair[1].created_at, pair[0]))[1]


def stream_window(
    events: Sequence[RawEvent], snapshots: Sequence[RawEvent], start: int | None, stop: int | None
) -> list[RawEvent]:
    """The latest snapshot in range, then the in-range events it does not cover.

    ``events`` must be in stream order.
    """
    snapshot = latest_snapshot(snapshots, start, stop)
    selected = [e for e in events if in_range(e.version, start, stop)]
    if snapshot is None:
        return selected
    covered = snapshot.version if snapshot.version is not None else -1
    return [snapshot, *(e for e in selected if e.version is not None and e.version > covered)]
