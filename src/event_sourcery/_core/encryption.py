"""Field-level encryption of events and crypto-shredding (SPEC §12).

Encrypted values are stored as the cipher's output of the value's JSON text, so every type
round-trips: a string that looks like JSON (``"12345"``, ``"null"``) is stored as ``"\\"12345\\""``
and comes back a string. Data written by the existing library (plain strings stored unquoted)
still reads: text that is not JSON, or JSON of the wrong kind for a string-only field, is kept
verbatim.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from event_sourcery._core.encrypted_fields import LIST_ITEMS, EncryptedField
from event_sourcery._core.json_values import json_data
from event_sourcery._core.registry import EventRegistry
from event_sourcery._core.strategies import EncryptionKeyStorageStrategy, EncryptionStrategy
from event_sourcery._core.stream_id import StreamId
from event_sourcery.exceptions import KeyNotFoundError, NoSubjectIdFound


def subject_key(subject: Any) -> str:
    """The text form under which a subject's key is stored (``UUID`` and ``int`` work too)."""
    return subject if isinstance(subject, str) else str(subject)


@dataclass
class Encryption:
    """Encrypts and decrypts the ``Encrypted`` fields of events; ``shred`` forgets a subject."""

    registry: EventRegistry
    strategy: EncryptionStrategy
    key_storage: EncryptionKeyStorageStrategy

    def encrypt(self, event: BaseModel, stream_id: StreamId) -> dict[str, Any]:
        """The JSON-mode data of ``event`` with encrypted fields replaced by ciphertext."""
        data = json_data(event)
        fields = self.registry.field_specs(type(event))
        if not fields:
            return data
        keys: dict[str, bytes] = {}
        for spec in fields:
            subject = self._subject(spec, type(event), data, stream_id)
            if subject is None:
                raise NoSubjectIdFound(stream_id)
            key = keys.get(subject)
            if key is None:
                key = self.key_storage.get(subject)
                if key is None:
                    raise KeyNotFoundError(subject)
                keys[subject] = key
            for holder, slot in _locations(data, spec.path):
                holder[slot] = self.strategy.encrypt(_to_text(holder[slot]), key)
        return data

    def decrypt(
        self, event_type: type[BaseModel], raw: dict[str, Any], stream_id: StreamId
    ) -> dict[str, Any]:
        """A copy of stored ``raw`` data with encrypted fields decrypted, or masked if shredded."""
        fields = self.registry.field_specs(event_type)
        if not fields:
            return raw
        data = copy.deepcopy(raw)
        keys: dict[str, bytes | None] = {}
        for spec in fields:
            subject = self._subject(spec, event_type, data, stream_id) or ""
            if subject not in keys:
                keys[subject] = self.key_storage.get(subject)
            key = keys[subject]
            for holder, slot in _locations(data, spec.path):
                if key is None:
                    holder[slot] = spec.marker.mask_value
                else:
                    holder[slot] = _from_text(self.strategy.decrypt(holder[slot], key), spec)
        return data

    def shred(self, subject_id: Any) -> None:
        """Delete the subject's key: its encrypted fields read as their mask values from now on."""
        self.key_storage.delete(subject_key(subject_id))

    def store_key(self, subject_id: Any, key: bytes) -> None:
        """Store the key for a data subject (keys are never generated implicitly)."""
        self.key_storage.store(subject_key(subject_id), key)

    def _subject(
        self, spec: EncryptedField, event_type: type, data: dict[str, Any], stream_id: StreamId
    ) -> str | None:
        field = spec.marker.subject_field or self.registry.privacy_layout(event_type).subject_field
        value = data.get(field) if field else None
        if value:
            return subject_key(value)
        return stream_id.name or None


def _to_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _from_text(plain: Any, spec: EncryptedField) -> Any:
    if not isinstance(plain, str):
        return plain
    try:
        value = json.loads(plain)
    except ValueError:
        return plain  # the existing library stored plain strings unquoted
    if spec.text_only and not isinstance(value, str) and (value is not None or not spec.nullable):
        return plain  # e.g. "12345" or "null" written unquoted by the existing library
    return value


def _locations(data: Any, path: tuple[str, ...]) -> Iterator[tuple[Any, Any]]:
    """(container, key) pairs of every value at ``path`` (``[]`` segments fan out over lists)."""
    head, rest = path[0], path[1:]
    if head == LIST_ITEMS:  # never last: only named fields are marked Encrypted
        if isinstance(data, list):
            for item in data:
                yield from _locations(item, rest)
        return
    if not isinstance(data, dict) or head not in data:
        return
    if not rest:
        yield data, head
    elif data[head] is not None:
        yield from _locations(data[head], rest)
