"""Shared pieces of the SQLAlchemy backend tests: databases, events and raw table reads.

The engines are the contract suite's (``tests.contract.databases``): one prepared schema per
database and test session. A server that is down skips its tests with the reason, except in
CI, where it fails them.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Table, select
from sqlalchemy.sql.elements import ColumnElement

from event_sourcery import Event, EventStore, StreamId
from event_sourcery_sqlalchemy import SQLAlchemyConfig
from event_sourcery_sqlalchemy.models import (
    DefaultEvent,
    DefaultOutboxEntry,
    DefaultProjectorCursor,
    DefaultSnapshot,
    DefaultStream,
)
from tests.contract import databases

SQLITE = pytest.param("sqlite", id="sqlite")
POSTGRES = pytest.param(databases.POSTGRES_URL, id="postgres", marks=pytest.mark.postgres)
MARIADB = pytest.param(databases.MARIADB_URL, id="mariadb", marks=pytest.mark.mariadb)
ALL_DATABASES = [SQLITE, POSTGRES, MARIADB]
SERVERS = [POSTGRES, MARIADB]

servers_only = pytest.mark.parametrize("engine", SERVERS, indirect=True)
"""Run a test on PostgreSQL and MariaDB only (the rule needs a server process)."""

CONFIG = SQLAlchemyConfig(outbox_attempts=3, gap_retry_interval=timedelta(milliseconds=50))

STREAMS: Table = DefaultStream.__table__  # type: ignore[attr-defined]
EVENTS: Table = DefaultEvent.__table__  # type: ignore[attr-defined]
SNAPSHOTS: Table = DefaultSnapshot.__table__  # type: ignore[attr-defined]
OUTBOX: Table = DefaultOutboxEntry.__table__  # type: ignore[attr-defined]
CURSORS: Table = DefaultProjectorCursor.__table__  # type: ignore[attr-defined]


def connect(database: str) -> Engine:
    """The prepared engine of ``database`` (``"sqlite"`` or a server URL)."""
    if database == "sqlite":
        return databases.sqlite_engine()
    return databases.require_server(database)


class Posted(Event):
    text: str


class Summary(Event):
    """A snapshot: the texts of the events it stands for."""

    texts: list[str]


def describe(event: Event) -> str:
    if isinstance(event, Summary):
        return f"summary:{','.join(event.texts)}"
    assert isinstance(event, Posted)
    return event.text


def texts(event_store: EventStore, stream_id: StreamId) -> list[tuple[int | None, str]]:
    """(version, text) of every loaded event of the stream."""
    return [(e.version, describe(e.event)) for e in event_store.load_stream(stream_id)]


def settled_position(event_store: EventStore, expected: int, timeout: float = 10) -> int | None:
    """``event_store.position`` once it reaches ``expected`` (or the last value seen).

    On PostgreSQL the position only covers events below the transaction horizon, which any
    write transaction still open in the cluster holds back for a while (latency, never loss).
    """
    deadline = time.monotonic() + timeout
    while (position := event_store.position) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return position


def committed(engine: Engine, table: Table, *where: ColumnElement[bool]) -> list[Any]:
    """Committed rows of ``table`` read on a connection of its own, ordered by primary key."""
    with engine.connect() as connection:
        query = select(table).where(*where).order_by(*table.primary_key.columns)
        return list(connection.execute(query).all())
