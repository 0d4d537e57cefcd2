"""Carry the active OpenTelemetry context with stored events and restore it for consumers.

The producer side is an enricher: on every append it injects the active OpenTelemetry context
with the globally configured propagator (W3C ``traceparent`` by default) into an
``OpenTelemetryCarrier`` component. The consumer side extracts that carrier again, so work done
for an event (in a subscription, an outbox publisher, a listener) joins the producer's trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from opentelemetry import context as otel_context
from opentelemetry import propagate
from pydantic import Field

from event_sourcery import StreamId
from event_sourcery.event import Context, ContextComponent, WrappedEvent


class OpenTelemetryCarrier(ContextComponent):
    """The propagated OpenTelemetry context of an event (e.g. its ``traceparent``)."""

    __context_name__: ClassVar[str] = "opentelemetry"

    values: dict[str, str] = Field(default_factory=dict)
    """The propagator's text map: header name → value."""


class OpenTelemetryContextEnricher:
    """Stores the active OpenTelemetry context with every appended event.

    It injects with the globally configured propagator; with no active span (nothing to
    inject) it adds nothing.
    """

    component_type = OpenTelemetryCarrier

    def enrich(
        self, context: Context, *, event: WrappedEvent[Any], stream_id: StreamId
    ) -> OpenTelemetryCarrier | None:
        """A carrier of the active OpenTelemetry context, or ``None`` when it is empty."""
        values: dict[str, str] = {}
        propagate.inject(values)
        return OpenTelemetryCarrier(values=values) if values else None


def get_parent_context(event_or_context: Context | WrappedEvent[Any]) -> otel_context.Context:
    """The OpenTelemetry context stored with an event or a context.

    An empty OpenTelemetry context when it holds no carrier. Anything but a ``Context`` or a
    ``WrappedEvent`` raises ``TypeError``.
    """
    if isinstance(event_or_context, WrappedEvent):
        context = event_or_context.context
    elif isinstance(event_or_context, Context):
        context = event_or_context
    else:
        hint = " (pass its .wrapped_event)" if hasattr(event_or_context, "wrapped_event") else ""
        raise TypeError(
            f"expected a Context or a WrappedEvent, got {type(event_or_context).__name__}{hint}"
        )
    carrier = context.get(OpenTelemetryCarrier)
    if carrier is None:
        return otel_context.Context()
    # An explicit empty base: the extracted context never inherits the consumer's current one.
    return propagate.extract(carrier.values, context=otel_context.Context())


@contextmanager
def use_parent_context(
    event_or_context: Context | WrappedEvent[Any],
) -> Iterator[otel_context.Context]:
    """Make the event's stored OpenTelemetry context the current one for the block.

    Spans started in the block become children of the producer's span. The previous context
    is restored after the block, also when it raises. Yields the attached context.
    """
    parent = get_parent_context(event_or_context)
    token = otel_context.attach(parent)
    try:
        yield parent
    finally:
        otel_context.detach(token)
