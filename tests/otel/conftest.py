"""Fixtures of the OpenTelemetry tests: spans exported in memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.otel import tracing


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    yield from tracing.spans()
