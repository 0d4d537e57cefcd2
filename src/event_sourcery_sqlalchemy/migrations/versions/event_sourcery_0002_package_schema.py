"""Upgrade the existing library's schema to this package's models.

* events: ``tx_id BIGINT NULL`` (writer transaction id) with index ``ix_tx_id_id_<table>`` on
  ``(tx_id, id)``, an index on ``name`` (event-type subscriptions), and the unique ``uuid`` index
  replaced by the unique constraint the models declare; on SQLite the table is rebuilt with
  ``AUTOINCREMENT`` so that positions of deleted events are never reused.
* streams: indexes on ``category`` and ``tenant_id``; ``category`` gets the server default ``''``
  (except on SQLite, where changing a default rebuilds the table that events reference).
* snapshots: ``name`` widened from ``VARCHAR(50)`` to ``VARCHAR(200)`` (as long as event names)
  and an index on ``created_at``.
* outbox entries: ``failures INTEGER NOT NULL DEFAULT 0``, ``last_error TEXT NULL``,
  ``next_attempt_at TIMESTAMP NULL`` and the pending-entries index ``ix_tries_left_id_<table>``.
* MariaDB/MySQL only: a binary NO PAD collation on every ``VARCHAR`` so that names compare
  exactly, trailing spaces included (``utf8mb4_nopad_bin`` on MariaDB, ``utf8mb4_0900_bin`` on
  MySQL 8), ``DATETIME(6)`` timestamps (microseconds kept), ``LONGTEXT`` JSON, and the UUID
  columns retyped as SQLAlchemy's ``Uuid`` renders them (native ``UUID`` on MariaDB 10.7+,
  ``CHAR(32)`` on MySQL). The column changes of one table are made by one ``ALTER TABLE``.

The types are frozen here rather than imported from the models, so that this revision keeps
doing the same thing whatever later revisions change. Downgrading narrows snapshot names back to
50 characters and ``LONGTEXT`` back to ``TEXT``: it fails if stored values no longer fit.

Revision ID: event_sourcery_0002
Revises: event_sourcery_0001
Create Date: 2025-01-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

revision: str = "event_sourcery_0002"
down_revision: str | Sequence[str] | None = "event_sourcery_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STREAMS = "event_sourcery_streams"
EVENTS = "event_sourcery_events"
SNAPSHOTS = "event_sourcery_snapshots"
OUTBOX = "event_sourcery_outbox_entries"
CURSORS = "event_sourcery_projector_cursors"

EVENT_UUID_KEY = f"{EVENTS}_uuid_key"
"""The unique constraint on ``events.uuid`` (PostgreSQL's own name for an unnamed one)."""


class Modified(NamedTuple):
    """One ``MODIFY`` clause of a MariaDB/MySQL ``ALTER TABLE``."""

    column: str
    type_: TypeEngine[Any]
    nullable: bool
    default: str | None = None


def dialect_name() -> str:
    return op.get_context().dialect.name


def is_mysql() -> bool:
    return dialect_name() in ("mysql", "mariadb")


def exact_string(length: int) -> TypeEngine[str]:
    """The models' MariaDB/MySQL ``VARCHAR``: compared exactly (binary NO PAD collation)."""
    dialect = op.get_context().dialect
    mariadb = bool(getattr(dialect, "is_mariadb", False)) or dialect.name == "mariadb"
    collation = "utf8mb4_nopad_bin" if mariadb else "utf8mb4_0900_bin"
    return mysql.VARCHAR(length, charset="utf8mb4", collation=collation)


def timestamp() -> TypeEngine[Any]:
    """A naive timestamp keeping microseconds on MariaDB/MySQL."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def guid() -> TypeEngine[Any]:
    """The models' UUID type (``Uuid``: native where the database has one, else ``CHAR(32)``)."""
    return sa.Uuid(as_uuid=True)


def modify(table: str, columns: Sequence[Modified]) -> None:
    """Retype several columns of a MariaDB/MySQL table with a single ``ALTER TABLE``."""
    dialect = op.get_context().dialect
    quote = dialect.identifier_preparer.quote
    clauses = []
    for column in columns:
        clause = f"MODIFY {quote(column.column)} {column.type_.compile(dialect=dialect)}"
        clause += " NULL" if column.nullable else " NOT NULL"
        if column.default is not None:
            clause += f" DEFAULT {column.default}"
        clauses.append(clause)
    op.execute(f"ALTER TABLE {quote(table)} {', '.join(clauses)}")


def upgrade() -> None:
    sqlite = dialect_name() == "sqlite"

    if is_mysql():
        modify(
            STREAMS,
            [
                Modified("uuid", guid(), nullable=False),
                Modified("name", exact_string(255), nullable=True),
                Modified("category", exact_string(255), nullable=False, default="''"),
                Modified("tenant_id", exact_string(255), nullable=False),
            ],
        )
    elif not sqlite:
        op.alter_column(
            STREAMS,
            "category",
            server_default="",
            existing_type=sa.String(255),
            existing_nullable=False,
        )
    op.create_index(f"ix_category_{STREAMS}", STREAMS, ["category"])
    op.create_index(f"ix_tenant_id_{STREAMS}", STREAMS, ["tenant_id"])

    with op.batch_alter_table(
        EVENTS,
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True},
    ) as batch:
        batch.add_column(sa.Column("tx_id", sa.BigInteger(), nullable=True))
        batch.drop_index(f"ix_{EVENTS}_uuid")
        batch.create_unique_constraint(EVENT_UUID_KEY, ["uuid"])
        batch.create_index(f"ix_{EVENTS}_name", ["name"])
        batch.create_index(f"ix_tx_id_id_{EVENTS}", ["tx_id", "id"])
    if dialect_name() == "postgresql":
        # PostgreSQL subscriptions order by (tx_id, id) below the transaction horizon: events
        # written before this migration come first, in id order.
        op.execute(sa.text(f"UPDATE {EVENTS} SET tx_id = 0 WHERE tx_id IS NULL"))
    if is_mysql():
        modify(
            EVENTS,
            [
                Modified("uuid", guid(), nullable=True),
                Modified("name", exact_string(200), nullable=False),
                Modified("data", mysql.LONGTEXT(charset="utf8mb4"), nullable=False),
                Modified("event_context", mysql.LONGTEXT(charset="utf8mb4"), nullable=False),
                Modified("created_at", timestamp(), nullable=False),
            ],
        )

    if is_mysql():
        modify(
            SNAPSHOTS,
            [
                Modified("uuid", guid(), nullable=False),
                Modified("name", exact_string(200), nullable=False),
                Modified("data", mysql.LONGTEXT(charset="utf8mb4"), nullable=False),
                Modified("event_context", mysql.LONGTEXT(charset="utf8mb4"), nullable=False),
                Modified("created_at", timestamp(), nullable=False),
            ],
        )
    else:
        with op.batch_alter_table(SNAPSHOTS) as batch:
            batch.alter_column(
                "name", type_=sa.String(200), existing_type=sa.String(50), existing_nullable=False
            )
    op.create_index(f"ix_{SNAPSHOTS}_created_at", SNAPSHOTS, ["created_at"])

    with op.batch_alter_table(OUTBOX) as batch:
        batch.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", timestamp(), nullable=True))
        batch.create_index(f"ix_tries_left_id_{OUTBOX}", ["tries_left", "id"])
    if is_mysql():
        modify(
            OUTBOX,
            [
                Modified("created_at", timestamp(), nullable=False),
                Modified("data", mysql.LONGTEXT(charset="utf8mb4"), nullable=False),
                Modified("stream_name", exact_string(255), nullable=True),
            ],
        )

    if is_mysql():
        modify(
            CURSORS,
            [
                Modified("name", exact_string(255), nullable=False),
                Modified("stream_id", guid(), nullable=False),
                Modified("category", exact_string(255), nullable=True),
            ],
        )


def downgrade() -> None:
    sqlite = dialect_name() == "sqlite"

    if is_mysql():
        hex_uuids(CURSORS, [Modified("stream_id", sa.CHAR(32), nullable=False)])
        modify(
            CURSORS,
            [
                Modified("name", sa.String(255), nullable=False),
                Modified("category", sa.String(255), nullable=True),
            ],
        )

    with op.batch_alter_table(OUTBOX) as batch:
        batch.drop_index(f"ix_tries_left_id_{OUTBOX}")
        batch.drop_column("next_attempt_at")
        batch.drop_column("last_error")
        batch.drop_column("failures")
    if is_mysql():
        modify(
            OUTBOX,
            [
                Modified("created_at", sa.DateTime(), nullable=False),
                Modified("data", sa.Text(), nullable=False),
                Modified("stream_name", sa.String(255), nullable=True),
            ],
        )

    op.drop_index(f"ix_{SNAPSHOTS}_created_at", table_name=SNAPSHOTS)
    if is_mysql():
        hex_uuids(SNAPSHOTS, [Modified("uuid", sa.CHAR(32), nullable=False)])
        modify(
            SNAPSHOTS,
            [
                Modified("name", sa.String(50), nullable=False),
                Modified("data", sa.Text(), nullable=False),
                Modified("event_context", sa.Text(), nullable=False),
                Modified("created_at", sa.DateTime(), nullable=False),
            ],
        )
    else:
        with op.batch_alter_table(SNAPSHOTS) as batch:
            batch.alter_column(
                "name", type_=sa.String(50), existing_type=sa.String(200), existing_nullable=False
            )

    if is_mysql():
        hex_uuids(EVENTS, [Modified("uuid", sa.CHAR(32), nullable=True)])
        modify(
            EVENTS,
            [
                Modified("name", sa.String(200), nullable=False),
                Modified("data", sa.Text(), nullable=False),
                Modified("event_context", sa.Text(), nullable=False),
                Modified("created_at", sa.DateTime(), nullable=False),
            ],
        )
    with op.batch_alter_table(EVENTS, recreate="always" if sqlite else "auto") as batch:
        batch.drop_index(f"ix_tx_id_id_{EVENTS}")
        batch.drop_index(f"ix_{EVENTS}_name")
        batch.drop_constraint(EVENT_UUID_KEY, type_="unique")
        batch.create_index(f"ix_{EVENTS}_uuid", ["uuid"], unique=True)
        batch.drop_column("tx_id")

    op.drop_index(f"ix_tenant_id_{STREAMS}", table_name=STREAMS)
    op.drop_index(f"ix_category_{STREAMS}", table_name=STREAMS)
    if is_mysql():
        hex_uuids(STREAMS, [Modified("uuid", sa.CHAR(32), nullable=False)])
        modify(
            STREAMS,
            [
                Modified("name", sa.String(255), nullable=True),
                Modified("category", sa.String(255), nullable=False),
                Modified("tenant_id", sa.String(255), nullable=False),
            ],
        )
    elif not sqlite:
        op.alter_column(
            STREAMS,
            "category",
            server_default=None,
            existing_type=sa.String(255),
            existing_nullable=False,
        )


def hex_uuids(table: str, columns: Sequence[Modified]) -> None:
    """Turn MariaDB/MySQL UUID columns back into ``CHAR(32)`` hex (native UUIDs read dashed)."""
    quote = op.get_context().dialect.identifier_preparer.quote
    modify(table, [column._replace(type_=sa.CHAR(36)) for column in columns])
    assignments = ", ".join(
        f"{quote(column.column)} = REPLACE({quote(column.column)}, '-', '')" for column in columns
    )
    op.execute(f"UPDATE {quote(table)} SET {assignments}")
    modify(table, columns)
