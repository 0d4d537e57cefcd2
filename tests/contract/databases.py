"""Real databases for the SQL backends: one engine and one schema per test session.

Servers come from the environment (defaults: the machine's PostgreSQL and MariaDB on loopback).
When a server is absent its tests skip with the reason, except in CI (``CI=true``), where the
PostgreSQL and MariaDB suites must run and an absent server fails them.
"""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete, text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool

from event_sourcery_sqlalchemy import configure_models

POSTGRES_URL = os.environ.get(
    "EVENT_SOURCERY_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get(
    "EVENT_SOURCERY_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class Base(DeclarativeBase):
    """The test suite's declarative base holding the default models."""


configure_models(Base)


@cache
def sqlite_engine() -> Engine:
    path = Path(tempfile.mkdtemp(prefix="event-sourcery-")) / "events.sqlite3"
    return _prepared(create_engine(f"sqlite:///{path}"))


def sqlite_memory_engine() -> Engine:
    """A fresh in-memory database: one shared connection (``StaticPool``), usable by threads."""
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    return engine


@cache
def server_engine(url: str) -> Engine | str:
    """A prepared engine, or the reason the server cannot be used."""
    engine = create_engine(url, pool_pre_ping=True)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        engine.dispose()
        return f"{engine.url.render_as_string(hide_password=True)} unavailable: {error}"
    return _prepared(engine)


def require_server(url: str) -> Engine:
    engine = server_engine(url)
    if isinstance(engine, str):
        if IN_CI:
            pytest.fail(f"CI needs this database server: {engine}")
        pytest.skip(engine)
    return engine


def _prepared(engine: Engine) -> Engine:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return engine


def clean(engine: Engine) -> None:
    """Empty every table (children first)."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
