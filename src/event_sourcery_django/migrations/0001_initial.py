"""The existing library's schema, verbatim (SPEC §16.3), including its drift from its models.

Do not edit: databases created by the existing library have this migration recorded as applied.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="OutboxEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField()),
                ("data", models.JSONField()),
                ("stream_name", models.CharField(max_length=255, null=True)),
                ("position", models.IntegerField()),
                ("tries_left", models.IntegerField(default=3)),
            ],
        ),
        migrations.CreateModel(
            name="Stream",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("uuid", models.UUIDField()),
                ("name", models.CharField(max_length=255, null=True)),
                ("category", models.CharField(default="", max_length=255)),
                ("tenant_id", models.CharField(max_length=255)),
                ("version", models.BigIntegerField(null=True)),
            ],
            options={
                "unique_together": {
                    ("uuid", "category", "tenant_id"),
                    ("name", "category", "tenant_id"),
                },
            },
        ),
        migrations.CreateModel(
            name="Snapshot",
            fields=[
                ("uuid", models.UUIDField(primary_key=True, serialize=False)),
                ("version", models.IntegerField()),
                ("name", models.CharField(max_length=50)),
                ("data", models.JSONField()),
                ("event_context", models.JSONField()),
                ("created_at", models.DateTimeField()),
                (
                    "stream",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="snapshots",
                        to="event_sourcery_django.stream",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Event",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.IntegerField(null=True)),
                ("uuid", models.UUIDField(unique=True)),
                ("name", models.CharField(max_length=200)),
                ("data", models.JSONField()),
                ("event_context", models.JSONField()),
                ("created_at", models.DateTimeField()),
                (
                    "stream",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="event_sourcery_django.stream",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["stream", "version"], name="ix_events_stream_id_version")
                ],
            },
        ),
    ]
