"""``KurrentDBBackend`` and ``KurrentDBConfig``."""

from __future__ import annotations

from kurrentdbclient import KurrentDBClient
from pydantic import BaseModel, ConfigDict, PositiveFloat, PositiveInt
from typing_extensions import Self

from event_sourcery._core.strategies import (
    OutboxFiltererStrategy,
    OutboxStorageStrategy,
    StorageStrategy,
    SubscriptionStrategy,
)
from event_sourcery._core.stream_id import TenantId
from event_sourcery._store.backend import Backend
from event_sourcery._store.container import Container, not_configured, singleton
from event_sourcery._store.outbox import no_filter
from event_sourcery_kurrentdb.event_store import KurrentDBStorageStrategy
from event_sourcery_kurrentdb.outbox import KurrentDBOutboxStorageStrategy
from event_sourcery_kurrentdb.subscription import KurrentDBSubscriptionStrategy


class KurrentDBConfig(BaseModel):
    """Settings of the KurrentDB backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout: PositiveFloat | None = None
    """Deadline of each request in seconds (``None``: the client's default)."""
    outbox_name: str = "pyes-outbox"
    """Name of the persistent subscription group the outbox reads."""
    outbox_attempts: PositiveInt = 3
    outbox_wait: PositiveFloat = 0.5
    """How long ``outbox.run`` waits for the next message before it returns."""


class KurrentDBBackend(Backend):
    """Event store on a KurrentDB server through the official ``kurrentdbclient``.

    Not transactional: each append is atomic on its own and there are no in-transaction
    listeners. A tenant id a stream name cannot hold (a ``-``, or what UTF-8 cannot encode)
    raises ``IllegalTenantId`` at the first operation, as on the other backends.
    """

    UNCONFIGURED_MESSAGE = "Configure backend with `.configure(kurrentdb_client, config)`"

    def __init__(self) -> None:
        super().__init__()
        for key in (KurrentDBClient, KurrentDBConfig, StorageStrategy, SubscriptionStrategy):
            self[key] = not_configured(self.UNCONFIGURED_MESSAGE)

    def configure(self, client: KurrentDBClient, config: KurrentDBConfig | None = None) -> Self:
        """Use ``client``; returns the backend. No request is sent."""
        self[KurrentDBClient] = client
        self[KurrentDBConfig] = config or KurrentDBConfig()
        self[StorageStrategy] = _storage_strategy
        self[SubscriptionStrategy] = lambda c: KurrentDBSubscriptionStrategy(
            c[KurrentDBClient], c[KurrentDBConfig].timeout
        )
        return self

    def with_outbox(self, filterer: OutboxFiltererStrategy = no_filter) -> Self:
        """Publish appended events that ``filterer`` accepts (no request is sent now)."""
        self[OutboxFiltererStrategy] = filterer
        self[KurrentDBOutboxStorageStrategy] = singleton(_outbox_strategy)
        self[OutboxStorageStrategy] = lambda c: c[KurrentDBOutboxStorageStrategy]
        return self


def _outbox_strategy(container: Container) -> KurrentDBOutboxStorageStrategy:
    config = container[KurrentDBConfig]
    return KurrentDBOutboxStorageStrategy(
        container[KurrentDBClient],
        container[OutboxFiltererStrategy],
        name=config.outbox_name,
        attempts=config.outbox_attempts,
        wait=config.outbox_wait,
        timeout=config.timeout,
    )


def _storage_strategy(container: Container) -> KurrentDBStorageStrategy:
    outbox = container.get(KurrentDBOutboxStorageStrategy)
    return KurrentDBStorageStrategy(
        container[KurrentDBClient],
        container[TenantId],
        timeout=container[KurrentDBConfig].timeout,
        before_append=outbox.ensure_group if outbox is not None else None,
    )
