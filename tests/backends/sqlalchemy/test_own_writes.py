"""A subscription reads its session's own writes (ADR 0006): savepoints, ``close()``, wake-ups,
and the place of own events in the order on PostgreSQL and MariaDB (the contract suite's
``test_own_writes.py`` covers the rest)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from event_sourcery import StreamId
from event_sourcery_sqlalchemy import SQLAlchemyBackend, SQLAlchemyConfig
from tests.backends.sqlalchemy.support import CONFIG, MARIADB, POSTGRES, SQLITE, Posted
from tests.contract.reading import collect, nothing_more

SHORT = 0.2


def texts(records: Sequence[object]) -> list[str]:
    return [r.wrapped_event.event.text for r in records]  # type: ignore[attr-defined]


def post(backend: SQLAlchemyBackend, *texts: str) -> None:
    backend.event_store.append(*(Posted(text=t) for t in texts), stream_id=StreamId())


def test_a_rolled_back_savepoint_drops_only_its_events(
    session: Session, backend: SQLAlchemyBackend
) -> None:
    subscription = backend.subscriber.start_from(0).build_iter(SHORT)
    post(backend, "kept")  # the outer transaction begins (pysqlite needs it before SAVEPOINT)
    savepoint = session.begin_nested()
    post(backend, "dropped")
    assert texts(collect(subscription, 2)) == ["kept", "dropped"]
    savepoint.rollback()
    post(backend, "after")

    assert texts(collect(subscription, 1)) == ["after"]
    session.commit()
    assert nothing_more(subscription), "events delivered before the commit came again"
    fresh = backend.subscriber.start_from(0).build_batch(10, SHORT)
    assert texts(collect(fresh, 2)) == ["kept", "after"]


def test_a_released_savepoint_stays_uncommitted_until_the_outer_transaction_ends(
    session: Session, backend: SQLAlchemyBackend, new_session: Callable[[], Session]
) -> None:
    post(backend, "outer")
    with session.begin_nested():
        post(backend, "inner")
    subscription = backend.subscriber.start_from(0).build_iter(SHORT)
    assert texts(collect(subscription, 2)) == ["outer", "inner"]
    session.rollback()

    other = SQLAlchemyBackend().configure(new_session(), CONFIG)
    post(other, "other")
    other[Session].commit()

    assert texts(collect(subscription, 1)) == ["other"]
    assert nothing_more(subscription)


def test_closing_the_session_forgets_its_uncommitted_events(
    session: Session, backend: SQLAlchemyBackend, new_session: Callable[[], Session]
) -> None:
    subscription = backend.subscriber.start_from(0).build_batch(5, SHORT)
    post(backend, "open")
    assert texts(collect(subscription, 1)) == ["open"]
    session.close()

    other = SQLAlchemyBackend().configure(new_session(), CONFIG)
    post(other, "committed")
    other[Session].commit()

    assert texts(collect(subscription, 1)) == ["committed"]
    assert nothing_more(subscription)


def test_a_scoped_session_reads_its_own_writes(engine: Engine) -> None:
    scoped = scoped_session(sessionmaker(engine))
    backend = SQLAlchemyBackend().configure(scoped, CONFIG)
    try:
        subscription = backend.subscriber.start_from(0).build_iter(SHORT)
        post(backend, "dropped")
        assert texts(collect(subscription, 1)) == ["dropped"]
        scoped.rollback()
        post(backend, "kept")
        scoped.commit()

        assert texts(collect(subscription, 1)) == ["kept"]
        assert nothing_more(subscription)
    finally:
        scoped.remove()


@pytest.mark.parametrize("engine", [SQLITE, MARIADB], indirect=True)
def test_the_commit_after_a_released_savepoint_wakes_waiting_subscribers(
    engine: Engine, session: Session, backend: SQLAlchemyBackend, new_session: Callable[[], Session]
) -> None:
    """Releasing a savepoint commits nothing: the wake-up is sent at the real commit.

    (PostgreSQL wakes subscribers with ``NOTIFY`` from the commit itself.)
    """
    slow = SQLAlchemyConfig(gap_retry_interval=timedelta(seconds=10))
    waiting = SQLAlchemyBackend().configure(new_session(), slow)
    limit = 6.0
    subscription = waiting.subscriber.start_from(0).build_iter(limit)
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(next(subscription)))
    reader.start()
    time.sleep(0.3)  # the reader is waiting (there is no condition to observe it by)
    post(backend, "outer")
    with session.begin_nested():
        post(backend, "inner")
    time.sleep(0.3)  # the savepoint's release wakes nobody for good
    started = time.monotonic()
    session.commit()
    reader.join(limit + 5)

    assert texts(got) == ["outer"]
    assert time.monotonic() - started < limit / 2


@pytest.mark.parametrize("engine", [POSTGRES], indirect=True)
def test_postgres_delivers_own_events_at_their_place_so_resuming_is_exact(
    engine: Engine, session: Session, backend: SQLAlchemyBackend, new_session: Callable[[], Session]
) -> None:
    """Own events come once every older transaction has finished, like everyone's (ADR 0006):
    a position delivered before the commit is a checkpoint that resumes exactly after it."""
    older = SQLAlchemyBackend().configure(new_session(), CONFIG)
    post(older, "older")  # its transaction id is below the session's
    post(backend, "own")
    subscription = backend.subscriber.start_from(0).build_iter(SHORT)
    assert next(subscription) is None, "own events must wait for the older transaction"
    older[Session].commit()

    delivered = collect(subscription, 2)
    session.commit()

    assert texts(delivered) == ["older", "own"]
    reader = SQLAlchemyBackend().configure(new_session(), CONFIG)
    resumed = reader.subscriber.start_from(delivered[1].position).build_iter(SHORT)
    assert nothing_more(resumed)
    resumed = reader.subscriber.start_from(delivered[0].position).build_iter(SHORT)
    assert texts(collect(resumed, 1)) == ["own"]


@pytest.mark.parametrize("engine", [MARIADB], indirect=True)
def test_mariadb_resuming_from_an_event_delivered_before_its_commit_is_not_exact(
    engine: Engine, session: Session, backend: SQLAlchemyBackend, new_session: Callable[[], Session]
) -> None:
    """The documented limit (ADR 0006): MariaDB orders rows when they are committed, so an
    event of another transaction committed between an own event's delivery and its commit
    comes before it in the order, and a subscription resumed from the own event skips it."""
    post(backend, "own")
    subscription = backend.subscriber.start_from(0).build_iter(SHORT)
    own = collect(subscription, 1)
    other = SQLAlchemyBackend().configure(new_session(), CONFIG)
    post(other, "other")
    other[Session].commit()
    assert texts(collect(subscription, 1)) == ["other"]
    session.commit()
    assert nothing_more(subscription)

    fresh = SQLAlchemyBackend().configure(new_session(), CONFIG)
    assert texts(collect(fresh.subscriber.start_from(0).build_batch(2, SHORT), 2)) == [
        "other",
        "own",
    ]
    resumed = fresh.subscriber.start_from(own[0].position).build_iter(SHORT)
    assert nothing_more(resumed), "'other' sorts before 'own': resuming after 'own' skips it"
