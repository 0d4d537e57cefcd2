"""SQLite: a transaction that reads, then writes, takes the database's write lock first.

A deferred SQLite transaction that has read holds a read lock; once another connection holds the
write lock, SQLite refuses the reader's first write at once ("database is locked") instead of
waiting, whatever the busy timeout (waiting could deadlock). A write as the transaction's first
statement waits up to the busy timeout like any other. Django 5.1+ can begin every transaction
with the write lock (``OPTIONS={"transaction_mode": "IMMEDIATE"}``, checked by
``event_sourcery_django.W003``); without it the backend's write transactions start with a no-op
write. PostgreSQL locks rows instead: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connections

WRITE_LOCKING_MODES = frozenset({"IMMEDIATE", "EXCLUSIVE"})
"""SQLite ``transaction_mode`` values that take the write lock at ``BEGIN``."""

_NO_OP_WRITE = "UPDATE event_sourcery_django_stream SET version = version WHERE 0"


def begins_with_write_lock(database: Mapping[str, Any]) -> bool:
    """Whether transactions on a SQLite database of these settings take the write lock at BEGIN."""
    mode = (database.get("OPTIONS") or {}).get("transaction_mode")
    return isinstance(mode, str) and mode.upper() in WRITE_LOCKING_MODES


def take_write_lock(using: str) -> None:
    """Inside ``atomic``: hold SQLite's write lock from here to the end of the transaction.

    Waits up to the busy timeout. If the caller's transaction has read already, SQLite cannot
    wait and a busy lock fails at once (``BackendUnavailable``): use ``transaction_mode``.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or begins_with_write_lock(connection.settings_dict):
        return
    with connection.cursor() as cursor:
        cursor.execute(_NO_OP_WRITE)
