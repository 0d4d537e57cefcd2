"""Real ciphers for field encryption (needs the ``crypto`` extra: ``cryptography``)."""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any

from event_sourcery._core.strategies import EncryptionStrategy
from event_sourcery.exceptions import DecryptionFailed

_NONCE_BYTES = 12
_PREFIX = "aesgcm1:"


def generate_key(size: int = 32) -> bytes:
    """A fresh random key for one data subject (32 bytes = AES-256)."""
    if size not in (16, 24, 32):
        raise ValueError("AES keys are 16, 24 or 32 bytes long")
    return os.urandom(size)


class AesGcmEncryptionStrategy(EncryptionStrategy):
    """AES-GCM with a random 96-bit nonce per value; output ``aesgcm1:<base64>``.

    GCM authenticates as well as encrypts: a tampered value or a wrong key raises
    ``DecryptionFailed`` instead of returning garbage.
    """

    def __init__(self) -> None:
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as error:  # pragma: no cover - depends on the installed extras
            raise ImportError(
                "AesGcmEncryptionStrategy needs the 'cryptography' package: "
                "pip install 'event-sourcery[crypto]'"
            ) from error
        self._aesgcm = AESGCM

    generate_key = staticmethod(generate_key)

    def encrypt(self, data: Any, key: bytes) -> str:
        plain = data if isinstance(data, str) else str(data)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aesgcm(key).encrypt(nonce, plain.encode(), None)
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, data: str, key: bytes) -> str:
        from cryptography.exceptions import InvalidTag

        if not isinstance(data, str) or not data.startswith(_PREFIX):
            raise DecryptionFailed("Not an AES-GCM value written by AesGcmEncryptionStrategy")
        try:
            blob = base64.urlsafe_b64decode(data[len(_PREFIX) :])
            nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
            return self._aesgcm(key).decrypt(nonce, sealed, None).decode()
        except (InvalidTag, ValueError, binascii.Error) as error:
            raise DecryptionFailed("The value was tampered with or the key is wrong") from error
