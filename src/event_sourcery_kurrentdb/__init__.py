"""KurrentDB backend through the official ``kurrentdbclient``."""

from event_sourcery_kurrentdb.backend import KurrentDBBackend, KurrentDBConfig
from event_sourcery_kurrentdb.event_store import KurrentDBStorageStrategy

__all__ = ["KurrentDBBackend", "KurrentDBConfig", "KurrentDBStorageStrategy"]
