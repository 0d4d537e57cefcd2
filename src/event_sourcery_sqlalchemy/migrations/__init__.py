"""Alembic migrations of the default tables, shipped as a branch labelled ``event_sourcery``.

Add :data:`VERSION_LOCATION` to the ``version_locations`` of your Alembic configuration, next to
your own versions directory, then ``alembic upgrade event_sourcery@head`` (or ``heads``).

* ``event_sourcery_0001`` creates the schema of the existing library (SPEC §16.2): a database it
  created is brought under Alembic with ``alembic stamp event_sourcery_0001``.
* ``event_sourcery_0002`` upgrades it to this package's models: ``events.tx_id``, outbox retry
  columns, snapshot names as long as event names, indexes for every query and, on MariaDB/MySQL,
  binary NO PAD collations, microsecond timestamps, ``LONGTEXT`` JSON and native UUIDs where
  available.
* ``event_sourcery_0003`` adds ``event_sourcery_events_deleted``, the order keys of deleted
  events (exact subscriptions across ``delete_stream``).
* ``event_sourcery_0004`` replaces the index on ``events.name`` with one on
  ``(name, tx_id, id)``: a subscription to one event type reads only its events.

The migrations cover the default table names only; custom models need migrations of their own
(``alembic revision --autogenerate`` produces them).
"""

from __future__ import annotations

from pathlib import Path

BRANCH_LABEL = "event_sourcery"
"""The Alembic branch label: ``alembic upgrade event_sourcery@head``."""

VERSION_LOCATION = "event_sourcery_sqlalchemy:migrations/versions"
"""The versions directory as an Alembic package resource (for ``version_locations``)."""

VERSIONS_PATH = Path(__file__).resolve().parent / "versions"
"""The versions directory as a file-system path."""

FIRST_REVISION = "event_sourcery_0001"
"""The revision of the existing library's schema (``alembic stamp`` it on such databases)."""

HEAD_REVISION = "event_sourcery_0004"
"""The latest revision of the branch."""

__all__ = [
    "BRANCH_LABEL",
    "FIRST_REVISION",
    "HEAD_REVISION",
    "VERSIONS_PATH",
    "VERSION_LOCATION",
]
