"""``DjangoOutboxStorageStrategy``: outbox rows written with the events, claimed by workers.

A run claims its entries with ``select_for_update(skip_locked=True)`` inside
``transaction.atomic`` — its own transaction in autocommit mode, a savepoint inside the caller's
``atomic`` block — so it never needs the caller to open one and several relays can run. SQLite
has no ``SKIP LOCKED``: a run takes the write lock first, so relays take turns. Each publish runs
in a savepoint, so a publisher whose own query fails costs an attempt, not the whole run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from django.db import transaction
from django.db.models import Q

from event_sourcery._core.outbox_entry import OutboxEntry, RetryPolicy, entry_data, record_from
from event_sourcery._core.records import RawEvent, RecordedRaw, utc_now
from event_sourcery._core.strategies import OutboxStorageStrategy
from event_sourcery_django.errors import translated_errors
from event_sourcery_django.models import OutboxEntry as OutboxRow
from event_sourcery_django.timestamps import from_db, to_db
from event_sourcery_django.write_lock import take_write_lock

Filterer = Callable[[RawEvent], bool]


class DjangoOutboxStorageStrategy(OutboxStorageStrategy):
    """The app's outbox table on database ``using``."""

    def __init__(self, filterer: Filterer, policy: RetryPolicy, using: str = "default") -> None:
        self._filterer = filterer
        self._policy = policy
        self._using = using

    def enqueue(self, records: list[RecordedRaw]) -> None:
        """Queue ``records`` that pass the filterer, in the appending transaction."""
        now = to_db(utc_now())
        rows = [
            OutboxRow(
                created_at=now,
                data=entry_data(record),
                stream_name=record.entry.stream_id.name,
                position=record.position,
                tries_left=self._policy.attempts,
                failures=0,
            )
            for record in records
            if self._filterer(record.entry)
        ]
        if rows:
            OutboxRow.objects.using(self._using).bulk_create(rows)

    def outbox_entries(self, limit: int) -> Iterator[AbstractContextManager[RecordedRaw]]:
        with translated_errors(), transaction.atomic(using=self._using):
            take_write_lock(self._using)  # SQLite has no SKIP LOCKED: one relay at a time
            now = to_db(utc_now())
            rows = list(
                OutboxRow.objects.using(self._using)
                .select_for_update(skip_locked=True)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .filter(tries_left__gt=0)
                .order_by("id")[:limit]
            )
            published: list[int] = []
            try:
                for row in rows:
                    yield self._publishing(row, published)
            finally:
                if published:
                    OutboxRow.objects.using(self._using).filter(id__in=published).delete()

    @contextmanager
    def _publishing(self, row: OutboxRow, published: list[int]) -> Iterator[RecordedRaw]:
        try:
            with transaction.atomic(using=self._using):  # a failing publisher's queries undone
                yield record_from(row.data, row.stream_name, row.position)
        except Exception as error:
            failed = self._policy.failed(row.tries_left, row.failures, error, utc_now())
            row.tries_left, row.failures = failed.attempts_left, failed.failures
            row.last_error, row.next_attempt_at = failed.last_error, to_db(failed.next_attempt_at)
            row.save(
                using=self._using,
                update_fields=["failures", "tries_left", "next_attempt_at", "last_error"],
            )
            raise
        else:
            published.append(int(row.pk))

    def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        with translated_errors():
            rows = OutboxRow.objects.using(self._using).filter(tries_left__lte=0).order_by("id")
            return [_entry(row) for row in rows[:limit]]

    def requeue(self, entry_ids: Sequence[int]) -> int:
        with translated_errors():
            return int(
                OutboxRow.objects.using(self._using)
                .filter(id__in=list(entry_ids), tries_left__lte=0)
                .update(tries_left=self._policy.attempts, next_attempt_at=None)
            )


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        id=int(row.pk),
        record=record_from(row.data, row.stream_name, row.position),
        attempts_left=row.tries_left,
        failures=row.failures,
        last_error=row.last_error,
        next_attempt_at=from_db(row.next_attempt_at) if row.next_attempt_at else None,
    )
