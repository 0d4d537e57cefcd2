"""Subscription reads on PostgreSQL start an index range at the cursor (issue 10.4).

20,000 events, analysed; a subscription resumed from the middle must read through the
(tx_id, id) index from its cursor, not scan the table or the index from its start.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from event_sourcery._core.cursor import ALL
from event_sourcery_django.models import Event, Stream
from event_sourcery_django.subscription import DjangoEventSource
from tests.backends.django import support

pytestmark = pytest.mark.postgres

ALIAS = support.POSTGRES_ALIAS
ROWS = 20_000


def fill(alias: str) -> int:
    """ROWS events with order keys 1..200 (100 per key); returns the id of a middle one."""
    events, streams = Event._meta.db_table, Stream._meta.db_table
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {streams} (uuid, name, category, tenant_id, version) "
            "VALUES (gen_random_uuid(), NULL, '', '', NULL) RETURNING id"
        )
        stream = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {events} (version, uuid, stream_id, name, data, event_context, "
            "created_at, tx_id) SELECT g, gen_random_uuid(), %s, 'Planned', '{}', '{}', now(), "
            f"1 + g / 100 FROM generate_series(1, {ROWS}) g",
            [stream],
        )
        cursor.execute(f"ANALYZE {events}")
        cursor.execute(f"SELECT id FROM {events} WHERE version = {ROWS // 2}")
        return int(cursor.fetchone()[0])


def plan_of(alias: str, sql: str) -> dict[str, Any]:
    with connections[alias].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        found = cursor.fetchone()[0]
    plan = json.loads(found) if isinstance(found, str) else found
    return dict(plan[0]["Plan"])


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in nodes(child))]


def test_a_resumed_subscription_reads_an_index_range_from_its_cursor() -> None:
    support.require(ALIAS)
    support.migrate_once(ALIAS)
    support.empty_tables(ALIAS)
    try:
        middle = fill(ALIAS)
        source = DjangoEventSource(ALIAS, 0.1)
        with CaptureQueriesContext(connections[ALIAS]) as captured:
            fetched = source.fetch_after(middle, 100, ALL)
        assert len(fetched.records) == 100
        (read,) = [q["sql"] for q in captured.captured_queries if "LIMIT 100" in q["sql"]]
        events = [
            n for n in nodes(plan_of(ALIAS, read)) if n.get("Relation Name") == Event._meta.db_table
        ]

        assert [n["Node Type"] for n in events] == ["Index Scan"], events
        assert "tx_id >=" in events[0]["Index Cond"], events
    finally:
        support.empty_tables(ALIAS)
