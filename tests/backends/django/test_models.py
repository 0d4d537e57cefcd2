"""The models' rules that the database enforces, and the stream manager's look-up."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from django.apps import apps
from django.db import IntegrityError, models, transaction

from event_sourcery import StreamId
from event_sourcery_django.apps import EventSourceryDjangoConfig
from event_sourcery_django.models import Event, OutboxEntry, Snapshot, Stream
from tests.backends.django.support import APP, migrate

NOW = datetime(2024, 1, 1, 12, 0, 0)


def make_stream(alias: str, **fields: object) -> Stream:
    values: dict[str, object] = {
        "uuid": uuid.uuid4(),
        "name": None,
        "category": "",
        "tenant_id": "",
        "version": 1,
    }
    values.update(fields)
    return Stream.objects.using(alias).create(**values)


def make_event(alias: str, stream: Stream, version: int | None) -> Event:
    return Event.objects.using(alias).create(
        stream=stream,
        version=version,
        uuid=uuid.uuid4(),
        name="Happened",
        data={},
        event_context={},
        created_at=NOW,
    )


def test_app_is_configured_as_event_sourcery_django() -> None:
    config = apps.get_app_config(APP)

    assert isinstance(config, EventSourceryDjangoConfig)
    assert (config.name, config.label, config.verbose_name) == (APP, APP, "Event Sourcery")
    assert isinstance(Event._meta.pk, models.BigAutoField)
    assert isinstance(Stream._meta.pk, models.BigAutoField)
    assert isinstance(OutboxEntry._meta.pk, models.BigAutoField)
    assert [model._meta.db_table for model in (Stream, Event, Snapshot, OutboxEntry)] == [
        "event_sourcery_django_stream",
        "event_sourcery_django_event",
        "event_sourcery_django_snapshot",
        "event_sourcery_django_outboxentry",
    ]
    assert OutboxEntry._meta.verbose_name_plural == "outbox entries"


def test_two_events_of_a_stream_cannot_share_a_version(database: str) -> None:
    migrate(database)
    stream = make_stream(database)
    make_event(database, stream, 1)

    with pytest.raises(IntegrityError), transaction.atomic(using=database):
        make_event(database, stream, 1)

    assert Event.objects.using(database).count() == 1


def test_other_streams_and_versionless_events_may_repeat_a_version(database: str) -> None:
    migrate(database)
    first, second = make_stream(database), make_stream(database, version=None)
    make_event(database, first, 1)
    make_event(database, second, 1)
    make_event(database, second, None)
    make_event(database, second, None)

    assert Event.objects.using(database).count() == 4


def test_deleting_a_stream_deletes_its_events_and_snapshots(database: str) -> None:
    migrate(database)
    stream = make_stream(database)
    make_event(database, stream, 1)
    Snapshot.objects.using(database).create(
        uuid=uuid.uuid4(),
        version=1,
        stream=stream,
        name="Snap",
        data={},
        event_context={},
        created_at=NOW,
    )

    stream.delete(using=database)

    assert Event.objects.using(database).count() == 0
    assert Snapshot.objects.using(database).count() == 0


def test_by_stream_id_matches_uuid_or_name_within_category_and_tenant(database: str) -> None:
    migrate(database)
    named = StreamId(name="order-1", category="orders")
    plain = uuid.UUID(int=named.int)
    by_uuid = make_stream(database, uuid=plain, category="orders", tenant_id="acme")
    by_name = make_stream(database, name="order-1", category="orders", tenant_id="acme")
    make_stream(database, uuid=plain, category="other", tenant_id="acme")
    make_stream(database, uuid=plain, category="orders", tenant_id="")
    other_tenant = make_stream(database, name="order-1", category="orders", tenant_id="t2")
    uncategorised = make_stream(database, uuid=plain, category="", tenant_id="")
    streams = Stream.objects.db_manager(database)

    assert set(streams.by_stream_id(named, "acme")) == {by_uuid, by_name}
    assert list(streams.by_stream_id(named, "t2")) == [other_tenant]
    assert list(streams.by_stream_id(StreamId(uuid=plain, category="orders"), "acme")) == [by_uuid]
    assert list(streams.by_stream_id(StreamId(uuid=plain), "")) == [uncategorised]
    assert not streams.by_stream_id(StreamId(uuid=plain), "acme").exists()
