"""What differs between SQLite, PostgreSQL and MariaDB/MySQL, in one place.

* creating a stream row unless it exists (``create_unless_exists``);
* the writer's transaction id stored in ``events.tx_id`` and the reader's horizon below which
  every transaction has finished (PostgreSQL: ``pg_current_xact_id`` / ``pg_snapshot_xmin``).
  SQLite needs neither: it has one writer at a time, so row ids are in commit order.
  MariaDB/MySQL: committed rows are numbered after the fact by ``sequence_committed``;
* a wake-up sent with the commit (PostgreSQL ``NOTIFY``);
* subscription reads that start an index range at the cursor (``after``) and, on MariaDB/MySQL,
  read events along that index before joining streams (``read_along_order``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Select,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from event_sourcery._store.notifications import NOTIFY_CHANNEL
from event_sourcery_sqlalchemy.models.base import deleted_events_table


def kind(connection: Connection) -> str:
    """``postgresql``, ``mysql`` (MariaDB included) or ``sqlite``."""
    name = connection.dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


def create_unless_exists(
    connection: Connection, table: Table, values: dict[str, Any]
) -> int | None:
    """INSERT a row unless a unique key is taken (waiting for a concurrent creator to finish).

    Returns the new row's id, or ``None`` when the key was taken. The caller's transaction stays
    usable either way.
    """
    dialect = kind(connection)
    if dialect not in ("postgresql", "sqlite"):
        try:
            with connection.begin_nested():
                created = connection.execute(insert(table).values(values))
        except IntegrityError:
            return None
        return int(created.inserted_primary_key[0])  # type: ignore[index]
    row = connection.execute(_insert_or_nothing(table, dialect), values).first()
    return None if row is None else int(row[0])


@cache
def _insert_or_nothing(table: Table, dialect: str) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id``, built once per table (hot path)."""
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return builder(table).on_conflict_do_nothing().returning(table.c.id)


def creates_first(connection: Connection) -> bool:
    """Whether trying the INSERT before looking the stream up is cheap and safe.

    Not on InnoDB, where a duplicate-key error takes next-key locks that deadlock creators.
    """
    return kind(connection) != "mysql"


def locks_gaps(connection: Connection) -> bool:
    """Whether a locking read of a missing row takes a gap lock (InnoDB): then look first."""
    return kind(connection) == "mysql"


@cache
def insert_events(table: Table, dialect: str) -> Insert:
    """The events INSERT (built once per table; ids returned in row order).

    On PostgreSQL it stores the writer's transaction id (the subscription order key, returned
    second) and its RETURNING sends the commit wake-up (``NOTIFY``; repeats in a transaction are
    delivered once).
    """
    statement = insert(table)
    returned: list[Any] = [table.c.id]
    if dialect == "postgresql":
        statement = statement.values(tx_id=literal_column("pg_current_xact_id()::text::bigint"))
        returned.append(table.c.tx_id)
        returned.append(literal_column(f"pg_notify('{NOTIFY_CHANNEL}', '')"))
    return statement.returning(*returned, sort_by_parameter_order=True)


def order_mode(connection: Connection) -> str:
    """How subscriptions read events in an exact order on this database.

    ``"xid"`` (PostgreSQL): by (writer transaction id, id), only below the horizon;
    ``"sequence"`` (MariaDB/MySQL): by (sequence, id), only rows the sequencer has numbered;
    ``"id"`` (SQLite): by id, which is commit order with a single writer.
    """
    return {"postgresql": "xid", "mysql": "sequence"}.get(kind(connection), "id")


def tx_horizon(connection: Connection) -> int:
    """A transaction id below which every writer transaction has finished (PostgreSQL).

    Rows with ``tx_id`` below it are committed (or gone) and no new ones can appear there.
    """
    value: int = connection.execute(
        select(literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
    ).scalar_one()
    return int(value)


SEQUENCE_BATCH = 1000


def sequence_committed(connection: Connection, events: Table) -> None:
    """Number committed events that have no sequence yet, in one short transaction (MariaDB).

    InnoDB offers no exact horizon (``information_schema.innodb_trx`` is a cache refreshed every
    100 ms), so committed rows get their order after the fact: under a named lock, this takes
    the committed unnumbered rows (``FOR UPDATE SKIP LOCKED`` passes over rows of transactions
    still open) and gives them the next numbers, above every number ever given (deleted
    events keep theirs in ``<events>_deleted``). A row numbered later always gets a higher
    number, so readers of numbered rows never miss one. Writers never wait for the caller's
    commit of another writer. ``connection`` must be READ COMMITTED and outside a transaction.
    """
    lock = f"event_sourcery_sequencer_{events.name}"
    got = connection.execute(text("SELECT GET_LOCK(:lock, 0)"), {"lock": lock}).scalar()
    if got != 1:  # another reader is numbering right now; its numbers show up on the next read
        connection.rollback()
        return
    try:
        ids = list(
            connection.execute(
                select(events.c.id)
                .where(events.c.tx_id.is_(None))
                .order_by(events.c.id)
                .limit(SEQUENCE_BATCH)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        if ids:
            deleted = deleted_events_table(events)
            top = (
                connection.execute(
                    select(
                        func.greatest(
                            func.coalesce(select(func.max(events.c.tx_id)).scalar_subquery(), 0),
                            func.coalesce(select(func.max(deleted.c.tx_id)).scalar_subquery(), 0),
                        )
                    )
                ).scalar()
                or 0
            )
            connection.execute(
                update(events)
                .where(events.c.id == bindparam("row_id"))
                .values(tx_id=bindparam("sequence")),
                [{"row_id": row_id, "sequence": top + n} for n, row_id in enumerate(ids, 1)],
            )
        connection.commit()
    finally:
        connection.execute(text("SELECT RELEASE_LOCK(:lock)"), {"lock": lock})
        connection.commit()


def final_order(
    connection: Connection, events: Table
) -> tuple[ColumnElement[Any], list[ColumnElement[bool]], int | None]:
    """The order key of events, the conditions selecting rows whose place is final, and the
    horizon: keys below it are final (``None`` where the conditions need none).

    Reading ``(key, id) > cursor`` with these conditions, ordered by ``(key, id)``, never skips
    nor repeats an event (ADR 0006). On MariaDB this numbers committed rows first, so
    ``connection`` must be one from ``reading_connection``.
    """
    match order_mode(connection):
        case "xid":  # every row has tx_id (rows of the existing library get 0 by migration)
            key = events.c.tx_id
            horizon = tx_horizon(connection)
            return key, [key < horizon], horizon
        case "sequence":
            sequence_committed(connection, events)
            return events.c.tx_id, [events.c.tx_id.is_not(None)], None
    return events.c.id, [], None


def after(key: ColumnElement[Any], events: Table, cursor: tuple[int, int]) -> ColumnElement[bool]:
    """Rows after ``cursor`` = (key value, id) in (key, id) order.

    Written ``key >= v AND (key > v OR id > r)``: the leading ``key >= v`` starts the index
    range at the cursor. MariaDB cannot start a range at a row comparison ``(key, id) > (v, r)``
    and walks the index from its start (the whole table on every poll); PostgreSQL can, but
    estimates its rows badly and then prefers other indexes.
    """
    value, row_id = cursor
    if key is events.c.id:
        return events.c.id > row_id
    return and_(key >= value, or_(key > value, events.c.id > row_id))


def at_most(key: ColumnElement[Any], events: Table, end: tuple[int, int]) -> ColumnElement[bool]:
    """Rows at or before ``end`` = (key value, id) in (key, id) order (written like ``after``)."""
    value, row_id = end
    if key is events.c.id:
        return events.c.id <= row_id
    return and_(key <= value, or_(key < value, events.c.id <= row_id))


def read_along_order(
    connection: Connection,
    query: Select[Any],
    events: Table,
    names: frozenset[str] | None = None,
) -> Select[Any]:
    """``query`` reading events along the (key, id) index from the cursor, other tables joined
    to each row read (MariaDB/MySQL; elsewhere unchanged). Events of one type (``names``) are
    read along the (name, key, id) index instead: only their rows.

    Left to itself the optimizer starts from a selective filter (the category index on
    streams, an event type) and sorts every match after the cursor.
    """
    if kind(connection) != "mysql":
        return query
    query = query.prefix_with("STRAIGHT_JOIN")  # the tables in FROM order: events first
    columns = ["tx_id", "id"] if names is None or len(names) != 1 else ["name", "tx_id", "id"]
    index = index_on(events, columns)
    if index is not None:
        quoted = connection.dialect.identifier_preparer.quote(index)
        query = query.with_hint(events, f"FORCE INDEX ({quoted})")
    return query


def index_on(table: Table, columns: list[str]) -> str | None:
    """The name of ``table``'s index on exactly ``columns`` (``None`` if the model has none)."""
    for index in table.indexes:
        if [column.name for column in index.columns] == columns and index.name:
            return str(index.name)
    return None


@contextmanager
def reading_connection(engine: Engine) -> Iterator[Connection]:
    """A connection of its own for exact reads (READ COMMITTED on MariaDB/MySQL)."""
    with engine.connect() as connection:
        if kind(connection) == "mysql":
            connection = connection.execution_options(isolation_level="READ COMMITTED")
        yield connection
