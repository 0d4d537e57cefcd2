"""Custom models: a backend on tables of its own, isolated from the default tables.

The custom classes are mapped by ``configure_models`` onto a declarative base of this module,
whose metadata (and tables) are separate from the contract suite's ``Base``: its
``drop_all``/``create_all``/``clean`` never see them. They are created on first use per database
and dropped at the end of the test session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import DeclarativeBase, Session

from event_sourcery import StreamId
from event_sourcery.event import Recorded, WrappedEvent
from event_sourcery_sqlalchemy import (
    BaseEvent,
    BaseOutboxEntry,
    BaseProjectorCursor,
    BaseSnapshot,
    BaseStream,
    Models,
    SQLAlchemyBackend,
    configure_models,
)
from tests.backends.sqlalchemy.support import (
    CONFIG,
    EVENTS,
    OUTBOX,
    STREAMS,
    Posted,
    Summary,
    committed,
    settled_position,
    texts,
)


class CustomBase(DeclarativeBase):
    """Holds only the custom tables."""


class CustomStream(BaseStream):
    __tablename__ = "custom_es_streams"


class CustomEvent(BaseEvent):
    __tablename__ = "custom_es_events"


class CustomSnapshot(BaseSnapshot):
    __tablename__ = "custom_es_snapshots"


class CustomOutboxEntry(BaseOutboxEntry):
    __tablename__ = "custom_es_outbox_entries"


class CustomProjectorCursor(BaseProjectorCursor):
    __tablename__ = "custom_es_projector_cursors"


configure_models(
    CustomBase,
    event_model=CustomEvent,
    stream_model=CustomStream,
    snapshot_model=CustomSnapshot,
    outbox_entry_model=CustomOutboxEntry,
    projector_cursor_model=CustomProjectorCursor,
)
CUSTOM = Models(
    event_model=CustomEvent,
    stream_model=CustomStream,
    snapshot_model=CustomSnapshot,
    outbox_entry_model=CustomOutboxEntry,
)
CUSTOM_STREAMS = CustomStream.__table__  # type: ignore[attr-defined]
CUSTOM_EVENTS = CustomEvent.__table__  # type: ignore[attr-defined]
CUSTOM_OUTBOX = CustomOutboxEntry.__table__  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def custom_schema() -> Iterator[Callable[[Engine], None]]:
    """Creates the custom tables once per database; drops them after the test session."""
    prepared: dict[str, Engine] = {}

    def prepare(engine: Engine) -> None:
        key = engine.url.render_as_string(hide_password=True)
        if key not in prepared:
            CustomBase.metadata.drop_all(engine)
            CustomBase.metadata.create_all(engine)
            prepared[key] = engine

    yield prepare
    for engine in prepared.values():
        CustomBase.metadata.drop_all(engine)


@pytest.fixture
def custom_tables(engine: Engine, custom_schema: Callable[[Engine], None]) -> Iterator[None]:
    custom_schema(engine)
    yield
    with engine.begin() as connection:
        for table in reversed(CustomBase.metadata.sorted_tables):
            connection.execute(delete(table))


@pytest.fixture
def custom(session: Session, custom_tables: None) -> SQLAlchemyBackend:
    """A backend on the custom tables, sharing the default backend's session."""
    return SQLAlchemyBackend().configure(session, CONFIG, custom_models=CUSTOM)


def test_the_same_stream_starts_at_version_one_in_default_and_custom_tables(
    backend: SQLAlchemyBackend, custom: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    stream_id = StreamId(name="shared", category="orders")
    backend.event_store.append(Posted(text="default 1"), stream_id=stream_id, expected_version=0)
    custom.event_store.append(Posted(text="custom 1"), stream_id=stream_id, expected_version=0)
    session.commit()

    backend.event_store.append(Posted(text="default 2"), stream_id=stream_id, expected_version=1)
    custom.event_store.append(Posted(text="custom 2"), stream_id=stream_id, expected_version=1)
    session.commit()

    assert texts(backend.event_store, stream_id) == [(1, "default 1"), (2, "default 2")]
    assert texts(custom.event_store, stream_id) == [(1, "custom 1"), (2, "custom 2")]
    assert [r.data["text"] for r in committed(engine, EVENTS)] == ["default 1", "default 2"]
    assert [r.data["text"] for r in committed(engine, CUSTOM_EVENTS)] == ["custom 1", "custom 2"]
    assert [r.version for r in committed(engine, STREAMS)] == [2]
    assert [r.version for r in committed(engine, CUSTOM_STREAMS)] == [2]


def test_snapshots_and_deletes_stay_in_their_own_tables(
    backend: SQLAlchemyBackend, custom: SQLAlchemyBackend, session: Session
) -> None:
    stream_id = StreamId()
    for store, who in ((backend.event_store, "default"), (custom.event_store, "custom")):
        store.append(Posted(text=f"{who} 1"), stream_id=stream_id)
    custom.event_store.save_snapshot(stream_id, WrappedEvent.wrap(Summary(texts=["c"]), 1))
    session.commit()

    assert texts(backend.event_store, stream_id) == [(1, "default 1")]
    assert texts(custom.event_store, stream_id) == [(1, "summary:c")]
    backend.event_store.delete_stream(stream_id)
    session.commit()

    assert texts(backend.event_store, stream_id) == []
    assert texts(custom.event_store, stream_id) == [(1, "summary:c")]


def test_each_backend_has_its_own_positions_and_outbox(
    backend: SQLAlchemyBackend, custom: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    backend.with_outbox().event_store.append(Posted(text="default"), stream_id=StreamId())
    custom.with_outbox().event_store.append(
        Posted(text="custom"), Posted(text="custom"), stream_id=StreamId()
    )
    session.commit()

    last_default, last_custom = (
        committed(engine, EVENTS)[-1].id,
        committed(engine, CUSTOM_EVENTS)[-1].id,
    )
    assert settled_position(backend.event_store, last_default) == last_default
    assert settled_position(custom.event_store, last_custom) == last_custom
    assert len(committed(engine, OUTBOX)) == 1
    assert len(committed(engine, CUSTOM_OUTBOX)) == 2
    published: list[Recorded] = []
    custom.outbox.run(published.append)
    session.commit()

    assert [r.wrapped_event.event for r in published] == [Posted(text="custom")] * 2
    assert [r.position for r in published] == [r.id for r in committed(engine, CUSTOM_EVENTS)]
    assert committed(engine, CUSTOM_OUTBOX) == []
    assert len(committed(engine, OUTBOX)) == 1


def test_a_subscription_of_the_custom_backend_reads_only_the_custom_tables(
    backend: SQLAlchemyBackend, custom: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    backend.event_store.append(Posted(text="default"), stream_id=StreamId(category="c"))
    custom.event_store.append(Posted(text="custom"), stream_id=StreamId(category="c"))
    session.commit()

    (record,) = next(custom.subscriber.start_from(0).to_category("c").build_batch(1, 10))

    assert record.wrapped_event.event == Posted(text="custom")
    assert record.position == committed(engine, CUSTOM_EVENTS)[0].id


def test_custom_models_have_the_orm_attributes(custom: SQLAlchemyBackend, session: Session) -> None:
    stream_id = StreamId(name="custom-orm", category="orders")
    custom.in_tenant_mode("acme").event_store.append(
        Posted(text="1"), Posted(text="2"), stream_id=stream_id
    )
    custom.in_tenant_mode("acme").event_store.save_snapshot(
        stream_id, WrappedEvent.wrap(Summary(texts=["1"]), 1)
    )
    session.commit()

    query = select(CustomStream).where(CustomStream.stream_id == stream_id)
    stream = session.scalars(query).one()
    assert stream.stream_id == stream_id
    assert [e.data["text"] for e in stream.events] == ["1", "2"]
    assert all(isinstance(e, CustomEvent) and e.stream is stream for e in stream.events)
    assert [(type(s), s.stream) for s in stream.snapshots] == [(CustomSnapshot, stream)]
    events = session.scalars(select(CustomEvent).where(CustomEvent.tenant_id == "acme")).all()
    assert [(e.stream_id, e.tenant_id) for e in events] == [(stream_id, "acme")] * 2
