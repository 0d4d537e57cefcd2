"""Declarative mixins of the five tables (SPEC §16.2 names and columns, plus our additions).

Subclass a mixin, set ``__tablename__`` for custom tables, and map the classes with
``configure_models``. Additions to the upstream schema (all nullable or defaulted, added by the
shipped migration): ``events.tx_id`` (writer transaction id, orders subscriptions exactly),
outbox ``failures``, ``last_error`` and ``next_attempt_at`` (retries and dead letters), and
indexes for every query. Snapshot names are as long as event names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

from event_sourcery._core.column_limits import EVENT_NAME_LENGTH, NAME_LENGTH
from event_sourcery_sqlalchemy.guid import GUID
from event_sourcery_sqlalchemy.jsonb import JSONB

BigId = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit id; INTEGER on SQLite so that it is the rowid (auto-increment)."""


class ExactString(TypeDecorator[str]):
    """A VARCHAR compared exactly.

    MariaDB/MySQL's default collations ignore case and accents, and ``utf8mb4_bin`` still
    ignores trailing spaces (PAD SPACE: ``'t'`` would equal ``'t '``, even as a tenant), so
    there it uses a binary NO PAD collation: ``utf8mb4_nopad_bin`` on MariaDB,
    ``utf8mb4_0900_bin`` on MySQL 8 (the dialect knows which server after connecting).
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int = 255) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            mariadb = getattr(dialect, "is_mariadb", False) or dialect.name == "mariadb"
            collation = "utf8mb4_nopad_bin" if mariadb else "utf8mb4_0900_bin"
            varchar = mysql.VARCHAR(self.length, charset="utf8mb4", collation=collation)
            return dialect.type_descriptor(varchar)
        return super().load_dialect_impl(dialect)


Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
"""A naive timestamp keeping microseconds (MariaDB/MySQL drop them by default)."""


class BaseStream:
    """A stream of one tenant: uuid, optional name, category (``''`` = none), version."""

    __tablename__ = "event_sourcery_streams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[UUID] = mapped_column(GUID(), nullable=False)
    name: Mapped[str | None] = mapped_column(ExactString(NAME_LENGTH), nullable=True)
    category: Mapped[str] = mapped_column(
        ExactString(NAME_LENGTH), nullable=False, default="", server_default=""
    )
    tenant_id: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), nullable=False)
    version: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            UniqueConstraint("uuid", "category", "tenant_id"),
            UniqueConstraint("name", "category", "tenant_id"),
            Index(f"ix_category_{cls.__tablename__}", "category"),
            Index(f"ix_tenant_id_{cls.__tablename__}", "tenant_id"),
        )


class _StreamChild:
    """Columns and links shared by events and snapshots."""

    __stream_model__: ClassVar[type[BaseStream]]

    uuid: Any
    version: Any
    name: Mapped[str] = mapped_column(ExactString(EVENT_NAME_LENGTH), nullable=False)
    data: Mapped[Any] = mapped_column(JSONB(), nullable=False)
    event_context: Mapped[Any] = mapped_column(JSONB(), nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, index=True)

    @declared_attr
    @classmethod
    def db_stream_id(cls) -> Mapped[int]:
        stream_table = cls.__stream_model__.__tablename__
        return mapped_column(
            BigInteger().with_variant(Integer(), "sqlite"),
            ForeignKey(f"{stream_table}.id"),
            nullable=False,
            index=True,
        )

    @declared_attr
    @classmethod
    def stream(cls) -> Mapped[Any]:
        return relationship(cls.__stream_model__)

    def __init__(
        self,
        uuid: UUID,
        created_at: datetime,
        name: str,
        data: dict[str, Any],
        event_context: dict[str, Any],
        version: int | None,
    ) -> None:
        self.uuid = uuid
        self.created_at = created_at
        self.name = name
        self.data = data
        self.event_context = event_context
        self.version = version


class BaseEvent(_StreamChild):
    """An event row; its ``id`` is the event's global position."""

    __tablename__ = "event_sourcery_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uuid: Mapped[UUID | None] = mapped_column(GUID(), nullable=True, unique=True)
    name: Mapped[str] = mapped_column(ExactString(EVENT_NAME_LENGTH), nullable=False, index=True)
    tx_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The writing transaction's id where the database exposes one (subscription order)."""

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        name = cls.__tablename__
        return (
            Index(f"ix_events_stream_id_version_{name}", "db_stream_id", "version", unique=True),
            Index(f"ix_tx_id_id_{name}", "tx_id", "id"),
            {"sqlite_autoincrement": True},
        )


class BaseSnapshot(_StreamChild):
    """A snapshot row: a serialised event standing for the events up to ``version``."""

    __tablename__ = "event_sourcery_snapshots"

    uuid: Mapped[UUID] = mapped_column(GUID(), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class BaseOutboxEntry:
    """An event queued for publishing, with its delivery bookkeeping."""

    __tablename__ = "event_sourcery_outbox_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, index=True)
    data: Mapped[Any] = mapped_column(JSONB(), nullable=False)
    stream_name: Mapped[str | None] = mapped_column(ExactString(NAME_LENGTH), nullable=True)
    position: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tries_left: Mapped[int] = mapped_column(Integer, nullable=False)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text(), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        return (Index(f"ix_tries_left_id_{cls.__tablename__}", "tries_left", "id"),)


class BaseProjectorCursor:
    """Where a projector is in one stream."""

    __tablename__ = "event_sourcery_projector_cursors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), nullable=False)
    stream_id: Mapped[UUID] = mapped_column(GUID(), nullable=False, index=True)
    category: Mapped[str | None] = mapped_column(ExactString(NAME_LENGTH), nullable=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        name = cls.__tablename__
        return (Index(f"ix_name_stream_id_{name}", "name", "stream_id", "category", unique=True),)
