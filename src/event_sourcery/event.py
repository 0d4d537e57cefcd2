"""Events, their envelopes and records, the registry and serialisation."""

from event_sourcery._core.records import (
    Context,
    Entry,
    Event,
    Position,
    RawEvent,
    Recorded,
    RecordedRaw,
    WrappedEvent,
)
from event_sourcery._core.registry import EventRegistry
from event_sourcery._core.serde import Serde

__all__ = [
    "Context",
    "Entry",
    "Event",
    "EventRegistry",
    "Position",
    "RawEvent",
    "Recorded",
    "RecordedRaw",
    "Serde",
    "WrappedEvent",
]
