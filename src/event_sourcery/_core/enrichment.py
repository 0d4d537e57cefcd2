"""Context enrichers: components added to every appended event's context (release 0.6)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from event_sourcery._core.context import Context, ContextComponent
from event_sourcery._core.stream_id import StreamId
from event_sourcery.exceptions import ConflictingContextComponent

if TYPE_CHECKING:
    from event_sourcery._core.records import WrappedEvent


@runtime_checkable
class EventContextEnricher(Protocol):
    """Adds one component type to the context of each appended event."""

    @property
    def component_type(self) -> type[ContextComponent]:
        """The type of the component it adds (its wire name must be unique per backend)."""

    def enrich(
        self, context: Context, *, event: WrappedEvent[Any], stream_id: StreamId
    ) -> ContextComponent | None:
        """The component to add to ``context`` of ``event``, or ``None`` to add nothing."""


@dataclasses.dataclass(frozen=True)
class ContextEnrichers:
    """The enrichers of a backend, applied in order on every append."""

    enrichers: tuple[EventContextEnricher, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for enricher in self.enrichers:
            name = enricher.component_type.__context_name__
            if name in seen:
                raise ConflictingContextComponent(name)
            seen.add(name)

    def apply(
        self, events: Sequence[WrappedEvent[Any]], stream_id: StreamId
    ) -> Sequence[WrappedEvent[Any]]:
        """Copies of ``events`` with enriched contexts (the given events are not mutated).

        A component the context already holds (set by the caller) is kept: its enricher is
        not asked.
        """
        if not self.enrichers:
            return events
        return [self._enriched(event, stream_id) for event in events]

    def _enriched(self, event: WrappedEvent[Any], stream_id: StreamId) -> WrappedEvent[Any]:
        context = event.context
        for enricher in self.enrichers:
            if context.holds(enricher.component_type):
                continue
            component = enricher.enrich(context, event=event, stream_id=stream_id)
            if component is not None:
                context = context.with_component(component)
        if context is event.context:
            return event
        return dataclasses.replace(event, context=context)
