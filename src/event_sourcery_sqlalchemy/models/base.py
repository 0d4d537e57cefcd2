"""Declarative mixins of the five tables (SPEC §16.2 names and columns, plus our additions).

Subclass a mixin, set ``__tablename__`` for custom tables, and map the classes with
``configure_models``, which also adds the relationships ``stream`` (events, snapshots) and
``events``/``snapshots`` (streams) for ORM queries; the library itself uses Core statements.

Additions to the upstream schema (all nullable or defaulted, added by the shipped migration):
``events.tx_id`` (writer transaction id, orders subscriptions exactly), outbox ``failures``,
``last_error`` and ``next_attempt_at`` (retries and dead letters), and indexes for every query.
Snapshot names are as long as event names.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    event,
    not_,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.ext.hybrid import Comparator, hybrid_property
from sqlalchemy.orm import Mapped, Mapper, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from event_sourcery._core.column_limits import EVENT_NAME_LENGTH, NAME_LENGTH
from event_sourcery._core.stream_id import StreamId, trusted_stream_id
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


class StreamIdComparator(Comparator[StreamId]):
    """``Stream.stream_id == some_id`` in SQL: uuid and category, and the name if the id has one.

    Like the store's look-ups, the tenant is not compared: add ``Stream.tenant_id == ...``.
    A plain ``UUID`` compares as ``StreamId(uuid)`` (no category, no name).
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream.uuid)
        self._stream = stream

    def __eq__(self, other: object) -> ColumnElement[bool]:  # type: ignore[override]
        if not isinstance(other, UUID):
            raise TypeError(f"stream_id compares with a StreamId, got {type(other).__name__}")
        stream = self._stream
        category: str | None = getattr(other, "category", None)
        name: str | None = getattr(other, "name", None)
        criteria = [stream.uuid == UUID(int=other.int), stream.category == (category or "")]
        if name:  # NOT NULL too, so that ``!=`` matches unnamed streams (no SQL NULL logic)
            criteria.extend((stream.name.is_not(None), stream.name == name))
        return and_(*criteria)

    def __ne__(self, other: object) -> ColumnElement[bool]:  # type: ignore[override]
        return not_(self.__eq__(other))


class BaseStream:
    """A stream of one tenant: uuid, optional name, category (``''`` = none), version.

    ``stream_id`` is the stream's ``StreamId``; ``Stream.stream_id == some_id`` is a SQL filter.
    """

    __tablename__ = "event_sourcery_streams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[UUID] = mapped_column(GUID(), nullable=False)
    name: Mapped[str | None] = mapped_column(ExactString(NAME_LENGTH), nullable=True)
    category: Mapped[str] = mapped_column(
        ExactString(NAME_LENGTH), nullable=False, default="", server_default=""
    )
    tenant_id: Mapped[str] = mapped_column(ExactString(NAME_LENGTH), nullable=False)
    version: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    if TYPE_CHECKING:  # relationships added by ``configure_models``
        events: Mapped[list[BaseEvent]]
        """The stream's events, ordered by version (then position)."""
        snapshots: Mapped[list[BaseSnapshot]]
        """The stream's snapshots, ordered by version (then creation time)."""

    @hybrid_property
    def stream_id(self) -> StreamId:
        """The stream's id: uuid, name and category (stored ``''`` is ``None``)."""
        return trusted_stream_id(self.uuid, self.name, self.category or None)

    @stream_id.inplace.setter
    def _stream_id_setter(self, stream_id: StreamId) -> None:
        self.uuid = UUID(int=stream_id.int)
        self.name = stream_id.name
        self.category = stream_id.category or ""

    @stream_id.inplace.comparator
    @classmethod
    def _stream_id_comparator(cls) -> StreamIdComparator:
        return StreamIdComparator(cls)

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
    """Columns and links shared by events and snapshots.

    ``stream_id`` and ``tenant_id`` are read through ``stream`` (association proxies): on an
    instance they load the stream; ``Event.stream_id == some_id`` and ``Event.tenant_id == t``
    filter with an ``EXISTS`` on the stream table.
    """

    __stream_model__: ClassVar[type[BaseStream]]

    if TYPE_CHECKING:  # added by ``configure_models``
        stream: Mapped[BaseStream]
        """The stream the row belongs to."""

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

    stream_id: AssociationProxy[StreamId] = association_proxy("stream", "stream_id")
    tenant_id: AssociationProxy[str] = association_proxy("stream", "tenant_id")

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
    name: Mapped[str] = mapped_column(ExactString(EVENT_NAME_LENGTH), nullable=False)
    tx_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The writing transaction's id where the database exposes one (subscription order)."""

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        name = cls.__tablename__
        return (
            Index(f"ix_events_stream_id_version_{name}", "db_stream_id", "version", unique=True),
            Index(f"ix_tx_id_id_{name}", "tx_id", "id"),
            Index(f"ix_name_tx_id_id_{name}", "name", "tx_id", "id"),
            {"sqlite_autoincrement": True},
        )


def deleted_events_table(events: Table) -> Table:
    """``<events>_deleted``: the order keys of deleted events (ADR 0006), made once per events
    table in its metadata (so ``create_all`` and Alembic autogenerate see it).

    Resuming a subscription from a deleted event's position needs its key, and on MariaDB the
    sequencer numbers new rows above every key ever given, deleted ones included.
    """
    name = f"{events.name}_deleted"
    key = name if events.schema is None else f"{events.schema}.{name}"
    existing = events.metadata.tables.get(key)
    if existing is not None:
        return existing
    return Table(
        name,
        events.metadata,
        Column("id", BigId, primary_key=True, autoincrement=False),
        Column("tx_id", BigInteger, nullable=True),
        Index(f"ix_tx_id_{name}", "tx_id"),
        schema=events.schema,
    )


@event.listens_for(BaseEvent, "instrument_class", propagate=True)
def _add_deleted_events_table(mapper: Mapper[Any], cls: type) -> None:
    if isinstance(mapper.local_table, Table):
        deleted_events_table(mapper.local_table)


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
