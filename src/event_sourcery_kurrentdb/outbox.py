"""``KurrentDBOutboxStorageStrategy``: the outbox as a persistent subscription to ``$all``.

The subscription group (``KurrentDBConfig.outbox_name``) is created on first use — the first
append through the backend or the first run — never while configuring, and starts "from end"
like a freshly configured outbox. It sees event streams only (snapshot, system and foreign
streams are filtered out on the server). Each run reads at most ``limit`` messages and stops
when no message arrives within ``outbox_wait``; the filterer is applied as messages are read
and rejected messages are acknowledged. A failed publish is retried (the server counts
retries); after ``outbox_attempts`` failures the message is parked — the dead letters are the
group's parked messages.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress

from kurrentdbclient import KurrentDBClient, RecordedEvent
from kurrentdbclient.common import AbstractPersistentSubscription
from kurrentdbclient.exceptions import AlreadyExistsError, NotFoundError

from event_sourcery._core.outbox_entry import OutboxEntry
from event_sourcery._core.records import RecordedRaw
from event_sourcery._core.strategies import OutboxFiltererStrategy, OutboxStorageStrategy
from event_sourcery_kurrentdb import dto
from event_sourcery_kurrentdb.errors import translated_errors
from event_sourcery_kurrentdb.feed import Feed, FeedEnded
from event_sourcery_kurrentdb.stream import scope

logger = logging.getLogger("event_sourcery.outbox")


class KurrentDBOutboxStorageStrategy(OutboxStorageStrategy):
    """Outbox entries of every tenant, delivered by a KurrentDB persistent subscription."""

    def __init__(
        self,
        client: KurrentDBClient,
        filterer: OutboxFiltererStrategy,
        *,
        name: str,
        attempts: int,
        wait: float,
        timeout: float | None = None,
    ) -> None:
        self._client = client
        self._filterer = filterer
        self._name = name
        self._attempts = attempts
        self._wait = wait
        self._timeout = timeout
        self._lock = threading.Lock()
        self._group_exists = False

    @property
    def parked_stream(self) -> str:
        """Where KurrentDB keeps the group's parked messages."""
        return f"$persistentsubscription-$all::{self._name}-parked"

    def ensure_group(self) -> None:
        """Create the persistent subscription if it does not exist yet (once per process)."""
        if self._group_exists:
            return
        with self._lock, translated_errors():
            if self._group_exists:
                return
            with suppress(AlreadyExistsError):
                self._client.create_subscription_to_all(
                    group_name=self._name,
                    from_end=True,
                    filter_include=[scope()],
                    filter_by_stream_name=True,
                    max_retry_count=self._attempts,
                    timeout=self._timeout,
                )
            self._group_exists = True

    def outbox_entries(self, limit: int) -> Iterator[AbstractContextManager[RecordedRaw]]:
        self.ensure_group()
        with translated_errors():
            subscription = self._client.read_subscription_to_all(
                self._name,
                event_buffer_size=max(limit, 1),
                max_ack_batch_size=1,  # acknowledge each message at once
                max_ack_delay=0.05,
                stopping_grace=0.05,
            )
        feed: Feed[RecordedEvent] = Feed(iter(subscription), subscription.stop)
        try:
            offered = 0
            while offered < limit:
                with translated_errors():
                    try:
                        event = feed.get(self._wait)
                    except FeedEnded:
                        return
                if event is None:
                    return
                record = dto.recorded(event)
                if record is None or not self._filterer(record.entry):
                    subscription.ack(event)
                    continue
                offered += 1
                yield self._publishing(subscription, event, record)
        finally:
            feed.close()

    @contextmanager
    def _publishing(
        self,
        subscription: AbstractPersistentSubscription,
        event: RecordedEvent,
        record: RecordedRaw,
    ) -> Iterator[RecordedRaw]:
        try:
            yield record
        except Exception:
            failures = (event.retry_count or 0) + 1
            subscription.nack(event, "park" if failures >= self._attempts else "retry")
            raise
        subscription.ack(event)

    def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        """The group's parked messages, oldest first."""
        with translated_errors():
            try:
                parked = self._client.get_stream(
                    self.parked_stream, resolve_links=True, limit=limit, timeout=self._timeout
                )
            except NotFoundError:
                return []
        entries = []
        for event in parked:
            record = dto.recorded(event)
            if record is not None:
                entries.append(
                    OutboxEntry(
                        id=record.position,
                        record=record,
                        attempts_left=0,
                        failures=self._attempts,
                    )
                )
        return entries

    def requeue(self, entry_ids: Sequence[int]) -> int:
        """Replay the parked messages if any of ``entry_ids`` is parked.

        KurrentDB replays a group's parked messages as a whole, so every parked message is
        requeued; the count says how many.
        """
        parked = self.dead_letters(limit=2**31 - 1)
        if not any(entry.id in set(entry_ids) for entry in parked):
            return 0
        with translated_errors():
            self._client.replay_parked_events(self._name, timeout=self._timeout)
        return len(parked)
