"""What the outbox keeps per queued event, and the retry policy applied to failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from event_sourcery._core.records import RawEvent, RecordedRaw
from event_sourcery._core.stream_id import StreamId, trusted_stream_id


@dataclass(frozen=True)
class OutboxEntry:
    """A queued event with its delivery bookkeeping (as dead-letter inspection shows it)."""

    id: int
    record: RecordedRaw
    attempts_left: int
    failures: int
    last_error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts an entry gets and how long to wait after each failure.

    The wait doubles after each failure, from ``backoff`` up to ``max_backoff``. With the
    default ``backoff`` of zero a failed entry is offered again on the next run (upstream
    behaviour).
    """

    attempts: int = 3
    backoff: timedelta = timedelta(0)
    max_backoff: timedelta = timedelta(minutes=5)

    def after_failure(
        self, attempts_left: int, failures: int, now: datetime
    ) -> tuple[int, datetime]:
        """Attempts left and the earliest next attempt after one more failure."""
        delay = min(self.backoff * (2 ** max(failures - 1, 0)), self.max_backoff)
        return attempts_left - 1, now + delay

    def failed(
        self, attempts_left: int, failures: int, error: BaseException, now: datetime
    ) -> FailedAttempt:
        """The bookkeeping of an entry after one more failed publication, ``error``."""
        left, next_attempt_at = self.after_failure(attempts_left, failures + 1, now)
        return FailedAttempt(
            attempts_left=left,
            failures=failures + 1,
            last_error=f"{type(error).__name__}: {error}"[:ERROR_LENGTH],
            next_attempt_at=next_attempt_at,
        )

    @staticmethod
    def exhausted(attempts_left: int) -> bool:
        return attempts_left <= 0


ERROR_LENGTH = 2000
"""How much of a publisher's error an entry keeps."""


@dataclass(frozen=True)
class FailedAttempt:
    """What an outbox entry records when its publication fails."""

    attempts_left: int
    failures: int
    last_error: str
    next_attempt_at: datetime


def entry_data(record: RecordedRaw) -> dict[str, Any]:
    """The outbox ``data`` JSON (SPEC §17.2) plus the stream category."""
    entry = record.entry
    return {
        "uuid": str(entry.uuid),
        "stream_id": str(entry.stream_id),
        "created_at": entry.created_at.isoformat(),
        "version": entry.version,
        "name": entry.name,
        "data": entry.data,
        "context": entry.context,
        "tenant_id": record.tenant_id,
        "category": entry.stream_id.category,
    }


def record_from(data: dict[str, Any], stream_name: str | None, position: int | None) -> RecordedRaw:
    """Rebuild the record of an outbox row (rows written by the existing library included)."""
    stream_id: StreamId = trusted_stream_id(
        UUID(data["stream_id"]), stream_name, data.get("category")
    )
    return RecordedRaw(
        entry=RawEvent(
            uuid=UUID(data["uuid"]),
            stream_id=stream_id,
            created_at=datetime.fromisoformat(data["created_at"]),
            name=data["name"],
            data=data["data"],
            context=data["context"],
            version=data["version"],
        ),
        position=position or 0,
        tenant_id=data.get("tenant_id", ""),
    )
