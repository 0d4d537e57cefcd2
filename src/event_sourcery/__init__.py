"""Event Sourcery: event sourcing, CQRS and event-driven architecture for Python."""

import logging

from event_sourcery._core.records import Event
from event_sourcery._core.stream_id import (
    DEFAULT_TENANT,
    StreamCategory,
    StreamId,
    StreamUUID,
    TenantId,
)
from event_sourcery._core.versioning import NO_VERSIONING
from event_sourcery._store.backend import Backend, TransactionalBackend
from event_sourcery._store.event_store import EventStore
from event_sourcery._store.outbox import Outbox

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_TENANT",
    "NO_VERSIONING",
    "Backend",
    "Event",
    "EventStore",
    "Outbox",
    "StreamCategory",
    "StreamId",
    "StreamUUID",
    "TenantId",
    "TransactionalBackend",
]
