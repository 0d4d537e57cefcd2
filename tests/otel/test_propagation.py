"""The enricher and the parent-context helpers of event_sourcery_otel, without a backend."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from event_sourcery import Event, StreamId
from event_sourcery.event import Context, EventContextEnricher, Recorded, WrappedEvent
from event_sourcery_otel import (
    OpenTelemetryCarrier,
    OpenTelemetryContextEnricher,
    get_parent_context,
    use_parent_context,
)
from tests.otel.tracing import assert_child_of, finished, traceparent

tracer = trace.get_tracer("tests.otel")


class Pinged(Event):
    pass


def enriched(context: Context | None = None) -> OpenTelemetryCarrier | None:
    event = WrappedEvent.wrap(Pinged(), 1, context)
    return OpenTelemetryContextEnricher().enrich(event.context, event=event, stream_id=StreamId())


def carried(component: OpenTelemetryCarrier | None) -> WrappedEvent[Pinged]:
    context = Context() if component is None else Context().with_component(component)
    return WrappedEvent.wrap(Pinged(), 1, context)


def test_the_enricher_satisfies_the_protocol() -> None:
    enricher: EventContextEnricher = OpenTelemetryContextEnricher()
    assert isinstance(enricher, EventContextEnricher)
    assert enricher.component_type is OpenTelemetryCarrier
    assert OpenTelemetryCarrier.__context_name__ == "opentelemetry"


def test_the_carrier_is_stored_under_its_wire_name() -> None:
    carrier = OpenTelemetryCarrier(values={"traceparent": "00-ab-cd-01"})
    context = Context().with_component(carrier)
    assert context.components == {"opentelemetry": {"values": {"traceparent": "00-ab-cd-01"}}}
    assert context.get(OpenTelemetryCarrier) == carrier


def test_inside_a_span_the_enricher_carries_its_traceparent(spans: InMemorySpanExporter) -> None:
    with tracer.start_as_current_span("produce") as span:
        carrier = enriched()

    assert carrier is not None
    assert carrier.values == {"traceparent": traceparent(span)}


def test_without_an_active_span_the_enricher_adds_nothing(spans: InMemorySpanExporter) -> None:
    assert trace.get_current_span() is trace.INVALID_SPAN
    assert enriched() is None


def test_baggage_alone_is_carried(spans: InMemorySpanExporter) -> None:
    token = otel_context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        carrier = enriched()
    finally:
        otel_context.detach(token)

    assert carrier == OpenTelemetryCarrier(values={"baggage": "tenant=acme"})


def test_the_parent_context_of_an_event_holds_the_producer_span(
    spans: InMemorySpanExporter,
) -> None:
    with tracer.start_as_current_span("produce") as span:
        event = carried(enriched())

    parent = trace.get_current_span(get_parent_context(event)).get_span_context()
    assert parent.trace_id == span.get_span_context().trace_id
    assert parent.span_id == span.get_span_context().span_id
    assert parent.is_remote
    # a Context works as well as its event
    from_context = trace.get_current_span(get_parent_context(event.context))
    assert from_context.get_span_context() == parent


def test_without_a_carrier_the_parent_context_is_empty(spans: InMemorySpanExporter) -> None:
    with tracer.start_as_current_span("unrelated"):
        assert get_parent_context(Context(correlation_id=uuid4())) == otel_context.Context()
        assert get_parent_context(carried(None)) == otel_context.Context()


@pytest.mark.parametrize("other", [None, "traceparent", {"opentelemetry": {}}, 42])
def test_other_types_have_no_parent_context(other: Any) -> None:
    with pytest.raises(TypeError, match="expected a Context or a WrappedEvent"):
        get_parent_context(other)


def test_a_record_is_refused_with_a_hint_to_its_wrapped_event() -> None:
    record = Recorded(wrapped_event=carried(None), stream_id=StreamId(), position=1)

    with pytest.raises(TypeError, match=r"Recorded \(pass its \.wrapped_event\)"):
        get_parent_context(record)  # type: ignore[arg-type]
    with pytest.raises(TypeError), use_parent_context(record):  # type: ignore[arg-type]
        pass


def test_spans_in_the_block_are_children_of_the_producer_span_not_of_the_current_one(
    spans: InMemorySpanExporter,
) -> None:
    with tracer.start_as_current_span("produce"):
        event = carried(enriched())

    with tracer.start_as_current_span("poll"):
        with use_parent_context(event), tracer.start_as_current_span("consume"):
            pass
        with tracer.start_as_current_span("after"):
            pass

    assert_child_of(finished(spans, "consume"), finished(spans, "produce"))
    assert_child_of(finished(spans, "after"), finished(spans, "poll"))


def test_the_block_gets_the_attached_context(spans: InMemorySpanExporter) -> None:
    with tracer.start_as_current_span("produce"):
        event = carried(enriched())

    with use_parent_context(event) as attached:
        assert otel_context.get_current() is attached
        assert (
            trace.get_current_span().get_span_context()
            == trace.get_current_span(get_parent_context(event)).get_span_context()
        )


def test_the_previous_context_is_restored_after_the_block(spans: InMemorySpanExporter) -> None:
    with tracer.start_as_current_span("produce"):
        event = carried(enriched())
    before = otel_context.get_current()

    with use_parent_context(event):
        assert otel_context.get_current() is not before
    assert otel_context.get_current() is before

    with use_parent_context(Context()):  # no carrier: an empty context, restored as well
        assert trace.get_current_span() is trace.INVALID_SPAN
    assert otel_context.get_current() is before


def test_the_previous_context_is_restored_when_the_block_raises(
    spans: InMemorySpanExporter,
) -> None:
    with tracer.start_as_current_span("produce"):
        event = carried(enriched())

    with tracer.start_as_current_span("poll") as poll:
        before = otel_context.get_current()
        with pytest.raises(RuntimeError, match="publisher failed"), use_parent_context(event):
            raise RuntimeError("publisher failed")
        assert otel_context.get_current() is before
        assert trace.get_current_span() is poll
