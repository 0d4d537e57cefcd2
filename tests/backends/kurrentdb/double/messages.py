"""Conversion of log records into the protobuf messages both services send."""

from __future__ import annotations

from typing import Any

from .log import Record


def fill_recorded_event(message: Any, record: Record) -> None:
    """Fill a ``ReadResp.ReadEvent.RecordedEvent`` (streams or persistent flavour)."""
    message.id.string = record.event_id
    message.stream_identifier.stream_name = record.stream.encode()
    message.stream_revision = record.revision
    message.commit_position = record.position
    message.prepare_position = record.position
    message.metadata["type"] = record.type
    message.metadata["content-type"] = record.content_type
    message.metadata["created"] = str(record.created)
    message.custom_metadata = record.custom_metadata
    message.data = record.data


def fill_read_event(
    message: Any, record: Record, *, resolved: Record | None = None, is_link: bool = False
) -> None:
    """Fill a ``ReadResp.ReadEvent``; with ``is_link``, ``record`` is a link resolved to
    ``resolved`` (left empty when the link cannot be resolved, as the server does)."""
    if is_link:
        fill_recorded_event(message.link, record)
        if resolved is not None:
            fill_recorded_event(message.event, resolved)
    else:
        fill_recorded_event(message.event, record)
    message.commit_position = record.position
