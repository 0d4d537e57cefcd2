"""The subscription builder: ``start_from`` → optional filter → ``build_iter``/``build_batch``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from event_sourcery._core.cursor import Seconds, timebox
from event_sourcery._core.records import Position, Recorded, RecordedRaw
from event_sourcery._core.serde import Serde
from event_sourcery._core.strategies import SubscriptionStrategy
from event_sourcery.exceptions import IllegalCategoryName, MissingStartPosition


class BuildPhase(ABC):
    """The last step: build an iterator of records or of batches."""

    @abstractmethod
    def build_iter(self, timelimit: Seconds | timedelta) -> Iterator[Recorded | None]:
        """Infinite iterator: the next record, or ``None`` when none came within ``timelimit``."""

    @abstractmethod
    def build_batch(self, size: int, timelimit: Seconds | timedelta) -> Iterator[list[Recorded]]:
        """Infinite iterator of batches: full ones at once, else what came within ``timelimit``."""


class FilterPhase(BuildPhase):
    """Optionally narrow the subscription to a category or to event types."""

    @abstractmethod
    def to_category(self, category: str) -> BuildPhase: ...

    @abstractmethod
    def to_events(self, events: list[type[Any]]) -> BuildPhase: ...


class PositionPhase(ABC):
    """The first step: where the subscription starts (exclusive)."""

    @abstractmethod
    def start_from(self, position: Position) -> FilterPhase: ...


class SubscriptionBuilder(PositionPhase, FilterPhase):
    """Builds a subscription over a ``SubscriptionStrategy``; mutates and returns itself."""

    def __init__(self, serde: Serde, strategy: SubscriptionStrategy) -> None:
        self._serde = serde
        self._strategy = strategy
        self._start_from: Position | None = None
        self._category: str | None = None
        self._events: list[str] | None = None

    def start_from(self, position: Position) -> SubscriptionBuilder:
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise ValueError(f"start_from needs a position (an int >= 0), got {position!r}")
        self._start_from = position
        return self

    def to_category(self, category: str) -> SubscriptionBuilder:
        self._require_start()
        if not isinstance(category, str):
            raise IllegalCategoryName(f"Category must be a string, got {type(category).__name__}")
        self._category = category
        return self

    def to_events(self, events: list[type[Any]]) -> SubscriptionBuilder:
        self._require_start()
        self._events = [self._serde.registry.name_for_type(event) for event in events]
        return self

    def build_iter(self, timelimit: Seconds | timedelta) -> Iterator[Recorded | None]:
        return _Records(self._serde, self._batches(1, timebox(timelimit)))

    def build_batch(self, size: int, timelimit: Seconds | timedelta) -> Iterator[list[Recorded]]:
        return _Batches(self._serde, self._batches(size, timebox(timelimit)))

    def _batches(self, size: int, timelimit: timedelta) -> Iterator[list[RecordedRaw]]:
        start = self._require_start()
        if size < 1:
            raise ValueError(f"Batch size must be at least 1, got {size}")
        if self._category is not None:
            return self._strategy.subscribe_to_category(
                start_from=start, batch_size=size, timelimit=timelimit, category=self._category
            )
        if self._events is not None:
            return self._strategy.subscribe_to_events(
                start_from=start, batch_size=size, timelimit=timelimit, events=self._events
            )
        return self._strategy.subscribe_to_all(
            start_from=start, batch_size=size, timelimit=timelimit
        )

    def _require_start(self) -> Position:
        if self._start_from is None:
            raise MissingStartPosition(
                "Call start_from(position) first: start_from(0) reads from the beginning, "
                "start_from(event_store.position or 0) reads only new events"
            )
        return self._start_from


class _Batches(Iterator[list[Recorded]]):
    """Deserialised batches; a record that cannot be read is raised alone, then skipped.

    The records before it come first as a shorter batch; the next call raises its error
    (``UnknownEventName`` with ``position`` and ``record``); the call after that goes on with the
    records after it. Not a generator, so raising does not end the iteration.
    """

    def __init__(self, serde: Serde, raw_batches: Iterator[list[RecordedRaw]]) -> None:
        self._serde = serde
        self._raw_batches = raw_batches
        self._pending: list[RecordedRaw] = []

    def __next__(self) -> list[Recorded]:
        if not self._pending:
            batch = next(self._raw_batches)
            try:  # the hot path: the whole batch at once
                return [self._serde.deserialize_record(raw) for raw in batch]
            except Exception:
                self._pending = list(batch)  # find the record that fails, one by one
        records: list[Recorded] = []
        while self._pending:
            try:
                records.append(self._serde.deserialize_record(self._pending[0]))
            except Exception:
                if records:
                    return records
                del self._pending[0]
                raise
            del self._pending[0]
        return records

    def close(self) -> None:
        """End the subscription now and release what it holds (a ``LISTEN`` connection…)."""
        close = getattr(self._raw_batches, "close", None)
        if close is not None:
            close()


class _Records(Iterator[Recorded | None]):
    """``build_iter``: one record (or ``None`` on timeout) per call, over batches of one."""

    def __init__(self, serde: Serde, raw_batches: Iterator[list[RecordedRaw]]) -> None:
        self._batches = _Batches(serde, raw_batches)
        self._ready: deque[Recorded] = deque()

    def __next__(self) -> Recorded | None:
        if not self._ready:
            self._ready.extend(next(self._batches))
        return self._ready.popleft() if self._ready else None

    def close(self) -> None:
        """End the subscription now and release what it holds (a ``LISTEN`` connection…)."""
        self._batches.close()
