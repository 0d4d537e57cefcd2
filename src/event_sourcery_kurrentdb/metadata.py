"""The JSON metadata stored with every KurrentDB event (SPEC §16.4, made lossless).

Layout: the event's context keys, ``created_at`` (ISO timestamp) and reserved keys that start with
``$es-``. Existing data (written without the reserved version keys) still reads: its versions are
derived from stream positions. Context keys that would collide with the layout — ``created_at``
and every key starting with ``$`` — are stored under ``$es-ctx-<key>`` and restored on read, so
any context round-trips.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CREATED_AT = "created_at"
VERSION = "$es-version"
"""The event's version (``null`` on versionless streams)."""
HEAD = "$es-head"
"""The stream's stored version after the append (highest version so far); on every event."""
STREAM_NAME = "$es-stream_name"
"""``StreamId.name`` of the stream, when it has one."""
SNAPSHOT_POSITION = "$es-stream_position"
"""Snapshots: the stream position of the last event the snapshot covers."""
_RESERVED = "$es-"
_ESCAPED = "$es-ctx-"


@dataclass(frozen=True)
class EventMetadata:
    """What the metadata of one stored event says."""

    created_at: datetime | None
    context: dict[str, Any]
    has_version: bool
    version: int | None
    head: int | None
    stream_name: str | None
    snapshot_position: int | None


def encode(
    *,
    created_at: datetime,
    context: dict[str, Any],
    version: int | None,
    head: int | None,
    stream_name: str | None,
    snapshot_position: int | None = None,
) -> bytes:
    """The metadata bytes of one event."""
    document: dict[str, Any] = {}
    for key, value in context.items():
        escaped = key == CREATED_AT or key.startswith("$")
        document[_ESCAPED + key if escaped else key] = value
    document[CREATED_AT] = created_at.isoformat()
    document[VERSION] = version
    document[HEAD] = head
    if stream_name is not None:
        document[STREAM_NAME] = stream_name
    if snapshot_position is not None:
        document[SNAPSHOT_POSITION] = snapshot_position
    return json.dumps(document, separators=(",", ":")).encode()


def decode(metadata: bytes, stream_position: int) -> EventMetadata:
    """Read metadata written by this library or by earlier Event Sourcery versions."""
    document: dict[str, Any] = json.loads(metadata) if metadata else {}
    context: dict[str, Any] = {}
    for key, value in document.items():
        if key.startswith(_ESCAPED):
            context[key[len(_ESCAPED) :]] = value
        elif key != CREATED_AT and not key.startswith(_RESERVED):
            context[key] = value
    has_version = VERSION in document
    version = document[VERSION] if has_version else stream_position + 1
    head = document.get(HEAD, version) if has_version else version
    created_at = document.get(CREATED_AT)
    return EventMetadata(
        created_at=datetime.fromisoformat(created_at) if created_at else None,
        context=context,
        has_version=has_version,
        version=version,
        head=head,
        stream_name=document.get(STREAM_NAME),
        snapshot_position=document.get(SNAPSHOT_POSITION),
    )
