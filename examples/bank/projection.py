"""The balances read model, fed by a subscription through a ``Projector``."""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from event_sourcery import StreamId
from event_sourcery.backend import Backend
from event_sourcery.event import Position, WrappedEvent
from event_sourcery.read_model import InMemoryCursorsDao, Projector
from examples.bank.domain import Account, AccountOpened, MoneyDeposited, MoneyWithdrawn


@dataclass
class Row:
    owner: str
    balance: Decimal
    version: int


class Balances:
    """The read model: one row per account stream name (a ``ReadModel`` callable)."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}

    def __call__(self, wrapped_event: WrappedEvent[Any], stream_id: StreamId) -> None:
        account, version = str(stream_id.name), wrapped_event.version or 0
        match wrapped_event.event:
            case AccountOpened(owner=owner):
                self.rows[account] = Row(owner, Decimal("0.00"), version)
            case MoneyDeposited(amount=amount):
                self._move(account, amount, version)
            case MoneyWithdrawn(amount=amount):
                self._move(account, -amount, version)

    def _move(self, account: str, amount: Decimal, version: int) -> None:
        row = self.rows[account]
        row.balance += amount
        row.version = version


class BalancesProjection:
    """Keeps ``Balances`` up to date from a subscription to the account category.

    The subscription delivers every committed event once, in order; the ``Projector`` keeps a
    cursor per stream, so a redelivered event is ignored and a missed one is caught up from the
    store.
    """

    def __init__(self, backend: Backend, batch_size: int = 50) -> None:
        self.balances = Balances()
        self.position: Position = 0
        self.count = 0
        """How many events were projected so far."""
        self._projector = Projector(
            backend.event_store, "balances", InMemoryCursorsDao(), self.balances
        )
        self._batches = (
            backend.subscriber.start_from(0)
            .to_category(Account.category)
            .build_batch(size=batch_size, timelimit=0.1)
        )

    def catch_up(self, until: Position | None, patience: float = 10.0) -> int:
        """Project batches until the event at position ``until`` is in; returns how many.

        A batch comes back empty when nothing arrived within 0.1 s; the catch-up gives up only
        after ``patience`` seconds of that. (PostgreSQL delivers a committed event once every
        older transaction on the server has ended, which can take a moment on a busy server.)
        """
        projected, deadline = 0, time.monotonic() + patience
        reached = not until or until <= self.position
        while not reached:
            batch = next(self._batches)
            if not batch and time.monotonic() > deadline:
                break
            for record in batch:
                self._projector.project(record.wrapped_event, record.stream_id)
                self.position = record.position
                reached = reached or record.position == until
            projected += len(batch)
        self.count += projected
        return projected

    def close(self) -> None:
        """Stop the subscription (a database backend releases its connection and listener)."""
        if isinstance(self._batches, Generator):
            self._batches.close()
