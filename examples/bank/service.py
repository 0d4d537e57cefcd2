"""Use cases: a ``Bank`` that runs each command in its own transaction through a repository."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from event_sourcery import StreamId, StreamUUID, TenantId
from event_sourcery.backend import TransactionalBackend
from event_sourcery.encryption import Encryption, generate_key
from event_sourcery.event import Position, WrappedEvent
from event_sourcery.event_sourcing import Repository, WrappedAggregate
from examples.bank.domain import Account
from examples.bank.storage import Storage


def account_id(name: str) -> StreamUUID:
    """Accounts live in named streams: the uuid is derived from ``account/<name>``."""
    return StreamUUID(name=f"account/{name}")


def customer_id(name: str) -> str:
    """The data subject of a customer's personal data (the key that shredding deletes)."""
    return f"customer/{name}"


class Bank:
    """Each command loads the account, applies the command and saves the new events.

    One command is one transaction: the repository saves when its block ends, and the
    transaction commits right after (on a database; the in-memory backend has nothing to commit).
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.committed: Position = 0
        """The position of the last account event this bank committed (read-your-writes)."""

    @contextmanager
    def transaction(self) -> Iterator[TransactionalBackend]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        appended: list[Position] = []

        def remember(
            wrapped_event: WrappedEvent[Any],
            stream_id: StreamId,
            tenant_id: TenantId,
            position: Position,
        ) -> None:
            appended.append(position)  # an in-transaction listener: runs inside the append

        with self.storage.transaction() as backend:
            backend.in_transaction.register(remember, to=Account.category)
            try:
                yield backend
            finally:
                backend.in_transaction.remove(remember, to=Account.category)
        self.committed = max([self.committed, *appended])

    def open_account(self, name: str, owner: str, email: str) -> None:
        with self.transaction() as backend:
            backend[Encryption].store_key(customer_id(name), generate_key())
            accounts = Repository[Account](backend.event_store)
            with accounts.aggregate(account_id(name), Account()) as account:
                account.aggregate.open(customer_id(name), owner, email)

    def deposit(self, name: str, amount: Decimal) -> WrappedAggregate[Account]:
        with self.transaction() as backend:
            accounts = Repository[Account](backend.event_store)
            with accounts.aggregate(account_id(name), Account()) as account:
                account.aggregate.deposit(amount)
        return account

    def withdraw(self, name: str, amount: Decimal) -> WrappedAggregate[Account]:
        with self.transaction() as backend:
            accounts = Repository[Account](backend.event_store)
            with accounts.aggregate(account_id(name), Account()) as account:
                account.aggregate.withdraw(amount)
        return account

    def load(self, name: str) -> WrappedAggregate[Account]:
        with self.transaction() as backend:
            accounts = Repository[Account](backend.event_store)
            with accounts.aggregate(account_id(name), Account()) as account:
                return account  # no pending events: nothing is written

    def forget_customer(self, name: str) -> None:
        """Crypto-shredding: delete the customer's key; their encrypted fields become masks."""
        with self.transaction() as backend:
            backend[Encryption].shred(customer_id(name))
