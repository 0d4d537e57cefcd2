"""``InMemoryKeyStorage``: encryption keys by (tenant, subject) in a dict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from typing_extensions import Self

from event_sourcery._core.encryption import subject_key
from event_sourcery._core.strategies import EncryptionKeyStorageStrategy
from event_sourcery._core.stream_id import DEFAULT_TENANT, TenantId


@dataclass
class InMemoryKeyStorage(EncryptionKeyStorageStrategy):
    """Keys in memory; tenant views share one dict. Subjects may be ``str``, ``UUID`` or ``int``."""

    keys: dict[tuple[TenantId, str], bytes] = field(default_factory=dict)
    tenant_id: TenantId = DEFAULT_TENANT

    def get(self, subject_id: Any) -> bytes | None:
        return self.keys.get((self.tenant_id, subject_key(subject_id)))

    def store(self, subject_id: Any, key: bytes) -> None:
        self.keys[(self.tenant_id, subject_key(subject_id))] = key

    def delete(self, subject_id: Any) -> None:
        self.keys.pop((self.tenant_id, subject_key(subject_id)), None)

    def scoped_for_tenant(self, tenant_id: TenantId) -> Self:
        return type(self)(keys=self.keys, tenant_id=tenant_id)
