"""The error boundary: database errors become the library's documented exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError

from event_sourcery.exceptions import BackendUnavailable, ConcurrentStreamWriteError

_CONFLICT_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock (PostgreSQL)


@contextmanager
def translated_errors() -> Iterator[None]:
    """Unique violations and deadlocks become ``ConcurrentStreamWriteError``; a lost connection
    or a locked SQLite database becomes ``BackendUnavailable``."""
    try:
        yield
    except IntegrityError as error:
        raise ConcurrentStreamWriteError(f"A concurrent write won: {error}") from error
    except (OperationalError, InterfaceError) as error:
        cause = error.__cause__
        if getattr(cause, "sqlstate", None) in _CONFLICT_SQLSTATES:
            raise ConcurrentStreamWriteError(
                f"The database resolved a conflict: {error}"
            ) from error
        raise BackendUnavailable(f"The database is unavailable: {error}") from error
    except DatabaseError:
        raise
