"""The error boundary: database errors become the library's documented exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, IntegrityError

from event_sourcery._core.duplicate_uuid import raise_if_duplicate_uuid
from event_sourcery._core.schema_errors import first_line, mysql_code, schema_outdated, sqlstate
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
        raise_if_duplicate_uuid(error, error.orig)
        raise ConcurrentStreamWriteError(f"A concurrent write won: {error.orig}") from error
    except DBAPIError as error:
        if _rolled_back_by_conflict(error):
            raise ConcurrentStreamWriteError(
                f"The database rolled the transaction back to resolve a conflict: {error.orig}; "
                "roll back and retry"
            ) from error
        if schema_outdated(error.orig):
            raise SchemaNotMigrated(
                "The database's tables are older than the event store's models "
                f"({first_line(error.orig)}): {MIGRATE_HINT}"
            ) from error
        packet_hint = _packet_limit_hint(error)
        if packet_hint:
            raise BackendUnavailable(packet_hint) from error
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


def _rolled_back_by_conflict(error: DBAPIError) -> bool:
    original = error.orig
    return (
        sqlstate(original) in _CONFLICT_SQLSTATES or mysql_code(original) in _CONFLICT_MYSQL_CODES
    )


_PACKET_CODES = {1153, 2006, 2013}  # packet too big; server gone away; lost connection
_BIG_STATEMENT = 1024 * 1024


def _packet_limit_hint(error: DBAPIError) -> str | None:
    """MariaDB/MySQL drops the connection for a packet above ``max_allowed_packet``: say so
    when the error says it or the statement was big, instead of only "connection lost"."""
    code = mysql_code(error.orig)
    if code not in _PACKET_CODES:
        return None
    size = _parameters_size(error.params)
    if code != 1153 and size < _BIG_STATEMENT:
        return None
    return (
        f"The database connection was lost ({first_line(error.orig)}) after a statement of "
        f"about {size / 1024 / 1024:.1f} MB: it likely exceeds the server's max_allowed_packet. "
        "Store smaller events or raise max_allowed_packet on the server"
    )


def _parameters_size(params: object) -> int:
    if isinstance(params, (str, bytes)):
        return len(params)
    if isinstance(params, dict):
        return sum(_parameters_size(value) for value in params.values())
    if isinstance(params, (list, tuple)):
        return sum(_parameters_size(value) for value in params)
    return 0
