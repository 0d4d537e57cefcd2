"""Subscription reads use index ranges from their cursor on every database (issue 10.4).

A database of its own on each server (and a SQLite file) holds 200,000 events in 20,000 streams,
analysed, so that the planners choose what they choose in production. Real subscriptions poll
it with every selector (all; a common and a rare category; a common, a rare and two event
types), caught up and from three quarters of the way in (a live event, one of a deleted stream
and one deleted before deleted keys were kept); every statement they and ``event_store.position``
send is recorded and explained:

* MariaDB (``ANALYZE``, run in a transaction rolled back): no whole-table or whole-index scan
  (``ALL``, ``index``), no ``Using filesort`` or ``Using temporary``;
* PostgreSQL (``EXPLAIN (ANALYZE, FORMAT JSON)``): the tables are read through indexes only
  (no ``Seq Scan``, no bitmap scan), no ``Sort`` node;
* SQLite (``EXPLAIN QUERY PLAN``): every table read is a ``SEARCH`` (a key or a range), no
  ``TEMP B-TREE``.

On both servers no statement reads more event rows than lie after its cursor, so each range
starts at the cursor (a plan can say "range" and still walk an index from its start).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Engine, create_engine, delete, event, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from event_sourcery import Event, StreamId
from event_sourcery.subscription import SubscriptionBuilder
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from tests.backends.sqlalchemy.support import (
    ALL_DATABASES,
    CONFIG,
    EVENTS,
    STREAMS,
    connect,
)
from tests.contract import databases
from tests.run_databases import derived

ROWS = 200_000
STREAM_COUNT = 20_000
"""Stream ``s`` holds the events ``g`` with ``g % STREAM_COUNT == s - 1``, 10 each."""
EARLY_STREAM = STREAM_COUNT + 1
EARLY_END = ROWS // 4
"""The events ``g <= EARLY_END`` with ``g % 1000 == 250`` are in stream ``EARLY_STREAM``,
category ``early``, the only one: a category that stopped receiving events long ago."""
RESUMED = ROWS * 3 // 4
"""A live event three quarters of the way in; the two after it are deleted."""
APPENDED = 5
"""Events appended (and committed) after the fill: what the caught-up subscriptions read."""
BATCH = 100


class PlanFilled(Event):
    """Most events."""

    __event_name__ = "plans.filled"


class PlanPicked(Event):
    """One event in 20."""

    __event_name__ = "plans.picked"


class PlanRare(Event):
    """One event in 1,000; a stream in 100 is in category ``rare``."""

    __event_name__ = "plans.rare"


NAME = (
    "CASE WHEN g % 1000 = 500 THEN 'plans.rare' WHEN g % 20 = 7 THEN 'plans.picked' "
    "ELSE 'plans.filled' END"
)
CATEGORY = "CASE WHEN g % 100 = 0 THEN 'rare' ELSE {} END"
EVENT_COLUMNS = "id, version, uuid, name, data, event_context, created_at, db_stream_id, tx_id"
STREAM_COLUMNS = "id, uuid, name, category, tenant_id, version"


def fill(engine: Engine) -> None:
    """The streams and events, in bulk statements, then the planner's statistics."""
    dialect = engine.dialect.name
    streams, events = STREAMS.name, EVENTS.name
    version, stream = f"1 + (g - 1) / {STREAM_COUNT}", f"1 + g % {STREAM_COUNT}"
    with engine.begin() as connection:
        if dialect == "postgresql":
            horizon = connection.execute(
                text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            ).scalar_one()
            numbers = "generate_series(1, {}) g"
            uuid, category = "md5(g::text)::uuid", CATEGORY.format("'cat' || g % 10")
            now, tx_id = "now()", f"g::bigint * {horizon - 1} / {ROWS}"  # keys below the horizon
        elif dialect == "sqlite":
            numbers = "(WITH RECURSIVE k(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM k "
            numbers += "WHERE g < {}) SELECT g FROM k)"
            uuid, category = "printf('%032x', g)", CATEGORY.format("'cat' || g % 10")
            now, tx_id = "datetime('now')", "NULL"
        else:  # MariaDB: rows numbered by the sequencer, one number each
            thousand = "(WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k "
            thousand += "WHERE n < 999) SELECT n FROM k)"
            numbers = f"(SELECT a.n * 1000 + b.n + 1 AS g FROM {thousand} a CROSS JOIN "
            numbers += f"{thousand} b) n WHERE g <= {{}}"
            uuid, category = "LPAD(HEX(g), 32, '0')", CATEGORY.format("CONCAT('cat', g % 10)")
            now, tx_id = "NOW(6)", "g"
            version = f"1 + (g - 1) DIV {STREAM_COUNT}"
        connection.execute(
            text(
                f"INSERT INTO {streams} ({STREAM_COLUMNS}) SELECT g, {uuid}, NULL, {category}, "
                f"'', 100 FROM {numbers.format(STREAM_COUNT)}"
            )
        )
        connection.execute(
            text(
                f"INSERT INTO {events} ({EVENT_COLUMNS}) SELECT g, {version}, {uuid}, {NAME}, "
                f"'{{}}', '{{}}', {now}, {stream}, {tx_id} FROM {numbers.format(ROWS)}"
            )
        )
        connection.execute(
            insert(STREAMS).values(
                id=EARLY_STREAM, uuid=uuid4(), category="early", tenant_id="", version=None
            )
        )
        connection.execute(
            update(EVENTS)
            .where(EVENTS.c.id <= EARLY_END, EVENTS.c.id % 1000 == 250)
            .values(db_stream_id=EARLY_STREAM, version=EVENTS.c.id)
        )
        if dialect == "postgresql":
            for table in (streams, events):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) "
                        f"FROM {table}"
                    )
                )
    with engine.begin() as connection:
        analyse = {"postgresql": "ANALYZE {}", "sqlite": "ANALYZE {}"}.get(
            dialect, "ANALYZE TABLE {}"
        )
        for table in (streams, events):
            connection.execute(text(analyse.format(table)))


@dataclass
class Server:
    """A database of this module's own on a server (dropped afterwards)."""

    url: str
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = derived(self.url, "plans")

    def _admin(self, statement: str) -> None:
        url = make_url(self.url)
        postgres = url.get_backend_name() == "postgresql"
        admin = create_engine(
            url.set(database="postgres" if postgres else "mysql"), isolation_level="AUTOCOMMIT"
        )
        try:
            with admin.connect() as connection:
                connection.execute(text(statement))
        finally:
            admin.dispose()

    def create(self) -> Engine:
        self._admin(f"DROP DATABASE IF EXISTS {self.name}")
        self._admin(f"CREATE DATABASE {self.name}")
        return create_engine(make_url(self.url).set(database=self.name))

    def drop(self) -> None:
        force = " WITH (FORCE)" if make_url(self.url).get_backend_name() == "postgresql" else ""
        self._admin(f"DROP DATABASE IF EXISTS {self.name}{force}")


@pytest.fixture(scope="module", params=ALL_DATABASES)
def filled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An analysed database of ROWS events (module-wide: filling takes a few seconds)."""
    server: Server | None = None
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("plans") / "events.sqlite3"
        engine = create_engine(f"sqlite:///{path}")
    else:
        connect(request.param)  # skips (or fails in CI) without the server
        server = Server(request.param)
        engine = server.create()
    try:
        databases.Base.metadata.create_all(engine)
        fill(engine)
        yield engine
    finally:
        engine.dispose()
        if server is not None:
            server.drop()


@dataclass
class Scenario:
    """What one subscription (or position read) sent, and how many events lay after it."""

    label: str
    after_cursor: int
    statements: list[tuple[str, Any]] = field(default_factory=list)


def poll(builder: SubscriptionBuilder) -> None:
    """One batch of a real subscription (a caught-up one polls until its time limit)."""
    batches = builder.build_batch(BATCH, 0.1)
    try:
        next(batches)
    finally:
        batches.close()  # type: ignore[attr-defined]


def recorded(engine: Engine) -> list[Scenario]:
    """The statements of subscriptions with every selector, caught up and resumed."""
    scenarios: list[Scenario] = []

    def record(
        _c: object, _k: object, statement: str, parameters: Any, _x: object, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH")):
            scenarios[-1].statements.append((statement, parameters[0] if many else parameters))

    session = Session(engine)
    backend = SQLAlchemyBackend().configure(session, CONFIG)
    event_store = backend.event_store
    with engine.begin() as connection:  # the stream of the event after RESUMED goes by the API
        deleted = connection.execute(
            select(STREAMS.c.uuid, STREAMS.c.category).where(
                STREAMS.c.id == 1 + (RESUMED + 1) % STREAM_COUNT
            )
        ).one()
        # and the event after that as if deleted before deleted keys were kept (migration 0003)
        connection.execute(delete(EVENTS).where(EVENTS.c.id == RESUMED + 2))
    event_store.delete_stream(StreamId(uuid=deleted.uuid, category=deleted.category))
    session.commit()
    event.listen(engine, "before_cursor_execute", record)
    try:
        scenarios.append(Scenario("position", 0))
        end = event_store.position
        session.commit()
        event_store.append(
            *(PlanRare() for _ in range(APPENDED)), stream_id=StreamId(category="rare")
        )
        session.commit()
        selectors = {
            "all": lambda b: b,
            "category": lambda b: b.to_category("cat3"),
            "rare category": lambda b: b.to_category("rare"),
            "event type": lambda b: b.to_events([PlanPicked]),
            "rare event type": lambda b: b.to_events([PlanRare]),
            "event types": lambda b: b.to_events([PlanPicked, PlanRare]),
        }
        starts = {
            "caught up": (end, APPENDED),
            "resumed": (RESUMED, ROWS - RESUMED + APPENDED),
            "resumed at a deleted event": (RESUMED + 1, ROWS - RESUMED + APPENDED),
            "resumed at an event deleted before keys were kept": (
                RESUMED + 2,
                ROWS - RESUMED + APPENDED,
            ),
        }
        for start, (position, after) in starts.items():
            for selector, narrow in selectors.items():
                scenarios.append(Scenario(f"{selector}, {start}", after))
                poll(narrow(backend.subscriber.start_from(position)))
        # a subscription to a category whose last event is far behind: its first read looks
        # at every row after it, the next ones only at rows that arrived since
        last_early = EARLY_END - 1000 + 250
        scenarios.append(Scenario("early category, first read", ROWS - last_early + APPENDED))
        batches = (
            backend.subscriber.start_from(last_early).to_category("early").build_batch(BATCH, 0.1)
        )
        try:
            next(batches)
            scenarios.append(Scenario("early category, idle", 0))
            next(batches)
        finally:
            batches.close()  # type: ignore[attr-defined]
        scenarios.append(Scenario("position after appends", 0))
        assert event_store.position != end
    finally:
        event.remove(engine, "before_cursor_execute", record)
        session.close()
    return scenarios


def test_every_subscription_statement_reads_an_index_range_from_its_cursor(
    filled: Engine,
) -> None:
    problems: dict[str, list[str]] = {}
    for scenario in recorded(filled):
        for statement, parameters in scenario.statements:
            check = PLAN_CHECKS[filled.dialect.name]
            found = check(filled, statement, parameters, scenario.after_cursor)
            problems.setdefault(" ".join(statement.split()), []).extend(
                f"{scenario.label}: {problem}" for problem in found
            )

    report = [
        f"{statement}\n  " + "\n  ".join(found) for statement, found in problems.items() if found
    ]
    assert not report, "\n".join(report)


# --- plans --------------------------------------------------------------------------------------

SLACK = 10
"""Rows a read may look at beyond those after its cursor (index boundaries, lookups)."""
TABLES = (EVENTS.name, STREAMS.name, f"{EVENTS.name}_deleted")


def mariadb_problems(engine: Engine, statement: str, parameters: Any, after: int) -> list[str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"ANALYZE {statement}", parameters).mappings().all()
        connection.rollback()
    problems = []
    for row in rows:
        table, extra = row["table"] or "", row["Extra"] or ""
        if row["type"] in ("ALL", "index") and table in TABLES:
            problems.append(
                f"{table}: {row['type']} (whole {'table' if row['type'] == 'ALL' else 'index'})"
            )
        problems.extend(
            f"{table}: {bad}" for bad in ("Using filesort", "Using temporary") if bad in extra
        )
        if table == EVENTS.name and float(row["r_rows"] or 0) > after + SLACK:
            problems.append(f"{table}: read {row['r_rows']} rows, {after} after the cursor")
    return problems


def postgres_problems(engine: Engine, statement: str, parameters: Any, after: int) -> list[str]:
    with engine.connect() as connection:
        indexes = dict(
            connection.execute(
                text("SELECT indexname, tablename FROM pg_indexes WHERE schemaname = 'public'")
            ).all()
        )
        found = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
        ).scalar_one()
        connection.rollback()
    plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    problems = []
    for node in nodes(plan):
        kind = node["Node Type"]
        table = node.get("Relation Name") or indexes.get(node.get("Index Name"), "")
        if table not in TABLES:
            continue
        if kind == "Seq Scan":
            problems.append(f"{table}: Seq Scan")
        looked_at = sum(node.get(n, 0) for n in ("Actual Rows", *REMOVED)) * node["Actual Loops"]
        if looked_at > after + SLACK:
            problems.append(f"{kind} on {table}: read {looked_at} rows, {after} after the cursor")
    return problems


REMOVED = ("Rows Removed by Filter", "Rows Removed by Index Recheck", "Rows Removed by Join Filter")


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in nodes(child))]


def sqlite_problems(engine: Engine, statement: str, parameters: Any, after: int) -> list[str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    problems = []
    for row in rows:
        detail: str = row[3]
        if "TEMP B-TREE" in detail:
            problems.append(detail)
        words = detail.split()
        if words[0] == "SCAN" and words[1] in TABLES and not last_row_by_rowid(statement):
            problems.append(detail)
    return problems


def last_row_by_rowid(statement: str) -> bool:
    """``ORDER BY id DESC … LIMIT``: SQLite reports walking the table backwards as ``SCAN``; it
    reads one row."""
    return f"ORDER BY {EVENTS.name}.id DESC" in statement and "LIMIT" in statement


PLAN_CHECKS = {
    "mysql": mariadb_problems,
    "mariadb": mariadb_problems,
    "postgresql": postgres_problems,
    "sqlite": sqlite_problems,
}
