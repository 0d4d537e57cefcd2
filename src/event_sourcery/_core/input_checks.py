"""Values every backend stores exactly, checked in the core before anything is written.

PostgreSQL refuses NUL characters, no SQL driver encodes lone surrogates, JSON has no NaN or
Infinity (SQLite and MariaDB would store them, PostgreSQL refuses), and event versions are
32-bit columns. Rejecting these here makes every backend raise the same library exception.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from event_sourcery._core.records import RawEvent, WrappedEvent
from event_sourcery._core.stream_id import StreamId, TenantId
from event_sourcery.exceptions import (
    DuplicateEventUuid,
    IllegalCategoryName,
    IllegalStreamName,
    IllegalTenantId,
    InvalidEventData,
    NotAStreamId,
    VersionOutOfRange,
)

VERSION_MIN = -(2**31)
VERSION_MAX = 2**31 - 1
"""The range of the SQL backends' event version columns (32-bit integers)."""


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored exactly (a NUL or a lone surrogate), else ``None``."""
    if "\x00" in text:
        return "a NUL character (\\x00)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "a lone surrogate (not encodable as UTF-8)"
    return None


def check_stream_id(stream_id: object, tenant_id: TenantId) -> StreamId:
    """``stream_id`` if it is a ``StreamId`` whose name, category and tenant can be stored."""
    if not isinstance(stream_id, StreamId):
        raise NotAStreamId(f"stream_id must be a StreamId, got {type(stream_id).__name__}")
    if stream_id.name is not None and (problem := text_problem(stream_id.name)):
        raise IllegalStreamName(f"Stream name {stream_id.name!r} contains {problem}")
    if stream_id.category is not None and (problem := text_problem(stream_id.category)):
        raise IllegalCategoryName(f"Category {stream_id.category!r} contains {problem}")
    if tenant_id and (problem := text_problem(tenant_id)):
        raise IllegalTenantId(f"Tenant id {tenant_id!r} contains {problem}")
    return stream_id


def check_version(version: int | None, what: str = "Version") -> None:
    """``VersionOutOfRange`` for an integer outside the 32-bit range of the version columns."""
    if version is not None and not VERSION_MIN <= version <= VERSION_MAX:
        raise VersionOutOfRange(
            f"{what} {version} is outside the storable range {VERSION_MIN}..{VERSION_MAX}"
        )


def check_envelopes(events: Sequence[WrappedEvent[Any]]) -> None:
    """Every event has a uuid (unique in the batch), a ``datetime`` and a storable version."""
    seen: set[UUID] = set()
    for event in events:
        if not isinstance(event.uuid, UUID):
            raise InvalidEventData(f"An event's uuid must be a UUID, got {event.uuid!r}")
        if not isinstance(event.created_at, datetime):
            raise InvalidEventData(
                f"An event's created_at must be a datetime, got {event.created_at!r}"
            )
        if event.uuid in seen:
            raise DuplicateEventUuid(f"Event uuid {event.uuid} appears twice in one append")
        seen.add(event.uuid)
        check_version(event.version)


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as the stored convention: naive UTC (an aware time is converted)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def check_data(events: Iterable[RawEvent]) -> None:
    """``InvalidEventData`` if an event's data or context holds a NUL, a lone surrogate or a
    non-finite float, in a value or a key (one pass; the message is built only on a hit)."""
    for event in events:
        if _suspect(event.data) or _suspect(event.context):
            _raise_exact(event)


def _suspect(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return "\x00" in value or (not value.isascii() and text_problem(value) is not None)
    if kind is dict:
        for key, item in value.items():
            if (type(key) is str and _suspect(key)) or _suspect(item):
                return True
        return False
    if kind is list:
        return any(_suspect(item) for item in value)
    if kind is float:
        return not math.isfinite(value)
    if kind is int or value is None or kind is bool:
        return False
    return _value_problem(value) is not None  # subclasses and tuples: the exact walk


def _raise_exact(event: RawEvent) -> None:
    for part, value in (("data", event.data), ("context", event.context)):
        problem = _value_problem(value)
        if problem:
            raise InvalidEventData(
                f"The {part} of event {event.name!r} ({event.uuid}) holds {problem}, which "
                "not every backend can store"
            )


def _value_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, float):
        return None if math.isfinite(value) else f"the float {value} (JSON has no NaN/Infinity)"
    if isinstance(value, dict):
        for key, item in value.items():
            problem = (text_problem(key) if isinstance(key, str) else None) or _value_problem(item)
            if problem:
                return problem
    elif isinstance(value, (list, tuple)):
        for item in value:
            problem = _value_problem(item)
            if problem:
                return problem
    return None
