"""``SqlAlchemyOutboxStorageStrategy``: outbox rows written with the events, claimed by workers.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` where the database has it (PostgreSQL,
MariaDB 10.6+, MySQL 8), so several relays can run. A failure counts an attempt and schedules
the next one (``RetryPolicy``); an entry out of attempts stays as a dead letter
(``tries_left = 0``) until requeued. Everything runs in the caller's transaction: commit after
``outbox.run``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Connection, Row, Table, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from event_sourcery._core.outbox_entry import OutboxEntry, RetryPolicy, entry_data, record_from
from event_sourcery._core.records import RawEvent, RecordedRaw, utc_now
from event_sourcery._core.strategies import OutboxStorageStrategy
from event_sourcery_sqlalchemy.errors import mapped_table, translated_errors
from event_sourcery_sqlalchemy.models.base import BaseOutboxEntry
from event_sourcery_sqlalchemy.models.default import DefaultOutboxEntry

Filterer = Callable[[RawEvent], bool]


class SqlAlchemyOutboxStorageStrategy(OutboxStorageStrategy):
    """The outbox table of ``model`` in ``session``."""

    def __init__(
        self,
        session: Session,
        filterer: Filterer,
        policy: RetryPolicy,
        model: type[BaseOutboxEntry] = DefaultOutboxEntry,
    ) -> None:
        self._session = session
        self._filterer = filterer
        self._policy = policy
        self._table: Table = mapped_table(model)

    def enqueue(self, connection: Connection, records: list[RecordedRaw]) -> None:
        """Queue ``records`` that pass the filterer, in the appending transaction."""
        now = utc_now()
        rows = [
            {
                "created_at": now,
                "data": entry_data(record),
                "stream_name": record.entry.stream_id.name,
                "position": record.position,
                "tries_left": self._policy.attempts,
                "failures": 0,
            }
            for record in records
            if self._filterer(record.entry)
        ]
        if rows:
            connection.execute(insert(self._table), rows)

    def outbox_entries(self, limit: int) -> Iterator[AbstractContextManager[RecordedRaw]]:
        table = self._table
        with translated_errors():
            connection = self._session.connection()
            now = utc_now()
            rows = connection.execute(
                select(table)
                .where(
                    table.c.tries_left > 0,
                    or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now),
                )
                .order_by(table.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
        published: list[int] = []
        try:
            for row in rows:
                yield self._publishing(row, published)
        finally:  # one DELETE for the run (same transaction as the per-entry outcome)
            if published:
                with translated_errors():
                    self._session.connection().execute(
                        delete(table).where(table.c.id.in_(published))
                    )

    @contextmanager
    def _publishing(self, row: Row[Any], published: list[int]) -> Iterator[RecordedRaw]:
        table = self._table
        try:
            yield record_from(row.data, row.stream_name, row.position)
        except Exception as error:
            failed = self._policy.failed(row.tries_left, row.failures, error, utc_now())
            with translated_errors():
                self._session.connection().execute(
                    update(table)
                    .where(table.c.id == row.id)
                    .values(
                        tries_left=failed.attempts_left,
                        failures=failed.failures,
                        last_error=failed.last_error,
                        next_attempt_at=failed.next_attempt_at,
                    )
                )
            raise
        else:
            published.append(row.id)

    def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        table = self._table
        with translated_errors():
            rows = self._session.connection().execute(
                select(table).where(table.c.tries_left <= 0).order_by(table.c.id).limit(limit)
            )
            return [_entry(row) for row in rows]

    def requeue(self, entry_ids: Sequence[int]) -> int:
        table = self._table
        with translated_errors():
            result = self._session.connection().execute(
                update(table)
                .where(table.c.id.in_(list(entry_ids)), table.c.tries_left <= 0)
                .values(tries_left=self._policy.attempts, next_attempt_at=None)
            )
            return int(result.rowcount)


def _entry(row: Row[Any]) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        record=record_from(row.data, row.stream_name, row.position),
        attempts_left=row.tries_left,
        failures=row.failures,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
    )
