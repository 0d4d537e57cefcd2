"""A backend package imported without its extra: an ``ImportError`` naming the extra (issue 9).

Each case runs in a fresh interpreter whose ``sys.meta_path`` refuses the hidden modules, as if
they were not installed; nothing is uninstalled.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from event_sourcery._core.extras import extra_missing

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import importlib, json, sys

HIDDEN = {hidden!r}


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HIDDEN or name in HIDDEN:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
try:
    importlib.import_module({package!r})
except ImportError as error:
    print(json.dumps({{
        "type": type(error).__name__,
        "message": str(error),
        "name": error.name,
        "cause": type(error.__cause__).__name__,
        "cause_name": getattr(error.__cause__, "name", None),
    }}))
else:
    print(json.dumps(None))
"""


def import_without(package: str, *hidden: str) -> Any:
    """What importing ``package`` raises when the ``hidden`` modules are not installed."""
    script = textwrap.dedent(SCRIPT.format(package=package, hidden=list(hidden)))
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("package", "hidden", "extra"),
    [
        ("event_sourcery_sqlalchemy", "sqlalchemy", "sqlalchemy"),
        ("event_sourcery_django", "django", "django"),
        ("event_sourcery_kurrentdb", "kurrentdbclient", "kurrentdb"),
    ],
    ids=["sqlalchemy", "django", "kurrentdb"],
)
def test_a_backend_without_its_extra_raises_an_import_error_naming_the_extra(
    package: str, hidden: str, extra: str
) -> None:
    raised = import_without(package, hidden)

    assert raised is not None, f"{package} imported without {hidden}"
    assert raised["type"] == "ModuleNotFoundError"
    assert f"pip install 'event-sourcery[{extra}]'" in raised["message"]
    assert package in raised["message"]
    assert raised["name"] == hidden
    assert (raised["cause"], raised["cause_name"]) == ("ModuleNotFoundError", hidden)


def test_the_core_imports_without_any_extra() -> None:
    hidden = ("sqlalchemy", "django", "kurrentdbclient", "cryptography")
    for module in ("event_sourcery", "event_sourcery.backend", "event_sourcery.event_sourcing"):
        assert import_without(module, *hidden) is None


def test_another_missing_module_is_raised_unchanged() -> None:
    """Only the extra's own modules get the hint; a broken install is not blamed on it."""
    raised = import_without("event_sourcery_sqlalchemy", "event_sourcery_sqlalchemy.dialects")

    assert raised is not None
    assert "pip install" not in raised["message"]
    assert "dialects" in raised["message"]


def test_extra_missing_matches_submodules_of_the_needed_packages() -> None:
    error = ModuleNotFoundError("No module named 'sqlalchemy.orm'", name="sqlalchemy.orm")

    replacement = extra_missing(error, "event_sourcery_sqlalchemy", "sqlalchemy", ["sqlalchemy"])

    assert replacement is not None
    assert replacement.name == "sqlalchemy.orm"
    assert isinstance(replacement, ImportError)
    assert extra_missing(error, "event_sourcery_django", "django", ["django"]) is None
