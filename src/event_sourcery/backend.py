"""Backends (dependency-injection containers) and the in-memory backend."""

from event_sourcery._core.stream_id import DEFAULT_TENANT
from event_sourcery._store.backend import Backend, TransactionalBackend
from event_sourcery._store.container import not_configured, singleton
from event_sourcery.in_memory.backend import InMemoryBackend, InMemoryConfig
from event_sourcery.in_memory.keys import InMemoryKeyStorage

__all__ = [
    "DEFAULT_TENANT",
    "Backend",
    "InMemoryBackend",
    "InMemoryConfig",
    "InMemoryKeyStorage",
    "TransactionalBackend",
    "not_configured",
    "singleton",
]
