"""Shared test settings, and this run's own databases (``tests/run_databases.py``)."""

import pytest
from hypothesis import HealthCheck, settings

from tests import run_databases

settings.register_profile(
    "default", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")

# At import, not in pytest_configure: pytest imports the conftest files on the path of the tests
# it is given before it configures, and those (Django's settings) read the database names.
run_databases.claim()


def pytest_unconfigure(config: pytest.Config) -> None:
    run_databases.release()
