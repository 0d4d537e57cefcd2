"""KurrentDB backend through the official ``kurrentdbclient``."""

try:
    from event_sourcery.exceptions import AppendTooLarge
    from event_sourcery_kurrentdb.backend import KurrentDBBackend, KurrentDBConfig
    from event_sourcery_kurrentdb.event_store import KurrentDBStorageStrategy
except ModuleNotFoundError as error:  # the kurrentdb extra is not installed
    from event_sourcery._core.extras import extra_missing

    replacement = extra_missing(error, __name__, "kurrentdb", ["kurrentdbclient", "grpc"])
    if replacement is None:
        raise
    raise replacement from error

__all__ = ["AppendTooLarge", "KurrentDBBackend", "KurrentDBConfig", "KurrentDBStorageStrategy"]
