"""Stream identities: ``StreamUUID`` (uuid, optional name) and ``StreamId`` (plus category)."""

from __future__ import annotations

import uuid as _uuid
from dataclasses import InitVar, dataclass
from typing import Any, ClassVar
from uuid import UUID

from event_sourcery.exceptions import IllegalCategoryName, IncompatibleUuidAndName

TenantId = str
StreamCategory = str
DEFAULT_TENANT: TenantId = ""


@dataclass(frozen=True, eq=False, repr=False)
class StreamUUID(UUID):
    """A stream's uuid; a ``name`` maps to ``uuid5(NAMESPACE, name)``.

    Resolution order: an explicit ``uuid``, then ``name``, then ``from_hex``, else a random uuid4.
    """

    NAMESPACE: ClassVar[UUID] = UUID("3a24a3ee-d33d-4266-93ab-7d8e256a6d44")

    uuid: InitVar[UUID | None] = None
    name: str | None = None
    from_hex: InitVar[str | None] = None

    def __post_init__(self, uuid: UUID | None, from_hex: str | None) -> None:
        if self.name is not None and not isinstance(self.name, str):
            raise TypeError(f"Stream name must be a string, got {type(self.name).__name__}")
        if uuid is not None:
            value = UUID(int=uuid.int)
        elif self.name:
            value = _uuid.uuid5(self.NAMESPACE, self.name)
        elif from_hex is not None:
            value = UUID(hex=from_hex)
        else:
            value = _uuid.uuid4()
        object.__setattr__(self, "int", value.int)
        object.__setattr__(self, "is_safe", value.is_safe)
        if self.name:
            expected = _uuid.uuid5(self.NAMESPACE, self.name)
            if expected.int != value.int:
                raise IncompatibleUuidAndName(
                    received=UUID(int=value.int), expected=expected, name=self.name
                )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(hex={self!s}, name={self.name})"

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.int, self._extra_state()))

    def _extra_state(self) -> dict[str, Any]:
        return {"name": self.name}


def _rebuild(cls: type[StreamUUID], value: int, state: dict[str, Any]) -> StreamUUID:
    """Restore a pickled id as it was: no re-validation of the name (see ``trusted_stream_id``)."""
    rebuilt = object.__new__(cls)
    object.__setattr__(rebuilt, "int", value)
    object.__setattr__(rebuilt, "is_safe", _uuid.SafeUUID.unknown)
    for key, item in state.items():
        object.__setattr__(rebuilt, key, item)
    return rebuilt


@dataclass(frozen=True, eq=False, repr=False)
class StreamId(StreamUUID):
    """A stream's identity inside a tenant: its uuid and its category.

    Two ids are equal when uuid and category are equal; the name is not compared.
    """

    category: StreamCategory | None = None

    def __post_init__(self, uuid: UUID | None, from_hex: str | None) -> None:
        if self.category is not None and not isinstance(self.category, str):
            raise IllegalCategoryName(
                f"Stream category must be a string or None, got {type(self.category).__name__}"
            )
        super().__post_init__(uuid, from_hex)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StreamId):
            return self.int == other.int and self.category == other.category
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((self.category, super().__hash__()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(hex={self!s}, name={self.name}, category={self.category})"

    def _extra_state(self) -> dict[str, Any]:
        return {"name": self.name, "category": self.category}


def trusted_stream_id(uuid: UUID, name: str | None, category: StreamCategory | None) -> StreamId:
    """A ``StreamId`` from stored, already validated parts (no uuid5 check of the name).

    Storage uses it to rebuild ids; a stored name may come from an id derived with another
    namespace (see ``StreamUUID.NAMESPACE``).
    """
    stream_id = object.__new__(StreamId)
    object.__setattr__(stream_id, "int", uuid.int)
    object.__setattr__(stream_id, "is_safe", _uuid.SafeUUID.unknown)
    object.__setattr__(stream_id, "name", name)
    object.__setattr__(stream_id, "category", category)
    return stream_id
