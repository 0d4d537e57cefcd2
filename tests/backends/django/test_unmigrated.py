"""A database this app's migrations have not (fully) run on: ``SchemaNotMigrated`` (issue 9).

Two states, on SQLite and PostgreSQL: the existing library's schema (``0001_initial``: no
``event.tx_id``, no outbox retry columns) and no tables at all. Whatever needs the missing table
or column raises ``SchemaNotMigrated`` naming ``manage.py migrate``; after migrating, the same
backend works.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from event_sourcery import Event, StreamId
from event_sourcery.event import Recorded
from event_sourcery.exceptions import BackendUnavailable, SchemaNotMigrated
from event_sourcery_django import DjangoBackend, DjangoConfig
from tests.backends.django.support import APP, FIRST_MIGRATION, migrate


class Registered(Event):
    __event_name__ = "unmigrated.Registered"

    n: int


def write_upstream_event(alias: str, stream_id: StreamId) -> None:
    """One event written as the existing library writes it, through its schema's models."""
    old = MigrationExecutor(connections[alias]).loader.project_state((APP, FIRST_MIGRATION)).apps
    stream_model: Any = old.get_model(APP, "Stream")
    event_model: Any = old.get_model(APP, "Event")
    stream = stream_model.objects.using(alias).create(
        uuid=stream_id, name=stream_id.name, category="", tenant_id="", version=1
    )
    event_model.objects.using(alias).create(
        stream=stream,
        version=1,
        uuid=uuid4(),
        name="unmigrated.Registered",
        data={"n": 0},
        event_context={"correlation_id": None, "causation_id": None},
        created_at=datetime(2024, 2, 29, 12, 0),
    )


def backend_on(alias: str) -> DjangoBackend:
    config = DjangoConfig(using=alias, gap_retry_interval=timedelta(milliseconds=50))
    return DjangoBackend().configure(config).with_outbox()


def assert_not_migrated(action: Callable[[], object]) -> None:
    with pytest.raises(SchemaNotMigrated) as caught:
        action()
    error = caught.value
    assert not isinstance(error, BackendUnavailable)
    assert "python manage.py migrate event_sourcery_django" in str(error)
    assert error.__cause__ is not None


def subscribe(backend: DjangoBackend) -> list[Recorded]:
    """The first event (waiting up to 10 s: other transactions on the server may hold the
    PostgreSQL horizon back a moment)."""
    return next(iter(backend.subscriber.start_from(0).build_batch(size=1, timelimit=10)))


def publish(backend: DjangoBackend) -> None:
    backend.outbox.run(lambda *_: None)


def test_the_existing_librarys_schema_raises_schema_not_migrated_until_migrated(
    database: str,
) -> None:
    migrate(database, FIRST_MIGRATION)
    stream_id = StreamId(name="member-1")
    write_upstream_event(database, stream_id)
    backend = backend_on(database)

    assert_not_migrated(lambda: backend.event_store.load_stream(stream_id))
    assert_not_migrated(
        lambda: backend.event_store.append(Registered(n=1), stream_id=stream_id, expected_version=1)
    )
    assert_not_migrated(lambda: subscribe(backend))
    assert_not_migrated(lambda: publish(backend))

    migrate(database)
    backend.event_store.append(Registered(n=1), stream_id=stream_id, expected_version=1)
    loaded = [e.event for e in backend.event_store.load_stream(stream_id)]
    assert loaded == [Registered(n=0), Registered(n=1)]
    assert [r.wrapped_event.event for r in subscribe(backend)] == loaded[:1]


def test_a_database_without_the_apps_tables_raises_schema_not_migrated(database: str) -> None:
    backend = backend_on(database)
    stream_id = StreamId(name="member-1")

    assert_not_migrated(lambda: backend.event_store.load_stream(stream_id))
    assert_not_migrated(lambda: backend.event_store.append(Registered(n=1), stream_id=stream_id))
    assert_not_migrated(lambda: backend.event_store.position)
    assert_not_migrated(lambda: subscribe(backend))
    assert_not_migrated(lambda: publish(backend))
    assert_not_migrated(lambda: backend.outbox.dead_letters())
    migrate(database)
