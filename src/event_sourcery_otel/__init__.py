"""OpenTelemetry for Event Sourcery: trace context stored with events, restored by consumers.

Register ``OpenTelemetryContextEnricher`` on a backend (``with_context_enrichers``) and every
append inside a span stores that span's context; wrap a consumer's work in
``use_parent_context(record.wrapped_event)`` and its spans become the producer span's children.
Needs the ``otel`` extra (``opentelemetry-api``).
"""

try:
    from event_sourcery_otel.propagation import (
        OpenTelemetryCarrier,
        OpenTelemetryContextEnricher,
        get_parent_context,
        use_parent_context,
    )
except ModuleNotFoundError as error:  # pragma: no cover - run in a subprocess by tests/otel
    from event_sourcery._core.extras import extra_missing

    replacement = extra_missing(error, __name__, "otel", ["opentelemetry"])
    if replacement is None:
        raise
    raise replacement from error

__all__ = [
    "OpenTelemetryCarrier",
    "OpenTelemetryContextEnricher",
    "get_parent_context",
    "use_parent_context",
]
