"""Upgrade the existing library's schema (``0001_initial``) to this package's models.

* events: a unique (stream, version) constraint replaces the plain ``ix_events_stream_id_version``
  index and the foreign key's own index (the constraint serves look-ups by stream); ``tx_id``
  (the exact subscription order, ADR 0006) indexed with ``id``; an index on the event name;
* streams: indexes on category and tenant;
* snapshots: names as long as event names (200);
* outbox entries: ``position`` as a 64-bit integer, no ``tries_left`` default, ``failures``,
  ``last_error``, ``next_attempt_at`` and an index on (tries_left, id) for pending entries.

The existing library could store two events with the same version in a stream (appending with
``expected_version=0`` to an existing stream). Such rows would make the unique constraint fail, so
the migration first looks for them and stops with a list of the streams to repair; nothing is
changed until they are resolved.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SHOWN_DUPLICATES = 10


class DuplicateEventVersions(RuntimeError):
    """Some streams hold two events with the same version: the unique constraint cannot be added."""


def refuse_duplicate_versions(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Stop the migration, before any change, if two events of a stream share a version."""
    event_model: Any = apps.get_model("event_sourcery_django", "Event")
    duplicates = list(
        event_model.objects.using(schema_editor.connection.alias)
        .filter(version__isnull=False)
        .values("stream_id", "version")
        .annotate(events=models.Count("id"))
        .filter(events__gt=1)
        .order_by("stream_id", "version")[: SHOWN_DUPLICATES + 1]
    )
    if not duplicates:
        return
    shown = ", ".join(
        f"stream id {row['stream_id']} version {row['version']} ({row['events']} events)"
        for row in duplicates[:SHOWN_DUPLICATES]
    )
    more = " and more" if len(duplicates) > SHOWN_DUPLICATES else ""
    raise DuplicateEventVersions(
        "Cannot add the unique (stream, version) constraint to event_sourcery_django_event: "
        f"events share a version in {shown}{more}. The existing library allowed this when "
        "appending with expected_version=0 to an existing stream. Renumber or delete the "
        "duplicate events (and fix the stream's version), then run migrate again."
    )


def order_existing_events_first(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """PostgreSQL subscriptions order by (tx_id, id): events written before come first."""
    if schema_editor.connection.vendor == "postgresql":
        event_model: Any = apps.get_model("event_sourcery_django", "Event")
        event_model.objects.using(schema_editor.connection.alias).filter(tx_id__isnull=True).update(
            tx_id=0
        )


class Migration(migrations.Migration):
    dependencies = [("event_sourcery_django", "0001_initial")]

    operations = [
        migrations.RunPython(refuse_duplicate_versions, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(
                fields=("stream", "version"), name="es_django_event_stream_version_uniq"
            ),
        ),
        migrations.RemoveIndex(model_name="event", name="ix_events_stream_id_version"),
        migrations.AlterField(
            model_name="event",
            name="stream",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="event_sourcery_django.stream",
            ),
        ),
        migrations.AddField(
            model_name="event",
            name="tx_id",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(order_existing_events_first, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["tx_id", "id"], name="es_django_event_tx_id_id_idx"),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["name"], name="es_django_event_name_idx"),
        ),
        migrations.AddIndex(
            model_name="stream",
            index=models.Index(fields=["category"], name="es_django_stream_category_idx"),
        ),
        migrations.AddIndex(
            model_name="stream",
            index=models.Index(fields=["tenant_id"], name="es_django_stream_tenant_idx"),
        ),
        migrations.AlterField(
            model_name="snapshot",
            name="name",
            field=models.CharField(max_length=200),
        ),
        migrations.AlterModelOptions(
            name="outboxentry",
            options={"verbose_name_plural": "outbox entries"},
        ),
        migrations.AlterField(
            model_name="outboxentry",
            name="position",
            field=models.BigIntegerField(),
        ),
        migrations.AlterField(
            model_name="outboxentry",
            name="tries_left",
            field=models.IntegerField(),
        ),
        migrations.AddField(
            model_name="outboxentry",
            name="failures",
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name="outboxentry",
            name="last_error",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outboxentry",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="outboxentry",
            index=models.Index(fields=["tries_left", "id"], name="es_django_outbox_pending_idx"),
        ),
    ]
