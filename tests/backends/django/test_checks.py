"""The app's system checks: ``event_sourcery_django.W001`` (migrations not applied)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from django.apps import apps
from django.core import checks
from django.test.utils import override_settings

from event_sourcery_django.checks import W001, check_migrations_applied
from tests.backends.django.support import APP, FIRST_MIGRATION, UNREACHABLE_ALIAS, migrate


def app_messages(**kwargs: Any) -> list[checks.CheckMessage]:
    """The messages of a full check run that concern this app."""
    return [message for message in checks.run_checks(**kwargs) if concerns_app(message)]


def concerns_app(message: checks.CheckMessage) -> bool:
    if (message.id or "").startswith(f"{APP}."):
        return True
    return getattr(getattr(message.obj, "_meta", None), "app_label", None) == APP


class KeepTheAppOff:
    """A database router that keeps this app's migrations off every database."""

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if app_label == APP else None


def test_check_warns_until_every_migration_is_applied(database: str) -> None:
    before = app_messages(databases=[database])
    migrate(database, FIRST_MIGRATION)
    halfway = app_messages(databases=[database])
    migrate(database)
    after = app_messages(databases=[database])

    assert [message.id for message in before] == [W001]
    assert before[0].level == checks.WARNING
    assert f"3 migration(s) of {APP} not applied on database {database!r}" in before[0].msg
    assert "0001_initial" in before[0].msg
    assert f"migrate {APP} --database {database}" in (before[0].hint or "")
    assert [message.id for message in halfway] == [W001]
    assert "2 migration(s)" in halfway[0].msg
    assert "0001_initial" not in halfway[0].msg
    assert after == []


def test_check_reads_no_database_unless_asked() -> None:
    assert check_migrations_applied(None, databases=None) == []
    assert app_messages() == []


def test_check_skips_an_unreachable_database() -> None:
    assert check_migrations_applied(None, databases=[UNREACHABLE_ALIAS]) == []


def test_check_skips_databases_the_routers_keep_the_app_off(database: str) -> None:
    with override_settings(DATABASE_ROUTERS=[KeepTheAppOff()]):
        assert check_migrations_applied(None, databases=[database]) == []


def test_check_only_concerns_this_app_when_apps_are_named(database: str) -> None:
    others = [apps.get_app_config("auth")]

    assert check_migrations_applied(others, databases=[database]) == []
    assert len(check_migrations_applied([apps.get_app_config(APP)], databases=[database])) == 1


def test_importing_the_package_does_not_import_django() -> None:
    code = "import sys, event_sourcery_django; print('django' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
