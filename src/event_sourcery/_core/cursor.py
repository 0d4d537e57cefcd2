"""Subscription rules: the time limit, the event selector and the batching cursor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from event_sourcery._core.records import Position, RecordedRaw
from event_sourcery.exceptions import IllegalCategoryName, InvalidTimelimit

Seconds = int | float
MIN_TIMELIMIT = timedelta(milliseconds=100)


def timebox(timelimit: Seconds | timedelta) -> timedelta:
    """Validate a subscription time limit (at least 100 ms) and return it as a timedelta."""
    limit = timelimit if isinstance(timelimit, timedelta) else timedelta(seconds=timelimit)
    if limit < MIN_TIMELIMIT:
        raise InvalidTimelimit(
            f"Timebox must be at least 100 milliseconds. Received: {limit.total_seconds():.2f}"
        )
    return limit


@dataclass(frozen=True)
class Selector:
    """Which events a subscription wants: all, one category, or some event type names."""

    category: str | None = None
    names: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.category is not None and not isinstance(self.category, str):
            raise IllegalCategoryName(
                f"Category must be a string, got {type(self.category).__name__}"
            )

    def matches(self, record: RecordedRaw) -> bool:
        if self.category is not None and (record.entry.stream_id.category or "") != self.category:
            return False
        return self.names is None or record.entry.name in self.names


ALL = Selector()


@dataclass(frozen=True)
class Fetched:
    """One read of a subscription source: matching records and where the next read starts.

    ``position`` may be past the last record when non-matching events were scanned.
    """

    records: list[RecordedRaw]
    position: Position


@dataclass
class BatchCursor:
    """The state of one subscription between reads: position and the batch being filled."""

    position: Position
    batch_size: int
    pending: list[RecordedRaw] = field(default_factory=list)

    @property
    def wanted(self) -> int:
        return self.batch_size - len(self.pending)

    @property
    def full(self) -> bool:
        return len(self.pending) >= self.batch_size

    def advance(self, fetched: Fetched) -> None:
        self.pending.extend(fetched.records)
        self.position = fetched.position  # not max(): positions need not grow in delivery order

    def take(self) -> list[RecordedRaw]:
        batch, self.pending = self.pending, []
        return batch


@dataclass
class OrderCursor:
    """The (order key, id) a subscription read last, behind its public int position.

    SQL subscriptions read in (order key, id) order (ADR 0006) while positions are row ids;
    resuming from another position needs the key looked up once, with ``key_at``.
    """

    key: int = -1
    row_id: Position = 0

    def resume(
        self, position: Position, key_at: Callable[[Position], int | None]
    ) -> tuple[int, int]:
        """The cursor to read after ``position``; ``key_at`` looks up a position's order key."""
        if position <= 0:
            return (-1, 0)
        if position != self.row_id:
            self.key, self.row_id = key_at(position) or 0, position
        return (self.key, self.row_id)

    def move(self, key: int | None, row_id: Position) -> None:
        """Remember the last row read."""
        self.key, self.row_id = key or 0, row_id
