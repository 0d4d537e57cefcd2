"""Wiring and use cases: the backend, and a ``Bank`` that runs commands through a repository."""

from __future__ import annotations

from decimal import Decimal

from event_sourcery import StreamUUID
from event_sourcery.backend import InMemoryBackend, InMemoryKeyStorage
from event_sourcery.encryption import AesGcmEncryptionStrategy, Encryption, generate_key
from event_sourcery.event_sourcing import Repository, WrappedAggregate
from examples.bank.domain import Account


def make_backend() -> InMemoryBackend:
    """An in-memory backend with an outbox and AES-GCM encryption of ``Encrypted`` fields."""
    return (
        InMemoryBackend()
        .configure()
        .with_outbox()
        .with_encryption(AesGcmEncryptionStrategy(), InMemoryKeyStorage())
    )


def account_id(name: str) -> StreamUUID:
    """Accounts live in named streams: the uuid is derived from ``account/<name>``."""
    return StreamUUID(name=f"account/{name}")


def customer_id(name: str) -> str:
    """The data subject of a customer's personal data (the key that shredding deletes)."""
    return f"customer/{name}"


class Bank:
    """Each command loads the account, applies the command and saves the new events."""

    def __init__(self, backend: InMemoryBackend) -> None:
        self.backend = backend
        self.accounts = Repository[Account](backend.event_store)

    def open_account(self, name: str, owner: str, email: str) -> None:
        self.backend[Encryption].store_key(customer_id(name), generate_key())
        with self.accounts.aggregate(account_id(name), Account()) as account:
            account.aggregate.open(customer_id(name), owner, email)

    def deposit(self, name: str, amount: Decimal) -> WrappedAggregate[Account]:
        with self.accounts.aggregate(account_id(name), Account()) as account:
            account.aggregate.deposit(amount)
        return account

    def withdraw(self, name: str, amount: Decimal) -> WrappedAggregate[Account]:
        with self.accounts.aggregate(account_id(name), Account()) as account:
            account.aggregate.withdraw(amount)
        return account

    def load(self, name: str) -> WrappedAggregate[Account]:
        with self.accounts.aggregate(account_id(name), Account()) as account:
            return account  # no pending events: nothing is written

    def forget_customer(self, name: str) -> None:
        """Crypto-shredding: delete the customer's key; their encrypted fields become masks."""
        self.backend[Encryption].shred(customer_id(name))
