"""What differs between SQLite, PostgreSQL and MariaDB/MySQL, in one place.

* creating a stream row unless it exists (``create_unless_exists``);
* the writer's transaction id stored in ``events.tx_id`` and the reader's horizon below which
  every transaction has finished (PostgreSQL: ``pg_current_xact_id`` / ``pg_snapshot_xmin``).
  SQLite needs neither: it has one writer at a time, so row ids are in commit order.
  MariaDB/MySQL: not decided yet (``information_schema.innodb_trx`` is cached for 100 ms, so it
  cannot give an exact horizon); subscriptions there order by id;
* a wake-up sent with the commit (PostgreSQL ``NOTIFY``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Insert, Table, insert, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

NOTIFY_CHANNEL = "event_sourcery"


def kind(connection: Connection) -> str:
    """``postgresql``, ``mysql`` (MariaDB included) or ``sqlite``."""
    name = connection.dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


def create_unless_exists(connection: Connection, table: Table, values: dict[str, Any]) -> bool:
    """INSERT a row unless a unique key is taken (waiting for a concurrent creator to finish).

    Returns whether this call created it. The caller's transaction stays usable either way.
    """
    match kind(connection):
        case "postgresql":
            statement: Insert = postgresql.insert(table).on_conflict_do_nothing()
        case "sqlite":
            statement = sqlite.insert(table).on_conflict_do_nothing()
        case _:
            try:
                with connection.begin_nested():
                    connection.execute(insert(table).values(values))
            except IntegrityError:
                return False
            return True
    return connection.execute(statement.values(values)).rowcount == 1


def locks_gaps(connection: Connection) -> bool:
    """Whether a locking read of a missing row takes a gap lock (InnoDB): then look first."""
    return kind(connection) == "mysql"


def writer_tx_id(connection: Connection) -> ColumnElement[Any] | int | None:
    """The value to store in ``events.tx_id`` for rows written in this transaction."""
    if kind(connection) == "postgresql":
        return literal_column("pg_current_xact_id()::text::bigint")
    return None


def has_tx_horizon(connection: Connection) -> bool:
    """Whether subscriptions order by (tx_id, id) below a horizon (else by id alone)."""
    return kind(connection) == "postgresql"


def tx_horizon(connection: Connection) -> int:
    """A transaction id below which every writer transaction has finished.

    Rows with ``tx_id`` below it are committed (or gone) and no new ones can appear there.
    """
    if kind(connection) != "postgresql":
        raise NotImplementedError(connection.dialect.name)
    value: int = connection.execute(
        select(literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
    ).scalar_one()
    return int(value)


def notify(connection: Connection) -> None:
    """Wake subscribers in other processes when this transaction commits."""
    if kind(connection) == "postgresql":
        connection.execute(select(literal_column(f"pg_notify('{NOTIFY_CHANNEL}', '')")))
