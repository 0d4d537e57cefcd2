"""The app's tables: the four of SPEC §16.3 (names and columns, plus our additions) and the
order keys of deleted events.

The table names are Django's defaults for the app label (``event_sourcery_django_stream`` …), so a
database written by the existing library loads as it is; migration ``0002`` upgrades its schema.
Additions to the upstream schema (all nullable or defaulted):

* ``Event``: a unique (stream, version) constraint instead of the plain index, so nothing at
  database level lets two events share a version (several NULL versions of a versionless stream
  stay allowed); it also serves look-ups by stream, so the foreign key has no index of its own.
  ``tx_id``, the writing transaction's id where the database exposes one, indexed with ``id``
  for the exact subscription order (ADR 0006). An index on the event name.
* ``Stream``: indexes on category and tenant.
* ``Snapshot``: names as long as event names (200).
* ``OutboxEntry``: ``failures``, ``last_error`` and ``next_attempt_at`` for retries with backoff and
  dead letters; an index on (tries_left, id) for the pending entries.
* ``DeletedEvent`` (``event_sourcery_django_event_deleted``, migration ``0003``): the (id, tx_id)
  of events ``delete_stream`` removed, as the SQLAlchemy backend's ``<events>_deleted``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from django.db import models

if TYPE_CHECKING:
    from event_sourcery import StreamId, TenantId

from event_sourcery._core.column_limits import EVENT_NAME_LENGTH, NAME_LENGTH
from event_sourcery_django.json_field import ExactJSONField


class StreamManager(models.Manager["Stream"]):
    """The default manager of :class:`Stream`."""

    def by_stream_id(self, stream_id: StreamId, tenant_id: TenantId) -> models.QuerySet[Stream]:
        """The tenant's streams in ``stream_id``'s category with its uuid or, if named, its name.

        More than one row comes back when the uuid and the name belong to different streams (a
        name conflict); none when the stream does not exist.
        """
        same_stream = models.Q(uuid=UUID(int=stream_id.int))
        if stream_id.name:
            same_stream |= models.Q(name=stream_id.name)
        return self.filter(same_stream, category=stream_id.category or "", tenant_id=tenant_id)


class Stream(models.Model):
    """A stream of one tenant: uuid, optional name, category (``''`` = none), version.

    ``version`` is NULL for a versionless stream (``NO_VERSIONING``).
    """

    uuid = models.UUIDField()
    name = models.CharField(max_length=NAME_LENGTH, null=True)
    category = models.CharField(max_length=NAME_LENGTH, default="")
    tenant_id = models.CharField(max_length=NAME_LENGTH)
    version = models.BigIntegerField(null=True)

    objects: ClassVar[StreamManager] = StreamManager()

    class Meta:
        unique_together = (("uuid", "category", "tenant_id"), ("name", "category", "tenant_id"))
        indexes = (
            models.Index(fields=["category"], name="es_django_stream_category_idx"),
            models.Index(fields=["tenant_id"], name="es_django_stream_tenant_idx"),
        )

    def __str__(self) -> str:
        label = self.name or str(self.uuid)
        return f"{self.category}/{label}" if self.category else label


class Event(models.Model):
    """An event row; its ``id`` is the event's global position."""

    version = models.IntegerField(null=True)
    uuid = models.UUIDField(unique=True)
    stream = models.ForeignKey(
        Stream, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    """Indexed by the (stream, version) constraint, whose first column it is."""
    name = models.CharField(max_length=EVENT_NAME_LENGTH)
    data = ExactJSONField()
    event_context = ExactJSONField()
    created_at = models.DateTimeField()
    tx_id = models.BigIntegerField(null=True)
    """The writing transaction's id where the database exposes one (subscription order)."""

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=["stream", "version"], name="es_django_event_stream_version_uniq"
            ),
        )
        indexes = (
            models.Index(fields=["name"], name="es_django_event_name_idx"),
            models.Index(fields=["tx_id", "id"], name="es_django_event_tx_id_id_idx"),
        )

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class DeletedEvent(models.Model):
    """The order key of a deleted event (ADR 0006), kept by ``delete_stream`` on PostgreSQL.

    A subscription resumed from a deleted event's position continues after its own (tx_id, id),
    which no remaining row tells. SQLite orders by id alone and keeps nothing here. The table is
    named like the SQLAlchemy backend's ``<events>_deleted`` for this app's events table.
    """

    id = models.BigIntegerField(primary_key=True)
    """The deleted event's id (its position)."""
    tx_id = models.BigIntegerField(null=True)
    """The deleted event's order key."""

    class Meta:
        db_table = "event_sourcery_django_event_deleted"

    def __str__(self) -> str:
        return f"deleted event #{self.pk}"


class Snapshot(models.Model):
    """A snapshot row: a serialised event standing for its stream's events up to ``version``."""

    uuid = models.UUIDField(primary_key=True)
    version = models.IntegerField()
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="snapshots")
    name = models.CharField(max_length=EVENT_NAME_LENGTH)
    data = ExactJSONField()
    event_context = ExactJSONField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class OutboxEntry(models.Model):
    """An event queued for publishing, with its delivery bookkeeping.

    ``data`` holds the record in the SQL outbox format (SPEC §17.2); ``position`` is the event's
    id. An entry is pending while ``tries_left`` is positive; ``failures`` counts failed
    publications, ``last_error`` describes the latest, and ``next_attempt_at`` (NULL = now) delays
    the next attempt. An entry whose tries are exhausted stays as a dead letter.
    """

    created_at = models.DateTimeField()
    data = ExactJSONField()
    stream_name = models.CharField(max_length=NAME_LENGTH, null=True)
    position = models.BigIntegerField()
    tries_left = models.IntegerField()
    failures = models.IntegerField(default=0)
    last_error = models.TextField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "outbox entries"
        indexes = (models.Index(fields=["tries_left", "id"], name="es_django_outbox_pending_idx"),)

    def __str__(self) -> str:
        return f"outbox entry #{self.pk} (event {self.position})"
