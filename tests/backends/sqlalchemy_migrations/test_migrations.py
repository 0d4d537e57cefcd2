"""The Alembic migrations shipped in ``event_sourcery_sqlalchemy.migrations`` (issue 3, item 5).

They run through Alembic's command API in an application-like environment (``alembic_env/``)
that points ``version_locations`` at the package resource, on PostgreSQL, MariaDB and a SQLite
file. Each server test gets an empty ``<database>_migrations`` database (created once per
run, emptied per test). An absent server skips its tests with the reason, except in CI
(``CI=true``), where it fails them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, inspect, make_url, text
from sqlalchemy.orm import Session

from event_sourcery import Event, StreamId
from event_sourcery.event import Context, Recorded, WrappedEvent
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from event_sourcery_sqlalchemy.cursors_dao import SqlAlchemyCursorsDao
from event_sourcery_sqlalchemy.migrations import (
    BRANCH_LABEL,
    FIRST_REVISION,
    HEAD_REVISION,
    VERSION_LOCATION,
    VERSIONS_PATH,
)
from event_sourcery_sqlalchemy.models import DefaultEvent, DefaultProjectorCursor
from tests.contract.databases import IN_CI, MARIADB_URL, POSTGRES_URL
from tests.run_databases import derived

ENV_DIR = Path(__file__).resolve().parent / "alembic_env"
DATABASE = derived(POSTGRES_URL, "migrations")
STREAMS = "event_sourcery_streams"
EVENTS = "event_sourcery_events"
SNAPSHOTS = "event_sourcery_snapshots"
OUTBOX = "event_sourcery_outbox_entries"
CURSORS = "event_sourcery_projector_cursors"
TABLES = (STREAMS, EVENTS, SNAPSHOTS, OUTBOX, CURSORS, f"{EVENTS}_deleted")
HEAD = f"{BRANCH_LABEL}@head"

Schema = dict[str, dict[str, Any]]


# --- databases ----------------------------------------------------------------------------------


@cache
def server(url: str) -> Engine | str:
    """An engine on a fresh ``<database>_migrations`` database of the server, or why not."""
    parsed = make_url(url)
    admin_database = "postgres" if parsed.get_backend_name() == "postgresql" else None
    admin = create_engine(parsed.set(database=admin_database), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if parsed.get_backend_name() == "postgresql":
                connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
            else:
                connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE}"))
            connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    except Exception as error:
        return f"{parsed.render_as_string(hide_password=True)} unavailable: {error}"
    finally:
        admin.dispose()
    return create_engine(parsed.set(database=DATABASE))


def emptied(engine: Engine) -> Engine:
    """``engine`` with every table of its database dropped."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            connection.execute(text(f"DROP DATABASE {DATABASE}"))
            connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    engine.dispose()  # MariaDB connections still have the dropped database selected
    return engine


def server_engine(url: str) -> Engine:
    engine = server(url)
    if isinstance(engine, str):
        if IN_CI:
            pytest.fail(f"CI needs this database server: {engine}")
        pytest.skip(engine)
    return emptied(engine)


@pytest.fixture
def postgres() -> Iterator[Engine]:
    engine = server_engine(POSTGRES_URL)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'migrated.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """Each of the three databases, empty."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite")
        return
    made = server_engine(POSTGRES_URL if request.param == "postgresql" else MARIADB_URL)
    yield made
    made.dispose()


# --- Alembic ------------------------------------------------------------------------------------


def alembic_config(*extra_version_locations: Path) -> Config:
    """An application's configuration: its own versions (if any) plus the package's branch."""
    config = Config()
    config.set_main_option("script_location", str(ENV_DIR))
    config.set_main_option("path_separator", "space")
    locations = [*map(str, extra_version_locations), VERSION_LOCATION]
    config.set_main_option("version_locations", " ".join(locations))
    return config


def migrate(
    engine: Engine, step: Callable[..., None], target: str, config: Config | None = None
) -> None:
    """Run an Alembic command (``command.upgrade``/``downgrade``) on ``engine``."""
    config = config or alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, target)


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def differences(connection: Connection, *, server_defaults: bool = True) -> list[Any]:
    """What ``alembic revision --autogenerate`` would emit against the default models."""

    def ours(name: str | None, kind: str, parent: Any) -> bool:
        return kind != "table" or name in TABLES

    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": server_defaults,
            "include_name": ours,
        },
    )
    return list(compare_metadata(context, models_metadata()))


def models_metadata() -> MetaData:
    """The metadata the default models are mapped onto (importing the contract suite's
    ``databases`` maps them onto its ``Base``; whichever base got them first, this is it)."""
    return inspect(DefaultEvent).local_table.metadata


def schema(engine: Engine) -> Schema:
    """The reflected shape of the five tables: columns, keys, indexes, unique constraints."""
    shape: Schema = {}
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table in sorted(set(inspector.get_table_names()) & set(TABLES)):
            columns = {
                column["name"]: (
                    repr(column["type"]),
                    column["nullable"],
                    None if column["default"] is None else str(column["default"]),
                )
                for column in inspector.get_columns(table)
            }
            uniques = {
                tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)
            }
            indexes = {
                (index["name"], tuple(index["column_names"]), bool(index["unique"]))
                for index in inspector.get_indexes(table)
                if not index.get("duplicates_constraint")
                and tuple(index["column_names"]) not in uniques
            }
            foreign_keys = {
                (tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            }
            shape[table] = {
                "columns": columns,
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "uniques": uniques,
                "indexes": indexes,
                "foreign_keys": foreign_keys,
            }
    return shape


def created_by_models(engine: Engine) -> None:
    """``create_all`` of the five default tables (what users without Alembic run)."""
    metadata = models_metadata()
    metadata.create_all(engine, tables=[metadata.tables[name] for name in TABLES])


# --- the branch ---------------------------------------------------------------------------------


def test_the_branch_is_a_labelled_line_of_revisions() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())

    revisions = list(scripts.walk_revisions(base="base", head=HEAD))

    assert [r.revision for r in reversed(revisions)] == [
        FIRST_REVISION,
        "event_sourcery_0002",
        "event_sourcery_0003",
        HEAD_REVISION,
    ]
    assert scripts.get_revision(FIRST_REVISION).branch_labels == {BRANCH_LABEL}
    assert scripts.get_revision(HEAD).revision == HEAD_REVISION
    assert {Path(r.path).parent for r in revisions} == {VERSIONS_PATH}


# --- PostgreSQL: autogenerate finds nothing -----------------------------------------------------


@pytest.mark.postgres
def test_postgresql_upgraded_to_head_matches_the_models_for_autogenerate(postgres: Engine) -> None:
    migrate(postgres, command.upgrade, HEAD)

    with postgres.connect() as connection:
        found = differences(connection)

    assert found == []
    assert table_names(postgres) == {*TABLES, "alembic_version"}
    assert current_revisions(postgres) == {HEAD_REVISION}


@pytest.mark.postgres
def test_autogenerate_reports_what_0002_adds_when_only_0001_is_applied(postgres: Engine) -> None:
    """The comparison above is not vacuous: the upstream schema differs from the models."""
    migrate(postgres, command.upgrade, FIRST_REVISION)

    with postgres.connect() as connection:
        found = differences(connection)

    flat = [change for item in found for change in (item if isinstance(item, list) else [item])]
    kinds = {(change[0], _subject(change)) for change in flat}
    assert ("add_column", "tx_id") in kinds
    assert ("add_column", "failures") in kinds
    assert ("add_index", f"ix_tx_id_id_{EVENTS}") in kinds
    assert ("add_index", f"ix_tries_left_id_{OUTBOX}") in kinds
    assert ("add_index", f"ix_category_{STREAMS}") in kinds
    assert ("modify_type", f"{SNAPSHOTS}.name") in kinds


def _subject(change: tuple[Any, ...]) -> str:
    kind = change[0]
    if kind == "add_column":
        return str(change[3].name)
    if kind in ("add_index", "remove_index"):
        return str(change[1].name)
    if kind.startswith("modify_"):
        return f"{change[2]}.{change[3]}"
    return kind


# --- every database: the migrated schema is the models' schema ----------------------------------


def test_upgrade_head_creates_the_schema_that_create_all_creates(engine: Engine) -> None:
    migrate(engine, command.upgrade, HEAD)
    migrated = schema(engine)
    with engine.connect() as connection:
        # Alembic misreads MariaDB's and SQLite's reflected '' default: compared by ``schema``.
        found = differences(connection, server_defaults=engine.dialect.name == "postgresql")
    dropped_all(engine)
    created_by_models(engine)
    expected = schema(engine)

    if engine.dialect.name == "sqlite":
        # The migration leaves SQLite's streams table alone (rebuilding it would break the
        # foreign keys of the events): category keeps no server default, the models set it.
        type_, nullable, _ = expected[STREAMS]["columns"]["category"]
        expected[STREAMS]["columns"]["category"] = (type_, nullable, None)
    assert migrated == expected
    assert found == []


def dropped_all(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        emptied(engine)
        return
    with engine.begin() as connection:
        for name in ["alembic_version", *reversed(TABLES)]:
            connection.execute(text(f"DROP TABLE {name}"))


def test_sqlite_events_table_gets_autoincrement(sqlite: Engine) -> None:
    """Positions of deleted events are never handed out again (a subscriber would skip them)."""
    migrate(sqlite, command.upgrade, FIRST_REVISION)
    assert "AUTOINCREMENT" not in _table_sql(sqlite, EVENTS)

    migrate(sqlite, command.upgrade, HEAD)

    assert "AUTOINCREMENT" in _table_sql(sqlite, EVENTS)


def _table_sql(engine: Engine, table: str) -> str:
    with engine.connect() as connection:
        sql = connection.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": table},
        ).scalar_one()
    return str(sql)


# --- data written by the existing library --------------------------------------------------------


class ParcelRegistered(Event):
    __event_name__ = "migrations.ParcelRegistered"
    parcel: str


class ParcelShipped(Event):
    __event_name__ = "migrations.ParcelShipped"
    parcel: str


class ParcelSummary(Event):
    __event_name__ = "migrations.ParcelSummary"
    parcels: list[str]


class ParcelSummaryWithAMuchLongerName(Event):
    """A snapshot type whose name does not fit the upstream ``VARCHAR(50)``."""

    __event_name__ = "migrations.snapshots.ParcelSummaryWithAMuchLongerNameThanFifty"
    parcels: list[str]


class ParcelDelivered(Event):
    __event_name__ = "migrations.ParcelDelivered"
    parcel: str


STREAM = StreamId(name="P-1", category="parcels")
T1 = datetime(2024, 5, 1, 9, 30, 0)  # whole seconds: upstream DATETIME on MariaDB has none
T2 = datetime(2024, 5, 1, 9, 45, 0)
NO_CONTEXT = {"correlation_id": None, "causation_id": None}
SHIPPED_UUID = uuid.uuid4()
REGISTERED_UUID = uuid.uuid4()
SNAPSHOT_UUID = uuid.uuid4()


def write_upstream_rows(engine: Engine) -> int:
    """Rows as the existing library writes them; returns the shipped event's position."""
    native = engine.dialect.name == "postgresql"

    def guid(value: uuid.UUID) -> Any:
        return value if native else value.hex

    def document(value: dict[str, Any]) -> Any:
        return value if native else json.dumps(value)

    with engine.begin() as connection:
        tables = MetaData()
        upstream = TABLES[:5]  # the tables of the existing library
        tables.reflect(connection, only=list(upstream))
        streams, events, snapshots, outbox, cursors = (tables.tables[name] for name in upstream)
        stream_row = connection.execute(
            streams.insert().values(
                uuid=guid(STREAM), name=STREAM.name, category="parcels", tenant_id="", version=2
            )
        ).inserted_primary_key
        assert stream_row is not None
        stream_key = stream_row[0]
        event_rows = [
            (REGISTERED_UUID, 1, ParcelRegistered.__event_name__, T1),
            (SHIPPED_UUID, 2, ParcelShipped.__event_name__, T2),
        ]
        for event_uuid, version, name, created_at in event_rows:
            connection.execute(
                events.insert().values(
                    uuid=guid(event_uuid),
                    version=version,
                    name=name,
                    data=document({"parcel": "P-1"}),
                    event_context=document(NO_CONTEXT),
                    created_at=created_at,
                    db_stream_id=stream_key,
                )
            )
        shipped_position = connection.execute(
            text(f"SELECT id FROM {EVENTS} WHERE version = 2")
        ).scalar_one()
        connection.execute(
            snapshots.insert().values(
                uuid=guid(SNAPSHOT_UUID),
                version=1,
                name=ParcelSummary.__event_name__,
                data=document({"parcels": ["P-1"]}),
                event_context=document(NO_CONTEXT),
                created_at=T1,
                db_stream_id=stream_key,
            )
        )
        connection.execute(
            outbox.insert().values(
                created_at=T2,
                data=document(
                    {
                        "uuid": str(SHIPPED_UUID),
                        "stream_id": str(STREAM),
                        "created_at": T2.isoformat(),
                        "version": 2,
                        "name": ParcelShipped.__event_name__,
                        "data": {"parcel": "P-1"},
                        "context": NO_CONTEXT,
                        "tenant_id": "",
                    }
                ),
                stream_name=STREAM.name,
                position=shipped_position,
                tries_left=3,
            )
        )
        connection.execute(
            cursors.insert().values(
                name="parcel-summary", stream_id=guid(STREAM), category="parcels", version=2
            )
        )
    return int(shipped_position)


def test_data_of_the_existing_library_loads_after_upgrading(engine: Engine) -> None:
    migrate(engine, command.upgrade, FIRST_REVISION)
    shipped_position = write_upstream_rows(engine)

    migrate(engine, command.upgrade, HEAD)

    with engine.connect() as connection:
        upstream_entry = connection.execute(
            text(f"SELECT tries_left, failures, last_error, next_attempt_at FROM {OUTBOX}")
        ).one()
    published: list[Recorded] = []
    with Session(engine) as session:
        backend = SQLAlchemyBackend().configure(session).with_outbox()
        loaded = backend.event_store.load_stream(STREAM)
        backend.outbox.run(published.append)
        SqlAlchemyCursorsDao(session, DefaultProjectorCursor).increment("parcel-summary", STREAM, 3)
        backend.event_store.append(
            ParcelDelivered(parcel="P-1"), stream_id=STREAM, expected_version=2
        )
        backend.event_store.save_snapshot(
            STREAM,
            WrappedEvent(
                event=ParcelSummaryWithAMuchLongerName(parcels=["P-1"]),
                version=3,
                context=Context(),
            ),
        )
        session.commit()
        reloaded = backend.event_store.load_stream(STREAM)
        subscription = backend.subscriber.start_from(0).build_iter(timelimit=1)
        delivered = [next(subscription) for _ in range(2)]

    assert [(type(e.event), e.version, e.uuid, e.created_at) for e in loaded] == [
        (ParcelSummary, 1, SNAPSHOT_UUID, T1),
        (ParcelShipped, 2, SHIPPED_UUID, T2),
    ]
    assert loaded[0].event == ParcelSummary(parcels=["P-1"])
    assert [(r.position, r.wrapped_event.uuid, r.stream_id.name) for r in published] == [
        (shipped_position, SHIPPED_UUID, "P-1")
    ]
    assert [(type(e.event), e.version) for e in reloaded] == [(ParcelSummaryWithAMuchLongerName, 3)]
    assert tuple(upstream_entry) == (3, 0, None, None)
    with engine.connect() as connection:
        cursor_version = connection.execute(text(f"SELECT version FROM {CURSORS}")).scalar_one()
        delivered_id = connection.execute(
            text(f"SELECT id FROM {EVENTS} WHERE version = 3")
        ).scalar()
        queued = connection.execute(text(f"SELECT position FROM {OUTBOX}")).scalars().all()
    assert cursor_version == 3
    assert delivered_id == shipped_position + 1  # the id sequence went on where it was
    # Events stored before the upgrade (no tx_id) are delivered first, in their order. (The
    # new event may wait on PostgreSQL for transactions of other tests on the server to end.)
    assert [(r.position, type(r.wrapped_event.event)) for r in delivered if r is not None] == [
        (shipped_position - 1, ParcelRegistered),
        (shipped_position, ParcelShipped),
    ]
    assert queued == [delivered_id]  # the published entry is gone, the new append is queued


# --- downgrades ---------------------------------------------------------------------------------


def test_downgrades_restore_the_upstream_schema_then_remove_everything(engine: Engine) -> None:
    migrate(engine, command.upgrade, FIRST_REVISION)
    upstream = schema(engine)
    write_upstream_rows(engine)
    migrate(engine, command.upgrade, HEAD)

    migrate(engine, command.downgrade, FIRST_REVISION)
    restored = schema(engine)
    with engine.connect() as connection:
        stream_uuid = connection.execute(text(f"SELECT uuid FROM {STREAMS}")).scalar_one()
        event_names = connection.execute(text(f"SELECT name FROM {EVENTS} ORDER BY id")).all()
    migrate(engine, command.downgrade, "base")

    assert restored == upstream
    assert current_revisions(engine) == set()
    assert table_names(engine) <= {"alembic_version"}
    assert stream_uuid in (STREAM.hex, uuid.UUID(STREAM.hex))  # hex again on MariaDB
    assert [name for (name,) in event_names] == [
        ParcelRegistered.__event_name__,
        ParcelShipped.__event_name__,
    ]


# --- next to an application's own migrations ----------------------------------------------------

APP_REVISION = '''"""An application table referring to the event store's streams."""

import sqlalchemy as sa
from alembic import op

revision = "app_0001"
down_revision = None
branch_labels = ("app",)
depends_on = "{depends_on}"


def upgrade() -> None:
    op.create_table(
        "parcels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("stream_id", sa.Integer(), sa.ForeignKey("event_sourcery_streams.id")),
    )


def downgrade() -> None:
    op.drop_table("parcels")
'''


def test_the_branch_runs_beside_the_application_history(sqlite: Engine, tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "app_0001_parcels.py").write_text(
        APP_REVISION.format(depends_on=HEAD_REVISION), encoding="utf-8"
    )
    config = alembic_config(versions)

    migrate(sqlite, command.upgrade, HEAD, config)
    assert current_revisions(sqlite) == {HEAD_REVISION}
    assert "parcels" not in table_names(sqlite)

    migrate(sqlite, command.upgrade, "heads", config)
    # Alembic records only the application head: the revision it depends on is implied.
    assert current_revisions(sqlite) == {"app_0001"}
    assert {*TABLES, "parcels"} <= table_names(sqlite)

    migrate(sqlite, command.downgrade, f"{BRANCH_LABEL}@base", config)
    assert current_revisions(sqlite) == set()  # the dependent application revision went first
    assert table_names(sqlite) == {"alembic_version"}


def table_names(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())
