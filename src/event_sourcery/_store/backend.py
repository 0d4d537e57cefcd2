"""``Backend``: the container wiring storage, serialisation, encryption, outbox, subscriptions."""

from __future__ import annotations

from typing import Any

from typing_extensions import Self

from event_sourcery._core.encryption import Encryption
from event_sourcery._core.enrichment import ContextEnrichers, EventContextEnricher
from event_sourcery._core.registry import EventRegistry
from event_sourcery._core.serde import Serde
from event_sourcery._core.strategies import (
    EncryptionKeyStorageStrategy,
    EncryptionStrategy,
    OutboxFiltererStrategy,
    OutboxStorageStrategy,
    StorageStrategy,
    SubscriptionStrategy,
)
from event_sourcery._core.stream_id import DEFAULT_TENANT, TenantId
from event_sourcery._store.container import Container, not_configured, singleton
from event_sourcery._store.event_store import EventStore
from event_sourcery._store.listeners import Dispatcher, Listeners
from event_sourcery._store.outbox import NoOutboxStorageStrategy, Outbox, no_filter
from event_sourcery._store.subscriber import PositionPhase, SubscriptionBuilder
from event_sourcery.exceptions import IllegalTenantId

NO_BACKEND = "Use one of pyES backends: SQLAlchemy, Django or KurrentDB"


class NoEncryptionStrategy(EncryptionStrategy):
    """The default cipher: there is none; using ``Encrypted`` fields needs ``with_encryption``."""

    def encrypt(self, data: Any, key: bytes) -> str:
        raise NotImplementedError("Configure a cipher with backend.with_encryption(...)")

    def decrypt(self, data: str, key: bytes) -> Any:
        raise NotImplementedError("Configure a cipher with backend.with_encryption(...)")


class NoKeyStorageStrategy(EncryptionKeyStorageStrategy):
    """The default key storage: there is none; configure one with ``with_encryption``."""

    def get(self, subject_id: str) -> bytes | None:
        raise NotImplementedError("Configure a key storage with backend.with_encryption(...)")

    def store(self, subject_id: str, key: bytes) -> None:
        raise NotImplementedError("Configure a key storage with backend.with_encryption(...)")

    def delete(self, subject_id: str) -> None:
        raise NotImplementedError("Configure a key storage with backend.with_encryption(...)")

    def scoped_for_tenant(self, tenant_id: TenantId) -> Self:
        return self


def check_tenant_id(tenant_id: object) -> TenantId:
    """``tenant_id`` if it is a string, else ``IllegalTenantId``."""
    if not isinstance(tenant_id, str):
        raise IllegalTenantId(f"Tenant id must be a string, got {type(tenant_id).__name__}")
    return tenant_id


class Backend(Container):
    """A configured event store: resolve pieces with ``backend[Type]`` or the properties."""

    def __init__(self) -> None:
        super().__init__()
        self[TenantId] = DEFAULT_TENANT
        self[EventRegistry] = EventRegistry()
        self[EncryptionStrategy] = NoEncryptionStrategy()
        self[EncryptionKeyStorageStrategy] = lambda c: NoKeyStorageStrategy().scoped_for_tenant(
            c[TenantId]
        )
        self[Encryption] = lambda c: Encryption(
            registry=c[EventRegistry],
            strategy=c[EncryptionStrategy],
            key_storage=c[EncryptionKeyStorageStrategy],
        )
        self[Serde] = lambda c: Serde(registry=c[EventRegistry], encryption=c[Encryption])
        self[StorageStrategy] = not_configured(NO_BACKEND)
        self[ContextEnrichers] = ContextEnrichers()
        self[EventStore] = lambda c: EventStore(
            c[StorageStrategy], c[Serde], c[ContextEnrichers], c[TenantId]
        )
        self[OutboxStorageStrategy] = NoOutboxStorageStrategy()
        self[Outbox] = lambda c: Outbox(c[OutboxStorageStrategy], c[Serde])
        self[SubscriptionStrategy] = not_configured(NO_BACKEND)
        self[PositionPhase] = lambda c: SubscriptionBuilder(c[Serde], c[SubscriptionStrategy])

    @property
    def event_store(self) -> EventStore:
        return self[EventStore]

    @property
    def outbox(self) -> Outbox:
        return self[Outbox]

    @property
    def subscriber(self) -> PositionPhase:
        """A fresh subscription builder."""
        return self[PositionPhase]

    def in_tenant_mode(self, tenant_id: TenantId) -> Self:
        """A copy of this backend acting as ``tenant_id`` (the original is untouched)."""
        copy = self.copy()
        copy[TenantId] = check_tenant_id(tenant_id)
        return copy

    def with_outbox(self, filterer: OutboxFiltererStrategy = no_filter) -> Self:
        """Queue appended events for publishing (implemented by each backend)."""
        raise NotImplementedError

    def with_context_enrichers(self, *enrichers: EventContextEnricher) -> Self:
        """Add components to the context of every appended event, in this order.

        Replaces the enrichers set before; two enrichers of one component name raise
        ``ConflictingContextComponent``.
        """
        self[ContextEnrichers] = ContextEnrichers(enrichers)
        return self

    def with_encryption(
        self, strategy: EncryptionStrategy, key_storage: EncryptionKeyStorageStrategy
    ) -> Self:
        """Encrypt ``Encrypted`` fields with ``strategy``, keys from ``key_storage`` per tenant."""
        self[EncryptionStrategy] = strategy
        self[EncryptionKeyStorageStrategy] = lambda c: key_storage.scoped_for_tenant(c[TenantId])
        return self


class TransactionalBackend(Backend):
    """A backend whose appends run in a transaction and call in-transaction listeners."""

    def __init__(self) -> None:
        super().__init__()
        self[Listeners] = singleton(lambda _c: Listeners())
        self[Dispatcher] = lambda c: Dispatcher(c[Serde], c[Listeners])

    @property
    def in_transaction(self) -> Listeners:
        """Listeners called synchronously inside ``append``."""
        return self[Listeners]
