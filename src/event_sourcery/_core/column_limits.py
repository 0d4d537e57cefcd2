"""Lengths SQL storage can hold, checked before anything touches the database."""

from __future__ import annotations

from collections.abc import Iterable

from event_sourcery._core.records import RawEvent
from event_sourcery._core.stream_id import StreamId, TenantId
from event_sourcery.exceptions import (
    IllegalCategoryName,
    IllegalEventName,
    IllegalStreamName,
    IllegalTenantId,
)

NAME_LENGTH = 255
"""Stream names, categories and tenant ids."""
EVENT_NAME_LENGTH = 200
"""Event and snapshot type names."""


def check_storable(stream_id: StreamId, tenant_id: TenantId, events: Iterable[RawEvent]) -> None:
    """Raise the documented error for a value longer than its column; nothing is written."""
    if stream_id.category is not None and len(stream_id.category) > NAME_LENGTH:
        raise IllegalCategoryName(f"Category longer than {NAME_LENGTH} characters")
    if len(tenant_id) > NAME_LENGTH:
        raise IllegalTenantId(f"Tenant id longer than {NAME_LENGTH} characters")
    if stream_id.name is not None and len(stream_id.name) > NAME_LENGTH:
        raise IllegalStreamName(
            f"Stream name longer than {NAME_LENGTH} characters: {stream_id.name[:60]!r}..."
        )
    for event in events:
        if len(event.name) > EVENT_NAME_LENGTH:
            raise IllegalEventName(
                f"Event type name {event.name[:60]!r}... is longer than {EVENT_NAME_LENGTH} "
                "characters; set a shorter __event_name__"
            )
