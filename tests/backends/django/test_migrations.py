"""The app's migrations: in sync with the models, and an upgrade path from the existing library.

``0001_initial`` is the existing library's schema as it shipped (SPEC §16.3, drift included);
``0002`` upgrades a database written by it without losing a row; ``0003`` adds the table of
deleted events' order keys.
"""

from __future__ import annotations

import importlib
import io
import uuid
from datetime import datetime
from typing import Any

import pytest
from django.apps.registry import Apps
from django.core.management import call_command
from django.db import connections, models
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from event_sourcery_django.checks import unapplied_migrations
from event_sourcery_django.models import Event, OutboxEntry, Snapshot, Stream
from tests.backends.django.support import APP, migrate

FIRST = "0001_initial"
SECOND = "0002_unique_versions_order_key_and_outbox_retries"
THIRD = "0003_deleted_event_keys"
ALL = {FIRST, SECOND, THIRD}
TABLES = {
    "event_sourcery_django_stream",
    "event_sourcery_django_event",
    "event_sourcery_django_snapshot",
    "event_sourcery_django_outboxentry",
    "event_sourcery_django_event_deleted",
}
CREATED_AT = datetime(2024, 2, 29, 13, 14, 15, 123456)

second_migration = importlib.import_module(f"event_sourcery_django.migrations.{SECOND}")


def historical_models(alias: str, migration: str) -> Apps:
    """The app's models as they were after ``migration`` (what that schema's code wrote)."""
    loader = MigrationExecutor(connections[alias]).loader
    return loader.project_state((APP, migration)).apps


def applied(alias: str) -> set[str]:
    recorder = MigrationRecorder(connections[alias])
    return {name for app, name in recorder.applied_migrations() if app == APP}


def constraints(alias: str, table: str) -> dict[str, dict[str, Any]]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


def test_makemigrations_finds_no_changes() -> None:
    output = io.StringIO()
    try:
        call_command("makemigrations", APP, "--check", "--dry-run", stdout=output, stderr=output)
    except SystemExit:
        pytest.fail(f"models and migrations differ:\n{output.getvalue()}")
    assert "No changes detected" in output.getvalue()


def test_first_migration_is_the_existing_librarys_schema_with_its_drift() -> None:
    loader = MigrationExecutor(connections["default"]).loader
    state = loader.project_state((APP, FIRST))
    event = state.models[APP, "event"]
    snapshot = state.models[APP, "snapshot"]
    outbox = state.models[APP, "outboxentry"]

    assert [index.name for index in event.options["indexes"]] == ["ix_events_stream_id_version"]
    assert event.options.get("constraints", []) == []
    assert snapshot.fields["name"].max_length == 50
    assert type(outbox.fields["position"]) is models.IntegerField
    assert outbox.fields["tries_left"].default == 3
    assert "tx_id" not in event.fields
    assert "failures" not in outbox.fields


def test_migrate_creates_the_tables_and_constraints(database: str) -> None:
    migrate(database)

    assert applied(database) == ALL
    assert unapplied_migrations(connections[database]) == []
    assert set(connections[database].introspection.table_names()) >= TABLES
    event_constraints = constraints(database, "event_sourcery_django_event")
    unique = event_constraints["es_django_event_stream_version_uniq"]
    assert unique["unique"]
    assert unique["columns"] == ["stream_id", "version"]
    assert "ix_events_stream_id_version" not in event_constraints
    indexed_columns = [found["columns"] for found in event_constraints.values() if found["index"]]
    assert ["stream_id"] not in indexed_columns
    assert event_constraints["es_django_event_tx_id_id_idx"]["columns"] == ["tx_id", "id"]
    assert event_constraints["es_django_event_name_idx"]["columns"] == ["name"]
    stream_constraints = constraints(database, "event_sourcery_django_stream")
    assert stream_constraints["es_django_stream_category_idx"]["columns"] == ["category"]
    assert stream_constraints["es_django_stream_tenant_idx"]["columns"] == ["tenant_id"]
    outbox_constraints = constraints(database, "event_sourcery_django_outboxentry")
    assert outbox_constraints["es_django_outbox_pending_idx"]["columns"] == ["tries_left", "id"]
    deleted_constraints = constraints(database, "event_sourcery_django_event_deleted")
    assert [found["columns"] for found in deleted_constraints.values() if found["primary_key"]] == [
        ["id"]
    ]


def test_migrations_reverse_to_nothing(database: str) -> None:
    migrate(database)
    migrate(database, "zero")

    assert applied(database) == set()
    assert not TABLES & set(connections[database].introspection.table_names())


def write_upstream_rows(alias: str) -> dict[str, Any]:
    """Rows as the existing library writes them, through the models of its schema."""
    old = historical_models(alias, FIRST)
    stream_model: Any = old.get_model(APP, "Stream")
    event_model: Any = old.get_model(APP, "Event")
    snapshot_model: Any = old.get_model(APP, "Snapshot")
    outbox_model: Any = old.get_model(APP, "OutboxEntry")
    db = stream_model.objects.using(alias)

    named = db.create(
        uuid=uuid.uuid4(), name="order-1", category="orders", tenant_id="acme", version=3
    )
    versionless = db.create(uuid=uuid.uuid4(), name=None, category="", tenant_id="", version=None)
    event_uuids = [uuid.uuid4() for _ in range(5)]
    data = {"amount": 10, "note": 'zażółć "gęślą" \'; DROP TABLE x; --', "nested": {"a": [1]}}
    context = {"correlation_id": None, "causation_id": None, "extra": "x"}
    for number, event_uuid in enumerate(event_uuids[:3], start=1):
        event_model.objects.using(alias).create(
            stream=named,
            version=number,
            uuid=event_uuid,
            name="orders.Placed",
            data=data,
            event_context=context,
            created_at=CREATED_AT,
        )
    for event_uuid in event_uuids[3:]:
        event_model.objects.using(alias).create(
            stream=versionless,
            version=None,
            uuid=event_uuid,
            name="Ping",
            data={},
            event_context=context,
            created_at=CREATED_AT,
        )
    snapshot_uuid = uuid.uuid4()
    snapshot_model.objects.using(alias).create(
        uuid=snapshot_uuid,
        version=2,
        stream=named,
        name="OrderSnapshot",
        data={"total": 20},
        event_context=context,
        created_at=CREATED_AT,
    )
    outbox = outbox_model.objects.using(alias).create(
        created_at=CREATED_AT,
        data={"uuid": str(event_uuids[2]), "name": "orders.Placed"},
        stream_name="order-1",
        position=3,
    )
    return {
        "named": named.pk,
        "versionless": versionless.pk,
        "event_uuids": event_uuids,
        "data": data,
        "context": context,
        "snapshot": snapshot_uuid,
        "outbox": outbox.pk,
    }


def test_upgrade_from_the_existing_schema_keeps_every_row(database: str) -> None:
    migrate(database, FIRST)
    written = write_upstream_rows(database)

    migrate(database)

    assert applied(database) == ALL
    named = Stream.objects.using(database).get(pk=written["named"])
    assert (named.uuid is not None, named.name, named.category, named.tenant_id, named.version) == (
        True,
        "order-1",
        "orders",
        "acme",
        3,
    )
    assert Stream.objects.using(database).get(pk=written["versionless"]).version is None
    events = list(Event.objects.using(database).order_by("id"))
    assert [event.uuid for event in events] == written["event_uuids"]
    assert [event.version for event in events] == [1, 2, 3, None, None]
    assert [event.stream_id for event in events] == [written["named"]] * 3 + [
        written["versionless"]
    ] * 2
    assert events[0].data == written["data"]
    assert events[0].event_context == written["context"]
    assert events[0].created_at == CREATED_AT
    # PostgreSQL orders subscriptions by (tx_id, id): events from before the upgrade come first
    expected_tx_id = 0 if connections[database].vendor == "postgresql" else None
    assert all(event.tx_id == expected_tx_id for event in events)
    snapshot = Snapshot.objects.using(database).get(pk=written["snapshot"])
    assert (snapshot.name, snapshot.version, snapshot.stream_id) == (
        "OrderSnapshot",
        2,
        written["named"],
    )
    entry = OutboxEntry.objects.using(database).get(pk=written["outbox"])
    assert (entry.position, entry.tries_left, entry.stream_name) == (3, 3, "order-1")
    assert (entry.failures, entry.last_error, entry.next_attempt_at) == (0, None, None)


def test_upgraded_schema_takes_long_snapshot_names_and_64_bit_outbox_positions(
    database: str,
) -> None:
    migrate(database, FIRST)
    written = write_upstream_rows(database)
    migrate(database)

    long_name = "module." * 28 + "Snap"
    assert len(long_name) == 200
    Snapshot.objects.using(database).create(
        uuid=uuid.uuid4(),
        version=3,
        stream_id=written["named"],
        name=long_name,
        data={},
        event_context={},
        created_at=CREATED_AT,
    )
    OutboxEntry.objects.using(database).create(
        created_at=CREATED_AT, data={}, stream_name=None, position=2**40, tries_left=3
    )

    assert Snapshot.objects.using(database).filter(name=long_name).exists()
    assert OutboxEntry.objects.using(database).filter(position=2**40).exists()


def test_upgrade_refuses_duplicate_versions_and_changes_nothing(database: str) -> None:
    migrate(database, FIRST)
    written = write_upstream_rows(database)
    old = historical_models(database, FIRST)
    event_model: Any = old.get_model(APP, "Event")
    duplicate = event_model.objects.using(database).create(
        stream_id=written["named"],
        version=2,
        uuid=uuid.uuid4(),
        name="orders.Placed",
        data={},
        event_context={},
        created_at=CREATED_AT,
    )

    with pytest.raises(second_migration.DuplicateEventVersions) as refused:
        migrate(database)

    assert f"stream id {written['named']} version 2 (2 events)" in str(refused.value)
    assert applied(database) == {FIRST}
    event_constraints = constraints(database, "event_sourcery_django_event")
    assert "ix_events_stream_id_version" in event_constraints
    assert "es_django_event_stream_version_uniq" not in event_constraints
    assert event_model.objects.using(database).count() == 6

    event_model.objects.using(database).filter(pk=duplicate.pk).delete()
    migrate(database)
    assert applied(database) == ALL
