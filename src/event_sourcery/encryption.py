"""Field encryption and crypto-shredding: markers, the service, ciphers and key defaults."""

from event_sourcery._core.ciphers import AesGcmEncryptionStrategy, generate_key
from event_sourcery._core.encrypted_fields import DataSubject, Encrypted
from event_sourcery._core.encryption import Encryption
from event_sourcery._store.backend import NoEncryptionStrategy, NoKeyStorageStrategy

__all__ = [
    "AesGcmEncryptionStrategy",
    "DataSubject",
    "Encrypted",
    "Encryption",
    "NoEncryptionStrategy",
    "NoKeyStorageStrategy",
    "generate_key",
]
