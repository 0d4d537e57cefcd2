"""Concurrent writers on one stream: exactly one wins, the other gets
``ConcurrentStreamWriteError`` (never a raw driver error, never a duplicate version).

The orchestrated tests need a server: they wait until the second writer is really blocked on
the first one's lock (``pg_stat_activity`` / ``information_schema.INNODB_TRX``) before the
first commits or rolls back. SQLite has one writer at a time: a waiting writer blocks in the
driver's busy handler and is decided after the first commits (only the free-running race
runs there).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from event_sourcery import EventStore, StreamId
from event_sourcery.event import WrappedEvent
from event_sourcery.exceptions import ConcurrentStreamWriteError
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from tests.backends.sqlalchemy.support import (
    CONFIG,
    EVENTS,
    STREAMS,
    Posted,
    committed,
    servers_only,
    texts,
)

ROUNDS = 5

SERVER_ID = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}
BLOCKED = {
    "postgresql": (
        "SELECT count(*) FROM pg_stat_activity WHERE pid = {id} AND wait_event_type = 'Lock'"
    ),
    "mysql": (
        "SELECT count(*) FROM information_schema.INNODB_TRX"
        " WHERE trx_mysql_thread_id = {id} AND trx_state = 'LOCK WAIT'"
    ),
}

POLL = {"postgresql": 0.01, "mysql": 0.15}
"""Seconds between looks: InnoDB refreshes ``INNODB_TRX`` only after 100 ms without a read."""


@dataclass
class Outcome:
    error: BaseException | None = None
    committed: bool = False


def make_backend(new_session: Callable[[], Session]) -> SQLAlchemyBackend:
    return SQLAlchemyBackend().configure(new_session(), CONFIG)


def write_in_thread(
    backend: SQLAlchemyBackend,
    write: Callable[[EventStore], None],
    start: threading.Barrier | None = None,
) -> tuple[threading.Thread, Outcome]:
    """Run ``write`` then commit in a thread of its own (once ``start`` lets it go)."""
    outcome = Outcome()
    session = backend[Session]

    def run() -> None:
        try:
            if start is not None:
                start.wait()
            write(backend.event_store)
            session.commit()
            outcome.committed = True
        except Exception as error:
            outcome.error = error
            session.rollback()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def wait_until_blocked(engine: Engine, session: Session) -> Callable[[], None]:
    """A function that returns once ``session``'s connection waits for a lock."""
    server_id = int(session.execute(text(SERVER_ID[engine.dialect.name])).scalar_one())
    query = text(BLOCKED[engine.dialect.name].format(id=server_id))

    def wait() -> None:
        deadline = time.monotonic() + 10
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            while not admin.execute(query).scalar_one():
                assert time.monotonic() < deadline, "the second writer never waited for the lock"
                time.sleep(POLL[engine.dialect.name])

    return wait


def await_block(
    blocked: Callable[[], None], holder: SQLAlchemyBackend, waiter: threading.Thread
) -> None:
    """Wait for the waiter to block; if it never does, free it before failing the test."""
    try:
        blocked()
    except BaseException:
        holder[Session].rollback()
        waiter.join(timeout=30)
        raise


def race(new_session: Callable[[], Session], write: Callable[[EventStore, str], None]) -> str:
    """Writers ``a`` and ``b`` run ``write`` at once; returns the one that committed."""
    start = threading.Barrier(2)

    def as_writer(who: str) -> Callable[[EventStore], None]:
        return lambda store: write(store, who)

    writers = {
        who: write_in_thread(make_backend(new_session), as_writer(who), start) for who in ("a", "b")
    }
    for thread, _ in writers.values():
        thread.join(timeout=30)
    winners = [who for who, (_, outcome) in writers.items() if outcome.committed]
    assert len(winners) == 1, {who: outcome for who, (_, outcome) in writers.items()}
    (loser,) = [outcome for _, outcome in writers.values() if not outcome.committed]
    assert isinstance(loser.error, ConcurrentStreamWriteError), repr(loser.error)
    return winners[0]


def test_parallel_appends_with_the_same_expected_version_let_exactly_one_win(
    engine: Engine, new_session: Callable[[], Session]
) -> None:
    setup = make_backend(new_session)
    for _ in range(ROUNDS):
        stream_id = StreamId()
        setup.event_store.append(Posted(text="1"), stream_id=stream_id)
        setup[Session].commit()

        def append(store: EventStore, who: str, stream_id: StreamId = stream_id) -> None:
            store.append(Posted(text=who), stream_id=stream_id, expected_version=1)

        winner = race(new_session, append)

        assert texts(setup.event_store, stream_id) == [(1, "1"), (2, winner)]


def test_parallel_creations_of_the_same_new_stream_let_exactly_one_win(
    engine: Engine, new_session: Callable[[], Session]
) -> None:
    reader = make_backend(new_session)
    for round_ in range(ROUNDS):
        stream_id = StreamId(name=f"new-{round_}", category="carts")

        def create(store: EventStore, who: str, stream_id: StreamId = stream_id) -> None:
            first = WrappedEvent.wrap(Posted(text=who), 1)
            store.append(first, stream_id=stream_id, expected_version=0)

        winner = race(new_session, create)

        assert texts(reader.event_store, stream_id) == [(1, winner)]
        reader[Session].rollback()
    assert len(committed(engine, STREAMS)) == ROUNDS
    assert [row.version for row in committed(engine, EVENTS)] == [1] * ROUNDS


@servers_only
def test_a_writer_waiting_on_the_stream_lock_loses_once_the_holder_commits(
    engine: Engine, new_session: Callable[[], Session]
) -> None:
    stream_id = StreamId()
    holder, waiter = make_backend(new_session), make_backend(new_session)
    holder.event_store.append(Posted(text="1"), stream_id=stream_id)
    holder[Session].commit()
    blocked = wait_until_blocked(engine, waiter[Session])

    holder.event_store.append(Posted(text="holder"), stream_id=stream_id, expected_version=1)
    thread, outcome = write_in_thread(
        waiter,
        lambda store: store.append(Posted(text="waiter"), stream_id=stream_id, expected_version=1),
    )
    await_block(blocked, holder, thread)
    holder[Session].commit()
    thread.join(timeout=30)

    assert isinstance(outcome.error, ConcurrentStreamWriteError), repr(outcome.error)
    assert texts(holder.event_store, stream_id) == [(1, "1"), (2, "holder")]


@servers_only
def test_a_writer_waiting_on_the_stream_lock_wins_once_the_holder_rolls_back(
    engine: Engine, new_session: Callable[[], Session]
) -> None:
    stream_id = StreamId()
    holder, waiter = make_backend(new_session), make_backend(new_session)
    holder.event_store.append(Posted(text="1"), stream_id=stream_id)
    holder[Session].commit()
    blocked = wait_until_blocked(engine, waiter[Session])

    holder.event_store.append(Posted(text="holder"), stream_id=stream_id, expected_version=1)
    thread, outcome = write_in_thread(
        waiter,
        lambda store: store.append(Posted(text="waiter"), stream_id=stream_id, expected_version=1),
    )
    await_block(blocked, holder, thread)
    holder[Session].rollback()
    thread.join(timeout=30)

    assert outcome.committed, repr(outcome.error)
    assert texts(holder.event_store, stream_id) == [(1, "1"), (2, "waiter")]


@servers_only
@pytest.mark.parametrize("holder_ends", ["commit", "rollback"])
def test_a_writer_waiting_for_the_creator_of_a_new_stream_follows_its_outcome(
    engine: Engine, new_session: Callable[[], Session], holder_ends: str
) -> None:
    """Both create the stream with version 1: the waiter loses if the creator commits and
    creates the stream itself if the creator rolls back."""
    stream_id = StreamId(name="contested", category="carts")
    holder, waiter = make_backend(new_session), make_backend(new_session)
    blocked = wait_until_blocked(engine, waiter[Session])

    holder.event_store.append(
        WrappedEvent.wrap(Posted(text="holder"), 1), stream_id=stream_id, expected_version=0
    )
    thread, outcome = write_in_thread(
        waiter,
        lambda store: store.append(
            WrappedEvent.wrap(Posted(text="waiter"), 1), stream_id=stream_id, expected_version=0
        ),
    )
    await_block(blocked, holder, thread)
    if holder_ends == "commit":
        holder[Session].commit()
    else:
        holder[Session].rollback()
    thread.join(timeout=30)

    if holder_ends == "commit":
        assert isinstance(outcome.error, ConcurrentStreamWriteError), repr(outcome.error)
        assert texts(holder.event_store, stream_id) == [(1, "holder")]
    else:
        assert outcome.committed, repr(outcome.error)
        assert texts(holder.event_store, stream_id) == [(1, "waiter")]
    assert len(committed(engine, STREAMS)) == 1
