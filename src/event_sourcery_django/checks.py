"""System checks of ``event_sourcery_django`` (``python manage.py check``).

``event_sourcery_django.W002``: the app is not in ``INSTALLED_APPS``. An app that is not installed
has no ``ready()`` to register checks from, so this one is registered by :func:`ensure_installed`,
which ``DjangoBackend()`` is meant to call first thing (before it imports the models): built while
the app registry is loading, the backend only registers the check (``manage.py check`` reports it
later); built once the registry is ready, it raises :class:`ImproperlyConfigured` with the same
message, since the models cannot load anyway. The app's ``ready()`` registers it too (harmless).

``event_sourcery_django.W001``: the app's migrations are not all applied on a database. Like
Django's own database checks it is tagged ``database`` and reads only the databases the check run
names: ``python manage.py check --database default``, ``migrate`` (before it migrates) and Django's
test runner (after it created the test databases). A database that cannot be reached, or that the
database routers keep this app off, is skipped: reachability is not this check's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import django
from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

from event_sourcery_django.write_lock import begins_with_write_lock

APP_LABEL = "event_sourcery_django"

W001 = f"{APP_LABEL}.W001"
"""Id of the warning about unapplied migrations."""

W002 = f"{APP_LABEL}.W002"
"""Id of the warning about the app missing from ``INSTALLED_APPS``."""

W003 = f"{APP_LABEL}.W003"
"""Id of the warning about a SQLite database whose transactions begin without the write lock."""

IMMEDIATE_HINT = (
    'Add "OPTIONS": {"transaction_mode": "IMMEDIATE"} to its DATABASES entry '
    "(see the Django recipe of Event Sourcery)."
)

NOT_INSTALLED = f"{APP_LABEL!r} is not in INSTALLED_APPS: the Django backend has no tables."
NOT_INSTALLED_HINT = (
    f"Add {APP_LABEL!r} to INSTALLED_APPS and run `python manage.py migrate {APP_LABEL}`."
)


def register() -> None:
    """Register the app's checks (called by the app's ``ready``; registering twice is harmless)."""
    checks.register(check_migrations_applied, checks.Tags.database)
    checks.register(check_app_installed)
    checks.register(check_sqlite_transaction_mode)


def ensure_installed() -> None:
    """Register W002; raise :class:`ImproperlyConfigured` if the app is known to be missing.

    For ``DjangoBackend.__init__``: while the app registry is still loading the check is only
    registered (it runs with ``manage.py check`` and the server's start-up checks).
    """
    checks.register(check_app_installed)
    if apps.apps_ready and not apps.is_installed(APP_LABEL):
        raise ImproperlyConfigured(f"{NOT_INSTALLED} {NOT_INSTALLED_HINT}")


def check_app_installed(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Warn when the app is not in ``INSTALLED_APPS``."""
    if apps.is_installed(APP_LABEL):
        return []
    return [checks.Warning(NOT_INSTALLED, hint=NOT_INSTALLED_HINT, id=W002)]


def check_migrations_applied(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Iterable[str] | None = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    """Warn about every named database on which some of the app's migrations are not applied."""
    if not databases:
        return []
    if app_configs is not None and not any(config.label == APP_LABEL for config in app_configs):
        return []
    models = list(apps.get_app_config(APP_LABEL).get_models())
    messages: list[checks.CheckMessage] = []
    for alias in databases:
        if not any(router.allow_migrate_model(alias, model) for model in models):
            continue
        try:
            pending = unapplied_migrations(connections[alias])
        except (DatabaseError, ImproperlyConfigured):
            continue
        if pending:
            messages.append(
                checks.Warning(
                    f"{len(pending)} migration(s) of {APP_LABEL} not applied on database "
                    f"{alias!r}: {', '.join(pending)}.",
                    hint=f"Run `python manage.py migrate {APP_LABEL} --database {alias}`.",
                    id=W001,
                )
            )
    return messages


def check_sqlite_transaction_mode(
    app_configs: Sequence[AppConfig] | None = None,
    databases_settings: dict[str, Any] | None = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    """Warn about every SQLite database of the app whose transactions begin deferred (5.1+).

    ``databases_settings`` defaults to ``settings.DATABASES``.
    """
    if django.VERSION < (5, 1):  # no transaction_mode: the backend takes the lock itself
        return []
    if app_configs is not None and not any(config.label == APP_LABEL for config in app_configs):
        return []
    models = list(apps.get_app_config(APP_LABEL).get_models())
    messages: list[checks.CheckMessage] = []
    for alias, database in (databases_settings or settings.DATABASES).items():
        if "sqlite" not in str(database.get("ENGINE", "")) or begins_with_write_lock(database):
            continue
        if not any(router.allow_migrate_model(alias, model) for model in models):
            continue
        messages.append(
            checks.Warning(
                f"SQLite database {alias!r} begins transactions without the write lock: a "
                'transaction that reads before it writes fails at once with "database is '
                'locked" while another connection writes.',
                hint=IMMEDIATE_HINT,
                id=W003,
            )
        )
    return messages


def unapplied_migrations(connection: BaseDatabaseWrapper) -> list[str]:
    """Names of the app's migrations that ``migrate`` would apply on ``connection``, in order.

    Raises :class:`~django.db.DatabaseError` when the database cannot be read.
    """
    executor = MigrationExecutor(connection)
    leaves = [node for node in executor.loader.graph.leaf_nodes() if node[0] == APP_LABEL]
    plan = executor.migration_plan(leaves)
    return [migration.name for migration, _backwards in plan if migration.app_label == APP_LABEL]
