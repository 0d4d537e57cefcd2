"""The error boundary: database errors become the library's documented exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
        if error.connection_invalidated:
            raise BackendUnavailable(f"The database connection was lost: {error.orig}") from error
        if "database is locked" in str(error.orig):  # SQLite: another writer kept the lock
            raise BackendUnavailable(
                "The SQLite database stayed locked by another writer longer than the busy "
                "timeout; roll back and retry"
            ) from error
        raise
