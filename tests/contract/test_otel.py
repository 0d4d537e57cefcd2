"""event_sourcery_otel on every backend, with real OpenTelemetry SDK spans (SPEC §20.3).

An append inside a span stores the span's W3C ``traceparent``; a consumer that wraps its work in
``use_parent_context(record.wrapped_event)`` starts spans that are children of the producer's
span, whether it reads a subscription or publishes the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from event_sourcery import Event, StreamId
from event_sourcery.backend import Backend
from event_sourcery.event import Context, Recorded, WrappedEvent
from event_sourcery_otel import (
    OpenTelemetryCarrier,
    OpenTelemetryContextEnricher,
    use_parent_context,
)
from tests.otel import tracing
from tests.otel.tracing import assert_child_of, finished, traceparent

tracer = trace.get_tracer("tests.contract.otel")


class Shipped(Event):
    parcel: str


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    yield from tracing.spans()


@pytest.fixture
def traced(backend: Backend) -> Backend:
    return backend.with_outbox().with_context_enrichers(OpenTelemetryContextEnricher())


def first_record(backend: Backend, start: int) -> Recorded:
    """The first record after ``start``, waiting up to 10 s.

    On PostgreSQL a transaction open anywhere on the server (a parallel test run) delays
    delivery (ADR 0006): latency, never loss, so the test waits rather than fails.
    """
    for record in islice(backend.subscriber.start_from(start).build_iter(timelimit=0.5), 20):
        if record is not None:
            return record
    raise AssertionError("the subscription delivered nothing within 10 s")


def consume(record: Recorded) -> None:
    """What a consumer does: its work for the event joins the producer's trace."""
    with use_parent_context(record.wrapped_event), tracer.start_as_current_span("consume"):
        pass


def test_an_append_inside_a_span_stores_its_traceparent(
    traced: Backend, commit: Callable[[], None], spans: InMemorySpanExporter
) -> None:
    stream_id = StreamId()
    with tracer.start_as_current_span("produce") as span:
        traced.event_store.append(Shipped(parcel="a"), Shipped(parcel="b"), stream_id=stream_id)
    commit()

    loaded = traced.event_store.load_stream(stream_id)
    carriers = [event.context.get(OpenTelemetryCarrier) for event in loaded]
    expected = traceparent(span)
    assert [c.values["traceparent"] if c else None for c in carriers] == [expected, expected]
    context = span.get_span_context()
    assert f"-{context.trace_id:032x}-{context.span_id:016x}-" in expected


def test_without_an_active_span_nothing_is_stored(
    traced: Backend, commit: Callable[[], None], spans: InMemorySpanExporter
) -> None:
    stream_id = StreamId()
    traced.event_store.append(Shipped(parcel="a"), stream_id=stream_id)
    commit()

    [loaded] = traced.event_store.load_stream(stream_id)
    assert loaded.context.get(OpenTelemetryCarrier) is None
    assert loaded.context.components == {}


def test_a_carrier_the_caller_set_wins(
    traced: Backend, commit: Callable[[], None], spans: InMemorySpanExporter
) -> None:
    stream_id = StreamId()
    mine = OpenTelemetryCarrier(values={"traceparent": f"00-{'1' * 32}-{'2' * 16}-01"})
    event = WrappedEvent.wrap(Shipped(parcel="a"), 1, Context().with_component(mine))
    with tracer.start_as_current_span("produce"):
        traced.event_store.append(event, stream_id=stream_id)
    commit()

    [loaded] = traced.event_store.load_stream(stream_id)
    assert loaded.context.get(OpenTelemetryCarrier) == mine


def test_a_subscriber_s_span_is_a_child_of_the_producer_s_span(
    traced: Backend, commit: Callable[[], None], spans: InMemorySpanExporter
) -> None:
    start = traced.event_store.position or 0
    with tracer.start_as_current_span("produce"):
        traced.event_store.append(Shipped(parcel="a"), stream_id=StreamId())
    commit()

    consume(first_record(traced, start))

    assert_child_of(finished(spans, "consume"), finished(spans, "produce"))


def test_an_outbox_publisher_s_span_is_a_child_of_the_producer_s_span(
    traced: Backend, commit: Callable[[], None], spans: InMemorySpanExporter
) -> None:
    with tracer.start_as_current_span("produce"):
        traced.event_store.append(Shipped(parcel="a"), stream_id=StreamId())
    commit()
    published: list[Recorded] = []

    def publish(record: Recorded) -> None:
        published.append(record)
        consume(record)

    with tracer.start_as_current_span("outbox run"):
        traced.outbox.run(publish)
    commit()

    assert len(published) == 1
    assert_child_of(finished(spans, "consume"), finished(spans, "produce"))
    assert trace.get_current_span() is trace.INVALID_SPAN
