"""Where the bank keeps its events: a SQLite file (default), any SQLAlchemy URL, or memory.

``EVENT_SOURCERY_DEMO_URL`` chooses: unset, the demo recreates a SQLite file in the temporary
directory; a SQLAlchemy URL (``postgresql+psycopg://postgres@127.0.0.1:5432/es_demo``) uses that
database, dropping and recreating the ``event_sourcery_*`` tables; ``memory`` uses the in-memory
backend.

Every piece of work runs in ``Storage.transaction()``: on a database that is one ``Session``,
committed when the block ends (after a repository save, after an outbox run) and rolled back if
it raises, as in a web request or a worker job.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, Table, create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from event_sourcery.backend import InMemoryBackend, InMemoryKeyStorage, TransactionalBackend
from event_sourcery.encryption import AesGcmEncryptionStrategy
from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models
from event_sourcery_sqlalchemy.models import (
    DefaultEvent,
    DefaultOutboxEntry,
    DefaultProjectorCursor,
    DefaultSnapshot,
    DefaultStream,
)

URL_VARIABLE = "EVENT_SOURCERY_DEMO_URL"
MEMORY = "memory"
DEFAULT_MODELS = (
    DefaultStream,
    DefaultEvent,
    DefaultSnapshot,
    DefaultOutboxEntry,
    DefaultProjectorCursor,
)
DIALECTS = {
    "sqlite": "SQLite",
    "postgresql": "PostgreSQL",
    "mysql": "MySQL/MariaDB",
    "mariadb": "MariaDB",
}


def default_url() -> str:
    """A SQLite file in the temporary directory, recreated by every run."""
    return f"sqlite:///{Path(tempfile.gettempdir()) / 'event-sourcery-demo.sqlite3'}"


def demo_url() -> str:
    """``EVENT_SOURCERY_DEMO_URL``, or the default SQLite file."""
    return os.environ.get(URL_VARIABLE) or default_url()


class Storage(Protocol):
    description: str

    def transaction(self) -> AbstractContextManager[TransactionalBackend]:
        """A backend for one unit of work, committed when the block ends without error."""

    def close(self) -> None: ...


def open_storage(url: str) -> Storage:
    """The storage that ``url`` names (``memory`` or a SQLAlchemy URL), empty."""
    return MemoryStorage() if url == MEMORY else SqlStorage(url)


class MemoryStorage:
    """One in-memory backend shared by every unit of work (an append is all-or-nothing)."""

    description = "the in-memory backend"

    def __init__(self) -> None:
        self._backend = (
            InMemoryBackend()
            .configure()
            .with_outbox()
            .with_encryption(AesGcmEncryptionStrategy(), InMemoryKeyStorage())
        )

    @contextmanager
    def transaction(self) -> Iterator[TransactionalBackend]:
        yield self._backend

    def close(self) -> None:
        pass


class DemoBase(DeclarativeBase):
    """The demo's declarative base: ``configure_models`` maps the default models onto it."""


def default_tables() -> list[Table]:
    """The tables of the default models, wherever they were mapped.

    ``configure_models`` maps the default models once per process: onto ``DemoBase`` when the
    demo runs alone, onto the application's (or the test suite's) base when something mapped
    them first. Creating exactly these tables works either way.
    """
    configure_models(DemoBase)
    tables = [inspect(model).local_table for model in DEFAULT_MODELS]
    return [table for table in tables if isinstance(table, Table)]


class SqlStorage:
    """A database through SQLAlchemy: one ``Session`` and one backend per unit of work.

    Encryption keys stay in memory (they die with the demo, as the database is recreated).
    """

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        dialect = DIALECTS.get(parsed.get_backend_name(), parsed.get_backend_name())
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            path = Path(parsed.database or "")
            for stale in (path, *(path.with_name(path.name + s) for s in ("-wal", "-journal"))):
                stale.unlink(missing_ok=True)
            self.description = f"a SQLite file, {path}"
        else:
            self.description = f"{dialect}, {parsed.render_as_string(hide_password=True)}"
        self._engine: Engine = create_engine(parsed)
        tables = default_tables()
        metadata = tables[0].metadata
        metadata.drop_all(self._engine, tables=tables)
        metadata.create_all(self._engine, tables=tables)
        self._sessions = sessionmaker(self._engine)
        self._keys = InMemoryKeyStorage()

    @contextmanager
    def transaction(self) -> Iterator[TransactionalBackend]:
        with self._sessions.begin() as session:  # commit at the end, rollback on an exception
            yield (
                SQLAlchemyBackend()
                .configure(session)
                .with_outbox()
                .with_encryption(AesGcmEncryptionStrategy(), self._keys)
            )

    def close(self) -> None:
        self._engine.dispose()
