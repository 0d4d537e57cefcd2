"""Recognising an outdated schema from real driver errors (``_core/schema_errors``)."""

from __future__ import annotations

import sqlite3

import psycopg.errors
import pymysql.err  # type: ignore[import-untyped]
import pytest

from event_sourcery._core.schema_errors import first_line, schema_outdated


def sqlite_error(statement: str) -> sqlite3.Error:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT)")
    try:
        connection.execute(statement)
    except sqlite3.Error as error:
        return error
    finally:
        connection.close()
    raise AssertionError(f"{statement} did not fail")


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT tx_id FROM events",
        "SELECT * FROM outbox",
        "INSERT INTO events (name, tx_id) VALUES ('no such column: x', 1)",
        "SELECT events.tx_id FROM events",
    ],
)
def test_sqlite_missing_tables_and_columns_are_an_outdated_schema(statement: str) -> None:
    assert schema_outdated(sqlite_error(statement))


@pytest.mark.parametrize(
    "statement",
    ["SELEC 1", "INSERT INTO events (id, name) VALUES (1, 'a'), (1, 'no such table: x')"],
    ids=["syntax", "unique-violation-with-that-text-in-data"],
)
def test_other_sqlite_errors_are_not(statement: str) -> None:
    assert not schema_outdated(sqlite_error(statement))


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.UndefinedTable("relation does not exist"),
        psycopg.errors.UndefinedColumn('column "tx_id" does not exist\nLINE 1: ...'),
        psycopg.errors.StringDataRightTruncation("value too long for type character varying(50)"),
        pymysql.err.ProgrammingError(1146, "Table 'es.event_sourcery_events' doesn't exist"),
        pymysql.err.OperationalError(1054, "Unknown column 'tx_id' in 'field list'"),
        pymysql.err.DataError(1406, "Data too long for column 'uuid' at row 1"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_server_error_codes_of_an_outdated_schema(error: Exception) -> None:
    assert schema_outdated(error)


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.UniqueViolation("duplicate key"),
        psycopg.errors.SerializationFailure("could not serialize"),
        pymysql.err.OperationalError(1213, "Deadlock found"),
        pymysql.err.OperationalError(2013, "Lost connection"),
        ValueError("no such table: events"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_other_errors_are_not(error: Exception) -> None:
    assert not schema_outdated(error)


def test_first_line_drops_the_statement_excerpt() -> None:
    error = psycopg.errors.UndefinedColumn('column "tx_id" does not exist\nLINE 1: INSERT ...')

    assert first_line(error) == 'column "tx_id" does not exist'
    assert first_line(ValueError()) == "ValueError"
