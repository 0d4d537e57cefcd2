"""Bad input and faults: lost connections, unique violations and over-long names.

A killed connection is a real one: the test finds the session's server process or thread
(PostgreSQL ``pg_backend_pid()``, MariaDB ``CONNECTION_ID()``) and ends it from another
connection (``pg_terminate_backend`` / ``KILL``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from event_sourcery import Event, StreamId
from event_sourcery.event import WrappedEvent
from event_sourcery.exceptions import (
    BackendUnavailable,
    ConcurrentStreamWriteError,
    DuplicateEventUuid,
    IllegalCategoryName,
    IllegalEventName,
    IllegalStreamName,
    IllegalTenantId,
)
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

LIMIT = 255
"""Length of the category, tenant and stream name columns."""

KILL_SQL = {
    "postgresql": (
        "SELECT pg_backend_pid()",
        "SELECT pg_terminate_backend({pid})",
        "SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}",
    ),
    "mysql": (
        "SELECT CONNECTION_ID()",
        "KILL {pid}",
        "SELECT count(*) FROM information_schema.PROCESSLIST WHERE ID = {pid}",
    ),
}


def kill_connection(engine: Engine, session: Session) -> None:
    """End the server side of ``session``'s connection and wait until it is gone."""
    find, kill, alive = KILL_SQL[engine.dialect.name]
    pid = int(session.execute(text(find)).scalar_one())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        admin.execute(text(kill.format(pid=pid)))
        deadline = time.monotonic() + 5
        while admin.execute(text(alive.format(pid=pid))).scalar_one():
            assert time.monotonic() < deadline, f"connection {pid} survived the kill"
            time.sleep(0.01)


def fresh_backend(new_session: Callable[[], Session]) -> SQLAlchemyBackend:
    return SQLAlchemyBackend().configure(new_session(), CONFIG)


# A dropped connection mid-append.


@servers_only
def test_a_connection_dropped_before_an_append_raises_backend_unavailable(
    backend: SQLAlchemyBackend,
    session: Session,
    engine: Engine,
    new_session: Callable[[], Session],
) -> None:
    stream_id = StreamId()
    kill_connection(engine, session)

    with pytest.raises(BackendUnavailable):
        backend.event_store.append(Posted(text="lost"), stream_id=stream_id)
    session.rollback()

    assert committed(engine, STREAMS) == []
    fresh = fresh_backend(new_session)
    fresh.event_store.append(Posted(text="fresh"), stream_id=stream_id)
    fresh[Session].commit()
    assert texts(fresh.event_store, stream_id) == [(1, "fresh")]


@servers_only
def test_a_connection_dropped_between_appends_loses_the_whole_transaction(
    backend: SQLAlchemyBackend,
    session: Session,
    engine: Engine,
    new_session: Callable[[], Session],
) -> None:
    first, second = StreamId(), StreamId()
    backend.event_store.append(Posted(text="flushed"), Posted(text="flushed"), stream_id=first)
    kill_connection(engine, session)

    with pytest.raises(BackendUnavailable):
        backend.event_store.append(Posted(text="lost"), stream_id=second)
    session.rollback()

    assert committed(engine, STREAMS) == []
    assert committed(engine, EVENTS) == []
    fresh = fresh_backend(new_session)
    fresh.event_store.append(Posted(text="again"), stream_id=first, expected_version=0)
    fresh[Session].commit()
    assert texts(fresh.event_store, first) == [(1, "again")]


@servers_only
def test_a_connection_dropped_before_commit_fails_the_commit_and_stores_nothing(
    backend: SQLAlchemyBackend,
    session: Session,
    engine: Engine,
    new_session: Callable[[], Session],
) -> None:
    stream_id = StreamId()
    backend.event_store.append(Posted(text="flushed"), stream_id=stream_id)
    kill_connection(engine, session)

    with pytest.raises(OperationalError) as failed:
        session.commit()
    session.rollback()

    assert failed.value.connection_invalidated
    assert committed(engine, STREAMS) == []
    assert committed(engine, EVENTS) == []
    fresh = fresh_backend(new_session)
    fresh.event_store.append(Posted(text="fresh"), stream_id=stream_id)
    fresh[Session].commit()
    assert texts(fresh.event_store, stream_id) == [(1, "fresh")]


@servers_only
def test_a_session_whose_connection_was_lost_works_again_after_rollback(
    backend: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    kill_connection(engine, session)
    with pytest.raises(BackendUnavailable):
        backend.event_store.append(Posted(text="lost"), stream_id=StreamId())
    session.rollback()

    stream_id = StreamId()
    backend.event_store.append(Posted(text="same session"), stream_id=stream_id)
    session.commit()

    assert texts(backend.event_store, stream_id) == [(1, "same session")]


# Unique violations surface as ConcurrentStreamWriteError.


def test_an_event_uuid_stored_twice_is_a_duplicate_event_uuid_not_a_driver_error(
    backend: SQLAlchemyBackend, session: Session
) -> None:
    """Not a ConcurrentStreamWriteError: no retry can fix it (issue 10.8)."""
    wrapped = WrappedEvent.wrap(Posted(text="once"), version=1)
    backend.event_store.append(wrapped, stream_id=StreamId())
    session.commit()

    with pytest.raises(DuplicateEventUuid) as raised:
        backend.event_store.append(wrapped, stream_id=StreamId())

    assert isinstance(raised.value.__cause__, IntegrityError)
    session.rollback()
    stream_id = StreamId()
    backend.event_store.append(Posted(text="after"), stream_id=stream_id)
    session.commit()
    assert texts(backend.event_store, stream_id) == [(1, "after")]


def test_two_sessions_creating_the_same_stream_at_version_zero_conflict_cleanly(
    engine: Engine, new_session: Callable[[], Session]
) -> None:
    """The second writer read the stream before the first committed (MariaDB then still sees
    it missing in its snapshot, so the unique index is what stops it)."""
    first, second = fresh_backend(new_session), fresh_backend(new_session)
    stream_id = StreamId(name="new-aggregate", category="carts")
    assert texts(second.event_store, stream_id) == []

    first.event_store.append(
        WrappedEvent.wrap(Posted(text="first"), 1), stream_id=stream_id, expected_version=0
    )
    first[Session].commit()
    with pytest.raises(ConcurrentStreamWriteError):
        second.event_store.append(
            WrappedEvent.wrap(Posted(text="second"), 1), stream_id=stream_id, expected_version=0
        )
    second[Session].rollback()

    assert texts(second.event_store, stream_id) == [(1, "first")]
    assert [row.version for row in committed(engine, EVENTS)] == [1]


def test_a_version_taken_in_a_concurrent_transaction_is_never_a_raw_driver_error(
    engine: Engine, new_session: Callable[[], Session]
) -> None:
    first, second = fresh_backend(new_session), fresh_backend(new_session)
    stream_id = StreamId()
    first.event_store.append(Posted(text="1"), stream_id=stream_id)
    first[Session].commit()
    assert texts(second.event_store, stream_id) == [(1, "1")]

    first.event_store.append(WrappedEvent.wrap(Posted(text="2a"), 2), stream_id=stream_id)
    first[Session].commit()
    with pytest.raises(ConcurrentStreamWriteError):
        second.event_store.append(WrappedEvent.wrap(Posted(text="2b"), 2), stream_id=stream_id)
    second[Session].rollback()

    assert texts(first.event_store, stream_id) == [(1, "1"), (2, "2a")]


# Over-long category or tenant: a clear error before any SQL.


def test_a_category_longer_than_its_column_is_rejected_before_any_sql(
    backend: SQLAlchemyBackend, session: Session, statements: list[str]
) -> None:
    with pytest.raises(IllegalCategoryName):
        backend.event_store.append(Posted(text="x"), stream_id=StreamId(category="c" * 256))

    assert statements == []
    assert not session.in_transaction()


def test_a_tenant_longer_than_its_column_is_rejected_before_any_sql(
    backend: SQLAlchemyBackend, session: Session, statements: list[str]
) -> None:
    tenant = backend.in_tenant_mode("t" * 256)

    with pytest.raises(IllegalTenantId):
        tenant.event_store.append(Posted(text="x"), stream_id=StreamId())

    assert statements == []
    assert not session.in_transaction()


def test_a_stream_name_longer_than_its_column_is_rejected_before_any_sql(
    backend: SQLAlchemyBackend, session: Session, statements: list[str]
) -> None:
    with pytest.raises(IllegalStreamName, match="Stream name longer than 255"):
        backend.event_store.append(Posted(text="x"), stream_id=StreamId(name="n" * 256))

    assert statements == []
    assert not session.in_transaction()


class NamedAtLength(Event):
    __event_name__ = "e" * 201

    text: str


def test_an_event_name_longer_than_its_column_is_rejected_before_any_sql(
    backend: SQLAlchemyBackend, session: Session, statements: list[str]
) -> None:
    with pytest.raises(IllegalEventName, match="longer than 200"):
        backend.event_store.append(NamedAtLength(text="x"), stream_id=StreamId())

    assert statements == []
    assert not session.in_transaction()


@pytest.mark.parametrize("char", ["x", "é", "中", "🎉"], ids=["ascii", "latin", "cjk", "emoji"])
def test_names_of_exactly_the_column_length_are_stored_whatever_the_characters(
    backend: SQLAlchemyBackend, session: Session, engine: Engine, char: str
) -> None:
    value = char * LIMIT
    tenant = backend.in_tenant_mode(value)
    stream_id = StreamId(name=value, category=value)
    tenant.event_store.append(Posted(text=value), stream_id=stream_id)
    session.commit()

    assert texts(tenant.event_store, StreamId(name=value, category=value)) == [(1, value)]
    (row,) = committed(engine, STREAMS)
    assert (row.name, row.category, row.tenant_id) == (value, value, value)
