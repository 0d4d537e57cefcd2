"""KurrentDB stream names: ``"<category>-<tenant>-<uuid hex>"`` and their snapshot companions.

The layout is the one existing Event Sourcery data uses (SPEC §16.4): the default tenant and a
missing category are empty parts, so a plain stream is ``"--<32 hex>"``. A dash separates the
parts, so neither a category nor a tenant may contain one; a category may not start with ``$``
either (that would make a KurrentDB system stream).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID

from event_sourcery._core.records import Position
from event_sourcery._core.stream_id import StreamCategory, StreamId, TenantId, trusted_stream_id
from event_sourcery.exceptions import IllegalCategoryName, IllegalTenantId

MAX_POSITION: Position = 2**64 - 1
"""The largest commit position KurrentDB can report (positions are log offsets: increasing in
commit order, not contiguous)."""

SNAPSHOT_SUFFIX = "-snapshot"
_SEPARATOR = "-"
_UUID_HEX = "[0-9a-f]{32}"
_EVENT_STREAM = re.compile(rf"(?P<category>[^-]*)-(?P<tenant>[^-]*)-(?P<hex>{_UUID_HEX})")


def _check_encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_category(category: StreamCategory | None) -> str:
    """The category as it appears in a stream name, or ``IllegalCategoryName``."""
    part = category or ""
    if _SEPARATOR in part or part.startswith("$") or not _check_encodable(part):
        raise IllegalCategoryName(
            f"KurrentDB stream categories may not contain '-', start with '$' or hold "
            f"characters UTF-8 cannot encode: {category!r}"
        )
    return part


def check_tenant(tenant_id: TenantId) -> str:
    """The tenant as it appears in a stream name, or ``IllegalTenantId``."""
    if _SEPARATOR in tenant_id or not _check_encodable(tenant_id):
        raise IllegalTenantId(
            f"KurrentDB tenant ids may not contain '-' or characters UTF-8 cannot encode: "
            f"{tenant_id!r}"
        )
    return tenant_id


@dataclass(frozen=True)
class Name:
    """The KurrentDB stream of one (tenant, stream id)."""

    stream_id: StreamId
    tenant_id: TenantId

    def __post_init__(self) -> None:
        check_category(self.stream_id.category)
        check_tenant(self.tenant_id)

    def __str__(self) -> str:
        category = self.stream_id.category or ""
        return f"{category}-{self.tenant_id}-{self.stream_id.hex}"

    @property
    def snapshot(self) -> str:
        """The companion stream holding the stream's snapshots."""
        return f"{self}{SNAPSHOT_SUFFIX}"

    @classmethod
    def parse(cls, stream_name: str, name: str | None = None) -> Name | None:
        """The ``Name`` of an event stream, or ``None`` for any other stream (snapshots too).

        ``name`` is the stream's ``StreamId.name``, kept in the events' metadata.
        """
        match = _EVENT_STREAM.fullmatch(stream_name)
        if match is None or match["category"].startswith("$"):
            return None
        stream_id = trusted_stream_id(UUID(hex=match["hex"]), name, match["category"] or None)
        return cls(stream_id=stream_id, tenant_id=match["tenant"])


def scope(category: StreamCategory | None = None) -> str:
    """A stream-name regex (unanchored: the client anchors it) matching event streams.

    With a category only that category's streams match; snapshot streams, system streams and
    streams of other layouts never match.
    """
    if category is None:
        return f"(?:[^$-][^-]*)?-[^-]*-{_UUID_HEX}"
    return f"{re.escape(check_category(category))}-[^-]*-{_UUID_HEX}"


def event_types(names: list[str]) -> str:
    """An event-type regex (unanchored: the client anchors it) matching exactly ``names``."""
    return "(?:" + "|".join(re.escape(name) for name in names) + ")"


__all__ = [
    "MAX_POSITION",
    "SNAPSHOT_SUFFIX",
    "Name",
    "Position",
    "check_category",
    "check_tenant",
    "event_types",
    "scope",
]
