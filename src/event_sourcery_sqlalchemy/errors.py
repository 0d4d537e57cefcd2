"""The error boundary: database errors become the library's documented exceptions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, IntegrityError

from event_sourcery.exceptions import (
    BackendUnavailable,
    ConcurrentStreamWriteError,
    ModelsNotConfigured,
    SchemaNotMigrated,
)

MIGRATE_HINT = (
    "run the event_sourcery Alembic migrations: `alembic upgrade event_sourcery@head` (with "
    "event_sourcery_sqlalchemy.migrations.VERSION_LOCATION in your version_locations); custom "
    "models need a migration of their own (`alembic revision --autogenerate`)"
)


@contextmanager
def translated_errors() -> Iterator[None]:
    """Map unique violations to ``ConcurrentStreamWriteError``, lost connections to
    ``BackendUnavailable`` and an outdated schema to ``SchemaNotMigrated``; anything else
    propagates unchanged."""
    try:
        yield
    except IntegrityError as error:
        raise ConcurrentStreamWriteError(f"A concurrent write won: {error.orig}") from error
    except DBAPIError as error:
        if _rolled_back_by_conflict(error):
            raise ConcurrentStreamWriteError(
                f"The database rolled the transaction back to resolve a conflict: {error.orig}; "
                "roll back and retry"
            ) from error
        if _schema_outdated(error):
            found = str(error.orig).strip().splitlines()[0]
            raise SchemaNotMigrated(
                f"The database's tables are older than the event store's models ({found}): "
                f"{MIGRATE_HINT}"
            ) from error
        if error.connection_invalidated:
            raise BackendUnavailable(f"The database connection was lost: {error.orig}") from error
        if "database is locked" in str(error.orig):  # SQLite: another writer kept the lock
            raise BackendUnavailable(
                "The SQLite database stayed locked by another writer longer than the busy "
                "timeout; roll back and retry"
            ) from error
        raise


def mapped_table(model: type) -> Table:
    """The table ``model`` is mapped onto, or ``ModelsNotConfigured`` if it is not mapped."""
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise ModelsNotConfigured(
            f"{model.__qualname__} is not mapped to a table: call "
            "`event_sourcery_sqlalchemy.configure_models(Base)` with your declarative base "
            "(and your custom models, if any) before using the SQLAlchemy backend"
        )
    return table


_CONFLICT_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock (PostgreSQL)
_CONFLICT_MYSQL_CODES = {1213, 1305}  # deadlock; its savepoint gone with the rolled-back work
# Undefined table or column, and a value too long for its column: the values written are
# checked against the migrated columns first (check_storable), so a column too narrow for them is
# one the migrations widen (the existing library's snapshot names, MariaDB TEXT and CHAR(32) uuids).
_OUTDATED_SQLSTATES = {"42P01", "42703", "22001"}  # PostgreSQL
_OUTDATED_MYSQL_CODES = {1146, 1054, 1406}  # MariaDB/MySQL
_MISSING_SQLITE = re.compile(r"(no such (table|column): |table \S+ has no column named )")
"""The start of SQLite's messages (it has no distinct error code for these)."""


def _sqlstate(error: DBAPIError) -> Any:
    original = error.orig
    return getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)


def _mysql_code(error: DBAPIError) -> Any:
    args: tuple[Any, ...] = getattr(error.orig, "args", ())
    return args[0] if args else None


def _rolled_back_by_conflict(error: DBAPIError) -> bool:
    return _sqlstate(error) in _CONFLICT_SQLSTATES or _mysql_code(error) in _CONFLICT_MYSQL_CODES


def _schema_outdated(error: DBAPIError) -> bool:
    """A missing table or column, or one too narrow, told by the driver's error code (SQLite,
    which has no code for these and does not enforce lengths: its message)."""
    if _sqlstate(error) in _OUTDATED_SQLSTATES or _mysql_code(error) in _OUTDATED_MYSQL_CODES:
        return True
    module = type(error.orig).__module__
    return module.startswith("sqlite3") and bool(_MISSING_SQLITE.match(str(error.orig)))
