"""A database the migrations have not (fully) run on: ``SchemaNotMigrated`` (issue 9).

Two states, on SQLite, PostgreSQL and MariaDB: the existing library's schema (the branch's first
revision: no ``events.tx_id``, no outbox retry columns) and no tables at all. Whatever needs the
missing table or column raises ``SchemaNotMigrated`` naming the Alembic command; after
``alembic upgrade event_sourcery@head`` the same backend works. Server tests use their own
database, ``<database of the URL>_unmigrated``, created empty for each test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from event_sourcery import Event, StreamId
from event_sourcery.backend import Backend
from event_sourcery.event import Recorded
from event_sourcery.exceptions import BackendUnavailable, SchemaNotMigrated
from event_sourcery_sqlalchemy import SQLAlchemyBackend, SQLAlchemyConfig
from event_sourcery_sqlalchemy.migrations import FIRST_REVISION
from tests.backends.sqlalchemy_migrations.test_migrations import HEAD, migrate
from tests.contract.databases import IN_CI, MARIADB_URL, POSTGRES_URL

CONFIG = SQLAlchemyConfig(gap_retry_interval=timedelta(milliseconds=50))


class Placed(Event):
    n: int


def fresh_database(url: str) -> Engine:
    """An engine on an empty ``<database>_unmigrated`` database of the server in ``url``."""
    parsed = make_url(url)
    name = f"{parsed.database}_unmigrated"
    postgres = parsed.get_backend_name() == "postgresql"
    admin = create_engine(
        parsed.set(database="postgres" if postgres else None), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as connection:
            force = " WITH (FORCE)" if postgres else ""
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
            connection.execute(text(f"CREATE DATABASE {name}"))
    except Exception as error:
        reason = f"{parsed.render_as_string(hide_password=True)} unavailable: {error}"
        if IN_CI:
            pytest.fail(f"CI needs this database server: {reason}")
        pytest.skip(reason)
    finally:
        admin.dispose()
    return create_engine(parsed.set(database=name))


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(POSTGRES_URL, id="postgresql", marks=pytest.mark.postgres),
        pytest.param(MARIADB_URL, id="mariadb", marks=pytest.mark.mariadb),
    ],
    ids=lambda param: str(param),
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database."""
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}")
    else:
        made = fresh_database(request.param)
    yield made
    made.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture
def backend(session: Session) -> Backend:
    return SQLAlchemyBackend().configure(session, CONFIG).with_outbox()


def assert_not_migrated(session: Session, action: Callable[[], object]) -> SchemaNotMigrated:
    with pytest.raises(SchemaNotMigrated) as caught:
        action()
    session.rollback()
    error = caught.value
    assert not isinstance(error, BackendUnavailable)
    assert "alembic upgrade event_sourcery@head" in str(error)
    assert error.__cause__ is not None
    return error


def subscribe(backend: Backend) -> list[Recorded]:
    """The first event (waiting up to 10 s: other transactions on the server may hold the
    PostgreSQL horizon back a moment)."""
    return next(iter(backend.subscriber.start_from(0).build_batch(size=1, timelimit=10)))


def publish(backend: Backend) -> None:
    backend.outbox.run(lambda *_: None)


def test_the_existing_librarys_schema_raises_schema_not_migrated_until_upgraded(
    engine: Engine, session: Session, backend: Backend
) -> None:
    migrate(engine, command.upgrade, FIRST_REVISION)
    stream_id = StreamId(name="order-1")

    assert_not_migrated(
        session, lambda: backend.event_store.append(Placed(n=1), stream_id=stream_id)
    )
    assert_not_migrated(session, lambda: subscribe(backend))
    assert_not_migrated(session, lambda: publish(backend))

    migrate(engine, command.upgrade, HEAD)
    backend.event_store.append(Placed(n=1), stream_id=stream_id)
    session.commit()
    assert [e.event for e in backend.event_store.load_stream(stream_id)] == [Placed(n=1)]
    assert [r.wrapped_event.event for r in subscribe(backend)] == [Placed(n=1)]


def test_a_database_without_tables_raises_schema_not_migrated(
    session: Session, backend: Backend
) -> None:
    stream_id = StreamId(name="order-1")

    assert_not_migrated(session, lambda: backend.event_store.load_stream(stream_id))
    assert_not_migrated(
        session, lambda: backend.event_store.append(Placed(n=1), stream_id=stream_id)
    )
    assert_not_migrated(session, lambda: backend.event_store.position)
    assert_not_migrated(session, lambda: subscribe(backend))
    assert_not_migrated(session, lambda: publish(backend))
    assert_not_migrated(session, lambda: backend.outbox.dead_letters())
