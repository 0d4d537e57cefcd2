"""Recognising a database whose tables are older than the models, from the driver's error."""

from __future__ import annotations

import re
from typing import Any

# Undefined table or column, and a value too long for its column: the values written are checked
# against the migrated columns first (check_storable), so a column too narrow for them is one the
# migrations widen (the existing library's snapshot names, MariaDB TEXT and CHAR(32) uuids).
_OUTDATED_SQLSTATES = {"42P01", "42703", "22001"}  # PostgreSQL
_OUTDATED_MYSQL_CODES = {1146, 1054, 1406}  # MariaDB/MySQL
_SQLITE_MISSING = re.compile(r"(no such (table|column): |table \S+ has no column named )")
"""The start of SQLite's messages (it has no distinct error code and does not check lengths)."""


def sqlstate(driver_error: object) -> Any:
    """The SQLSTATE of a PostgreSQL driver error (psycopg 3 or psycopg2), else ``None``."""
    return getattr(driver_error, "sqlstate", None) or getattr(driver_error, "pgcode", None)


def mysql_code(driver_error: object) -> Any:
    """The error number of a MariaDB/MySQL driver error (its first argument), else ``None``."""
    args: tuple[Any, ...] = getattr(driver_error, "args", ())
    return args[0] if args else None


def schema_outdated(driver_error: object) -> bool:
    """Whether ``driver_error`` says a table or column is missing, or a column is too narrow."""
    if sqlstate(driver_error) in _OUTDATED_SQLSTATES:
        return True
    if mysql_code(driver_error) in _OUTDATED_MYSQL_CODES:
        return True
    module = type(driver_error).__module__
    return module.startswith("sqlite3") and bool(_SQLITE_MISSING.match(str(driver_error)))


def first_line(driver_error: object) -> str:
    """The driver's message without the statement excerpt some drivers append."""
    lines = str(driver_error).strip().splitlines()
    return lines[0] if lines else type(driver_error).__name__
