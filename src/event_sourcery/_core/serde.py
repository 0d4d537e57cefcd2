"""Serialisation between ``WrappedEvent`` and the storage-level ``RawEvent``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from event_sourcery._core.context import loaded_context, stored_context
from event_sourcery._core.encryption import Encryption
from event_sourcery._core.input_checks import naive_utc
from event_sourcery._core.records import RawEvent, Recorded, RecordedRaw, WrappedEvent
from event_sourcery._core.registry import EventRegistry
from event_sourcery._core.stream_id import StreamId
from event_sourcery.exceptions import InvalidEventData, UnknownEventName


class Serde:
    """Turns events into JSON-ready ``RawEvent`` records (encrypting) and back (decrypting)."""

    def __init__(self, registry: EventRegistry, encryption: Encryption) -> None:
        self.registry = registry
        self.encryption = encryption

    def serialize(self, event: WrappedEvent[Any], stream_id: StreamId) -> RawEvent:
        try:
            data = self.encryption.encrypt(event.event, stream_id)
        except UnicodeEncodeError as error:  # pydantic cannot dump a lone surrogate in a key
            raise InvalidEventData(
                f"The data of a {type(event.event).__name__} holds a lone surrogate, which "
                "not every backend can store"
            ) from error
        return RawEvent(
            uuid=event.uuid,
            stream_id=stream_id,
            created_at=naive_utc(event.created_at),
            name=self.registry.name_for_type(type(event.event)),
            data=data,
            context=stored_context(event.context),
            version=event.version,
        )

    def serialize_many(
        self, events: Iterable[WrappedEvent[Any]], stream_id: StreamId
    ) -> list[RawEvent]:
        return [self.serialize(event, stream_id) for event in events]

    def deserialize(self, event: RawEvent) -> WrappedEvent[Any]:
        event_type = self.registry.type_for_name(event.name)
        data = self.encryption.decrypt(event_type, event.data, event.stream_id)
        return WrappedEvent(
            event=event_type.model_validate(data),
            version=event.version,
            uuid=event.uuid,
            created_at=event.created_at,
            context=loaded_context(event.context),
        )

    def deserialize_many(self, events: Iterable[RawEvent]) -> list[WrappedEvent[Any]]:
        return [self.deserialize(event) for event in events]

    def deserialize_record(self, record: RecordedRaw) -> Recorded:
        """The typed record; ``UnknownEventName`` carries the position and the raw record."""
        try:
            wrapped = self.deserialize(record.entry)
        except UnknownEventName as error:
            error.position = record.position
            error.record = record
            raise
        return Recorded(
            wrapped_event=wrapped,
            stream_id=record.entry.stream_id,
            position=record.position,
            tenant_id=record.tenant_id,
        )
