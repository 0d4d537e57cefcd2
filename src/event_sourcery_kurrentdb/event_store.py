"""``KurrentDBStorageStrategy``: streams of one tenant in KurrentDB.

Every append reads the stream's last event (its version, the stored version and the stream
revision) and appends with that revision as the expected revision (or "no stream"), so the
server rejects the append atomically if anything was written in between; the versioning rule
is then re-evaluated on fresh data. No read-then-append race remains.
"""

from __future__ import annotations

import contextlib
import random
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kurrentdbclient import KurrentDBClient, RecordedEvent, StreamState
from kurrentdbclient.exceptions import NotFoundError, WrongCurrentVersionError
from typing_extensions import Self

from event_sourcery._core.records import Position, RawEvent
from event_sourcery._core.strategies import StorageStrategy
from event_sourcery._core.stream_id import StreamId, TenantId
from event_sourcery._core.stream_window import stream_window
from event_sourcery._core.versioning import Versioning, plan_stored_version
from event_sourcery.exceptions import ConcurrentStreamWriteError, StreamNotFound
from event_sourcery_kurrentdb import dto
from event_sourcery_kurrentdb.errors import translated_errors
from event_sourcery_kurrentdb.stream import Name

APPEND_ATTEMPTS = 10
"""Appends retried after losing a revision race (only while the versioning rule still allows)."""
RETRY_JITTER = 0.002
"""Upper bound of the random pause before retry ``n``, times ``n`` (seconds): spreads out
writers that keep colliding on one stream."""


@dataclass(frozen=True)
class Head:
    """The end of a stream as its last event describes it."""

    revision: int
    stored_version: int | None


class KurrentDBStorageStrategy(StorageStrategy):
    """Reads and writes the streams of one tenant through a ``KurrentDBClient``."""

    def __init__(
        self,
        client: KurrentDBClient,
        tenant_id: TenantId,
        timeout: float | None = None,
        before_append: Callable[[], None] | None = None,
    ) -> None:
        self._client = client
        self._tenant_id = tenant_id
        self._timeout = timeout
        self._before_append = before_append

    def fetch_events(
        self, stream_id: StreamId, start: int | None = None, stop: int | None = None
    ) -> list[RawEvent]:
        name = Name(stream_id, self._tenant_id)
        with translated_errors():
            if start is None and stop is None:
                return self._fetch_from_latest_snapshot(name)
            events = self._raw_events(name, self._read(str(name)))
            snapshots = [
                dto.snapshot_event(e, name, dto.read_metadata(e)) for e in self._read(name.snapshot)
            ]
            return stream_window(events, snapshots, start, stop)

    def _fetch_from_latest_snapshot(self, name: Name) -> list[RawEvent]:
        last = self._read(name.snapshot, backwards=True, limit=1)
        meta = dto.read_metadata(last[0]) if last else None
        if meta is not None and meta.snapshot_position is not None:
            snapshot = dto.snapshot_event(last[0], name, meta)
            after = self._read(str(name), from_revision=meta.snapshot_position + 1)
            return stream_window(self._raw_events(name, after), [snapshot], None, None)
        return self._raw_events(name, self._read(str(name)))

    @staticmethod
    def _raw_events(name: Name, events: Iterable[RecordedEvent]) -> list[RawEvent]:
        raws = [dto.raw_event(e, name, dto.read_metadata(e)) for e in events]
        if any(raw.version is None for raw in raws):
            return raws  # a versionless stream keeps its append order
        return sorted(raws, key=lambda raw: raw.version or 0)

    def insert_events(
        self, stream_id: StreamId, versioning: Versioning, events: list[RawEvent]
    ) -> None:
        name = Name(stream_id, self._tenant_id)
        versions = [event.version for event in events]
        if self._before_append is not None:
            self._before_append()
        with translated_errors():
            for attempt in range(APPEND_ATTEMPTS):
                if attempt:
                    time.sleep(random.uniform(0, RETRY_JITTER * attempt))
                head = self._head(str(name))
                taken = self._taken(name, head, versions)
                new_version = plan_stored_version(
                    head is not None,
                    head.stored_version if head else None,
                    versioning,
                    versions,
                    taken,
                )
                new_events = [dto.new_event(event, head=new_version) for event in events]
                try:
                    self._client.append_to_stream(
                        str(name),
                        events=new_events,
                        current_version=head.revision if head else StreamState.NO_STREAM,
                        timeout=self._timeout,
                    )
                except WrongCurrentVersionError:
                    continue  # someone appended since the read: decide again on fresh data
                return
        raise ConcurrentStreamWriteError(
            f"Stream {name} kept changing during {APPEND_ATTEMPTS} append attempts"
        )

    def _head(self, stream_name: str) -> Head | None:
        last = self._read(stream_name, backwards=True, limit=1)
        if not last:
            return None
        return Head(
            revision=last[0].stream_position, stored_version=dto.read_metadata(last[0]).head
        )

    def _taken(self, name: Name, head: Head | None, versions: list[int | None]) -> set[int]:
        """The batch's versions the stream already has (read only when some may collide)."""
        if head is None or head.stored_version is None:
            return set()
        wanted = {v for v in versions if v is not None and v <= head.stored_version}
        if not wanted:
            return set()
        stored = {dto.read_metadata(e).version for e in self._read(str(name))}
        return {v for v in wanted if v in stored}

    def save_snapshot(self, snapshot: RawEvent) -> None:
        name = Name(snapshot.stream_id, self._tenant_id)
        with translated_errors():
            covered = self._covered_revision(str(name), snapshot.version)
            event = dto.new_event(snapshot, head=snapshot.version, snapshot_position=covered)
            self._client.append_to_stream(
                name.snapshot,
                events=[event],
                current_version=StreamState.ANY,
                timeout=self._timeout,
            )

    def _covered_revision(self, stream_name: str, version: int | None) -> int:
        """The stream revision after which no event is covered by a snapshot at ``version``.

        Scans backwards from the end and stops at the first event whose stored version (the
        highest version up to it) is within the snapshot: nothing before it can be newer.
        """
        covered: int | None = None
        first_newer: int | None = None
        try:
            with self._client.read_stream(
                stream_name, backwards=True, timeout=self._timeout
            ) as events:
                for event in events:
                    meta = dto.read_metadata(event)
                    if covered is None:
                        covered = event.stream_position
                    if version is None or (meta.head is not None and meta.head <= version):
                        break
                    if meta.version is not None and meta.version > version:
                        first_newer = event.stream_position
        except NotFoundError:
            pass
        if covered is None:
            raise StreamNotFound(f"Cannot snapshot stream {stream_name!r}: it has no events")
        return first_newer - 1 if first_newer is not None else covered

    def delete_stream(self, stream_id: StreamId) -> None:
        name = Name(stream_id, self._tenant_id)
        with translated_errors():
            for stream_name in (str(name), name.snapshot):
                with contextlib.suppress(NotFoundError):
                    self._client.delete_stream(
                        stream_name, current_version=StreamState.ANY, timeout=self._timeout
                    )

    @property
    def current_position(self) -> Position | None:
        with translated_errors():
            return self._client.get_commit_position(timeout=self._timeout)

    def scoped_for_tenant(self, tenant_id: TenantId) -> Self:
        return type(self)(self._client, tenant_id, self._timeout, self._before_append)

    def _read(
        self,
        stream_name: str,
        *,
        from_revision: int | None = None,
        backwards: bool = False,
        limit: int | None = None,
    ) -> tuple[RecordedEvent, ...]:
        """The stream's events (``()`` for a missing or deleted stream)."""
        try:
            return self._client.get_stream(
                stream_name,
                stream_position=from_revision,
                backwards=backwards,
                limit=limit or sys.maxsize,
                timeout=self._timeout,
            )
        except NotFoundError:
            return ()
