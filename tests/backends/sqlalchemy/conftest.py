"""Fixtures: each test runs on real SQLite, PostgreSQL and MariaDB databases.

``engine`` is parametrised over the three databases (narrow it with
``support.servers_only``); the tables are emptied after every test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from event_sourcery_sqlalchemy import SQLAlchemyBackend
from tests.backends.sqlalchemy.support import ALL_DATABASES, CONFIG, connect
from tests.contract import databases


@pytest.fixture(params=ALL_DATABASES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    engine = connect(request.param)
    yield engine
    databases.clean(engine)


@pytest.fixture
def new_session(engine: Engine) -> Iterator[Callable[[], Session]]:
    """Opens sessions on ``engine``; all are rolled back and closed after the test."""
    opened: list[Session] = []

    def make() -> Session:
        session = Session(engine)
        opened.append(session)
        return session

    yield make
    for session in opened:
        session.close()


@pytest.fixture
def session(new_session: Callable[[], Session]) -> Session:
    return new_session()


@pytest.fixture
def backend(session: Session) -> SQLAlchemyBackend:
    return SQLAlchemyBackend().configure(session, CONFIG)


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent to ``engine`` during the test."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)
