"""What the outbox keeps per queued event, and the retry policy applied to failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from event_sourcery._core.records import RecordedRaw


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

    @staticmethod
    def exhausted(attempts_left: int) -> bool:
        return attempts_left <= 0
