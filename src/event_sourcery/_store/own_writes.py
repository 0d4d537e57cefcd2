"""Subscriptions that read their own writes: a session's uncommitted appends (ADR 0006).

SQL subscriptions read committed rows with an exact cursor. ``OwnWritesSource`` adds, out of
band, the events the subscription's own session (SQLAlchemy) or connection (Django) appended in
its still-open transaction; the backend only keeps an ``OwnWrites`` per session or connection
and tells it when its transaction commits or rolls back. The rules, all here:

* own events are delivered once the committed read has caught up and reached their place in the
  order (PostgreSQL: every older transaction has finished), in id order, never twice: an own
  event delivered before its commit is dropped when the committed read meets it later;
* a group of own events that rolls back is forgotten; the committed cursor never moved past
  it, so nothing committed by others is skipped.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from event_sourcery._core.cursor import Fetched, Selector
from event_sourcery._core.records import Position, RecordedRaw
from event_sourcery._store.polling import EventSource


class WriteState(enum.Enum):
    PENDING = "pending"
    COMMITTED = "committed"
    ROLLED_BACK = "rolled back"


@dataclass(eq=False)
class OwnWrite:
    """The records of one append, in a transaction (``scope``) that is still open."""

    records: tuple[RecordedRaw, ...]
    scope: object
    """The backend's token of the transaction or savepoint the append ran in."""
    order_key: int | None = None
    """The records' order key in the committed order (PostgreSQL: the writer's transaction id)."""
    state: WriteState = WriteState.PENDING


ScopeTest = Callable[[object], bool]


@dataclass
class OwnWrites:
    """The appends of one session or connection that are not committed yet (no I/O)."""

    groups: list[OwnWrite] = field(default_factory=list)

    def add(
        self, records: list[RecordedRaw], scope: object, order_key: int | None = None
    ) -> OwnWrite:
        group = OwnWrite(tuple(records), scope, order_key)
        self.groups.append(group)
        return group

    def commit(self, scope_test: ScopeTest | None = None) -> None:
        """Mark the groups committed (those whose scope passes ``scope_test``, or all)."""
        self._settle(WriteState.COMMITTED, scope_test)

    def roll_back(self, scope_test: ScopeTest | None = None) -> None:
        """Forget the groups rolled back (those whose scope passes ``scope_test``, or all)."""
        self._settle(WriteState.ROLLED_BACK, scope_test)

    def _settle(self, state: WriteState, scope_test: ScopeTest | None) -> None:
        kept = []
        for group in self.groups:
            if scope_test is None or scope_test(group.scope):
                group.state = state
            else:
                kept.append(group)
        self.groups = kept

    def pending(self) -> list[OwnWrite]:
        return list(self.groups)

    def first_position(self) -> Position | None:
        """The lowest position of a pending append: rows from it on are this transaction's own
        where the reader shares the writer's connection (SQLite, one writer at a time), so the
        end of the committed order is below it."""
        positions = [r.position for g in self.groups for r in g.records]
        return min(positions) if positions else None


class OrderedSource(EventSource, Protocol):
    """A committed-events source that says how far its last read's order is final."""

    @property
    def horizon(self) -> int | None:
        """Order keys below it are final as of the last read (``None``: every key read is)."""


@dataclass
class OwnWritesSource:
    """An ``EventSource`` delivering committed events plus its session's own pending appends.

    ``own_writes`` is called on every read (a session may start appending after the
    subscription was built). Positions passed in and returned are the committed read's.
    """

    inner: OrderedSource
    own_writes: Callable[[], OwnWrites | None]
    _delivered: dict[Position, UUID] = field(default_factory=dict)
    """Own events delivered before their commit, until the committed read meets them."""
    _open: list[OwnWrite] = field(default_factory=list)
    """Groups delivered from that may still roll back."""
    _start: Position | None = None

    def fetch_after(self, position: Position, limit: int, selector: Selector) -> Fetched:
        if self._start is None:
            self._start = position
        return self._fetch(position, limit, selector)

    def _fetch(self, position: Position, limit: int, selector: Selector) -> Fetched:
        own = self.own_writes()
        pending = own.pending() if own is not None else []
        self._forget_settled()
        uncommitted = {r.position: r.entry.uuid for g in pending for r in g.records}
        records: list[RecordedRaw] = []
        while True:
            wanted = limit - len(records)
            fetched = self.inner.fetch_after(position, wanted, selector)
            reached_own = False
            for record in fetched.records:
                if uncommitted.get(record.position) == record.entry.uuid:
                    # the read shares the session's connection (SQLite in memory, Django inside
                    # a transaction) and sees its own rows, which come last (one writer):
                    # the cursor stays before them; they go out below, as own events
                    reached_own = True
                    break
                position = record.position
                if not self._seen_before(record):
                    records.append(record)
            if not reached_own:
                position = fetched.position
            caught_up = reached_own or len(fetched.records) < wanted
            if caught_up or len(records) >= limit:
                break
        if caught_up:
            records.extend(self._own_events(pending, limit - len(records), selector))
        return Fetched(records, position)

    def _seen_before(self, record: RecordedRaw) -> bool:
        """Whether ``record`` was delivered as an own event before its commit (forgets it)."""
        if self._delivered.get(record.position) != record.entry.uuid:
            return False
        del self._delivered[record.position]
        return True

    def _own_events(
        self, pending: list[OwnWrite], limit: int, selector: Selector
    ) -> list[RecordedRaw]:
        """Pending own events not delivered yet, at their place in the order, in id order.

        Own events come after every committed one, so after any committed start position;
        a subscription started from an own event's position gets the own events after it.
        """
        horizon = self.inner.horizon
        start = self._start or 0
        after = start if any(r.position == start for g in pending for r in g.records) else 0
        due = [
            (record, group)
            for group in pending
            if group.order_key is None or horizon is None or group.order_key <= horizon
            for record in group.records
            if record.position > after
            and record.position not in self._delivered
            and selector.matches(record)
        ]
        due.sort(key=lambda item: item[0].position)
        for record, group in due[:limit]:
            self._delivered[record.position] = record.entry.uuid
            if group not in self._open:
                self._open.append(group)
        return [record for record, _ in due[:limit]]

    def _forget_settled(self) -> None:
        """Forget delivered events of groups rolled back (a rolled-back id may be reused)."""
        for group in self._open:
            if group.state is WriteState.ROLLED_BACK:
                for record in group.records:
                    if self._delivered.get(record.position) == record.entry.uuid:
                        del self._delivered[record.position]
        self._open = [group for group in self._open if group.state is WriteState.PENDING]

    def wait_for_events(self, after: Position, timeout: float) -> None:
        self.inner.wait_for_events(after, timeout)
