"""The strategy interfaces backends implement, and the ``Versioning`` ABC."""

from event_sourcery._core.strategies import (
    EncryptionKeyStorageStrategy,
    EncryptionStrategy,
    OutboxFiltererStrategy,
    OutboxStorageStrategy,
    StorageStrategy,
    SubscriptionStrategy,
)
from event_sourcery._core.versioning import Versioning

__all__ = [
    "EncryptionKeyStorageStrategy",
    "EncryptionStrategy",
    "OutboxFiltererStrategy",
    "OutboxStorageStrategy",
    "StorageStrategy",
    "SubscriptionStrategy",
    "Versioning",
]
