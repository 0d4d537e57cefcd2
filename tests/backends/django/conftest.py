"""Fixtures of the Django backend's tests; importing ``support`` configures Django first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connections

from tests.backends.django.support import (
    POSTGRES_ALIAS,
    empty_tables,
    migrate,
    migrate_once,
    require,
)


@pytest.fixture(
    params=["default", pytest.param(POSTGRES_ALIAS, marks=pytest.mark.postgres)],
    ids=["sqlite", "postgresql"],
)
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database alias on which this app has no migration applied (and no tables).

    Rows left by an earlier test are deleted first: some would not fit the older schema that
    migrating back goes through (a 64-bit outbox position, a long snapshot name).
    """
    alias: str = request.param
    require(alias)
    call_command("flush", database=alias, interactive=False, inhibit_post_migrate=True, verbosity=0)
    migrate(alias, "zero")
    yield alias
    connections[alias].close()


@pytest.fixture(
    params=["default", pytest.param(POSTGRES_ALIAS, marks=pytest.mark.postgres)],
    ids=["sqlite", "postgresql"],
)
def alias(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database alias with this app's tables empty (and emptied after the test)."""
    name: str = request.param
    require(name)
    migrate_once(name)
    empty_tables(name)
    yield name
    connections[name].close()
    empty_tables(name)
    connections[name].close()


@pytest.fixture(scope="session", autouse=True)
def _close_connections() -> Iterator[None]:
    yield
    connections.close_all()
