"""One in-memory span exporter on the global OpenTelemetry tracer provider, for every test.

OpenTelemetry lets a process set its global tracer provider once. The first caller sets an SDK
provider; later callers (and an SDK provider set by someone else) only get the exporter added.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from opentelemetry import propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

W3C: TextMapPropagator = CompositePropagator(
    [TraceContextTextMapPropagator(), W3CBaggagePropagator()]
)
"""OpenTelemetry's default propagator: W3C trace context and baggage."""


@functools.cache
def exporter() -> InMemorySpanExporter:
    """The exporter that receives every span ended on the global tracer provider."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    span_exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return span_exporter


def spans() -> Iterator[InMemorySpanExporter]:
    """Fixture body: the cleared exporter, with the W3C propagator set for the test."""
    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(W3C)
    span_exporter = exporter()
    span_exporter.clear()
    try:
        yield span_exporter
    finally:
        span_exporter.clear()
        propagate.set_global_textmap(previous)


def traceparent(span: trace.Span | ReadableSpan) -> str:
    """The W3C ``traceparent`` of a span."""
    context = span.get_span_context()
    assert context is not None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def finished(exported: InMemorySpanExporter, name: str) -> ReadableSpan:
    """The one finished span called ``name``."""
    [span] = [s for s in exported.get_finished_spans() if s.name == name]
    return span


def assert_child_of(child: ReadableSpan, parent: ReadableSpan) -> None:
    """``child``'s parent is ``parent``, in the same trace."""
    parent_context = parent.get_span_context()
    child_context = child.get_span_context()
    assert child.parent is not None, f"{child.name} has no parent"
    assert parent_context is not None
    assert child_context is not None
    assert child.parent.span_id == parent_context.span_id
    assert child_context.trace_id == parent_context.trace_id
