"""Exact subscription order on Django's databases (ADR 0006, shared with the SQLAlchemy backend).

PostgreSQL: events carry the writer's transaction id and readers take only rows below the
oldest running transaction id, ordered by (tx_id, id). SQLite: one writer at a time, so id
order is commit order. Other databases are not supported by this backend.
"""

from __future__ import annotations

from django.db import connections
from django.db.models import Q

from event_sourcery._store.notifications import NOTIFY_CHANNEL

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
    if vendor(using) != "postgresql":
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
