"""``KurrentDBOutboxStorageStrategy``: the outbox as a persistent subscription to ``$all``.

The subscription group (``KurrentDBConfig.outbox_name``) is created on first use — the first
append through the backend or the first run — never while configuring, and starts "from end"
like a freshly configured outbox. It sees event streams only (snapshot, system and foreign
streams are filtered out on the server). Each run reads at most ``limit`` messages and stops
when no message arrives within ``outbox_wait``; the filterer is applied as messages are read
and rejected messages are acknowledged.

A failed publish is counted in a small failure stream of that event (see ``FailureLog``) and
the message is handed back to the server for a retry; after ``outbox_attempts`` failures it is
parked. The count is ours, not KurrentDB's retry count: the server also counts a message as
retried when a consumer stops with it in flight (every run ends that way), which would park
messages that never failed. The dead letters are the group's parked messages, with the failure
count and last error from their failure streams.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from uuid import UUID

from kurrentdbclient import KurrentDBClient, NewEvent, RecordedEvent, StreamState
from kurrentdbclient.common import AbstractPersistentSubscription
from kurrentdbclient.exceptions import (
    AlreadyExistsError,
    NotFoundError,
    WrongCurrentVersionError,
)

from event_sourcery._core.outbox_entry import ERROR_LENGTH, OutboxEntry
from event_sourcery._core.records import RecordedRaw
from event_sourcery._core.strategies import OutboxFiltererStrategy, OutboxStorageStrategy
from event_sourcery_kurrentdb import dto
from event_sourcery_kurrentdb.errors import translated_errors
from event_sourcery_kurrentdb.feed import Feed, FeedEnded
from event_sourcery_kurrentdb.stream import scope

FAILURE_EVENT = "event_sourcery.outbox_failure"
SERVER_RETRY_MARGIN = 10
"""Extra deliveries KurrentDB allows before it parks a message on its own (a consumer that
crashes while publishing never records a failure; the server's count stops it eventually)."""


@dataclass(frozen=True)
class Failures:
    """What the failure stream of one event says."""

    count: int
    last_error: str | None
    revision: int | StreamState


class FailureLog:
    """One stream per failing event: ``event_sourcery.outbox.<group>.failures.<event uuid>``.

    The name never matches an event-stream filter, so subscriptions and the outbox skip it.
    Each record holds the running count; appends carry the expected revision, so two relays
    never lose a count.
    """

    def __init__(self, client: KurrentDBClient, group: str, timeout: float | None) -> None:
        self._client = client
        self._group = group
        self._timeout = timeout

    def stream(self, event_id: UUID) -> str:
        return f"event_sourcery.outbox.{self._group}.failures.{event_id}"

    def read(self, event_id: UUID) -> Failures:
        try:
            last = self._client.get_stream(
                self.stream(event_id), backwards=True, limit=1, timeout=self._timeout
            )
        except NotFoundError:
            last = ()
        if not last:
            return Failures(0, None, StreamState.NO_STREAM)
        document = json.loads(last[0].data)
        return Failures(document["failures"], document["error"], last[0].stream_position)

    def record(self, event_id: UUID, error: Exception) -> int:
        """Count one more failure of ``event_id``; returns the new count."""
        text = f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
        while True:
            known = self.read(event_id)
            count = known.count + 1
            document = {"failures": count, "error": text}
            try:
                self._client.append_to_stream(
                    self.stream(event_id),
                    events=[NewEvent(type=FAILURE_EVENT, data=json.dumps(document).encode())],
                    current_version=known.revision,
                    timeout=self._timeout,
                )
            except WrongCurrentVersionError:
                continue  # another relay counted a failure meanwhile
            return count

    def forget(self, event_id: UUID) -> None:
        with suppress(NotFoundError):
            self._client.delete_stream(
                self.stream(event_id), current_version=StreamState.ANY, timeout=self._timeout
            )


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
        self._failures = FailureLog(client, name, timeout)
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
                    max_retry_count=self._attempts + SERVER_RETRY_MARGIN,
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
        except Exception as error:
            with translated_errors():
                failures = self._failures.record(event.id, error)
            subscription.nack(event, "park" if failures >= self._attempts else "retry")
            raise
        subscription.ack(event)
        if event.retry_count:  # delivered before: it may have failed, drop its count
            with translated_errors():
                self._failures.forget(event.id)

    def _parked(self, limit: int) -> list[RecordedRaw]:
        """The group's parked messages, oldest first."""
        try:
            parked = self._client.get_stream(
                self.parked_stream, resolve_links=True, limit=limit, timeout=self._timeout
            )
        except NotFoundError:
            return []
        return [record for record in map(dto.recorded, parked) if record is not None]

    def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        """The group's parked messages, oldest first, with their failures."""
        entries = []
        with translated_errors():
            for record in self._parked(limit):
                failures = self._failures.read(record.entry.uuid)
                entries.append(
                    OutboxEntry(
                        id=record.position,
                        record=record,
                        attempts_left=0,
                        failures=failures.count,
                        last_error=failures.last_error
                        or "parked by KurrentDB: delivered too often without an acknowledgement",
                    )
                )
        return entries

    def requeue(self, entry_ids: Sequence[int]) -> int:
        """Replay the parked messages if any of ``entry_ids`` is parked.

        KurrentDB replays a group's parked messages as a whole, so every parked message is
        requeued (with a fresh set of attempts); the count says how many.
        """
        wanted = set(entry_ids)
        with translated_errors():
            parked = self._parked(limit=sys.maxsize)
            if not any(record.position in wanted for record in parked):
                return 0
            for record in parked:
                self._failures.forget(record.entry.uuid)
            self._client.replay_parked_events(self._name, timeout=self._timeout)
        return len(parked)
