"""The interfaces backends implement. Each method's docstring states its guarantee."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from typing_extensions import Self

from event_sourcery._core.outbox_entry import OutboxEntry
from event_sourcery._core.records import Position, RawEvent, RecordedRaw
from event_sourcery._core.stream_id import StreamId, TenantId
from event_sourcery._core.versioning import Versioning


class StorageStrategy:
    """Reads and writes the streams of one tenant."""

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        """Events of the stream ordered by version, ``start`` inclusive and ``stop`` exclusive.

        The latest snapshot whose version lies in the range comes first and replaces the events
        it covers. An unknown stream gives ``[]``.
        """
        raise NotImplementedError

    def insert_events(
        self, stream_id: StreamId, versioning: Versioning, events: list[RawEvent]
    ) -> None:
        """Append atomically, applying ``plan_stored_version`` (the versioning rule).

        Creates the stream if needed, queues outbox entries and dispatches in-transaction
        listeners in the same transaction. Raises ``ConcurrentStreamWriteError`` or a
        ``VersioningMismatch`` and writes nothing when the rule rejects the append.
        """
        raise NotImplementedError

    def save_snapshot(self, snapshot: RawEvent) -> None:
        """Store a snapshot of ``snapshot.stream_id``; ``StreamNotFound`` if there is no stream."""
        raise NotImplementedError

    def delete_stream(self, stream_id: StreamId) -> None:
        """Delete the stream, its events and snapshots in this tenant; unknown streams: no-op."""
        raise NotImplementedError

    @property
    def current_position(self) -> Position | None:
        """Position of the last stored event of any tenant (``0`` when the store is empty)."""
        raise NotImplementedError

    def scoped_for_tenant(self, tenant_id: TenantId) -> Self:
        """The same storage seen as ``tenant_id``."""
        raise NotImplementedError


class SubscriptionStrategy:
    """Delivers stored events of every tenant in global position order.

    Each method returns an infinite iterator of batches: a full batch as soon as it is
    available, otherwise what arrived within ``timelimit`` (possibly ``[]``). Positions are
    exclusive: only events after ``start_from`` are delivered, each exactly once.
    """

    def subscribe_to_all(
        self, start_from: Position, batch_size: int, timelimit: timedelta
    ) -> Iterator[list[RecordedRaw]]:
        raise NotImplementedError

    def subscribe_to_category(
        self, start_from: Position, batch_size: int, timelimit: timedelta, category: str
    ) -> Iterator[list[RecordedRaw]]:
        raise NotImplementedError

    def subscribe_to_events(
        self, start_from: Position, batch_size: int, timelimit: timedelta, events: list[str]
    ) -> Iterator[list[RecordedRaw]]:
        raise NotImplementedError


class OutboxStorageStrategy:
    """Pending outbox entries, claimed for publishing."""

    def outbox_entries(self, limit: int) -> Iterator[AbstractContextManager[RecordedRaw]]:
        """Up to ``limit`` due entries, oldest first, each as a context manager.

        Leaving the context normally marks the entry published (removed); leaving it with an
        exception counts a failed attempt (the exception is swallowed by the caller). An entry
        whose attempts are exhausted becomes a dead letter.
        """
        raise NotImplementedError

    def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        """Entries whose attempts are exhausted, oldest first (kept for inspection)."""
        raise NotImplementedError

    def requeue(self, entry_ids: Sequence[int]) -> int:
        """Give dead letters a fresh set of attempts; returns how many were requeued."""
        raise NotImplementedError


@runtime_checkable
class OutboxFiltererStrategy(Protocol):
    """Decides whether an appended event is put into the outbox (``True`` = publish it)."""

    def __call__(self, entry: RawEvent) -> bool: ...


class EncryptionStrategy:
    """A cipher: ``encrypt`` text with a key into text, ``decrypt`` it back."""

    def encrypt(self, data: Any, key: bytes) -> str:
        raise NotImplementedError

    def decrypt(self, data: str, key: bytes) -> Any:
        raise NotImplementedError


class EncryptionKeyStorageStrategy:
    """Keys by data subject, per tenant. Deleting a key shreds the subject's data."""

    def get(self, subject_id: str) -> bytes | None:
        raise NotImplementedError

    def store(self, subject_id: str, key: bytes) -> None:
        raise NotImplementedError

    def delete(self, subject_id: str) -> None:
        raise NotImplementedError

    def scoped_for_tenant(self, tenant_id: TenantId) -> Self:
        raise NotImplementedError
