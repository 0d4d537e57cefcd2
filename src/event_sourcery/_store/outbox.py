"""``Outbox``: publishes queued events at least once through a publisher callable."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from event_sourcery._core.outbox_entry import OutboxEntry
from event_sourcery._core.records import RawEvent, Recorded
from event_sourcery._core.serde import Serde
from event_sourcery._core.strategies import OutboxStorageStrategy

logger = logging.getLogger("event_sourcery.outbox")


def no_filter(entry: RawEvent) -> bool:
    """The default outbox filterer: every event goes to the outbox."""
    return True


class Outbox:
    """Publishes pending entries; a failing publish is logged, counted and retried later."""

    def __init__(self, strategy: OutboxStorageStrategy, serde: Serde) -> None:
        self._strategy = strategy
        self._serde = serde

    def run(self, publisher: Callable[[Recorded], None], limit: int = 100) -> None:
        """Offer up to ``limit`` due entries (oldest first) to ``publisher``.

        An entry is removed once ``publisher`` returns; if it raises, the error is logged, the
        attempt counted and the run goes on. On transactional backends run this inside a
        transaction and commit afterwards.
        """
        for entry in self._strategy.outbox_entries(limit=limit):
            try:
                with entry as record:
                    publisher(self._serde.deserialize_record(record))
            except Exception:
                logger.exception("Publishing an outbox entry failed; it will be retried")

    def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        """Entries whose attempts are exhausted (kept, never dropped)."""
        return self._strategy.dead_letters(limit)

    def requeue(self, entry_ids: Sequence[int]) -> int:
        """Give dead letters a fresh set of attempts; returns how many were requeued."""
        return self._strategy.requeue(entry_ids)


class NoOutboxStorageStrategy(OutboxStorageStrategy):
    """The outbox of a backend without ``with_outbox()``: always empty."""

    def outbox_entries(self, limit: int):  # type: ignore[no-untyped-def]
        return iter(())

    def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        return []

    def requeue(self, entry_ids: Sequence[int]) -> int:
        return 0
