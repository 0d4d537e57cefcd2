"""Django for the Django backend's tests: settings configured in code, no pytest-django.

Only this directory imports Django. Importing this module configures the settings
(``settings.py`` plus the databases below) and runs ``django.setup()``, once. Database aliases:

* ``default``: a SQLite file in a fresh temporary directory, whose transactions take the write
  lock at BEGIN (``transaction_mode="IMMEDIATE"``, Django 5.1+);
* ``postgresql``: the ``es_django`` database on the PostgreSQL server of
  ``EVENT_SOURCERY_POSTGRES_URL`` (default: the machine's server on loopback), dropped and
  created once per test session when a test first needs it. An absent server skips its tests
  with the reason, except in CI (``CI=true``), where it fails them;
* ``unreachable``: a SQLite file in a directory that does not exist (for the system checks).

``conftest.py``'s ``database`` fixture runs a test on ``default`` and ``postgresql`` with its
tables emptied and this app migrated back to zero; the test migrates what it needs (``migrate``).
"""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import django
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from tests.backends.django import settings as test_settings
from tests.run_databases import django_database

APP = "event_sourcery_django"
FIRST_MIGRATION = "0001_initial"
LATEST_MIGRATION = "0003_deleted_event_keys"
POSTGRES_ALIAS = "postgresql"
UNREACHABLE_ALIAS = "unreachable"
POSTGRES_DATABASE = django_database()
"""The Django tests' PostgreSQL database; other Django databases of the suite take it as prefix."""
POSTGRES_URL = os.environ.get(
    "EVENT_SOURCERY_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_settings() -> dict[str, Any]:
    """Connection settings of the server in ``POSTGRES_URL``, on the ``es_django`` database."""
    url = urlsplit(POSTGRES_URL)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": POSTGRES_DATABASE,
        "HOST": url.hostname or "127.0.0.1",
        "PORT": str(url.port or 5432),
        "USER": unquote(url.username or "postgres"),
        "PASSWORD": unquote(url.password or ""),
        "OPTIONS": {"connect_timeout": 5},
    }


SQLITE_OPTIONS: dict[str, Any] = (
    {"transaction_mode": "IMMEDIATE"} if django.VERSION >= (5, 1) else {}
)
"""Every transaction takes SQLite's write lock at BEGIN (Django 5.1+; W003 checks it)."""


def _configure() -> None:
    if settings.configured:
        return
    scratch = Path(tempfile.mkdtemp(prefix="event-sourcery-django-"))
    values = {name: getattr(test_settings, name) for name in dir(test_settings) if name.isupper()}
    settings.configure(
        **values,
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(scratch / "events.sqlite3"),
                "OPTIONS": dict(SQLITE_OPTIONS),
            },
            POSTGRES_ALIAS: _postgres_settings(),
            UNREACHABLE_ALIAS: {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(scratch / "missing" / "events.sqlite3"),
                "OPTIONS": dict(SQLITE_OPTIONS),
            },
        },
    )
    django.setup()


_configure()


@cache
def postgres_unavailable() -> str | None:
    """Create a fresh ``es_django`` database once per session; why it cannot be, if so."""
    import psycopg
    from psycopg import sql

    options = _postgres_settings()
    try:
        with psycopg.connect(
            dbname="postgres",
            host=options["HOST"],
            port=options["PORT"],
            user=options["USER"],
            password=options["PASSWORD"],
            connect_timeout=5,
            autocommit=True,
        ) as admin:
            name = sql.Identifier(POSTGRES_DATABASE)
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    except Exception as error:
        return f"PostgreSQL at {options['HOST']}:{options['PORT']} unavailable: {error}"
    return None


def require(alias: str) -> None:
    """Skip (fail in CI) when the database of ``alias`` cannot be used."""
    if alias != POSTGRES_ALIAS:
        return
    reason = postgres_unavailable()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def migrate(alias: str, target: str | None = None) -> None:
    """Migrate ``alias``: every app to its latest migration, or this app to ``target``."""
    if target is None:
        call_command("migrate", database=alias, verbosity=0)
    else:
        call_command("migrate", APP, target, database=alias, verbosity=0)


_migrated: set[str] = set()


def migrate_once(alias: str) -> None:
    """Migrate ``alias`` to the latest migrations unless this process did already.

    The Django backend's own tests migrate this app back and forth; they re-enter here.
    """
    from django.db.migrations.recorder import MigrationRecorder

    applied = {
        name
        for app, name in MigrationRecorder(connections[alias]).applied_migrations()
        if app == APP
    }
    if alias in _migrated and LATEST_MIGRATION in applied:
        return
    migrate(alias)
    _migrated.add(alias)


def empty_tables(alias: str) -> None:
    """Delete every row of this app's tables on ``alias`` (children first)."""
    from event_sourcery_django.models import DeletedEvent, Event, OutboxEntry, Snapshot, Stream

    with connections[alias].cursor() as cursor:
        for model in (OutboxEntry, Snapshot, Event, Stream, DeletedEvent):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
