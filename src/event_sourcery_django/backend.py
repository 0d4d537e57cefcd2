"""``DjangoBackend`` and ``DjangoConfig``."""

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
from event_sourcery._store.container import Container
from event_sourcery._store.listeners import Dispatcher
from event_sourcery._store.outbox import no_filter


class DjangoConfig(BaseModel):
    """Settings of the Django backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outbox_attempts: PositiveInt = 3
    gap_retry_interval: timedelta = timedelta(seconds=0.5)
    """How often a waiting subscriber polls when no in-process wake-up reaches it."""
    outbox_backoff: timedelta = timedelta(0)
    outbox_max_backoff: timedelta = timedelta(minutes=5)
    using: str = "default"
    """The database alias (``DATABASES`` key) holding the app's tables."""


class DjangoBackend(TransactionalBackend):
    """Event store in the ``event_sourcery_django`` app's tables, in Django's transactions.

    Works without ``configure()`` (default ``DjangoConfig``). Appends are atomic on their own;
    inside ``transaction.atomic()`` they commit or roll back with the caller's block.
    """

    def __init__(self) -> None:
        from event_sourcery_django.checks import ensure_installed

        ensure_installed()  # W002, or a clear error when the app is missing from INSTALLED_APPS
        from event_sourcery_django.subscription import DjangoSubscriptionStrategy

        super().__init__()
        self[DjangoConfig] = DjangoConfig()
        self[StorageStrategy] = _storage_strategy
        self[SubscriptionStrategy] = lambda c: DjangoSubscriptionStrategy(
            c[DjangoConfig].gap_retry_interval, c[DjangoConfig].using
        )

    def configure(self, config: DjangoConfig | None = None) -> Self:
        """Use ``config`` (defaults if ``None``); returns the backend."""
        self[DjangoConfig] = config or DjangoConfig()
        return self

    def with_outbox(self, filterer: OutboxFiltererStrategy = no_filter) -> Self:
        """Write every appended event that ``filterer`` accepts to the outbox table."""
        from event_sourcery_django.outbox import DjangoOutboxStorageStrategy

        self[OutboxFiltererStrategy] = filterer
        self[DjangoOutboxStorageStrategy] = _outbox_strategy
        self[OutboxStorageStrategy] = lambda c: c[DjangoOutboxStorageStrategy]
        return self


def _outbox_strategy(container: Container) -> object:
    from event_sourcery_django.outbox import DjangoOutboxStorageStrategy

    config = container[DjangoConfig]
    return DjangoOutboxStorageStrategy(
        filterer=container[OutboxFiltererStrategy],
        policy=RetryPolicy(
            attempts=config.outbox_attempts,
            backoff=config.outbox_backoff,
            max_backoff=config.outbox_max_backoff,
        ),
        using=config.using,
    )


def _storage_strategy(container: Container) -> object:
    from event_sourcery_django.event_store import DjangoStorageStrategy
    from event_sourcery_django.outbox import DjangoOutboxStorageStrategy

    outbox = container.get(DjangoOutboxStorageStrategy)
    return DjangoStorageStrategy(
        dispatch=container[Dispatcher].dispatch,
        enqueue=outbox.enqueue if outbox is not None else None,
        tenant_id=container[TenantId],
        using=container[DjangoConfig].using,
    )
