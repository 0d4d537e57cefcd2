"""The error boundary: client errors become the library's documented exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kurrentdbclient.exceptions import (
    DeadlineExceededError,
    ServiceUnavailableError,
    WrongCurrentVersionError,
)

from event_sourcery.exceptions import BackendUnavailable, ConcurrentStreamWriteError


@contextmanager
def translated_errors() -> Iterator[None]:
    """Map a failed revision check to ``ConcurrentStreamWriteError`` and an unreachable or
    too slow server to ``BackendUnavailable``; anything else propagates unchanged."""
    try:
        yield
    except WrongCurrentVersionError as error:
        raise ConcurrentStreamWriteError(f"A concurrent write won: {error}") from error
    except (ServiceUnavailableError, DeadlineExceededError) as error:
        raise BackendUnavailable(
            f"KurrentDB did not answer: {type(error).__name__}: {error}; nothing was written "
            "unless the server had committed before the answer was lost"
        ) from error
