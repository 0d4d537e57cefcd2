"""The error boundary: database errors become the library's documented exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError

from event_sourcery.exceptions import BackendUnavailable, ConcurrentStreamWriteError


@contextmanager
def translated_errors() -> Iterator[None]:
    """Map unique violations to ``ConcurrentStreamWriteError`` and lost connections to
    ``BackendUnavailable``; anything else propagates unchanged."""
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
        if error.connection_invalidated:
            raise BackendUnavailable(f"The database connection was lost: {error.orig}") from error
        if "database is locked" in str(error.orig):  # SQLite: another writer kept the lock
            raise BackendUnavailable(
                "The SQLite database stayed locked by another writer longer than the busy "
                "timeout; roll back and retry"
            ) from error
        raise


_CONFLICT_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock (PostgreSQL)
_CONFLICT_MYSQL_CODES = {1213, 1305}  # deadlock; its savepoint gone with the rolled-back work


def _rolled_back_by_conflict(error: DBAPIError) -> bool:
    original = error.orig
    if getattr(original, "sqlstate", None) in _CONFLICT_SQLSTATES:
        return True
    if getattr(original, "pgcode", None) in _CONFLICT_SQLSTATES:
        return True
    args: tuple[Any, ...] = getattr(original, "args", ())
    return bool(args) and args[0] in _CONFLICT_MYSQL_CODES
