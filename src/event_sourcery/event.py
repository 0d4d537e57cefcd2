"""Events, their envelopes and records, the registry and serialisation."""

from event_sourcery._core.context import Context, ContextComponent, EventCorrelation
from event_sourcery._core.enrichment import EventContextEnricher
from event_sourcery._core.records import (
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
    "ContextComponent",
    "Entry",
    "Event",
    "EventContextEnricher",
    "EventCorrelation",
    "EventRegistry",
    "Position",
    "RawEvent",
    "Recorded",
    "RecordedRaw",
    "Serde",
    "WrappedEvent",
]
