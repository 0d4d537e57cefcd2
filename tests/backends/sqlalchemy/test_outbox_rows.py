"""The outbox table: failed publishes are kept and counted, dead letters are requeued.

``outbox_attempts`` is 3 here (``support.CONFIG``); every run is followed by a commit, as the
caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from event_sourcery import StreamId
from event_sourcery.event import Recorded, WrappedEvent
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from tests.backends.sqlalchemy.support import CONFIG, EVENTS, OUTBOX, Posted, committed

ATTEMPTS = CONFIG.outbox_attempts


class BrokerDown(Exception):
    pass


def failing(record: Recorded) -> None:
    raise BrokerDown(f"cannot publish {record.wrapped_event.event.text}")


@pytest.fixture
def outbox_backend(backend: SQLAlchemyBackend) -> SQLAlchemyBackend:
    return backend.with_outbox()


@pytest.fixture
def run(outbox_backend: SQLAlchemyBackend, session: Session) -> Callable[..., None]:
    def run_once(publisher: Callable[[Recorded], None]) -> None:
        outbox_backend.outbox.run(publisher)
        session.commit()

    return run_once


def test_an_outbox_row_holds_the_stored_record_format(
    outbox_backend: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    stream_id = StreamId(name="order-1", category="orders")
    wrapped = WrappedEvent.wrap(Posted(text="hello"), version=1)
    outbox_backend.in_tenant_mode("acme").event_store.append(wrapped, stream_id=stream_id)
    session.commit()

    (row,) = committed(engine, OUTBOX)
    (event_row,) = committed(engine, EVENTS)
    assert (row.stream_name, row.position, row.tries_left, row.failures, row.last_error) == (
        "order-1",
        event_row.id,
        ATTEMPTS,
        0,
        None,
    )
    assert row.data == {
        "uuid": str(wrapped.uuid),
        "stream_id": str(stream_id),
        "created_at": wrapped.created_at.isoformat(),
        "version": 1,
        "name": event_row.name,
        "data": {"text": "hello"},
        "context": {"correlation_id": None, "causation_id": None},
        "tenant_id": "acme",
        "category": "orders",
    }


def test_a_failed_publish_keeps_the_row_and_records_the_attempt_and_error(
    outbox_backend: SQLAlchemyBackend, engine: Engine, session: Session, run: Callable[..., None]
) -> None:
    outbox_backend.event_store.append(Posted(text="parcel"), stream_id=StreamId())
    session.commit()

    run(failing)

    (row,) = committed(engine, OUTBOX)
    assert (row.tries_left, row.failures) == (ATTEMPTS - 1, 1)
    assert row.last_error == "BrokerDown: cannot publish parcel"
    assert row.next_attempt_at is not None


def test_a_failed_publish_does_not_stop_the_run_for_later_entries(
    outbox_backend: SQLAlchemyBackend, engine: Engine, session: Session, run: Callable[..., None]
) -> None:
    outbox_backend.event_store.append(Posted(text="bad"), Posted(text="good"), stream_id=StreamId())
    session.commit()
    published: list[str] = []

    def picky(record: Recorded) -> None:
        if record.wrapped_event.event.text == "bad":
            raise BrokerDown("bad")
        published.append(record.wrapped_event.event.text)

    run(picky)

    assert published == ["good"]
    (row,) = committed(engine, OUTBOX)
    assert (row.data["data"], row.failures) == ({"text": "bad"}, 1)


def test_an_uncommitted_failed_run_leaves_the_row_untouched(
    outbox_backend: SQLAlchemyBackend, engine: Engine, session: Session
) -> None:
    outbox_backend.event_store.append(Posted(text="parcel"), stream_id=StreamId())
    session.commit()

    outbox_backend.outbox.run(failing)
    session.rollback()

    (row,) = committed(engine, OUTBOX)
    assert (row.tries_left, row.failures, row.last_error) == (ATTEMPTS, 0, None)


def test_an_exhausted_entry_is_kept_as_a_dead_letter_and_never_offered_again(
    outbox_backend: SQLAlchemyBackend, engine: Engine, session: Session, run: Callable[..., None]
) -> None:
    stream_id = StreamId(category="parcels")
    outbox_backend.event_store.append(Posted(text="parcel"), stream_id=stream_id)
    session.commit()
    for _ in range(ATTEMPTS):
        run(failing)
    published: list[Recorded] = []

    run(published.append)

    assert published == []
    (row,) = committed(engine, OUTBOX)
    assert (row.tries_left, row.failures) == (0, ATTEMPTS)
    (dead,) = outbox_backend.outbox.dead_letters()
    assert (dead.id, dead.attempts_left, dead.failures) == (row.id, 0, ATTEMPTS)
    assert dead.last_error == "BrokerDown: cannot publish parcel"
    assert dead.record.entry.stream_id == stream_id
    assert dead.record.position == committed(engine, EVENTS)[0].id


def test_a_requeued_dead_letter_is_published_and_removed(
    outbox_backend: SQLAlchemyBackend, engine: Engine, session: Session, run: Callable[..., None]
) -> None:
    outbox_backend.event_store.append(Posted(text="parcel"), stream_id=StreamId())
    session.commit()
    for _ in range(ATTEMPTS):
        run(failing)
    (dead,) = outbox_backend.outbox.dead_letters()

    assert outbox_backend.outbox.requeue([dead.id]) == 1
    session.commit()
    (row,) = committed(engine, OUTBOX)
    assert (row.tries_left, row.next_attempt_at) == (ATTEMPTS, None)
    assert outbox_backend.outbox.dead_letters() == []
    published: list[Recorded] = []
    run(published.append)

    assert [record.wrapped_event.event for record in published] == [Posted(text="parcel")]
    assert committed(engine, OUTBOX) == []


def test_requeue_ignores_entries_that_are_not_dead_letters(
    outbox_backend: SQLAlchemyBackend, engine: Engine, session: Session, run: Callable[..., None]
) -> None:
    outbox_backend.event_store.append(Posted(text="pending"), stream_id=StreamId())
    session.commit()
    run(failing)
    (pending,) = committed(engine, OUTBOX)

    assert outbox_backend.outbox.requeue([pending.id, pending.id + 1000]) == 0
    session.commit()

    (row,) = committed(engine, OUTBOX)
    assert (row.tries_left, row.failures) == (ATTEMPTS - 1, 1)
