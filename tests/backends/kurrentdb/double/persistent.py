"""Persistent subscription groups and the ``PersistentSubscriptions`` service of the double.

All group state is guarded by the log's lock (``EventLog.cond``), so consumers wake up
on new events, acks and nacks alike.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

import grpc
from kurrentdbclient.protos.v1 import persistent_pb2, persistent_pb2_grpc, shared_pb2

from .filters import EventFilter, filter_from_options
from .log import LINK_EVENT_TYPE, EventLog, Proposed, Record, StreamNotFound, metastream_of
from .messages import fill_read_event
from .streams import POLL_SECONDS, Context, abort, abort_reset, uuid_string

ALL = "$all"
_STRATEGIES = {0: "DispatchToSingle", 1: "RoundRobin", 2: "Pinned"}
#: The consumer strategies KurrentDB knows; any other name is refused.
KNOWN_STRATEGIES = frozenset({"DispatchToSingle", "RoundRobin", "Pinned", "PinnedByCorrelation"})
#: KurrentDB checks message timeouts on a timer that ticks once a second.
TIMEOUT_TICK_SECONDS = 1.0
_Nack = persistent_pb2.ReadReq.Nack


class GroupNotFound(Exception):
    pass


class GroupExists(Exception):
    pass


class TooManyConsumers(Exception):
    pass


class InvalidSettings(Exception):
    """Settings KurrentDB refuses (the client sees ``InternalError``)."""


@dataclass
class Settings:
    resolve_links: bool
    max_retry_count: int
    message_timeout_ms: int
    max_subscriber_count: int
    consumer_strategy: str
    live_buffer_size: int
    read_batch_size: int
    history_buffer_size: int
    checkpoint_after_ms: int
    min_checkpoint_count: int
    max_checkpoint_count: int
    extra_statistics: bool

    @classmethod
    def from_message(cls, settings: Any) -> Settings:
        def millis(name: str) -> int:
            which = settings.WhichOneof(name)
            if which == f"{name}_ticks":
                return int(getattr(settings, which) // 10_000)
            return int(getattr(settings, f"{name}_ms"))

        strategy = getattr(settings, "consumer_strategy", "") or _STRATEGIES.get(
            settings.named_consumer_strategy, "DispatchToSingle"
        )
        return cls(
            resolve_links=settings.resolve_links,
            max_retry_count=settings.max_retry_count,
            message_timeout_ms=millis("message_timeout"),
            max_subscriber_count=settings.max_subscriber_count,
            consumer_strategy=strategy,
            live_buffer_size=settings.live_buffer_size,
            read_batch_size=settings.read_batch_size,
            history_buffer_size=settings.history_buffer_size,
            checkpoint_after_ms=millis("checkpoint_after"),
            min_checkpoint_count=settings.min_checkpoint_count,
            max_checkpoint_count=settings.max_checkpoint_count,
            extra_statistics=settings.extra_statistics,
        )

    def check(self) -> None:
        """Raise ``InvalidSettings`` for what KurrentDB refuses to create or update."""
        if self.consumer_strategy not in KNOWN_STRATEGIES:
            raise InvalidSettings(f"Consumer strategy {self.consumer_strategy} does not exist.")
        if self.read_batch_size >= self.history_buffer_size:
            raise InvalidSettings(
                f"Read batch size ({self.read_batch_size}) must be less than the history "
                f"buffer size ({self.history_buffer_size})."
            )


@dataclass(frozen=True)
class Message:
    """A log record on its way to consumers (a link record when links are resolved)."""

    record: Record
    retry_count: int

    @property
    def key(self) -> str:
        return self.record.event_id


@dataclass(eq=False)
class Consumer:
    group: Group
    buffer_size: int
    connection_name: str
    in_flight: int = 0
    total_items: int = 0
    closed: bool = False


@dataclass
class _InFlight:
    message: Message
    consumer: Consumer
    deadline: float | None


@dataclass(eq=False)
class Group:
    """One persistent subscription group: a cursor over its source, a retry queue (kept in
    log order, served before new events) and the messages in flight to its consumers."""

    log: EventLog
    source: str
    name: str
    settings: Settings
    event_filter: EventFilter | None
    start_from: str
    cursor: int
    live_from: int = 0  # index in the source where live events (not history) begin
    retry: list[tuple[int, int, Message]] = field(default_factory=list)
    in_flight: dict[str, _InFlight] = field(default_factory=dict)
    consumers: list[Consumer] = field(default_factory=list)
    deleted: bool = False
    total_items: int = 0
    last_known: Record | None = None
    next_tick: float = field(default_factory=lambda: time.monotonic() + TIMEOUT_TICK_SECONDS)
    _sequence: Iterator[int] = field(default_factory=itertools.count)

    @property
    def subscription_id(self) -> str:
        return f"{self.source}::{self.name}"

    @property
    def parked_stream(self) -> str:
        return f"$persistentsubscription-{self.subscription_id}-parked"

    def _source_records(self) -> list[Record]:
        return self.log.records if self.source == ALL else self.log.stream_list(self.source)

    def _wanted(self, record: Record) -> bool:
        if self.source != ALL:
            return self.log.is_visible(record)
        if self.event_filter is None:  # KurrentDB's default: no system (``$``) streams
            return not record.stream.startswith("$")
        return self.event_filter.matches(record)

    def live_buffer_count(self) -> int:
        """Live events (appended after the group started) waiting for a consumer."""
        records = self._source_records()
        start = max(self.cursor, self.live_from)
        waiting = sum(1 for record in records[start:] if self._wanted(record))
        return min(waiting, self.settings.live_buffer_size)

    def next_message(self) -> Message | None:
        if self.retry:
            return heapq.heappop(self.retry)[2]
        records = self._source_records()
        while self.cursor < len(records):
            record = records[self.cursor]
            self.cursor += 1
            if self._wanted(record):
                self.last_known = record
                return Message(record, 0)
        return None

    def requeue(self, message: Message) -> None:
        heapq.heappush(self.retry, (message.record.index, next(self._sequence), message))

    def dispatch(self, message: Message, consumer: Consumer) -> None:
        timeout = self.settings.message_timeout_ms
        deadline = time.monotonic() + timeout / 1000 if timeout > 0 else None
        self.in_flight[message.key] = _InFlight(message, consumer, deadline)
        consumer.in_flight += 1

    def _settle(self, key: str) -> Message | None:
        entry = self.in_flight.pop(key, None)
        if entry is None:
            return None
        entry.consumer.in_flight -= 1
        entry.consumer.total_items += 1
        self.total_items += 1
        return entry.message

    def ack(self, keys: list[str]) -> None:
        for key in keys:
            self._settle(key)

    def nack(self, keys: list[str], action: int, consumer: Consumer) -> None:
        for key in keys:
            message = self._settle(key)
            if message is None:
                continue
            if action == _Nack.Park:
                self.park(message)
            elif action == _Nack.Skip:
                pass
            else:  # Retry, Unknown and Stop: the message is retried
                self.retry_or_park(message)
        if action == _Nack.Stop:
            self.disconnect(consumer)

    def retry_or_park(self, message: Message) -> None:
        if message.retry_count >= self.settings.max_retry_count:
            self.park(message)
        else:
            self.requeue(Message(message.record, message.retry_count + 1))

    def park(self, message: Message) -> None:
        """Write a link to the message's event into the group's parked stream."""
        record = message.record
        link = Proposed(
            event_id=str(uuid.uuid4()),
            type=LINK_EVENT_TYPE,
            content_type="application/octet-stream",
            data=f"{record.revision}@{record.stream}".encode(),
            custom_metadata=b"",
        )
        self.log.append(self.parked_stream, "any", [link])

    def expire(self, now: float) -> None:
        """On each one-second tick, retry the messages whose consumer did not settle them
        within message_timeout."""
        if now < self.next_tick:
            return
        while self.next_tick <= now:
            self.next_tick += TIMEOUT_TICK_SECONDS
        expired = [
            k for k, e in self.in_flight.items() if e.deadline is not None and e.deadline <= now
        ]
        for key in expired:
            entry = self.in_flight.pop(key)
            entry.consumer.in_flight -= 1
            self.retry_or_park(entry.message)

    def disconnect(self, consumer: Consumer) -> None:
        """The consumer is gone: its unsettled messages are retried."""
        if consumer.closed:
            return
        consumer.closed = True
        if consumer in self.consumers:
            self.consumers.remove(consumer)
        for key in [k for k, e in self.in_flight.items() if e.consumer is consumer]:
            entry = self.in_flight.pop(key)
            self.retry_or_park(entry.message)
        consumer.in_flight = 0

    def parked(self) -> list[Record]:
        try:
            return self.log.read_stream(self.parked_stream)
        except StreamNotFound:
            return []

    def replay_parked(self, limit: int | None) -> None:
        """Requeue parked messages (retry count 0), then truncate the parked stream."""
        links = self.parked()
        if limit is not None:
            links = links[:limit]
        if not links:
            return
        for link in links:
            target = self.log.resolve_link(link)
            if target is not None:
                self.requeue(Message(target, 0))
        metadata = {**self.log.metadata(self.parked_stream), "$tb": links[-1].revision + 1}
        self.log.append(
            metastream_of(self.parked_stream),
            "any",
            [
                Proposed(
                    event_id=str(uuid.uuid4()),
                    type="$metadata",
                    content_type="application/json",
                    data=_json(metadata),
                    custom_metadata=b"",
                )
            ],
        )

    def info(self) -> persistent_pb2.SubscriptionInfo:
        s = self.settings
        last = self.last_known
        if last is None:
            known = ""
        elif self.source == ALL:
            known = f"C:{last.position}/P:{last.position}"
        else:
            known = str(last.revision)
        return persistent_pb2.SubscriptionInfo(
            event_source=self.source,
            group_name=self.name,
            status="Live",
            connections=[
                persistent_pb2.SubscriptionInfo.ConnectionInfo(
                    **{"from": "127.0.0.1"},  # type: ignore[arg-type]
                    username="",
                    total_items=c.total_items,
                    available_slots=max(0, c.buffer_size - c.in_flight),
                    in_flight_messages=c.in_flight,
                    connection_name=c.connection_name,
                )
                for c in self.consumers
            ],
            total_items=self.total_items,
            last_checkpointed_event_position=known,
            last_known_event_position=known,
            resolve_link_tos=s.resolve_links,
            start_from=self.start_from,
            message_timeout_milliseconds=s.message_timeout_ms,
            extra_statistics=s.extra_statistics,
            max_retry_count=s.max_retry_count,
            live_buffer_size=s.live_buffer_size,
            buffer_size=s.history_buffer_size,
            read_batch_size=s.read_batch_size,
            check_point_after_milliseconds=s.checkpoint_after_ms,
            min_check_point_count=s.min_checkpoint_count,
            max_check_point_count=s.max_checkpoint_count,
            retry_buffer_count=len(self.retry),
            live_buffer_count=self.live_buffer_count(),
            total_in_flight_messages=len(self.in_flight),
            outstanding_messages_count=len(self.in_flight),
            named_consumer_strategy=s.consumer_strategy,
            max_subscriber_count=s.max_subscriber_count,
            parked_message_count=len(self.parked()),
        )


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


class PersistentSubscriptions:
    """The groups, keyed by (source, group name); source is ``$all`` or a stream name."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self._groups: dict[tuple[str, str], Group] = {}

    def reset(self) -> None:
        with self.log.cond:
            for group in self._groups.values():
                group.deleted = True
            self._groups.clear()

    def get(self, source: str, name: str) -> Group:
        with self.log.cond:
            group = self._groups.get((source, name))
            if group is None:
                raise GroupNotFound
            return group

    def create(self, options: Any) -> None:
        log = self.log
        with log.cond:
            settings = Settings.from_message(options.settings)
            settings.check()
            event_filter: EventFilter | None = None
            if options.WhichOneof("stream_option") == "all":
                source = ALL
                which = options.all.WhichOneof("all_option")
                position = options.all.position.commit_position
                if which == "position":
                    cursor, start = log.index_at_or_after(position), f"C:{position}/P:{position}"
                elif which == "end":
                    cursor, start = len(log.records), "C:-1/P:-1"
                else:
                    cursor, start = 0, "C:0/P:0"
                event_filter = filter_from_options(options.all)
            else:
                stream_options = options.stream
                source = stream_options.stream_identifier.stream_name.decode()
                if not source:
                    source = options.stream_identifier.stream_name.decode()
                which = stream_options.WhichOneof("revision_option")
                if which == "revision":
                    cursor, start = stream_options.revision, str(stream_options.revision)
                elif which == "end":
                    cursor, start = len(log.stream_list(source)), "-1"
                else:
                    cursor, start = 0, "0"
            key = (source, options.group_name)
            if key in self._groups:
                raise GroupExists
            live_from = len(log.records) if source == ALL else len(log.stream_list(source))
            self._groups[key] = Group(
                log, source, options.group_name, settings, event_filter, start, cursor, live_from
            )

    def update(self, source: str, name: str, settings: Settings) -> None:
        settings.check()
        with self.log.cond:
            self.get(source, name).settings = settings

    def delete(self, source: str, name: str) -> None:
        with self.log.cond:
            group = self._groups.pop((source, name), None)
            if group is None:
                raise GroupNotFound
            group.deleted = True
            self.log.cond.notify_all()

    def groups(self, source: str | None) -> list[Group]:
        with self.log.cond:
            return [g for g in self._groups.values() if source is None or g.source == source]

    def connect(self, source: str, name: str, buffer_size: int, connection_name: str) -> Consumer:
        with self.log.cond:
            group = self.get(source, name)
            limit = group.settings.max_subscriber_count
            if limit > 0 and len(group.consumers) >= limit:
                raise TooManyConsumers
            consumer = Consumer(group, max(1, buffer_size), connection_name)
            group.consumers.append(consumer)
            return consumer

    def disconnect(self, consumer: Consumer) -> None:
        with self.log.cond:
            consumer.group.disconnect(consumer)
            self.log.cond.notify_all()

    def settle(self, consumer: Consumer, request: persistent_pb2.ReadReq) -> None:
        which = request.WhichOneof("content")
        with self.log.cond:
            if which == "ack":
                consumer.group.ack([uuid_string(i).lower() for i in request.ack.ids])
            elif which == "nack":
                keys = [uuid_string(i).lower() for i in request.nack.ids]
                consumer.group.nack(keys, request.nack.action, consumer)
            self.log.cond.notify_all()

    def take(self, consumer: Consumer, context: Context, epoch: int) -> list[Message] | None:
        """Wait for messages the consumer has room for; None when its call is over."""
        log = self.log
        group = consumer.group
        with log.cond:
            while True:
                if log.epoch != epoch:
                    abort_reset(context)
                if group.deleted:
                    abort(
                        context,
                        grpc.StatusCode.CANCELLED,
                        f"Subscription group '{group.name}' on stream '{group.source}'"
                        " was dropped.",
                    )
                if consumer.closed or not context.is_active():
                    return None
                group.expire(time.monotonic())
                messages: list[Message] = []
                while consumer.in_flight < consumer.buffer_size:
                    message = group.next_message()
                    if message is None:
                        break
                    group.dispatch(message, consumer)
                    messages.append(message)
                if messages:
                    return messages
                log.cond.wait(POLL_SECONDS)


class PersistentSubscriptionsServicer(persistent_pb2_grpc.PersistentSubscriptionsServicer):
    """Create, Update, Delete, Read, GetInfo, ReplayParked, List, RestartSubsystem."""

    def __init__(self, groups: PersistentSubscriptions) -> None:
        self._groups = groups
        self._log = groups.log

    def Create(
        self, request: persistent_pb2.CreateReq, context: Context
    ) -> persistent_pb2.CreateResp:
        try:
            self._groups.create(request.options)
        except InvalidSettings as error:
            abort(context, grpc.StatusCode.INTERNAL, str(error))
        except GroupExists:
            options = request.options
            source = ALL if options.WhichOneof("stream_option") == "all" else _stream(options)
            abort(
                context,
                grpc.StatusCode.ALREADY_EXISTS,
                f"Subscription group {options.group_name} on stream {source} exists.",
            )
        return persistent_pb2.CreateResp()

    def Update(
        self, request: persistent_pb2.UpdateReq, context: Context
    ) -> persistent_pb2.UpdateResp:
        options = request.options
        source = ALL if options.WhichOneof("stream_option") == "all" else _stream(options)
        try:
            self._groups.update(source, options.group_name, Settings.from_message(options.settings))
        except InvalidSettings as error:
            abort(context, grpc.StatusCode.INTERNAL, str(error))
        except GroupNotFound:
            _abort_not_found(context, source, options.group_name)
        return persistent_pb2.UpdateResp()

    def Delete(
        self, request: persistent_pb2.DeleteReq, context: Context
    ) -> persistent_pb2.DeleteResp:
        source, name = _source_and_group(request.options)
        try:
            self._groups.delete(source, name)
        except GroupNotFound:
            _abort_not_found(context, source, name)
        return persistent_pb2.DeleteResp()

    def GetInfo(
        self, request: persistent_pb2.GetInfoReq, context: Context
    ) -> persistent_pb2.GetInfoResp:
        source, name = _source_and_group(request.options)
        with self._log.cond:
            try:
                info = self._groups.get(source, name).info()
            except GroupNotFound:
                _abort_not_found(context, source, name)
        return persistent_pb2.GetInfoResp(subscription_info=info)

    def List(self, request: persistent_pb2.ListReq, context: Context) -> persistent_pb2.ListResp:
        options = request.options
        source: str | None = None
        if options.WhichOneof("list_option") == "list_for_stream":
            stream_option = options.list_for_stream
            if stream_option.WhichOneof("stream_option") == "all":
                source = ALL
            else:
                source = stream_option.stream.stream_name.decode()
        with self._log.cond:
            infos = [group.info() for group in self._groups.groups(source)]
        return persistent_pb2.ListResp(subscriptions=infos)

    def ReplayParked(
        self, request: persistent_pb2.ReplayParkedReq, context: Context
    ) -> persistent_pb2.ReplayParkedResp:
        options = request.options
        source, name = _source_and_group(options)
        limit = options.stop_at if options.WhichOneof("stop_at_option") == "stop_at" else None
        with self._log.cond:
            try:
                self._groups.get(source, name).replay_parked(limit)
            except GroupNotFound:
                _abort_not_found(context, source, name)
            self._log.cond.notify_all()
        return persistent_pb2.ReplayParkedResp()

    def RestartSubsystem(self, request: shared_pb2.Empty, context: Context) -> shared_pb2.Empty:
        return shared_pb2.Empty()

    def Read(
        self, request_iterator: Iterator[persistent_pb2.ReadReq], context: Context
    ) -> Iterator[persistent_pb2.ReadResp]:
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("content") != "options":
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "Options expected first")
        options = first.options
        source, name = _source_and_group(options)
        metadata = dict(context.invocation_metadata())
        connection_name = str(metadata.get("connection-name", ""))
        with self._log.cond:
            epoch = self._log.epoch
            try:
                consumer = self._groups.connect(source, name, options.buffer_size, connection_name)
            except GroupNotFound:
                _abort_not_found(context, source, name)
            except TooManyConsumers:
                abort(context, grpc.StatusCode.FAILED_PRECONDITION, "Maximum subscriptions reached")
        context.add_callback(lambda: self._groups.disconnect(consumer))
        threading.Thread(
            target=self._settle_requests,
            args=(request_iterator, consumer),
            name=f"kurrentdb-double-acks-{name}",
            daemon=True,
        ).start()
        yield persistent_pb2.ReadResp(
            subscription_confirmation=persistent_pb2.ReadResp.SubscriptionConfirmation(
                subscription_id=f"{source}::{name}"
            )
        )
        try:
            while True:
                messages = self._groups.take(consumer, context, epoch)
                if messages is None:
                    return
                for message in messages:
                    yield self._event_resp(consumer.group, message)
        finally:
            self._groups.disconnect(consumer)

    def _settle_requests(
        self, request_iterator: Iterator[persistent_pb2.ReadReq], consumer: Consumer
    ) -> None:
        try:
            for request in request_iterator:
                self._groups.settle(consumer, request)
        except Exception:  # the call ended (cancelled, deadline, stop): nothing to settle
            return

    def _event_resp(self, group: Group, message: Message) -> persistent_pb2.ReadResp:
        response = persistent_pb2.ReadResp()
        record = message.record
        if group.settings.resolve_links and record.type == LINK_EVENT_TYPE:
            target = self._log.resolve_link(record)
            fill_read_event(response.event, record, resolved=target, is_link=True)
        else:
            fill_read_event(response.event, record)
        response.event.retry_count = message.retry_count
        return response


def _stream(options: Any) -> str:
    """Stream name of Create/Update options (``stream`` or the deprecated identifier)."""
    name = options.stream.stream_identifier.stream_name or options.stream_identifier.stream_name
    return bytes(name).decode()


def _source_and_group(options: Any) -> tuple[str, str]:
    if options.WhichOneof("stream_option") == "all":
        return ALL, options.group_name
    return options.stream_identifier.stream_name.decode(), options.group_name


def _abort_not_found(context: Context, source: str, name: str) -> NoReturn:
    abort(
        context,
        grpc.StatusCode.NOT_FOUND,
        f"Subscription group '{name}' on stream '{source}' does not exist.",
    )
