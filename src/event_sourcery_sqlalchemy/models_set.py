"""``Models``: which model classes (tables) a backend uses."""

from __future__ import annotations

from dataclasses import dataclass

from event_sourcery_sqlalchemy.models.base import (
    BaseEvent,
    BaseOutboxEntry,
    BaseProjectorCursor,
    BaseSnapshot,
    BaseStream,
)
from event_sourcery_sqlalchemy.models.default import (
    DefaultEvent,
    DefaultOutboxEntry,
    DefaultProjectorCursor,
    DefaultSnapshot,
    DefaultStream,
)


@dataclass(frozen=True)
class Models:
    """The event, stream, snapshot, outbox and cursor models of one backend (mapped classes)."""

    event_model: type[BaseEvent] = DefaultEvent
    stream_model: type[BaseStream] = DefaultStream
    snapshot_model: type[BaseSnapshot] = DefaultSnapshot
    outbox_entry_model: type[BaseOutboxEntry] = DefaultOutboxEntry
    projector_cursor_model: type[BaseProjectorCursor] = DefaultProjectorCursor
