"""Keep the order keys of deleted events (ADR 0006).

``event_sourcery_django_event_deleted (id, tx_id)``: on PostgreSQL ``delete_stream`` copies the
(id, order key) of the events it deletes there, so that resuming a subscription from a deleted
event's position is exact whatever the commit order. Events deleted before this migration left
no key: resuming from their positions continues after the newest key at or before them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("event_sourcery_django", "0002_unique_versions_order_key_and_outbox_retries")]

    operations = [
        migrations.CreateModel(
            name="DeletedEvent",
            fields=[
                ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("tx_id", models.BigIntegerField(null=True)),
            ],
            options={"db_table": "event_sourcery_django_event_deleted"},
        ),
    ]
