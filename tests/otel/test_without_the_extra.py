"""Without ``opentelemetry-api`` installed, importing event_sourcery_otel names the extra.

Runs in a fresh interpreter that refuses the ``opentelemetry`` modules, as if they were not
installed (the helper of the backend packages' tests).
"""

from __future__ import annotations

from tests.backends.test_missing_extras import import_without


def test_the_import_error_names_the_extra_and_chains_the_original() -> None:
    raised = import_without("event_sourcery_otel", "opentelemetry")

    assert raised is not None, "event_sourcery_otel imported without opentelemetry"
    assert raised["type"] == "ModuleNotFoundError"  # an ImportError
    assert "pip install 'event-sourcery[otel]'" in raised["message"]
    assert "event_sourcery_otel" in raised["message"]
    assert raised["name"] == "opentelemetry"
    assert (raised["cause"], raised["cause_name"]) == ("ModuleNotFoundError", "opentelemetry")


def test_the_core_does_not_need_opentelemetry() -> None:
    for module in ("event_sourcery", "event_sourcery.backend", "event_sourcery.event"):
        assert import_without(module, "opentelemetry") is None


def test_with_opentelemetry_installed_it_imports() -> None:
    assert import_without("event_sourcery_otel") is None
