"""``InMemoryOutboxStorageStrategy``: pending entries, retries with backoff, dead letters."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime

from event_sourcery._core.outbox_entry import OutboxEntry, RetryPolicy
from event_sourcery._core.records import RecordedRaw, utc_now
from event_sourcery._core.strategies import OutboxStorageStrategy


@dataclass
class _Slot:
    record: RecordedRaw
    attempts_left: int
    failures: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    claimed: bool = False


class InMemoryOutboxStorageStrategy(OutboxStorageStrategy):
    """Entries in append order; several threads may run the outbox (claimed entries are skipped)."""

    def __init__(self, policy: RetryPolicy, clock: Callable[[], datetime] = utc_now) -> None:
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, _Slot] = {}
        self._dead: dict[int, _Slot] = {}

    def enqueue(self, records: Sequence[RecordedRaw]) -> list[int]:
        with self._lock:
            ids = [next(self._ids) for _ in records]
            for entry_id, record in zip(ids, records, strict=True):
                self._pending[entry_id] = _Slot(record, self._policy.attempts)
            return ids

    def discard(self, entry_ids: Sequence[int]) -> None:
        with self._lock:
            for entry_id in entry_ids:
                self._pending.pop(entry_id, None)

    def outbox_entries(self, limit: int) -> Iterator[AbstractContextManager[RecordedRaw]]:
        with self._lock:
            now = self._clock()
            due: list[int] = []
            for entry_id, slot in self._pending.items():
                if len(due) >= limit:
                    break
                if slot.claimed or (slot.next_attempt_at and slot.next_attempt_at > now):
                    continue
                slot.claimed = True
                due.append(entry_id)
        try:
            for entry_id in due:
                yield self._publishing(entry_id)
        finally:  # entries not offered (the run stopped early) become claimable again
            self._release(due)

    def _release(self, entry_ids: list[int]) -> None:
        with self._lock:
            for entry_id in entry_ids:
                slot = self._pending.get(entry_id)
                if slot is not None:
                    slot.claimed = False

    @contextmanager
    def _publishing(self, entry_id: int) -> Iterator[RecordedRaw]:
        slot = self._pending[entry_id]
        try:
            yield slot.record
        except Exception as error:
            with self._lock:
                failed = self._policy.failed(
                    slot.attempts_left, slot.failures, error, self._clock()
                )
                slot.attempts_left, slot.failures = failed.attempts_left, failed.failures
                slot.last_error, slot.next_attempt_at = failed.last_error, failed.next_attempt_at
                slot.claimed = False
                if self._policy.exhausted(slot.attempts_left):
                    self._dead[entry_id] = self._pending.pop(entry_id)
            raise
        else:
            with self._lock:
                self._pending.pop(entry_id, None)

    def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        with self._lock:
            return [_entry(i, s) for i, s in itertools.islice(self._dead.items(), limit)]

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        """Entries still waiting to be published, oldest first."""
        with self._lock:
            return [_entry(i, s) for i, s in itertools.islice(self._pending.items(), limit)]

    def requeue(self, entry_ids: Sequence[int]) -> int:
        with self._lock:
            moved = 0
            for entry_id in entry_ids:
                slot = self._dead.pop(entry_id, None)
                if slot is None:
                    continue
                slot.attempts_left, slot.next_attempt_at = self._policy.attempts, None
                self._pending[entry_id] = slot
                moved += 1
            # keep the pending queue in append order
            self._pending = dict(sorted(self._pending.items()))
            return moved


def _entry(entry_id: int, slot: _Slot) -> OutboxEntry:
    return OutboxEntry(
        id=entry_id,
        record=slot.record,
        attempts_left=slot.attempts_left,
        failures=slot.failures,
        last_error=slot.last_error,
        next_attempt_at=slot.next_attempt_at,
    )
