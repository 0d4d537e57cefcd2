"""Conversions between the client's event objects and Event Sourcery's records."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone

from kurrentdbclient import NewEvent, RecordedEvent

from event_sourcery._core.records import RawEvent, RecordedRaw
from event_sourcery_kurrentdb import metadata
from event_sourcery_kurrentdb.stream import Name


def new_event(raw: RawEvent, *, head: int | None, snapshot_position: int | None = None) -> NewEvent:
    """The ``NewEvent`` that stores ``raw`` (its uuid becomes the KurrentDB event id)."""
    return NewEvent(
        id=raw.uuid,
        type=raw.name,
        data=json.dumps(raw.data, separators=(",", ":")).encode(),
        metadata=metadata.encode(
            created_at=raw.created_at,
            context=raw.context,
            version=raw.version,
            head=head,
            stream_name=raw.stream_id.name,
            snapshot_position=snapshot_position,
        ),
    )


def read_metadata(event: RecordedEvent) -> metadata.EventMetadata:
    """The decoded metadata of a stored event."""
    return metadata.decode(event.metadata, event.stream_position)


def raw_event(event: RecordedEvent, name: Name, meta: metadata.EventMetadata) -> RawEvent:
    """The ``RawEvent`` of a stored event of the stream ``name``."""
    created_at = meta.created_at
    if created_at is None:  # not written by Event Sourcery: use the server's timestamp
        recorded_at = event.recorded_at or datetime.now(timezone.utc)
        created_at = recorded_at.astimezone(timezone.utc).replace(tzinfo=None)
    return RawEvent(
        uuid=event.id,
        stream_id=name.stream_id,
        created_at=created_at,
        name=event.type,
        data=json.loads(event.data),
        context=meta.context,
        version=meta.version,
    )


def snapshot_event(event: RecordedEvent, name: Name, meta: metadata.EventMetadata) -> RawEvent:
    """The ``RawEvent`` of a snapshot (read from the stream's snapshot stream)."""
    raw = raw_event(event, name, meta)
    if not meta.has_version and meta.snapshot_position is not None:
        # written by earlier versions: the snapshot covers the event at that stream position
        return dataclasses.replace(raw, version=meta.snapshot_position + 1)
    return raw


TOMBSTONE = "$streamDeleted"
"""The type of the record a hard delete (tombstone) writes into the stream itself."""


def recorded(event: RecordedEvent) -> RecordedRaw | None:
    """The ``RecordedRaw`` of an event read from ``$all``, ``None`` if it is not an event of an
    Event Sourcery stream (system, snapshot or foreign streams, a tombstone)."""
    if event.type == TOMBSTONE:
        return None
    meta = read_metadata(event)
    name = Name.parse(event.stream_name, meta.stream_name)
    if name is None:
        return None
    return RecordedRaw(
        entry=raw_event(event, name, meta),
        position=event.commit_position,
        tenant_id=name.tenant_id,
    )
