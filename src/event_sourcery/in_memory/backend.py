"""``InMemoryBackend`` and its configuration."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, PositiveInt
from typing_extensions import Self

from event_sourcery._core.outbox_entry import RetryPolicy
from event_sourcery._core.strategies import (
    OutboxFiltererStrategy,
    OutboxStorageStrategy,
    StorageStrategy,
    SubscriptionStrategy,
)
from event_sourcery._core.stream_id import TenantId
from event_sourcery._store.backend import TransactionalBackend
from event_sourcery._store.container import Container, not_configured, singleton
from event_sourcery._store.listeners import Dispatcher
from event_sourcery._store.outbox import no_filter
from event_sourcery.in_memory.event_store import InMemoryStorageStrategy
from event_sourcery.in_memory.outbox import InMemoryOutboxStorageStrategy
from event_sourcery.in_memory.storage import InMemoryStorage
from event_sourcery.in_memory.subscription import InMemorySubscriptionStrategy


class InMemoryConfig(BaseModel):
    """Settings of the in-memory backend (only the outbox needs them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outbox_attempts: PositiveInt = 3
    outbox_backoff: timedelta = timedelta(0)
    """Wait after a failed publish, doubled after each further failure (0 = retry next run)."""
    outbox_max_backoff: timedelta = timedelta(minutes=5)


class InMemoryBackend(TransactionalBackend):
    """Everything in process memory; thread-safe; tenant copies share the data."""

    UNCONFIGURED_MESSAGE = "Configure backend with `.configure(config)`"

    def __init__(self) -> None:
        super().__init__()
        self[InMemoryStorage] = singleton(lambda _c: InMemoryStorage())
        self[InMemoryConfig] = not_configured(self.UNCONFIGURED_MESSAGE)
        self[StorageStrategy] = _storage_strategy
        self[SubscriptionStrategy] = lambda c: InMemorySubscriptionStrategy(c[InMemoryStorage])

    def configure(self, config: InMemoryConfig | None = None) -> Self:
        """Set the configuration (defaults if ``None``); returns the backend."""
        self[InMemoryConfig] = config or InMemoryConfig()
        return self

    def with_outbox(self, filterer: OutboxFiltererStrategy = no_filter) -> Self:
        """Queue every appended event that ``filterer`` accepts for ``backend.outbox.run``."""
        self[OutboxFiltererStrategy] = filterer
        self[InMemoryOutboxStorageStrategy] = singleton(_outbox_strategy)
        self[OutboxStorageStrategy] = lambda c: c[InMemoryOutboxStorageStrategy]
        return self


def _outbox_strategy(container: Container) -> InMemoryOutboxStorageStrategy:
    config = container[InMemoryConfig]
    policy = RetryPolicy(
        attempts=config.outbox_attempts,
        backoff=config.outbox_backoff,
        max_backoff=config.outbox_max_backoff,
    )
    return InMemoryOutboxStorageStrategy(policy)


def _storage_strategy(container: Container) -> InMemoryStorageStrategy:
    with_outbox = InMemoryOutboxStorageStrategy in container
    return InMemoryStorageStrategy(
        storage=container[InMemoryStorage],
        dispatcher=container[Dispatcher],
        outbox=container[InMemoryOutboxStorageStrategy] if with_outbox else None,
        filterer=container[OutboxFiltererStrategy] if with_outbox else None,
        tenant_id=container[TenantId],
    )
