"""Backend factories for the contract suite.

Each factory says how to make a configured backend, how to commit and roll back the caller's
transaction (a no-op in memory; the session on SQL backends), which pytest marks it needs and
which capabilities it lacks, with the reason. A backend joins the suite by adding a factory to
``FACTORIES``. Tests never ask which backend they run on: they declare the capability they need
with ``@pytest.mark.requires(Capability.X)`` and the fixture skips with the factory's reason.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from event_sourcery._core.column_limits import NAME_LENGTH
from event_sourcery.backend import Backend, InMemoryBackend, InMemoryConfig
from event_sourcery_sqlalchemy import SQLAlchemyBackend, SQLAlchemyConfig
from tests.contract import databases


class Capability(enum.Enum):
    """Rules a backend may be unable to support (each absence carries a reason)."""

    IN_TRANSACTION_LISTENERS = "in-transaction listeners"
    NO_VERSIONING = "versionless streams"
    STREAM_NAMES_STORED = "stream names stored with the stream"
    NAME_CONFLICT_DETECTION = "detect a name used by a stream with another uuid"
    ROLLBACK = "the caller's transaction can be rolled back"
    OWN_UNCOMMITTED_WRITES = "appends stay uncommitted in the caller's transaction"
    SECOND_TRANSACTION = "another caller with a transaction of its own on the same database"
    UNIQUE_EVENT_UUIDS = "an event uuid already stored is refused (in any stream)"
    INTERLEAVED_COMMITS = "write transactions that overlap and commit in another order"
    RESUME_AFTER_DELETED_POSITION = "resuming from a deleted event's position continues after it"


@dataclass(frozen=True)
class BackendFactory:
    """How the contract suite makes and drives one backend."""

    name: str
    marks: tuple[Any, ...] = ()
    missing: dict[Capability, str] = field(default_factory=dict)
    stream_name_limit: int | None = None
    """The longest stream name the storage holds (``None``: no limit)."""

    @contextmanager
    def make(self, *, outbox_attempts: int = 3) -> Iterator[Backend]:
        raise NotImplementedError

    def commit(self, backend: Backend) -> None:
        """Commit the caller's transaction (no-op where every append is durable at once)."""

    def rollback(self, backend: Backend) -> None:
        """Roll back the caller's transaction."""

    @contextmanager
    def other_caller(self, backend: Backend) -> Iterator[Backend]:
        """Another caller on ``backend``'s database with a transaction of its own."""
        raise NotImplementedError

    def supports(self, capability: Capability) -> bool:
        return capability not in self.missing


@dataclass(frozen=True)
class InMemoryFactory(BackendFactory):
    name: str = "in_memory"
    missing: dict[Capability, str] = field(
        default_factory=lambda: {
            Capability.ROLLBACK: "in-memory appends have no caller-owned transaction to roll back",
            Capability.OWN_UNCOMMITTED_WRITES: "in-memory appends are visible to all at once",
            Capability.SECOND_TRANSACTION: "in-memory appends have no transaction",
        }
    )

    @contextmanager
    def make(self, *, outbox_attempts: int = 3) -> Iterator[Backend]:
        yield InMemoryBackend().configure(InMemoryConfig(outbox_attempts=outbox_attempts))


@dataclass(frozen=True)
class SqlAlchemyFactory(BackendFactory):
    """A SQLAlchemy backend on a real database; the test owns the session's transaction."""

    url: str = ""
    stream_name_limit: int | None = NAME_LENGTH

    def engine(self) -> Engine:
        if self.url == "sqlite":
            return databases.sqlite_engine()
        if self.url == "sqlite-memory":
            return databases.sqlite_memory_engine()
        return databases.require_server(self.url)

    @contextmanager
    def make(self, *, outbox_attempts: int = 3) -> Iterator[Backend]:
        engine = self.engine()
        session = Session(engine)
        config = SQLAlchemyConfig(
            outbox_attempts=outbox_attempts, gap_retry_interval=timedelta(milliseconds=50)
        )
        try:
            yield SQLAlchemyBackend().configure(session, config)
        finally:
            session.rollback()
            session.close()
            databases.clean(engine)

    def commit(self, backend: Backend) -> None:
        backend[Session].commit()

    def rollback(self, backend: Backend) -> None:
        backend[Session].rollback()

    @contextmanager
    def other_caller(self, backend: Backend) -> Iterator[Backend]:
        session = Session(backend[Session].get_bind())
        try:
            yield SQLAlchemyBackend().configure(session, backend[SQLAlchemyConfig])
        finally:
            session.rollback()
            session.close()


@dataclass(frozen=True)
class DjangoFactory(BackendFactory):
    """The Django backend on one database alias of the Django test settings.

    Appends are atomic by themselves (autocommit mode), so commit and rollback are no-ops.
    """

    alias: str = "default"
    stream_name_limit: int | None = NAME_LENGTH
    missing: dict[Capability, str] = field(
        default_factory=lambda: {
            Capability.OWN_UNCOMMITTED_WRITES: (
                "the contract suite runs Django in autocommit mode, where every append commits "
                "at once (atomic() and TestCase: tests/backends/django/test_own_writes.py)"
            ),
            Capability.SECOND_TRANSACTION: "the contract suite runs Django in autocommit mode",
        }
    )

    @contextmanager
    def make(self, *, outbox_attempts: int = 3) -> Iterator[Backend]:
        from event_sourcery_django import DjangoBackend, DjangoConfig
        from tests.backends.django import support

        support.require(self.alias)
        support.migrate_once(self.alias)
        config = DjangoConfig(
            outbox_attempts=outbox_attempts,
            gap_retry_interval=timedelta(milliseconds=50),
            using=self.alias,
        )
        try:
            yield DjangoBackend().configure(config)
        finally:
            support.empty_tables(self.alias)


@dataclass(frozen=True)
class KurrentDBFactory(BackendFactory):
    """The KurrentDB backend on a real server (``KURRENTDB_URI``) or the in-process double."""

    name: str = "kurrentdb"
    marks: tuple[Any, ...] = (pytest.mark.kurrentdb,)
    missing: dict[Capability, str] = field(
        default_factory=lambda: {
            Capability.IN_TRANSACTION_LISTENERS: (
                "KurrentDB appends are not part of a caller's transaction, so there is no "
                "transaction for listeners to run in"
            ),
            Capability.ROLLBACK: "KurrentDB appends are durable at once; nothing to roll back",
            Capability.OWN_UNCOMMITTED_WRITES: "KurrentDB appends are durable at once",
            Capability.SECOND_TRANSACTION: "KurrentDB appends are not part of a transaction",
            Capability.NAME_CONFLICT_DETECTION: (
                "KurrentDB addresses a stream by its uuid; the name is kept in event metadata, "
                "not as a unique key, so a name reused with another uuid cannot be detected"
            ),
            Capability.UNIQUE_EVENT_UUIDS: (
                "KurrentDB keeps no unique index of event ids: an id stored before (in this or "
                "another stream) is stored again; only repeats inside one append are refused "
                "(by the core)"
            ),
        }
    )

    @contextmanager
    def make(self, *, outbox_attempts: int = 3) -> Iterator[Backend]:
        from event_sourcery_kurrentdb import KurrentDBBackend, KurrentDBConfig
        from tests.backends.kurrentdb.server import target

        server = target()
        client = server.client()
        config = KurrentDBConfig(
            timeout=10,
            outbox_name=f"outbox-{uuid4().hex}",
            outbox_attempts=outbox_attempts,
            outbox_wait=0.3,
        )
        try:
            yield KurrentDBBackend().configure(client, config)
        finally:
            server.reset(client)
            client.close()


SQLITE_ONE_WRITER = "SQLite admits one writer at a time: commits cannot interleave"

FACTORIES: list[BackendFactory] = [
    InMemoryFactory(),
    SqlAlchemyFactory(
        name="sqlite",
        url="sqlite",
        missing={Capability.INTERLEAVED_COMMITS: SQLITE_ONE_WRITER},
    ),
    SqlAlchemyFactory(
        name="sqlite_memory",
        url="sqlite-memory",
        missing={
            Capability.SECOND_TRANSACTION: (
                "an in-memory SQLite database has one connection, shared by every session"
            ),
            Capability.INTERLEAVED_COMMITS: SQLITE_ONE_WRITER,
        },
    ),
    SqlAlchemyFactory(name="postgres", url=databases.POSTGRES_URL, marks=(pytest.mark.postgres,)),
    SqlAlchemyFactory(name="mariadb", url=databases.MARIADB_URL, marks=(pytest.mark.mariadb,)),
    DjangoFactory(name="django_sqlite", alias="default"),
    DjangoFactory(name="django_postgres", alias="postgresql", marks=(pytest.mark.postgres,)),
    KurrentDBFactory(),
]
