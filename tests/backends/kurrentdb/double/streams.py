"""The ``event_store.client.streams.Streams`` service of the test double."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn, TypeAlias

import grpc
from google.protobuf import any_pb2, empty_pb2
from kurrentdbclient.protos.v1 import shared_pb2, status_pb2, streams_pb2, streams_pb2_grpc

from .filters import EventFilter, filter_from_options
from .log import (
    LINK_EVENT_TYPE,
    MAX_APPEND_SIZE,
    MAX_REVISION,
    AppendResult,
    EventLog,
    ExpectedRevision,
    Proposed,
    Record,
    StreamDeleted,
    StreamNotFound,
    WrongExpectedVersion,
    append_size,
    expected_code,
)
from .messages import fill_read_event

#: How long a waiting call sleeps before re-checking that its RPC is still active.
POLL_SECONDS = 0.05
#: Records a subscription takes from the log per lock acquisition.
BATCH_SIZE = 256
#: google.rpc.Code.FAILED_PRECONDITION and INVALID_ARGUMENT, used in BatchAppend error statuses.
_FAILED_PRECONDITION = 9
_INVALID_ARGUMENT = 3

Context: TypeAlias = grpc.ServicerContext


def abort(context: Context, code: grpc.StatusCode, details: str) -> NoReturn:
    """End the call with an error status (``context.abort`` raises)."""
    context.abort(code, details)
    raise AssertionError("unreachable")  # pragma: no cover


def expected_from(options: Any, oneof: str, revision_field: str) -> ExpectedRevision:
    """Read an ``expected_stream_revision``-like oneof (unset means ``any``)."""
    which = options.WhichOneof(oneof)
    if which == revision_field:
        return int(getattr(options, revision_field))
    if which == "no_stream":
        return "no_stream"
    if which == "stream_exists":
        return "stream_exists"
    return "any"


def uuid_string(message: shared_pb2.UUID) -> str:
    if message.WhichOneof("value") == "structured":
        msb = message.structured.most_significant_bits & (2**64 - 1)
        lsb = message.structured.least_significant_bits & (2**64 - 1)
        return str(uuid.UUID(int=(msb << 64) | lsb))
    return message.string


def proposed_from(message: Any, context: Context) -> Proposed:
    for key in ("type", "content-type"):
        if key not in message.metadata:
            abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Required Metadata Property '{key}' is missing",
            )
    return Proposed(
        event_id=uuid_string(message.id),
        type=message.metadata["type"],
        content_type=message.metadata["content-type"],
        data=message.data,
        custom_metadata=message.custom_metadata,
    )


def abort_deleted(context: Context, stream: str) -> NoReturn:
    """What the server does for a tombstoned stream (the client: StreamIsDeletedError)."""
    context.set_trailing_metadata((("exception", "stream-deleted"), ("stream-name", stream)))
    abort(context, grpc.StatusCode.FAILED_PRECONDITION, f"Event stream '{stream}' is deleted.")


def abort_wrong_version(context: Context, operation: str, error: WrongExpectedVersion) -> NoReturn:
    actual = -1 if error.actual is None else error.actual
    abort(
        context,
        grpc.StatusCode.FAILED_PRECONDITION,
        f"{operation} failed due to WrongExpectedVersion. Stream: {error.stream}, "
        f"Expected version: {expected_code(error.expected)}, Actual version: {actual}",
    )


def abort_reset(context: Context) -> NoReturn:
    abort(context, grpc.StatusCode.ABORTED, "The KurrentDB test double was reset or stopped.")


class StreamsServicer(streams_pb2_grpc.StreamsServicer):
    """Append, BatchAppend, Read (reads and catch-up subscriptions), Delete, Tombstone."""

    def __init__(self, log: EventLog, max_append_size: int = MAX_APPEND_SIZE) -> None:
        self._log = log
        self._max_append_size = max_append_size

    # -- appends ----------------------------------------------------------------------------

    def Append(
        self, request_iterator: Iterator[streams_pb2.AppendReq], context: Context
    ) -> streams_pb2.AppendResp:
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("content") != "options":
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "Options expected first")
        options = first.options
        stream = options.stream_identifier.stream_name.decode()
        expected = expected_from(options, "expected_stream_revision", "revision")
        events = [proposed_from(r.proposed_message, context) for r in request_iterator]
        if append_size(events) > self._max_append_size:
            context.set_trailing_metadata(
                (
                    ("exception", "maximum-append-size-exceeded"),
                    ("maximum-append-size", str(self._max_append_size)),
                )
            )
            abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Maximum Append Size of {self._max_append_size} Exceeded.",
            )
        try:
            result = self._log.append(stream, expected, events)
        except StreamDeleted:
            abort_deleted(context, stream)
        except WrongExpectedVersion as error:
            return streams_pb2.AppendResp(wrong_expected_version=_append_wev(error))
        return streams_pb2.AppendResp(success=_append_success(result))

    def BatchAppend(
        self, request_iterator: Iterator[streams_pb2.BatchAppendReq], context: Context
    ) -> Iterator[streams_pb2.BatchAppendResp]:
        pending: dict[str, tuple[streams_pb2.BatchAppendReq.Options, list[Proposed]]] = {}
        for request in request_iterator:
            correlation_id = uuid_string(request.correlation_id)
            if request.HasField("options"):
                pending[correlation_id] = (request.options, [])
            if correlation_id not in pending:
                abort(context, grpc.StatusCode.INVALID_ARGUMENT, "Options expected first")
            pending[correlation_id][1].extend(
                proposed_from(m, context) for m in request.proposed_messages
            )
            if request.is_final:
                options, events = pending.pop(correlation_id)
                yield self._batch_commit(request.correlation_id, options, events)

    def _batch_commit(
        self,
        correlation_id: shared_pb2.UUID,
        options: streams_pb2.BatchAppendReq.Options,
        events: list[Proposed],
    ) -> streams_pb2.BatchAppendResp:
        stream = options.stream_identifier.stream_name.decode()
        expected = expected_from(options, "expected_stream_position", "stream_position")
        response = streams_pb2.BatchAppendResp(
            correlation_id=correlation_id, stream_identifier=options.stream_identifier
        )
        if isinstance(expected, int):
            response.stream_position = expected
        else:
            getattr(response, expected).CopyFrom(empty_pb2.Empty())
        if append_size(events) > self._max_append_size:
            detail: Any = shared_pb2.MaximumAppendSizeExceeded(maxAppendSize=self._max_append_size)
            response.error.CopyFrom(
                _status("MaximumAppendSizeExceeded", detail, code=_INVALID_ARGUMENT)
            )
            return response
        try:
            result = self._log.append(stream, expected, events)
        except StreamDeleted:
            detail = shared_pb2.StreamDeleted(stream_identifier=options.stream_identifier)
            response.error.CopyFrom(_status("Stream deleted", detail))
        except WrongExpectedVersion as error:
            response.error.CopyFrom(_status("WrongExpectedVersion", _shared_wev(error)))
        else:
            if result.last_revision is None:
                response.success.no_stream.CopyFrom(empty_pb2.Empty())
            else:
                response.success.current_revision = result.last_revision
            if result.position is None:
                response.success.no_position.CopyFrom(empty_pb2.Empty())
            else:
                response.success.position.commit_position = result.position
                response.success.position.prepare_position = result.position
        return response

    # -- deletes ----------------------------------------------------------------------------

    def Delete(self, request: streams_pb2.DeleteReq, context: Context) -> streams_pb2.DeleteResp:
        record = self._delete(request.options, context, self._log.delete, "Delete")
        return streams_pb2.DeleteResp(
            position=streams_pb2.DeleteResp.Position(
                commit_position=record.position, prepare_position=record.position
            )
        )

    def Tombstone(
        self, request: streams_pb2.TombstoneReq, context: Context
    ) -> streams_pb2.TombstoneResp:
        record = self._delete(request.options, context, self._log.tombstone, "Tombstone")
        return streams_pb2.TombstoneResp(
            position=streams_pb2.TombstoneResp.Position(
                commit_position=record.position, prepare_position=record.position
            )
        )

    @staticmethod
    def _delete(
        options: Any,
        context: Context,
        operation: Callable[[str, ExpectedRevision], Record],
        name: str,
    ) -> Record:
        stream = options.stream_identifier.stream_name.decode()
        expected = expected_from(options, "expected_stream_revision", "revision")
        try:
            return operation(stream, expected)
        except StreamDeleted:
            abort_deleted(context, stream)
        except WrongExpectedVersion as error:
            abort_wrong_version(context, name, error)

    # -- reads ------------------------------------------------------------------------------

    def Read(
        self, request: streams_pb2.ReadReq, context: Context
    ) -> Iterator[streams_pb2.ReadResp]:
        options = request.options
        subscribe = options.WhichOneof("count_option") == "subscription"
        if options.WhichOneof("stream_option") == "all":
            if subscribe:
                return self._subscribe_all(options, context)
            return self._read_all(options)
        if subscribe:
            return self._subscribe_stream(options, context)
        return self._read_stream(options, context)

    def _read_stream(
        self, options: streams_pb2.ReadReq.Options, context: Context
    ) -> Iterator[streams_pb2.ReadResp]:
        stream = options.stream.stream_identifier.stream_name.decode()
        try:
            records = self._log.read_stream(stream)
        except StreamDeleted:
            abort_deleted(context, stream)
        except StreamNotFound:
            yield streams_pb2.ReadResp(
                stream_not_found=streams_pb2.ReadResp.StreamNotFound(
                    stream_identifier=options.stream.stream_identifier
                )
            )
            return
        which = options.stream.WhichOneof("revision_option")
        revision = options.stream.revision
        if options.read_direction == streams_pb2.ReadReq.Options.Backwards:
            limit = -1 if which == "start" else MAX_REVISION if which == "end" else revision
            selected: Iterable[Record] = (r for r in reversed(records) if r.revision <= limit)
        else:
            first = MAX_REVISION if which == "end" else revision if which == "revision" else 0
            selected = (r for r in records if r.revision >= first)
        yield from self._events(selected, options.count, options.resolve_links, None)

    def _read_all(self, options: streams_pb2.ReadReq.Options) -> Iterator[streams_pb2.ReadResp]:
        log = self._log
        with log.cond:
            records = list(log.records)
            which = options.all.WhichOneof("all_option")
            position = options.all.position.commit_position
            at = log.index_at_or_after(position) if which == "position" else 0
        selected: Iterable[Record]
        if options.read_direction == streams_pb2.ReadReq.Options.Backwards:
            stop = len(records) if which == "end" else at if which == "position" else 0
            selected = reversed(records[:stop])
        else:
            start = len(records) if which == "end" else at
            selected = records[start:]
        yield from self._events(
            selected, options.count, options.resolve_links, filter_from_options(options)
        )

    def _events(
        self,
        records: Iterable[Record],
        count: int,
        resolve_links: bool,
        event_filter: EventFilter | None,
    ) -> Iterator[streams_pb2.ReadResp]:
        sent = 0
        for record in records:
            if sent >= count:
                return
            if event_filter is None or event_filter.matches(record):
                yield self._event_resp(record, resolve_links)
                sent += 1

    def _event_resp(self, record: Record, resolve_links: bool) -> streams_pb2.ReadResp:
        response = streams_pb2.ReadResp()
        if resolve_links and record.type == LINK_EVENT_TYPE:
            target = self._log.resolve_link(record)
            fill_read_event(response.event, record, resolved=target, is_link=True)
        else:
            fill_read_event(response.event, record)
        return response

    # -- catch-up subscriptions ---------------------------------------------------------------

    def _subscribe_all(
        self, options: streams_pb2.ReadReq.Options, context: Context
    ) -> Iterator[streams_pb2.ReadResp]:
        log = self._log
        event_filter = filter_from_options(options)
        which = options.all.WhichOneof("all_option")
        with log.cond:
            epoch = log.epoch
            if which == "position":
                start_position = options.all.position.commit_position
                cursor = log.index_after(start_position)
            elif which == "end":
                start_position = log.last_position() or 0
                cursor = len(log.records)
            else:
                start_position, cursor = 0, 0
        yield _confirmation()
        scanned = 0
        checkpointed: int | None = None
        caught_up = False
        while True:
            batch, at_end = self._next_batch(context, epoch, lambda: log.records, cursor, caught_up)
            if batch is None:
                return
            cursor += len(batch)
            for record in batch:
                if event_filter is None or event_filter.matches(record):
                    yield self._event_resp(record, options.resolve_links)
                if event_filter is not None:
                    scanned += 1
                    if scanned >= event_filter.checkpoint_interval:
                        yield _checkpoint(record.position)
                        scanned, checkpointed = 0, record.position
            if at_end and not caught_up:
                caught_up = True
                position = max(start_position, batch[-1].position if batch else 0)
                if event_filter is not None and checkpointed != position:
                    yield _checkpoint(position)
                    scanned, checkpointed = 0, position
                response = streams_pb2.ReadResp()
                response.caught_up.timestamp.GetCurrentTime()
                response.caught_up.position.commit_position = position
                response.caught_up.position.prepare_position = position
                yield response

    def _subscribe_stream(
        self, options: streams_pb2.ReadReq.Options, context: Context
    ) -> Iterator[streams_pb2.ReadResp]:
        log = self._log
        stream = options.stream.stream_identifier.stream_name.decode()
        which = options.stream.WhichOneof("revision_option")
        with log.cond:
            epoch = log.epoch
            if log.is_tombstoned(stream):
                abort_deleted(context, stream)
            records = log.stream_list(stream)
            cursor = (
                options.stream.revision + 1
                if which == "revision"
                else len(records)
                if which == "end"
                else 0
            )
        yield _confirmation()
        caught_up = False
        while True:
            if log.is_tombstoned(stream):
                abort_deleted(context, stream)
            batch, at_end = self._next_batch(context, epoch, lambda: records, cursor, caught_up)
            if batch is None:
                return
            cursor += len(batch)
            for record in batch:
                if log.is_visible(record):
                    yield self._event_resp(record, options.resolve_links)
            if at_end and not caught_up:
                caught_up = True
                response = streams_pb2.ReadResp()
                response.caught_up.timestamp.GetCurrentTime()
                if cursor > 0:
                    response.caught_up.stream_revision = cursor - 1
                yield response

    def _next_batch(
        self,
        context: Context,
        epoch: int,
        source: Callable[[], list[Record]],
        cursor: int,
        wait: bool,
    ) -> tuple[list[Record] | None, bool]:
        """Records from ``cursor`` on; (None, _) when the call is over. Without ``wait``,
        returns at once (an empty batch when there is nothing new)."""
        log = self._log
        with log.cond:
            while True:
                if log.epoch != epoch:
                    abort_reset(context)
                if not context.is_active():
                    return None, True
                records = source()
                if cursor < len(records):
                    batch = records[cursor : cursor + BATCH_SIZE]
                    return batch, cursor + len(batch) >= len(records)
                if not wait:
                    return [], True
                log.cond.wait(POLL_SECONDS)


def _confirmation() -> streams_pb2.ReadResp:
    return streams_pb2.ReadResp(
        confirmation=streams_pb2.ReadResp.SubscriptionConfirmation(
            subscription_id=str(uuid.uuid4())
        )
    )


def _checkpoint(position: int) -> streams_pb2.ReadResp:
    response = streams_pb2.ReadResp()
    response.checkpoint.commit_position = position
    response.checkpoint.prepare_position = position
    response.checkpoint.timestamp.GetCurrentTime()
    return response


def _status(message: str, detail: Any, code: int = _FAILED_PRECONDITION) -> status_pb2.Status:
    packed = any_pb2.Any()
    packed.Pack(detail)
    return status_pb2.Status(code=code, message=message, details=packed)  # type: ignore[arg-type]


def _shared_wev(error: WrongExpectedVersion) -> shared_pb2.WrongExpectedVersion:
    message = shared_pb2.WrongExpectedVersion()
    if error.actual is None:
        message.current_no_stream.CopyFrom(empty_pb2.Empty())
    else:
        message.current_stream_revision = error.actual
    if isinstance(error.expected, int):
        message.expected_stream_position = error.expected
    else:
        name = "expected_any" if error.expected == "any" else f"expected_{error.expected}"
        getattr(message, name).CopyFrom(empty_pb2.Empty())
    return message


def _append_wev(error: WrongExpectedVersion) -> streams_pb2.AppendResp.WrongExpectedVersion:
    message = streams_pb2.AppendResp.WrongExpectedVersion()
    if error.actual is None:
        message.current_no_stream.CopyFrom(shared_pb2.Empty())
    else:
        message.current_revision = error.actual
    if isinstance(error.expected, int):
        message.expected_revision = error.expected
    else:
        name = "expected_any" if error.expected == "any" else f"expected_{error.expected}"
        getattr(message, name).CopyFrom(shared_pb2.Empty())
    return message


def _append_success(result: AppendResult) -> streams_pb2.AppendResp.Success:
    success = streams_pb2.AppendResp.Success()
    if result.last_revision is None:
        success.no_stream.CopyFrom(shared_pb2.Empty())
    else:
        success.current_revision = result.last_revision
    if result.position is None:
        success.no_position.CopyFrom(shared_pb2.Empty())
    else:
        success.position.commit_position = result.position
        success.position.prepare_position = result.position
    return success
