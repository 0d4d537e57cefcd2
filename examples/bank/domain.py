"""The domain: account events and the ``Account`` aggregate with its business rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from event_sourcery.encryption import DataSubject, Encrypted
from event_sourcery.event import Event
from event_sourcery.event_sourcing import Aggregate

SHREDDED = "<shredded>"
"""What an encrypted email reads as once its customer's key is deleted."""


class AccountOpened(Event):
    customer_id: Annotated[str, DataSubject]
    owner: str
    email: Annotated[str, Encrypted(mask_value=SHREDDED)]


class MoneyDeposited(Event):
    amount: Decimal


class MoneyWithdrawn(Event):
    amount: Decimal


class AccountError(Exception):
    """A command broke a business rule; nothing was recorded."""


class InsufficientFunds(AccountError):
    def __init__(self, balance: Decimal, amount: Decimal) -> None:
        super().__init__(f"insufficient funds: balance {balance:.2f}, asked for {amount:.2f}")
        self.balance = balance
        self.amount = amount


class Account(Aggregate):
    """A bank account: its state changes only by applying its own events."""

    category = "account"

    def __init__(self) -> None:
        self.is_open = False
        self.owner = ""
        self.email = ""
        self.balance = Decimal("0.00")

    def __apply__(self, event: Any) -> None:
        match event:
            case AccountOpened(owner=owner, email=email):
                self.is_open, self.owner, self.email = True, owner, email
            case MoneyDeposited(amount=amount):
                self.balance += amount
            case MoneyWithdrawn(amount=amount):
                self.balance -= amount

    def open(self, customer_id: str, owner: str, email: str) -> None:
        if self.is_open:
            raise AccountError("the account is already open")
        self._emit(AccountOpened(customer_id=customer_id, owner=owner, email=email))

    def deposit(self, amount: Decimal) -> None:
        self._require_open_and_positive(amount)
        self._emit(MoneyDeposited(amount=amount))

    def withdraw(self, amount: Decimal) -> None:
        self._require_open_and_positive(amount)
        if amount > self.balance:
            raise InsufficientFunds(self.balance, amount)
        self._emit(MoneyWithdrawn(amount=amount))

    def _require_open_and_positive(self, amount: Decimal) -> None:
        if not self.is_open:
            raise AccountError("the account is not open")
        if amount <= 0:
            raise AccountError(f"the amount must be positive, got {amount}")
