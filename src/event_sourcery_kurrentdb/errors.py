"""The error boundary: client errors become the library's documented exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kurrentdbclient.exceptions import (
    AbortedByServerError,
    DeadlineExceededError,
    MaximumAppendSizeExceededError,
    ServiceUnavailableError,
    WrongCurrentVersionError,
)

from event_sourcery.exceptions import (
    AppendTooLarge,
    BackendUnavailable,
    ConcurrentStreamWriteError,
)


@contextmanager
def translated_errors() -> Iterator[None]:
    """Map a failed revision check to ``ConcurrentStreamWriteError``, an append beyond the
    server's maximum size to ``AppendTooLarge`` and an unreachable, too slow or aborting server
    to ``BackendUnavailable``; anything else propagates unchanged."""
    try:
        yield
    except MaximumAppendSizeExceededError as error:
        raise AppendTooLarge(
            f"The append is larger than KurrentDB's MaxAppendSize ({error}); nothing was "
            "written. Append fewer or smaller events at a time, or raise the server's limit"
        ) from error
    except WrongCurrentVersionError as error:
        raise ConcurrentStreamWriteError(f"A concurrent write won: {error}") from error
    except (ServiceUnavailableError, DeadlineExceededError, AbortedByServerError) as error:
        raise BackendUnavailable(
            f"KurrentDB did not answer or ended the call: {type(error).__name__}: {error}. An "
            "append may or may not have been stored: load the stream to find out"
        ) from error
