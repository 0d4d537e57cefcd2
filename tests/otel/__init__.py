"""Tests of event_sourcery_otel with real OpenTelemetry SDK spans."""
