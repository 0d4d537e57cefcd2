"""The event data model: events, their envelopes, and the storage-level records."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict

from event_sourcery._core.context import Context, TContext, context_as
from event_sourcery._core.stream_id import DEFAULT_TENANT, StreamId, TenantId

Position = int

_event_class_generation = 0


def event_class_generation() -> int:
    """Bumped whenever an ``Event`` subclass is defined (lets registries rescan lazily)."""
    return _event_class_generation


class Event(BaseModel):
    """Base class of domain events: a pydantic model that rejects unknown fields."""

    model_config = ConfigDict(extra="forbid")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        global _event_class_generation
        super().__init_subclass__(**kwargs)
        _event_class_generation += 1


TEvent = TypeVar("TEvent", bound=Event)


def utc_now() -> datetime:
    """The current UTC time as a naive datetime (the stored convention)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class WrappedEvent(Generic[TEvent]):
    """An event with its envelope: stream version, uuid, creation time and context."""

    event: TEvent
    version: int | None
    uuid: UUID = field(default_factory=uuid4)
    created_at: datetime = field(default_factory=utc_now)
    context: Context = field(default_factory=Context)

    @classmethod
    def wrap(
        cls, event: TEvent, version: int | None, context: Context | None = None
    ) -> WrappedEvent[TEvent]:
        """Wrap ``event`` with a new uuid and creation time."""
        return cls(event=event, version=version, context=context or Context())

    def get_context(self, context_type: type[TContext]) -> TContext:
        """The context validated as ``context_type`` (e.g. a ``Context`` subclass).

        Extra root fields of a context stored before release 0.6 are passed along.
        """
        return context_as(self.context, context_type)


@dataclass(frozen=True)
class RawEvent:
    """A serialised event as storage strategies read and write it."""

    uuid: UUID
    stream_id: StreamId
    created_at: datetime
    name: str
    data: dict[str, Any]
    context: dict[str, Any]
    version: int | None = None


@dataclass(frozen=True)
class RecordedRaw:
    """A stored ``RawEvent`` with its global position and tenant."""

    entry: RawEvent
    position: Position
    tenant_id: TenantId = DEFAULT_TENANT


@dataclass(frozen=True)
class Entry:
    """A deserialised event together with its stream id."""

    wrapped_event: WrappedEvent[Any]
    stream_id: StreamId


@dataclass(frozen=True)
class Recorded(Entry):
    """An ``Entry`` with its global position and tenant, as subscriptions deliver it."""

    position: Position
    tenant_id: TenantId = DEFAULT_TENANT


def replace_version(event: WrappedEvent[Any], version: int | None) -> WrappedEvent[Any]:
    """A copy of ``event`` carrying ``version``."""
    return dataclasses.replace(event, version=version)
