"""Without ``opentelemetry-api`` installed, importing event_sourcery_otel names the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HIDE_OPENTELEMETRY = textwrap.dedent(
    """
    import importlib.abc
    import sys


    class Missing(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "opentelemetry" or name.startswith("opentelemetry."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None


    sys.meta_path.insert(0, Missing())
    """
)

IMPORT = textwrap.dedent(
    """
    import event_sourcery.backend  # the core does not need OpenTelemetry

    try:
        import event_sourcery_otel
    except ImportError as error:
        print(type(error).__name__, type(error.__cause__).__name__, error.__cause__.name)
        print(error)
    else:
        print("imported")
    """
)


def run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_import_error_names_the_extra_and_chains_the_original() -> None:
    kind, message = run(HIDE_OPENTELEMETRY + IMPORT).splitlines()

    assert kind == "ImportError ModuleNotFoundError opentelemetry"
    assert "pip install 'event-sourcery[otel]'" in message


def test_with_opentelemetry_installed_it_imports() -> None:
    assert run(IMPORT).strip() == "imported"
