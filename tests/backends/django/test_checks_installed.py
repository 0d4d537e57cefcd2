"""``event_sourcery_django.W002``: the app missing from ``INSTALLED_APPS``.

A project without the app cannot be this test session's (its settings include it), so those
cases run in a subprocess with their own settings.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from django.core import checks

from event_sourcery_django.checks import W002, check_app_installed, ensure_installed

WITHOUT_THE_APP = """
import django
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

settings.configure(INSTALLED_APPS=["django.contrib.contenttypes"])
from event_sourcery_django.checks import ensure_installed
"""


def run_without_the_app(code: str) -> str:
    program = WITHOUT_THE_APP + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_no_warning_when_the_app_is_installed() -> None:
    assert check_app_installed(None) == []
    ensure_installed()
    assert check_app_installed in checks.registry.registry.registered_checks
    assert not [m for m in checks.run_checks() if m.id == W002]


def test_registered_while_the_registry_loads_it_warns_at_check_time() -> None:
    out = run_without_the_app(
        """
        ensure_installed()  # as DjangoBackend() built by a module imported during setup
        django.setup()
        for message in checks.run_checks():
            print(message.id, message.level == checks.WARNING, message.hint)
        """
    )

    assert out.splitlines() == [
        f"{W002} True Add 'event_sourcery_django' to INSTALLED_APPS and run "
        "`python manage.py migrate event_sourcery_django`."
    ]


def test_once_the_registry_is_ready_it_raises_a_clear_error() -> None:
    out = run_without_the_app(
        """
        django.setup()
        try:
            ensure_installed()
        except ImproperlyConfigured as error:
            print(error)
        """
    )

    assert out.startswith("'event_sourcery_django' is not in INSTALLED_APPS")
