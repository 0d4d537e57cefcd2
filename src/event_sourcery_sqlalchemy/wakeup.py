"""A session's transaction lifecycle: its own pending appends and wake-ups on commit.

Each session that appended keeps an ``OwnWrites`` (``session.info``) with the records of its
open transaction, so subscriptions built from it read its own writes (ADR 0006): a group's
scope is the innermost transaction (savepoint) it was appended in; a rolled-back savepoint drops
its groups, the root commit marks all committed, a root transaction ending otherwise drops the
rest. That commit also notifies every subscriber of the same database in this process at once.
Subscribers in other processes get PostgreSQL ``NOTIFY`` (sent inside the appending transaction,
so delivered at commit) or, on other databases, poll.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from event_sourcery._core.records import RecordedRaw
from event_sourcery._store.notifications import NotificationListener
from event_sourcery._store.own_writes import OwnWrites
from event_sourcery._store.wakeups import generation, notify_local, wait_local

__all__ = [
    "PostgresListener",
    "generation",
    "mark_appended",
    "notify_local",
    "own_writes",
    "wait_local",
]

_OWN_WRITES = "event_sourcery.own_writes"


def database_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def own_writes(session: Session | scoped_session[Any]) -> OwnWrites | None:
    """The appends of ``session``'s open transaction (``None`` if it never appended)."""
    found: OwnWrites | None = session.info.get(_OWN_WRITES)
    return found


def mark_appended(
    session: Session | scoped_session[Any], records: list[RecordedRaw], order_key: int | None
) -> None:
    """Remember that ``session``'s transaction appended ``records`` (with their order key)."""
    current = session() if isinstance(session, scoped_session) else session  # this thread's
    own: OwnWrites | None = current.info.get(_OWN_WRITES)
    if own is None:
        own = current.info[_OWN_WRITES] = OwnWrites()
        for name, hook in _HOOKS.items():
            if not event.contains(current, name, hook):
                event.listen(current, name, hook)
    scope = current.get_nested_transaction() or current.get_transaction()
    own.add(records, scope, order_key)


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: nothing is committed yet
    own = own_writes(session)
    if own is None or not own.groups:
        return
    own.commit()
    try:
        bind = session.get_bind()
    except Exception:  # no single bind: waiting readers fall back to polling
        return
    engine = bind if isinstance(bind, Engine) else bind.engine
    notify_local(database_key(engine))


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    own = own_writes(session)
    if own is not None:
        own.roll_back(lambda scope: _within(scope, previous_transaction))


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    own = own_writes(session)
    if own is not None and transaction.parent is None:
        own.roll_back()  # the root ended without a commit (e.g. ``close()``)


def _within(scope: object, transaction: SessionTransaction) -> bool:
    """Whether ``scope`` (a ``SessionTransaction``) is ``transaction`` or nested inside it."""
    current = scope if isinstance(scope, SessionTransaction) else None
    while current is not None:
        if current is transaction:
            return True
        current = current.parent
    return False


_HOOKS: dict[str, Any] = {
    "after_commit": _after_commit,
    "after_soft_rollback": _after_soft_rollback,
    "after_transaction_end": _after_transaction_end,
}


class PostgresListener:
    """A dedicated connection that ``LISTEN``s for commits from any process."""

    def __init__(self, engine: Engine) -> None:
        self._raw = engine.raw_connection()
        driver: Any = self._raw.driver_connection
        self._raw.detach()  # it leaves the pool: a LISTENing connection must not be reused
        self._listener = NotificationListener(driver, close=self._raw.close)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a notification; returns whether one came."""
        return self._listener.wait(timeout)

    def close(self) -> None:
        self._listener.close()  # closing a broken connection does not raise
