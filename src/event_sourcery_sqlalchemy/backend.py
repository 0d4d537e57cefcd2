"""``SQLAlchemyBackend`` and ``SQLAlchemyConfig``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, PositiveInt
from sqlalchemy.orm import Session, scoped_session
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
from event_sourcery._store.container import Container, not_configured
from event_sourcery._store.listeners import Dispatcher
from event_sourcery._store.outbox import no_filter
from event_sourcery_sqlalchemy.event_store import SqlAlchemyStorageStrategy
from event_sourcery_sqlalchemy.models_set import Models
from event_sourcery_sqlalchemy.outbox import SqlAlchemyOutboxStorageStrategy
from event_sourcery_sqlalchemy.subscription import SqlAlchemySubscriptionStrategy


class SQLAlchemyConfig(BaseModel):
    """Settings of the SQLAlchemy backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outbox_attempts: PositiveInt = 3
    gap_retry_interval: timedelta = timedelta(seconds=0.5)
    """How often a waiting subscriber polls when no wake-up reaches it."""
    outbox_backoff: timedelta = timedelta(0)
    """Wait after a failed publish, doubled after each further failure (0 = retry next run)."""
    outbox_max_backoff: timedelta = timedelta(minutes=5)


class SQLAlchemyBackend(TransactionalBackend):
    """Event store in SQL tables through a SQLAlchemy ``Session`` the caller owns."""

    UNCONFIGURED_MESSAGE = "Configure backend with `.configure(session, config)`"

    def __init__(self) -> None:
        super().__init__()
        for key in (Session, SQLAlchemyConfig, Models, StorageStrategy, SubscriptionStrategy):
            self[key] = not_configured(self.UNCONFIGURED_MESSAGE)

    def __setitem__(self, key: Any, value: Any) -> None:
        if key is Session and isinstance(value, (Session, scoped_session)):
            value = _constant(value)  # a scoped_session is a session, not a provider
        super().__setitem__(key, value)

    def configure(
        self,
        session: Session | scoped_session[Any],
        config: SQLAlchemyConfig | None = None,
        custom_models: Models | None = None,
    ) -> Self:
        """Use ``session`` (a ``Session`` or ``scoped_session``); returns the backend."""
        self[Session] = session
        self[SQLAlchemyConfig] = config or SQLAlchemyConfig()
        self[Models] = custom_models or Models()
        self[StorageStrategy] = _storage_strategy
        self[SubscriptionStrategy] = lambda c: SqlAlchemySubscriptionStrategy(
            c[Session],
            c[SQLAlchemyConfig].gap_retry_interval,
            c[Models].event_model,
            c[Models].stream_model,
        )
        return self

    def with_outbox(self, filterer: OutboxFiltererStrategy = no_filter) -> Self:
        """Write every appended event that ``filterer`` accepts to the outbox table."""
        self[OutboxFiltererStrategy] = filterer
        self[SqlAlchemyOutboxStorageStrategy] = _outbox_strategy
        self[OutboxStorageStrategy] = lambda c: c[SqlAlchemyOutboxStorageStrategy]
        return self


def _constant(value: Any) -> Any:
    return lambda _container: value


def _outbox_strategy(container: Container) -> SqlAlchemyOutboxStorageStrategy:
    config = container[SQLAlchemyConfig]
    return SqlAlchemyOutboxStorageStrategy(
        session=container[Session],
        filterer=container[OutboxFiltererStrategy],
        policy=RetryPolicy(
            attempts=config.outbox_attempts,
            backoff=config.outbox_backoff,
            max_backoff=config.outbox_max_backoff,
        ),
        model=container[Models].outbox_entry_model,
    )


def _storage_strategy(container: Container) -> SqlAlchemyStorageStrategy:
    outbox = container.get(SqlAlchemyOutboxStorageStrategy)
    return SqlAlchemyStorageStrategy(
        session=container[Session],
        dispatch=container[Dispatcher].dispatch,
        models=container[Models],
        enqueue=outbox.enqueue if outbox is not None else None,
        tenant_id=container[TenantId],
    )
