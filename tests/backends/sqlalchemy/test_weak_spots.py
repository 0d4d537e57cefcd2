"""SPEC §19.2: the upstream SQLAlchemy backend's weak spots, each fixed on every database."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from event_sourcery import DEFAULT_TENANT, Event, StreamId
from event_sourcery.event import Recorded, WrappedEvent
from event_sourcery.exceptions import ConcurrentStreamWriteError
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from event_sourcery_sqlalchemy.models.base import EVENT_NAME_LENGTH
from tests.backends.sqlalchemy.support import (
    CONFIG,
    EVENTS,
    OUTBOX,
    SNAPSHOTS,
    STREAMS,
    Posted,
    Summary,
    committed,
    settled_position,
    texts,
)


class SummaryNamed190(Event):
    """A snapshot type whose name is as long as a deeply module-qualified class name."""

    __event_name__ = ("tests.backends.sqlalchemy." + "deeply_nested_package." * 8)[
        :182
    ] + ".Summary"
    texts: list[str]


class SummaryNamedAtTheLimit(Event):
    __event_name__ = "s" * EVENT_NAME_LENGTH
    texts: list[str]


def stream_tenants(engine: Engine, table: Any) -> list[str]:
    """The tenant of the stream of every committed row of ``table`` (events or snapshots)."""
    with engine.connect() as connection:
        query = (
            select(STREAMS.c.tenant_id)
            .select_from(table.join(STREAMS, table.c.db_stream_id == STREAMS.c.id))
            .order_by(STREAMS.c.tenant_id)
        )
        return list(connection.execute(query).scalars())


# 5. No session-lifetime cache: a rollback does not break the session.


def test_after_a_rollback_the_same_session_keeps_appending(
    backend: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    store = backend.event_store
    kept, rolled_back, fresh = StreamId(), StreamId(), StreamId()
    store.append(Posted(text="kept 1"), stream_id=kept)
    session.commit()
    store.append(Posted(text="kept 2"), stream_id=kept, expected_version=1)
    store.append(Posted(text="lost"), stream_id=rolled_back)
    session.rollback()

    store.append(Posted(text="fresh"), stream_id=fresh)
    store.append(Posted(text="kept 2 again"), stream_id=kept, expected_version=1)
    session.commit()

    assert texts(store, kept) == [(1, "kept 1"), (2, "kept 2 again")]
    assert texts(store, rolled_back) == []
    assert texts(store, fresh) == [(1, "fresh")]
    assert sorted(row.uuid for row in committed(engine, STREAMS)) == sorted([kept, fresh])


def test_after_a_rolled_back_concurrency_error_the_same_session_appends(
    backend: SQLAlchemyBackend, session: Session
) -> None:
    store = backend.event_store
    stream_id = StreamId()
    store.append(Posted(text="1"), stream_id=stream_id)
    session.commit()

    with pytest.raises(ConcurrentStreamWriteError):
        store.append(Posted(text="stale"), stream_id=stream_id, expected_version=5)
    session.rollback()
    store.append(Posted(text="2"), stream_id=stream_id, expected_version=1)
    session.commit()

    assert texts(store, stream_id) == [(1, "1"), (2, "2")]


# 6. delete_stream is tenant-scoped and removes the snapshots too.


def test_delete_in_a_tenant_removes_its_stream_and_snapshots_and_keeps_other_tenants(
    backend: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    stream_id = StreamId(category="orders")
    acme = backend.in_tenant_mode("acme")
    for tenant, who in ((backend, "default"), (acme, "acme")):
        tenant.event_store.append(
            Posted(text=f"{who} 1"), Posted(text=f"{who} 2"), stream_id=stream_id
        )
        tenant.event_store.save_snapshot(stream_id, WrappedEvent.wrap(Summary(texts=[who]), 2))
    backend.event_store.append(Posted(text="default 3"), stream_id=stream_id, expected_version=2)
    session.commit()

    acme.event_store.delete_stream(stream_id)
    session.commit()

    assert texts(acme.event_store, stream_id) == []
    assert texts(backend.event_store, stream_id) == [(2, "summary:default"), (3, "default 3")]
    assert stream_tenants(engine, SNAPSHOTS) == [DEFAULT_TENANT]
    assert stream_tenants(engine, EVENTS) == [DEFAULT_TENANT] * 3
    assert [row.tenant_id for row in committed(engine, STREAMS)] == [DEFAULT_TENANT]


def test_a_deleted_stream_starts_again_at_version_one(
    backend: SQLAlchemyBackend, session: Session
) -> None:
    stream_id = StreamId()
    backend.event_store.append(Posted(text="old"), stream_id=stream_id)
    backend.event_store.save_snapshot(stream_id, WrappedEvent.wrap(Summary(texts=["old"]), 1))
    session.commit()
    backend.event_store.delete_stream(stream_id)
    session.commit()

    backend.event_store.append(Posted(text="new"), stream_id=stream_id, expected_version=0)
    session.commit()

    assert texts(backend.event_store, stream_id) == [(1, "new")]


# 7. save_snapshot is tenant-scoped.


def test_the_same_stream_id_takes_a_snapshot_in_each_tenant(
    backend: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    stream_id = StreamId(name="cart-7")
    first, second = backend.in_tenant_mode("first"), backend.in_tenant_mode("second")
    for tenant, who in ((first, "first"), (second, "second")):
        tenant.event_store.append(Posted(text=f"{who} 1"), stream_id=stream_id)
    session.commit()

    first.event_store.save_snapshot(stream_id, WrappedEvent.wrap(Summary(texts=["one"]), 1))
    second.event_store.save_snapshot(stream_id, WrappedEvent.wrap(Summary(texts=["two"]), 1))
    session.commit()

    assert texts(first.event_store, stream_id) == [(1, "summary:one")]
    assert texts(second.event_store, stream_id) == [(1, "summary:two")]
    assert texts(backend.event_store, stream_id) == []
    assert stream_tenants(engine, SNAPSHOTS) == ["first", "second"]


# 8. Snapshot names are as long as event names.


@pytest.mark.parametrize("snapshot_type", [SummaryNamed190, SummaryNamedAtTheLimit])
def test_a_snapshot_with_a_long_event_name_is_stored(
    backend: SQLAlchemyBackend, session: Session, engine: Engine, snapshot_type: type[Any]
) -> None:
    assert len(snapshot_type.__event_name__) >= 190
    stream_id = StreamId()
    backend.event_store.append(Posted(text="1"), stream_id=stream_id)
    backend.event_store.save_snapshot(stream_id, WrappedEvent.wrap(snapshot_type(texts=["1"]), 1))
    session.commit()

    (loaded,) = backend.event_store.load_stream(stream_id)
    assert loaded.event == snapshot_type(texts=["1"])
    assert [row.name for row in committed(engine, SNAPSHOTS)] == [snapshot_type.__event_name__]


# 9. Appending by name to a stream created by uuid.


def test_appending_by_name_to_a_stream_created_by_uuid_continues_that_stream(
    backend: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    named = StreamId(name="order-42", category="orders")
    by_uuid = StreamId(uuid=named, category="orders")
    store = backend.event_store
    store.append(Posted(text="by uuid"), stream_id=by_uuid)
    session.commit()

    store.append(Posted(text="by name"), stream_id=named, expected_version=1)
    session.commit()

    expected = [(1, "by uuid"), (2, "by name")]
    assert texts(store, named) == expected
    assert texts(store, by_uuid) == expected
    (row,) = committed(engine, STREAMS)
    assert (row.uuid, row.name, row.category, row.version) == (named, "order-42", "orders", 2)


# 12. A scoped_session is a session, not a provider.


def test_a_scoped_session_is_accepted_and_each_thread_uses_its_own_session(
    engine: Engine,
) -> None:
    scoped = scoped_session(sessionmaker(engine))
    backend = SQLAlchemyBackend().configure(scoped, CONFIG)
    in_thread = StreamId()
    sessions: list[Session] = []

    def append_in_a_thread() -> None:
        try:
            sessions.append(scoped())
            backend.event_store.append(Posted(text="thread"), stream_id=in_thread)
            scoped.commit()
        finally:
            scoped.remove()

    try:
        stream_id = StreamId()
        backend.event_store.append(Posted(text="main"), stream_id=stream_id)
        scoped.commit()
        worker = threading.Thread(target=append_in_a_thread)
        worker.start()
        worker.join()

        assert len(sessions) == 1
        assert sessions[0] is not scoped()
        assert texts(backend.event_store, stream_id) == [(1, "main")]
        assert texts(backend.event_store, in_thread) == [(1, "thread")]
    finally:
        scoped.remove()


# 13. Outbox entries keep the stream category (and name).


def test_outbox_records_keep_the_stream_name_and_category(
    backend: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    store = backend.with_outbox().event_store
    named = StreamId(name="order-9", category="orders")
    plain = StreamId()
    store.append(Posted(text="named"), stream_id=named)
    store.append(Posted(text="plain"), stream_id=plain)
    session.commit()
    published: list[Recorded] = []

    backend.outbox.run(published.append)
    session.commit()

    assert [(r.stream_id, r.stream_id.name, r.stream_id.category) for r in published] == [
        (named, "order-9", "orders"),
        (plain, None, None),
    ]
    assert committed(engine, OUTBOX) == []


# Positions are the event row ids.


def test_positions_are_the_event_row_ids(
    backend: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    positions: list[int] = []

    def listener(
        wrapped_event: WrappedEvent[Any], stream_id: StreamId, tenant_id: str, position: int
    ) -> None:
        positions.append(position)

    backend.in_transaction.register(listener, to=Event)
    backend.event_store.append(Posted(text="1"), Posted(text="2"), stream_id=StreamId())
    acme = backend.in_tenant_mode("acme")
    acme.event_store.append(Posted(text="3"), stream_id=StreamId(category="c"))
    backend.event_store.append(Posted(text="4"), stream_id=StreamId())
    session.commit()

    ids = [row.id for row in committed(engine, EVENTS)]
    assert positions == ids
    assert len(set(ids)) == 4
    assert settled_position(backend.event_store, ids[-1]) == ids[-1]
    assert acme.event_store.position == ids[-1]
    subscription = backend.subscriber.start_from(ids[0] - 1).build_batch(len(ids), 10)
    assert [record.position for record in next(subscription)] == ids


# 14a. The optimistic lock is tenant-scoped.


def test_the_optimistic_lock_compares_the_version_of_this_tenants_stream(
    backend: SQLAlchemyBackend, session: Session
) -> None:
    stream_id = StreamId()
    acme = backend.in_tenant_mode("acme")
    backend.event_store.append(*(Posted(text=f"d{n}") for n in (1, 2, 3)), stream_id=stream_id)
    acme.event_store.append(Posted(text="a1"), stream_id=stream_id)
    session.commit()

    with pytest.raises(ConcurrentStreamWriteError):
        acme.event_store.append(Posted(text="a?"), stream_id=stream_id, expected_version=3)
    session.rollback()
    with pytest.raises(ConcurrentStreamWriteError):
        backend.event_store.append(Posted(text="d?"), stream_id=stream_id, expected_version=1)
    session.rollback()
    acme.event_store.append(Posted(text="a2"), stream_id=stream_id, expected_version=1)
    backend.event_store.append(Posted(text="d4"), stream_id=stream_id, expected_version=3)
    session.commit()

    assert [v for v, _ in texts(backend.event_store, stream_id)] == [1, 2, 3, 4]
    assert texts(acme.event_store, stream_id) == [(1, "a1"), (2, "a2")]


def test_the_same_stream_at_the_same_version_in_two_tenants_accepts_both_appends(
    backend: SQLAlchemyBackend, session: Session
) -> None:
    stream_id = StreamId(name="shared")
    tenants = [backend.in_tenant_mode("first"), backend.in_tenant_mode("second")]
    for tenant in tenants:
        tenant.event_store.append(Posted(text="1"), stream_id=stream_id)
    session.commit()

    for tenant in tenants:
        tenant.event_store.append(Posted(text="2"), stream_id=stream_id, expected_version=1)
    session.commit()

    for tenant in tenants:
        assert texts(tenant.event_store, stream_id) == [(1, "1"), (2, "2")]
