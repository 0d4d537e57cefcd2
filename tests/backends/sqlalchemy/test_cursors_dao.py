"""``SqlAlchemyCursorsDao`` with the ``Projector`` (SPEC §15) on a SQL database.

The cursors live in the caller's transaction: nothing is committed by the DAO.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from event_sourcery import StreamId
from event_sourcery.event import WrappedEvent
from event_sourcery.read_model import CursorsDao, Projector
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from event_sourcery_sqlalchemy.cursors_dao import SqlAlchemyCursorsDao
from event_sourcery_sqlalchemy.models import DefaultProjectorCursor
from tests.backends.sqlalchemy.support import CURSORS, Posted, committed

NAME = "texts"


class ReadModel:
    def __init__(self) -> None:
        self.seen: list[tuple[StreamId, int | None, str]] = []

    def __call__(self, wrapped_event: WrappedEvent[Any], stream_id: StreamId) -> None:
        self.seen.append((stream_id, wrapped_event.version, wrapped_event.event.text))

    @property
    def versions(self) -> list[int | None]:
        return [version for _, version, _ in self.seen]


@pytest.fixture
def dao(session: Session) -> SqlAlchemyCursorsDao:
    return SqlAlchemyCursorsDao(session, DefaultProjectorCursor)


@pytest.fixture
def read_model() -> ReadModel:
    return ReadModel()


@pytest.fixture
def projector(
    backend: SQLAlchemyBackend, dao: SqlAlchemyCursorsDao, read_model: ReadModel
) -> Projector:
    return Projector(backend.event_store, NAME, dao, read_model)


@pytest.fixture
def stream_id() -> StreamId:
    return StreamId(category="counters")


@pytest.fixture
def events(
    backend: SQLAlchemyBackend, session: Session, stream_id: StreamId
) -> Sequence[WrappedEvent[Any]]:
    """Versions 1 to 5 of ``stream_id``, interleaved with another stream's events."""
    other = StreamId(category="counters")
    for n in range(1, 6):
        backend.event_store.append(Posted(text=str(n)), stream_id=stream_id, expected_version=n - 1)
        backend.event_store.append(Posted(text=f"-{n}"), stream_id=other, expected_version=n - 1)
    session.commit()
    return backend.event_store.load_stream(stream_id)


def project(projector: Projector, stream_id: StreamId, *events: WrappedEvent[Any]) -> None:
    for event in events:
        projector.project(event, stream_id)


def cursor_versions(engine: Engine) -> list[tuple[str, str | None, int]]:
    return [(row.name, row.category, row.version) for row in committed(engine, CURSORS)]


# The six projector behaviours.


def test_projecting_a_whole_stream_applies_every_event_once_and_commits_with_the_caller(
    projector: Projector,
    read_model: ReadModel,
    stream_id: StreamId,
    events: Sequence[WrappedEvent[Any]],
    session: Session,
    engine: Engine,
) -> None:
    project(projector, stream_id, *events)
    assert cursor_versions(engine) == []
    session.commit()

    assert read_model.seen == [(stream_id, n, str(n)) for n in range(1, 6)]
    assert cursor_versions(engine) == [(NAME, "counters", 5)]


def test_first_event_seen_of_an_untracked_stream_catches_up_from_the_beginning(
    projector: Projector,
    read_model: ReadModel,
    stream_id: StreamId,
    events: Sequence[WrappedEvent[Any]],
    session: Session,
    engine: Engine,
) -> None:
    project(projector, stream_id, events[-1])
    session.commit()

    assert read_model.seen == [(stream_id, n, str(n)) for n in range(1, 6)]
    assert cursor_versions(engine) == [(NAME, "counters", 5)]


def test_a_gap_in_a_tracked_stream_is_filled_from_the_event_store(
    projector: Projector,
    read_model: ReadModel,
    stream_id: StreamId,
    events: Sequence[WrappedEvent[Any]],
    session: Session,
    engine: Engine,
) -> None:
    project(projector, stream_id, events[0], events[1])
    session.commit()
    project(projector, stream_id, events[4])
    session.commit()

    assert read_model.versions == [1, 2, 3, 4, 5]
    assert cursor_versions(engine) == [(NAME, "counters", 5)]


def test_duplicates_from_the_middle_of_the_stream_are_ignored(
    projector: Projector,
    read_model: ReadModel,
    stream_id: StreamId,
    events: Sequence[WrappedEvent[Any]],
    session: Session,
) -> None:
    project(projector, stream_id, *events)
    session.commit()

    project(projector, stream_id, events[2], events[3])

    assert read_model.versions == [1, 2, 3, 4, 5]


def test_duplicates_from_the_beginning_of_the_stream_are_ignored(
    projector: Projector,
    read_model: ReadModel,
    stream_id: StreamId,
    events: Sequence[WrappedEvent[Any]],
    session: Session,
) -> None:
    project(projector, stream_id, events[0], events[1], events[2])
    session.commit()

    project(projector, stream_id, events[0], events[1])
    project(projector, stream_id, events[3], events[4])

    assert read_model.versions == [1, 2, 3, 4, 5]


def test_an_unversioned_event_cannot_be_projected(
    projector: Projector, read_model: ReadModel, stream_id: StreamId, engine: Engine
) -> None:
    with pytest.raises(Projector.CantProjectUnversionedEvent):
        projector.project(WrappedEvent.wrap(Posted(text="x"), version=None), stream_id)

    assert read_model.seen == []
    assert cursor_versions(engine) == []


# The DAO itself: category NULL semantics and the caller's transaction.


def test_a_cursor_of_a_stream_without_category_is_stored_with_a_null_category(
    dao: SqlAlchemyCursorsDao, session: Session, engine: Engine
) -> None:
    dao.increment(NAME, StreamId(), 1)
    session.commit()

    assert cursor_versions(engine) == [(NAME, None, 1)]


def test_a_null_category_cursor_is_found_again_by_its_stream(
    dao: SqlAlchemyCursorsDao, session: Session, engine: Engine
) -> None:
    stream_id = StreamId()
    dao.increment(NAME, stream_id, 1)
    dao.increment(NAME, stream_id, 2)
    session.commit()

    with pytest.raises(CursorsDao.AheadOfStream) as ahead:
        dao.increment(NAME, stream_id, 1)
    assert ahead.value.current_version == 2
    with pytest.raises(CursorsDao.BehindStream) as behind:
        dao.increment(NAME, stream_id, 4)
    assert behind.value.current_version == 2
    dao.increment(NAME, stream_id, 3)
    session.commit()
    assert cursor_versions(engine) == [(NAME, None, 3)]


def test_cursors_of_the_same_uuid_with_and_without_category_are_independent(
    dao: SqlAlchemyCursorsDao, session: Session, engine: Engine
) -> None:
    plain = StreamId()
    categorised = StreamId(uuid=plain, category="orders")
    dao.increment(NAME, plain, 1)
    dao.increment(NAME, plain, 2)

    dao.increment(NAME, categorised, 1)
    with pytest.raises(CursorsDao.StreamNotTracked):
        dao.increment(NAME, StreamId(uuid=plain, category="other"), 2)
    session.commit()

    assert set(cursor_versions(engine)) == {(NAME, None, 2), (NAME, "orders", 1)}


def test_cursors_are_per_projector_name(dao: SqlAlchemyCursorsDao) -> None:
    stream_id = StreamId(category="orders")
    dao.increment("first", stream_id, 1)

    dao.increment("second", stream_id, 1)
    with pytest.raises(CursorsDao.StreamNotTracked):
        dao.increment("third", stream_id, 2)


def test_put_at_and_move_to_set_the_cursor(
    dao: SqlAlchemyCursorsDao, session: Session, engine: Engine
) -> None:
    stream_id = StreamId()
    dao.put_at(NAME, stream_id, 3)
    dao.increment(NAME, stream_id, 4)
    dao.move_to(NAME, stream_id, 9)
    session.commit()

    assert cursor_versions(engine) == [(NAME, None, 9)]


def test_a_rolled_back_cursor_is_forgotten(
    dao: SqlAlchemyCursorsDao, session: Session, engine: Engine
) -> None:
    stream_id = StreamId(category="orders")
    dao.increment(NAME, stream_id, 1)
    session.rollback()

    with pytest.raises(CursorsDao.StreamNotTracked):
        dao.increment(NAME, stream_id, 2)
    assert cursor_versions(engine) == []
