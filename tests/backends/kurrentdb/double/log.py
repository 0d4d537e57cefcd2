"""The test double's store: one append-only log of records, indexed by stream.

Everything is guarded by one re-entrant lock, exposed as the Condition ``EventLog.cond``;
every write calls ``notify_all()`` so that subscriptions waiting on it wake up.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Literal

#: KurrentDB's ``EventNumber.DeletedStream``: the revision of a tombstone record and the
#: ``$tb`` (truncate before) written by a soft delete.
MAX_REVISION = 2**63 - 1

#: Position of the first record; real logs begin with system records, so no user event
#: is ever at position 0 (clients often use 0 as "from the beginning").
FIRST_POSITION = 1_024
#: Fixed part of a record's size; the rest is the size of its variable fields.
RECORD_OVERHEAD = 128

#: KurrentDB's default ``MaxAppendSize``: the most bytes one append may carry.
MAX_APPEND_SIZE = 1_048_576

METADATA_EVENT_TYPE = "$metadata"
TOMBSTONE_EVENT_TYPE = "$streamDeleted"
LINK_EVENT_TYPE = "$>"

StreamState = Literal["any", "no_stream", "stream_exists"]
ExpectedRevision = int | StreamState

_EXPECTED_CODES: dict[str, int] = {"any": -2, "no_stream": -1, "stream_exists": -4}


def expected_code(expected: ExpectedRevision) -> int:
    """The number KurrentDB uses for an expected revision in error messages."""
    return expected if isinstance(expected, int) else _EXPECTED_CODES[expected]


def metastream_of(stream: str) -> str:
    return f"$${stream}"


def ticks_now() -> int:
    """Current time in .NET ticks (100 ns units) since the Unix epoch, as servers send it."""
    return time.time_ns() // 100


class WrongExpectedVersion(Exception):
    """The stream is not at the expected revision (``actual`` is None: no stream)."""

    def __init__(self, stream: str, expected: ExpectedRevision, actual: int | None) -> None:
        super().__init__(f"{stream}: expected {expected}, actual {actual}")
        self.stream = stream
        self.expected = expected
        self.actual = actual


class StreamDeleted(Exception):
    """The stream is tombstoned (or soft-deleted while ``stream_exists`` was expected)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.stream = stream


class StreamNotFound(Exception):
    """The stream has no events, or it is soft-deleted."""


@dataclass(frozen=True)
class Proposed:
    """An event as proposed by a client."""

    event_id: str
    type: str
    content_type: str
    data: bytes
    custom_metadata: bytes

    @property
    def size(self) -> int:
        """What KurrentDB counts against ``MaxAppendSize``: data, metadata and the type in
        UTF-16 (two bytes a character)."""
        return len(self.data) + len(self.custom_metadata) + 2 * len(self.type)


def append_size(events: list[Proposed]) -> int:
    return sum(event.size for event in events)


@dataclass(frozen=True)
class Record:
    """A committed event. ``index`` is its place in the log, ``position`` its log position
    (commit position == prepare position)."""

    index: int
    event_id: str
    stream: str
    revision: int
    type: str
    content_type: str
    data: bytes
    custom_metadata: bytes
    position: int
    created: int


@dataclass(frozen=True)
class AppendResult:
    """``last_revision`` None: stream without events; ``position`` None: nothing written."""

    last_revision: int | None
    position: int | None


@dataclass
class _Stream:
    records: list[Record] = field(default_factory=list)  # records[r].revision == r
    tombstoned: bool = False


class EventLog:
    """Records of all streams, in commit order, with strictly increasing positions."""

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.RLock())
        self.epoch = 0  # bumped by reset() and close(): long-running calls end when it changes
        self._reset_state()

    def _reset_state(self) -> None:
        self.records: list[Record] = []
        self._positions: list[int] = []
        self._streams: dict[str, _Stream] = {}
        self._metadata: dict[str, dict[str, object]] = {}
        self._next_position = FIRST_POSITION

    def reset(self) -> None:
        with self.cond:
            self.epoch += 1
            self._reset_state()
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.epoch += 1
            self.cond.notify_all()

    # -- writing --------------------------------------------------------------------------

    def append(
        self, stream: str, expected: ExpectedRevision, events: list[Proposed]
    ) -> AppendResult:
        """Atomically check ``expected`` and write ``events`` (idempotent for re-sent ids)."""
        with self.cond:
            state = self._stream(stream)
            self._check_not_tombstoned(stream)
            last = len(state.records) - 1
            soft_deleted = self.is_soft_deleted(stream)
            if expected == "stream_exists" and soft_deleted:
                raise StreamDeleted(stream)
            idempotent = self._idempotent_result(state, expected, events)
            if idempotent is not None:
                return idempotent
            if not self._expected_ok(expected, last, soft_deleted):
                raise WrongExpectedVersion(stream, expected, last if last >= 0 else None)
            if not events:
                return AppendResult(last if last >= 0 else None, None)
            if soft_deleted:
                self._undelete(stream, recreate_from=last + 1)
            written = [self._write(stream, len(state.records), event) for event in events]
            return AppendResult(written[-1].revision, written[-1].position)

    def delete(self, stream: str, expected: ExpectedRevision) -> Record:
        """Soft delete: write ``$tb`` = MAX_REVISION to the stream's metadata."""
        with self.cond:
            last = self._check_deletable(stream, expected)
            if expected == "stream_exists" and self.is_soft_deleted(stream):
                raise StreamDeleted(stream)
            if not self._expected_ok(expected, last, self.is_soft_deleted(stream)):
                raise WrongExpectedVersion(stream, expected, last)
            return self._write_metadata(stream, {**self.metadata(stream), "$tb": MAX_REVISION})

    def tombstone(self, stream: str, expected: ExpectedRevision) -> Record:
        """Hard delete: the stream can never be read or written again."""
        with self.cond:
            self._check_not_tombstoned(stream)
            last = len(self._stream(stream).records) - 1
            if last < 0 and expected != "any":  # only ``any`` tombstones a missing stream
                raise WrongExpectedVersion(stream, expected, -1)
            if not self._expected_ok(expected, last, self.is_soft_deleted(stream)):
                raise WrongExpectedVersion(stream, expected, last)
            tombstone = Proposed(
                _new_id(), TOMBSTONE_EVENT_TYPE, "application/octet-stream", b"", b""
            )
            record = self._write(stream, MAX_REVISION, tombstone, index_in_stream=False)
            self._streams[stream].tombstoned = True
            return record

    def _check_deletable(self, stream: str, expected: ExpectedRevision) -> int:
        self._check_not_tombstoned(stream)
        last = len(self._stream(stream).records) - 1
        if last < 0:  # the real server refuses to delete a stream that never existed
            raise WrongExpectedVersion(stream, expected, -1)
        return last

    def _check_not_tombstoned(self, stream: str) -> None:
        """Writes to a tombstoned stream fail; its metadata stream stays writable."""
        state = self._streams.get(stream)
        if state is not None and state.tombstoned:
            raise StreamDeleted(stream)

    @staticmethod
    def _expected_ok(expected: ExpectedRevision, last: int, soft_deleted: bool) -> bool:
        if expected == "any":
            return True
        if expected == "no_stream":
            return last < 0 or soft_deleted
        if expected == "stream_exists":
            return last >= 0
        return expected == last

    def _idempotent_result(
        self, state: _Stream, expected: ExpectedRevision, events: list[Proposed]
    ) -> AppendResult | None:
        """Re-sending the events of an earlier append succeeds without writing again."""
        if not events:
            return None
        ids = [e.event_id.lower() for e in events]
        if isinstance(expected, int) or expected == "no_stream":
            first = expected + 1 if isinstance(expected, int) else 0
        elif expected == "any":
            first = next((r.revision for r in reversed(state.records) if r.event_id == ids[0]), -1)
        else:
            return None
        if first < 0 or first + len(ids) > len(state.records):
            return None
        existing = state.records[first : first + len(ids)]
        if [r.event_id for r in existing] != ids:
            return None
        return AppendResult(existing[-1].revision, existing[-1].position)

    def _undelete(self, stream: str, recreate_from: int) -> None:
        """What the server does when a soft-deleted stream is written to again."""
        self._write_metadata(stream, {**self.metadata(stream), "$tb": recreate_from})

    def _write_metadata(self, stream: str, metadata: dict[str, object]) -> Record:
        meta_stream = metastream_of(stream)
        event = Proposed(
            _new_id(), METADATA_EVENT_TYPE, "application/json", json.dumps(metadata).encode(), b""
        )
        return self._write(meta_stream, len(self._stream(meta_stream).records), event)

    def _write(
        self, stream: str, revision: int, event: Proposed, *, index_in_stream: bool = True
    ) -> Record:
        position = self._next_position
        record = Record(
            index=len(self.records),
            event_id=event.event_id.lower(),
            stream=stream,
            revision=revision,
            type=event.type,
            content_type=event.content_type,
            data=event.data,
            custom_metadata=event.custom_metadata,
            position=position,
            created=ticks_now(),
        )
        size = len(stream.encode()) + len(event.type) + len(event.data) + len(event.custom_metadata)
        self._next_position = position + RECORD_OVERHEAD + size
        self.records.append(record)
        self._positions.append(position)
        if index_in_stream:
            self._stream(stream).records.append(record)
        if stream.startswith("$$") and event.type == METADATA_EVENT_TYPE:
            self._metadata[stream[2:]] = _parse_metadata(event.data)
        self.cond.notify_all()
        return record

    # -- reading (callers hold ``cond`` or accept a snapshot) ----------------------------------

    def _stream(self, stream: str) -> _Stream:
        state = self._streams.get(stream)
        if state is None:
            state = self._streams[stream] = _Stream()
        return state

    def stream_list(self, stream: str) -> list[Record]:
        """The live list of the stream's records (grows as events are appended)."""
        with self.cond:
            return self._stream(stream).records

    def is_tombstoned(self, stream: str) -> bool:
        """The stream, or the stream a ``$$`` metadata stream belongs to, is tombstoned."""
        with self.cond:
            owner = stream[2:] if stream.startswith("$$") else stream
            return any(
                (state := self._streams.get(name)) is not None and state.tombstoned
                for name in (stream, owner)
            )

    def metadata(self, stream: str) -> dict[str, object]:
        with self.cond:
            return dict(self._metadata.get(stream, {}))

    def is_soft_deleted(self, stream: str) -> bool:
        with self.cond:
            return self._metadata.get(stream, {}).get("$tb") == MAX_REVISION

    def is_visible(self, record: Record) -> bool:
        """Whether stream reads show the record (``$tb`` and ``$maxCount`` metadata)."""
        with self.cond:
            meta = self._metadata.get(record.stream, {})
            truncate_before = meta.get("$tb")
            if isinstance(truncate_before, int) and record.revision < truncate_before:
                return False
            max_count = meta.get("$maxCount")
            if isinstance(max_count, int):
                last = len(self._stream(record.stream).records) - 1
                return record.revision > last - max_count
            return True

    def read_stream(self, stream: str) -> list[Record]:
        """Visible records of the stream, in revision order."""
        with self.cond:
            if self.is_tombstoned(stream):
                raise StreamDeleted(stream)
            records = self._stream(stream).records
            if not records or self.is_soft_deleted(stream):
                raise StreamNotFound(stream)
            return [r for r in records if self.is_visible(r)]

    def get_event(self, stream: str, revision: int) -> Record | None:
        with self.cond:
            records = self._stream(stream).records
            return records[revision] if 0 <= revision < len(records) else None

    def resolve_link(self, link: Record) -> Record | None:
        """The event a ``$>`` link record points at (data: ``"<revision>@<stream>"``);
        None when that event is gone (deleted, truncated, tombstoned) or never existed."""
        revision, _, stream = link.data.decode(errors="replace").partition("@")
        try:
            target = self.get_event(stream, int(revision))
        except ValueError:
            return None
        with self.cond:
            if target is None or self.is_tombstoned(stream) or not self.is_visible(target):
                return None
            return target

    def index_at_or_after(self, position: int) -> int:
        """Log index of the first record with a position >= ``position``."""
        with self.cond:
            return bisect_left(self._positions, position)

    def index_after(self, position: int) -> int:
        """Log index of the first record with a position > ``position``."""
        with self.cond:
            return bisect_right(self._positions, position)

    def last_position(self) -> int | None:
        with self.cond:
            return self._positions[-1] if self._positions else None


def _parse_metadata(data: bytes) -> dict[str, object]:
    try:
        parsed = json.loads(data)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _new_id() -> str:
    return str(uuid.uuid4())
