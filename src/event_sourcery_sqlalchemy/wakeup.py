"""Wake-ups for waiting subscribers: in-process on commit, and PostgreSQL ``LISTEN``.

A commit of a session that appended events notifies every subscriber of the same database in
this process at once. Subscribers in other processes get PostgreSQL ``NOTIFY`` (sent inside the
appending transaction, so delivered at commit) or, on other databases, poll.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from event_sourcery._store.notifications import NotificationListener
from event_sourcery._store.wakeups import generation, notify_local, wait_local

__all__ = ["PostgresListener", "generation", "mark_appended", "notify_local", "wait_local"]

_APPENDED = "event_sourcery.appended"


def database_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def mark_appended(session: Session | Any) -> None:
    """Remember that ``session``'s transaction appended events (notified after its commit)."""
    session.info[_APPENDED] = True
    if not event.contains(session, "after_commit", _after_commit):
        event.listen(session, "after_commit", _after_commit)
    if not event.contains(session, "after_rollback", _after_rollback):
        event.listen(session, "after_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    if session.info.pop(_APPENDED, False):
        try:
            bind = session.get_bind()
        except Exception:  # no single bind: waiting readers fall back to polling
            return
        engine = bind if isinstance(bind, Engine) else bind.engine
        notify_local(database_key(engine))


def _after_rollback(session: Session) -> None:
    session.info.pop(_APPENDED, None)


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
