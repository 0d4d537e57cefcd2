"""The context stored with every event (release 0.6): correlation ids and typed components.

A ``Context`` holds two root fields and ``components``: payloads of ``ContextComponent`` types
under their wire names (``__context_name__``). Unknown root keywords are rejected, but contexts
stored before 0.6 may carry extra root fields (``user_id`` …): those load as a ``LegacyContext``
(a ``Context`` that keeps them), reach ``context_as`` and are written back on every
re-serialisation.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from event_sourcery._core.json_values import json_data

TComponent = TypeVar("TComponent", bound="ContextComponent")
TContext = TypeVar("TContext", bound=BaseModel)

COMPONENTS = "components"


class ContextComponent(BaseModel):
    """A typed piece of event context stored under the wire name ``__context_name__``."""

    __context_name__: ClassVar[str]


class EventCorrelation(ContextComponent):
    """A typed view of the context's root ``correlation_id`` and ``causation_id``.

    It is never stored in ``components``: ``context.get(EventCorrelation)`` reads the root
    fields and ``context.with_component(EventCorrelation(...))`` sets them.
    """

    __context_name__: ClassVar[str] = "correlation"

    correlation_id: UUID | None = None
    causation_id: UUID | None = None


class Context(BaseModel):
    """Metadata stored with an event: correlation ids and typed components."""

    model_config = ConfigDict(extra="forbid")

    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    components: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def get(self, component_type: type[TComponent]) -> TComponent | None:
        """The component of ``component_type`` (validated now), or ``None`` when absent."""
        if issubclass(component_type, EventCorrelation):
            return component_type(
                correlation_id=self.correlation_id, causation_id=self.causation_id
            )
        payload = self.components.get(component_type.__context_name__)
        return None if payload is None else component_type.model_validate(payload)

    def holds(self, component_type: type[ContextComponent]) -> bool:
        """Whether a component of ``component_type``'s wire name is set."""
        if issubclass(component_type, EventCorrelation):
            return self.correlation_id is not None or self.causation_id is not None
        return component_type.__context_name__ in self.components

    def with_component(self, component: ContextComponent) -> Context:
        """A copy holding ``component`` (replacing one of the same name); ``self`` is unchanged."""
        if isinstance(component, EventCorrelation):
            update: dict[str, Any] = {
                "correlation_id": component.correlation_id,
                "causation_id": component.causation_id,
            }
        else:
            payload = json_data(component)
            update = {COMPONENTS: {**self.components, component.__context_name__: payload}}
        return self.model_copy(update=update)


class LegacyContext(Context):
    """A context stored before release 0.6 with extra root fields, kept as extras (JSON values).

    Only loading builds one; it compares, copies and stores like a ``Context`` with those fields.
    """

    model_config = ConfigDict(extra="allow")


EMPTY_STORED = {"correlation_id": None, "causation_id": None}
_ROOT_FIELDS = frozenset(Context.model_fields)


def stored_context(context: Context) -> dict[str, Any]:
    """The JSON form of ``context`` as it is stored (legacy extras kept, no empty components)."""
    if type(context) is Context and not context.components:  # the hot path: no pydantic dump
        return {
            "correlation_id": _text(context.correlation_id),
            "causation_id": _text(context.causation_id),
        }
    stored = json_data(context)
    if not stored[COMPONENTS]:
        del stored[COMPONENTS]
    return stored


def loaded_context(stored: dict[str, Any]) -> Context:
    """The ``Context`` of a stored context (a ``LegacyContext`` when it has extra root fields)."""
    if stored == EMPTY_STORED:
        return Context()  # the common case, three times faster than model_construct
    if _ROOT_FIELDS.issuperset(stored):
        return Context(**stored)
    return LegacyContext(**stored)


def context_as(context: Context, context_type: type[TContext]) -> TContext:
    """``context`` validated as ``context_type`` (a ``Context`` subclass or any model).

    ``components`` is passed only when the type declares it; other fields (legacy extras
    included) when the type declares them or takes extra fields.
    """
    fields = context_type.model_fields
    takes_extra = context_type.model_config.get("extra") != "forbid"
    return context_type.model_validate(
        {
            key: value
            for key, value in context.model_dump().items()
            if key in fields or (takes_extra and key != COMPONENTS)
        }
    )


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)
