"""OpenTelemetry for Event Sourcery: trace context stored with events, restored by consumers.

Register ``OpenTelemetryContextEnricher`` on a backend (``with_context_enrichers``) and every
append inside a span stores that span's context; wrap a consumer's work in
``use_parent_context(record.wrapped_event)`` and its spans become the producer span's children.
Needs the ``otel`` extra (``opentelemetry-api``).
"""

try:
    import opentelemetry.context
    import opentelemetry.propagate  # noqa: F401
except ImportError as error:  # pragma: no cover - run in a subprocess by tests/otel
    raise ImportError(
        "event_sourcery_otel needs the 'opentelemetry-api' package: "
        "pip install 'event-sourcery[otel]'"
    ) from error

from event_sourcery_otel.propagation import (
    OpenTelemetryCarrier,
    OpenTelemetryContextEnricher,
    get_parent_context,
    use_parent_context,
)

__all__ = [
    "OpenTelemetryCarrier",
    "OpenTelemetryContextEnricher",
    "get_parent_context",
    "use_parent_context",
]
