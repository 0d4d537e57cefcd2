"""The existing library's schema (SPEC §16.2), default table names.

A database created by the existing library (``configure_models`` + ``create_all``) already has
exactly these tables: bring it under Alembic with ``alembic stamp event_sourcery_0001``, then
``alembic upgrade event_sourcery@head``.

The types are frozen here (not imported from the models) so that this revision keeps creating
the same schema whatever the models become: UUIDs are native on PostgreSQL and ``CHAR(32)`` hex
elsewhere, JSON is ``JSONB`` on PostgreSQL and ``TEXT`` elsewhere, timestamps are naive
``TIMESTAMP``/``DATETIME``, and big ids are ``INTEGER`` on SQLite (the rowid).

Revision ID: event_sourcery_0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "event_sourcery_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("event_sourcery",)
depends_on: str | Sequence[str] | None = None

STREAMS = "event_sourcery_streams"
EVENTS = "event_sourcery_events"
SNAPSHOTS = "event_sourcery_snapshots"
OUTBOX = "event_sourcery_outbox_entries"
CURSORS = "event_sourcery_projector_cursors"


def big_id() -> sa.types.TypeEngine[int]:
    """A 64-bit id, ``INTEGER`` on SQLite so that it is the rowid."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def guid() -> sa.types.TypeEngine[Any]:
    """The existing library's ``GUID``: ``UUID`` on PostgreSQL, ``CHAR(32)`` hex elsewhere."""
    return sa.Uuid(as_uuid=True).with_variant(sa.CHAR(32), "mysql", "mariadb")


def json_document() -> sa.types.TypeEngine[Any]:
    """The existing library's ``JSONB``: ``JSONB`` on PostgreSQL, JSON text elsewhere."""
    return sa.Text().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        STREAMS,
        sa.Column("id", big_id(), primary_key=True, autoincrement=True),
        sa.Column("uuid", guid(), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("category", sa.String(255), nullable=False),
        sa.Column("tenant_id", sa.String(255), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("uuid", "category", "tenant_id"),
        sa.UniqueConstraint("name", "category", "tenant_id"),
    )

    op.create_table(
        EVENTS,
        sa.Column("id", big_id(), primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("uuid", guid(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("data", json_document(), nullable=False),
        sa.Column("event_context", json_document(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("db_stream_id", big_id(), sa.ForeignKey(f"{STREAMS}.id"), nullable=False),
    )
    op.create_index(f"ix_{EVENTS}_uuid", EVENTS, ["uuid"], unique=True)
    op.create_index(f"ix_{EVENTS}_created_at", EVENTS, ["created_at"])
    op.create_index(f"ix_{EVENTS}_db_stream_id", EVENTS, ["db_stream_id"])
    op.create_index(
        f"ix_events_stream_id_version_{EVENTS}", EVENTS, ["db_stream_id", "version"], unique=True
    )

    op.create_table(
        SNAPSHOTS,
        sa.Column("uuid", guid(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("data", json_document(), nullable=False),
        sa.Column("event_context", json_document(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("db_stream_id", big_id(), sa.ForeignKey(f"{STREAMS}.id"), nullable=False),
    )
    op.create_index(f"ix_{SNAPSHOTS}_db_stream_id", SNAPSHOTS, ["db_stream_id"])

    op.create_table(
        OUTBOX,
        sa.Column("id", big_id(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("data", json_document(), nullable=False),
        sa.Column("stream_name", sa.String(255), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("tries_left", sa.Integer(), nullable=False),
    )
    op.create_index(f"ix_{OUTBOX}_created_at", OUTBOX, ["created_at"])

    op.create_table(
        CURSORS,
        sa.Column("id", big_id(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("stream_id", guid(), nullable=False),
        sa.Column("category", sa.String(255), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.create_index(f"ix_{CURSORS}_stream_id", CURSORS, ["stream_id"])
    op.create_index(
        f"ix_name_stream_id_{CURSORS}", CURSORS, ["name", "stream_id", "category"], unique=True
    )


def downgrade() -> None:
    for table in (CURSORS, OUTBOX, SNAPSHOTS, EVENTS, STREAMS):
        op.drop_table(table)
