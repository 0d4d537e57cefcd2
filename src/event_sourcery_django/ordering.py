"""Exact subscription order on Django's databases (ADR 0006, shared with the SQLAlchemy backend).

PostgreSQL: events carry the writer's transaction id and readers take only rows below the
oldest running transaction id, ordered by (tx_id, id); ``delete_stream`` keeps the keys of the
events it deletes (``DeletedEvent``) so that resuming from a deleted position is exact. SQLite:
one writer at a time, so id order is commit order (ids are never reused: ``AUTOINCREMENT``) and
a position is its own key. Other databases are not supported by this backend.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import Q, QuerySet

from event_sourcery._store.notifications import NOTIFY_CHANNEL
from event_sourcery_django.models import DeletedEvent

PG_WRITER_TX_ID = f"SELECT pg_current_xact_id()::text::bigint, pg_notify('{NOTIFY_CHANNEL}', '')"
"""The writer's order key; the ``NOTIFY`` is delivered to listeners when it commits."""
PG_HORIZON = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


def vendor(using: str) -> str:
    return str(connections[using].vendor)


def database_key(using: str) -> str:
    """Names the database for process-local wake-ups (same key for every alias of it)."""
    settings = connections[using].settings_dict
    parts = (settings["ENGINE"], settings.get("HOST"), settings.get("PORT"), settings["NAME"])
    return "django:" + ":".join(str(part) for part in parts)


def order_key(using: str) -> str:
    """The field subscriptions order by, with ``id``: ``tx_id`` on PostgreSQL, else ``id``."""
    return "tx_id" if vendor(using) == "postgresql" else "id"


def writer_tx_id(using: str) -> int | None:
    """The order key of rows written in the current transaction.

    On PostgreSQL it also sends the push wake-up (``NOTIFY``, delivered at commit, dropped on
    rollback; repeats in one transaction are delivered once).
    """
    if vendor(using) != "postgresql":
        return None
    with connections[using].cursor() as cursor:
        cursor.execute(PG_WRITER_TX_ID)
        return int(cursor.fetchone()[0])


def final_order(using: str) -> tuple[str, list[Q], int | None]:
    """The order key field, the conditions selecting rows whose place in it is final, and the
    horizon: keys below it are final (``None`` where the conditions need none)."""
    if order_key(using) == "id":
        return "id", [], None
    with connections[using].cursor() as cursor:
        cursor.execute(PG_HORIZON)
        horizon = int(cursor.fetchone()[0])
    return "tx_id", [Q(tx_id__lt=horizon)], horizon


def after(key: str, cursor: tuple[int, int]) -> Q:
    """Rows after ``cursor`` = (key value, id) in (key, id) order.

    Written ``key >= v AND (key > v OR id > r)``: the leading ``key >= v`` lets the planner
    start an index range on (key, id) at the cursor (a bare OR scans the index from its start).
    """
    value, row_id = cursor
    if key == "id":
        return Q(id__gt=row_id)
    return Q(**{f"{key}__gte": value}) & (Q(**{f"{key}__gt": value}) | Q(id__gt=row_id))


def keep_deleted_keys(using: str, events: QuerySet[Any]) -> None:
    """Before ``events`` are deleted, keep their (id, order key) in ``DeletedEvent`` (one
    ``INSERT … SELECT``; nothing where a position is its own key). Call it in the deleting
    transaction, with the streams locked so that no event joins them in between."""
    if order_key(using) == "id":
        return
    connection = connections[using]
    select, params = events.values_list("id", "tx_id").query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(DeletedEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({quote('id')}, {quote('tx_id')}) {select}", params)
