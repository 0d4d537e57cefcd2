"""The error boundary: database errors become the library's documented exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError

from event_sourcery._core.duplicate_uuid import raise_if_duplicate_uuid
from event_sourcery._core.schema_errors import first_line, schema_outdated, sqlstate
from event_sourcery.exceptions import (
    BackendUnavailable,
    ConcurrentStreamWriteError,
    SchemaNotMigrated,
)

_CONFLICT_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock (PostgreSQL)

MIGRATE_HINT = (
    "run `python manage.py migrate event_sourcery_django` (add `--database <alias>` for a "
    "database other than the default one)"
)


@contextmanager
def translated_errors() -> Iterator[None]:
    """Unique violations and deadlocks become ``ConcurrentStreamWriteError``, an outdated schema
    ``SchemaNotMigrated``, and a lost connection or a locked SQLite database
    ``BackendUnavailable``."""
    try:
        yield
    except IntegrityError as error:
        raise_if_duplicate_uuid(error, (error.__cause__ or error))
        raise ConcurrentStreamWriteError(f"A concurrent write won: {error}") from error
    except DatabaseError as error:
        cause = error.__cause__
        if cause is not None and schema_outdated(cause):
            raise SchemaNotMigrated(
                "The database's tables are older than the event store's models "
                f"({first_line(cause)}): {MIGRATE_HINT}"
            ) from error
        if not isinstance(error, (OperationalError, InterfaceError)):
            raise
        if sqlstate(cause) in _CONFLICT_SQLSTATES:
            raise ConcurrentStreamWriteError(
                f"The database resolved a conflict: {error}"
            ) from error
        raise BackendUnavailable(f"The database is unavailable: {error}") from error
