"""Event type names and the registry mapping names to types."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, TypeVar

from pydantic import BaseModel

from event_sourcery._core.encrypted_fields import (
    Encrypted,
    EncryptedField,
    PrivacyLayout,
    privacy_layout,
)
from event_sourcery._core.records import Event, event_class_generation
from event_sourcery.exceptions import (
    ClassModuleUnavailable,
    DuplicatedEvent,
    EncryptedFieldsUndiscoverable,
    EventNameInherited,
    UnknownEventName,
    UnregisteredEventType,
)

TModel = TypeVar("TModel", bound=type[BaseModel])


def event_name(event_type: type) -> str:
    """``__event_name__`` if set (and truthy), else ``"<module>.<qualified name>"``."""
    name = getattr(event_type, "__event_name__", None)
    if name:
        return str(name)
    module = getattr(event_type, "__module__", None)
    if not module:
        raise ClassModuleUnavailable(f"Cannot determine the module of {event_type!r}")
    return f"{module}.{event_type.__qualname__}"


def inherited_name_owner(event_type: type) -> type | None:
    """The ancestor whose ``__event_name__`` ``event_type`` inherits without setting its own."""
    if not getattr(event_type, "__event_name__", None) or "__event_name__" in vars(event_type):
        return None
    return next((base for base in event_type.__mro__[1:] if "__event_name__" in vars(base)), None)


def _all_subclasses(root: type) -> Iterator[type]:
    stack: list[type] = list(root.__subclasses__())
    seen: set[type] = set()
    while stack:
        cls = stack.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        yield cls
        stack.extend(cls.__subclasses__())


class EventRegistry:
    """Two-way map between event types and their stored names.

    Built with every ``Event`` subclass defined so far; classes defined later are found on the
    first lookup that misses.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._types_to_names: dict[type, str] = {}
        self._names_to_types: dict[str, type[BaseModel]] = {}
        self._layouts: dict[type, PrivacyLayout] = {}
        self._scanned_generation = -1
        self._scan()

    def add(self, event: TModel) -> TModel:
        """Register ``event`` (usable as a class decorator); ``DuplicatedEvent`` if taken."""
        with self._lock:
            if event in self._types_to_names:
                raise DuplicatedEvent(f"Duplicated Event detected! {event!r}")
            name = event_name(event)
            if name in self._names_to_types:
                owner = inherited_name_owner(event)
                if owner is not None:
                    raise EventNameInherited(self._inherited_message(event, owner, name))
                raise DuplicatedEvent(
                    f"Duplicated Event name detected! {name!r} is already used by "
                    f"{self._names_to_types[name]!r}"
                )
            layout = privacy_layout(event)
            self._types_to_names[event] = name
            self._names_to_types[name] = event
            self._layouts[event] = layout
            return event

    def name_for_type(self, event: type) -> str:
        """The stored name of ``event``; ``KeyError`` if it is not registered."""
        name = self._types_to_names.get(event)
        if name is None:
            self._scan()
            name = self._types_to_names.get(event)
        if name is None:
            owner = inherited_name_owner(event)
            if owner is not None:
                raise EventNameInherited(self._inherited_message(event, owner, event_name(event)))
            if not (isinstance(event, type) and issubclass(event, Event)):
                raise UnregisteredEventType(event)
            try:  # surfaces why the scan could not register it
                self.add(event)
            except DuplicatedEvent as error:
                raise UnregisteredEventType(event, reason=str(error)) from error
            name = self._types_to_names[event]
        return name

    def type_for_name(self, name: str) -> type[BaseModel]:
        """The type registered under ``name``; ``UnknownEventName`` (a ``KeyError``) if none."""
        event = self._names_to_types.get(name)
        if event is None:
            self._scan()
            event = self._names_to_types.get(name)
        if event is None:
            raise UnknownEventName(name)
        return event

    def encrypted_fields(self, of: type) -> dict[str, Encrypted]:
        """Encrypted fields of a registered type by dotted path (``KeyError`` if unregistered)."""
        return {f.dotted: f.marker for f in self._layout(of).fields}

    def subject_filed(self, for_field: str, of: type) -> str | None:
        """The field holding the subject id for ``for_field`` (upstream's spelling, kept)."""
        marker = self.encrypted_fields(of).get(for_field)
        if marker is not None and marker.subject_field:
            return marker.subject_field
        return self._layout(of).subject_field

    def privacy_layout(self, of: type) -> PrivacyLayout:
        """Encrypted fields and subject field of a registered type."""
        return self._layout(of)

    def field_specs(self, of: type) -> tuple[EncryptedField, ...]:
        return self._layout(of).fields

    def _layout(self, of: type) -> PrivacyLayout:
        layout = self._layouts.get(of)
        if layout is None:
            self.name_for_type(of)
            layout = self._layouts[of]
        return layout

    def _scan(self) -> None:
        generation = event_class_generation()
        if generation == self._scanned_generation:
            return
        with self._lock:
            complete = True
            for cls in _all_subclasses(Event):
                if cls in self._types_to_names:
                    continue
                try:
                    if event_name(cls) in self._names_to_types:
                        continue
                    self.add(cls)
                except EncryptedFieldsUndiscoverable:
                    complete = False  # its forward references may resolve later: retry then
                except Exception:
                    continue
            if complete:
                self._scanned_generation = generation

    @staticmethod
    def _inherited_message(event: type, owner: type, name: str) -> str:
        return (
            f"{event.__qualname__} inherits __event_name__ = {name!r} from "
            f"{owner.__qualname__}, so both would be stored under one name; give "
            f"{event.__qualname__} its own __event_name__"
        )

    def __contains__(self, item: Any) -> bool:
        return item in self._types_to_names
