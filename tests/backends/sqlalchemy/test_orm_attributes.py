"""The existing library's ORM attributes on the models (issue 9, point 4; SPEC §16.2).

Events are appended through the backend (Core statements), then read back with ORM queries on
the default models, on a SQLite file, PostgreSQL and MariaDB.
"""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import DeclarativeBase, Session, aliased
from sqlalchemy.pool import StaticPool

from event_sourcery import NO_VERSIONING, StreamId
from event_sourcery._core.stream_id import trusted_stream_id
from event_sourcery.event import WrappedEvent
from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models
from event_sourcery_sqlalchemy.models import (
    BaseEvent,
    DefaultEvent,
    DefaultSnapshot,
    DefaultStream,
)
from tests.backends.sqlalchemy.support import Posted, Summary

Stream = DefaultStream
EventRow = DefaultEvent
SnapshotRow = DefaultSnapshot


def streams_matching(session: Session, stream_id: StreamId) -> list[DefaultStream]:
    return list(session.scalars(select(Stream).where(Stream.stream_id == stream_id)))


def test_a_named_stream_is_found_by_its_id_with_and_without_the_name(
    backend: SQLAlchemyBackend, session: Session
) -> None:
    order = StreamId(name="orm-order-1", category="orders")
    backend.event_store.append(Posted(text="placed"), stream_id=order)
    backend.event_store.append(Posted(text="other"), stream_id=StreamId(category="orders"))
    session.commit()

    (stream,) = streams_matching(session, order)
    assert stream.stream_id == order
    assert (stream.stream_id.name, stream.stream_id.category) == ("orm-order-1", "orders")
    assert streams_matching(session, StreamId(uuid=order, category="orders")) == [stream]
    assert streams_matching(session, StreamId(uuid=order)) == []  # another category
    assert streams_matching(session, StreamId(uuid=order, category="invoices")) == []
    renamed = trusted_stream_id(order, "orm-order-2", "orders")  # same uuid, another name
    assert streams_matching(session, renamed) == []
    assert stream not in session.scalars(select(Stream).where(Stream.stream_id != order))
    assert session.scalars(select(Stream).where(Stream.stream_id != renamed)).all() != []


def test_a_stream_without_name_or_category(backend: SQLAlchemyBackend, session: Session) -> None:
    plain = StreamId()
    backend.event_store.append(Posted(text="x"), stream_id=plain)
    session.commit()

    (stream,) = streams_matching(session, plain)
    assert stream.category == ""
    assert stream.stream_id == plain
    assert (stream.stream_id.name, stream.stream_id.category) == (None, None)
    assert streams_matching(session, StreamId(uuid=plain, category="c")) == []
    # a named id does not find a stream stored without its name (as in the store's look-ups)
    late = StreamId(name=f"late-{uuid4()}")
    backend.event_store.append(Posted(text="y"), stream_id=StreamId(uuid=late))
    session.commit()
    assert streams_matching(session, late) == []
    assert len(streams_matching(session, StreamId(uuid=late))) == 1
    (unnamed,) = streams_matching(session, StreamId(uuid=late))
    assert unnamed in session.scalars(select(Stream).where(Stream.stream_id != late))


def test_events_and_snapshots_reach_their_stream_and_back(
    backend: SQLAlchemyBackend, session: Session
) -> None:
    ticket = StreamId(name="orm-ticket", category="tickets")
    store = backend.event_store
    store.append(Posted(text="1"), Posted(text="2"), stream_id=ticket)
    store.append(Posted(text="3"), stream_id=ticket, expected_version=2)
    store.save_snapshot(ticket, WrappedEvent.wrap(Summary(texts=["1", "2"]), 2))
    store.append(Posted(text="noise"), stream_id=StreamId(category="tickets"))
    session.commit()

    (stream,) = streams_matching(session, ticket)
    assert [(e.version, e.data["text"]) for e in stream.events] == [(1, "1"), (2, "2"), (3, "3")]
    assert [s.version for s in stream.snapshots] == [2]
    event = stream.events[0]
    assert event.stream is stream
    assert event.stream.stream_id == ticket
    assert event.stream_id == ticket
    assert event.tenant_id == ""
    (snapshot,) = session.scalars(select(SnapshotRow).where(SnapshotRow.stream_id == ticket))
    assert snapshot.stream is stream
    assert snapshot.stream_id == ticket

    by_id = select(EventRow).where(EventRow.stream_id == ticket).order_by(EventRow.version)
    assert list(session.scalars(by_id)) == stream.events
    joined = select(EventRow).join(EventRow.stream).where(Stream.stream_id == ticket)
    assert {e.id for e in session.scalars(joined)} == {e.id for e in stream.events}
    alias = aliased(Stream)
    assert session.scalars(select(alias).where(alias.stream_id == ticket)).all() == [stream]


def test_tenants_through_the_stream(backend: SQLAlchemyBackend, session: Session) -> None:
    shared = StreamId(name="orm-shared", category="accounts")
    backend.event_store.append(Posted(text="default"), stream_id=shared)
    backend.in_tenant_mode("acme").event_store.append(Posted(text="acme"), stream_id=shared)
    session.commit()

    (acme_event,) = session.scalars(select(EventRow).where(EventRow.tenant_id == "acme"))
    assert acme_event.data["text"] == "acme"
    assert acme_event.tenant_id == "acme"
    assert acme_event.stream_id == shared
    assert acme_event.stream.tenant_id == "acme"
    # stream_id does not compare the tenant: both tenants' streams match
    assert sorted(s.tenant_id for s in streams_matching(session, shared)) == ["", "acme"]
    in_acme = select(Stream).where(Stream.stream_id == shared, Stream.tenant_id == "acme")
    assert [s.events[0].data["text"] for s in session.scalars(in_acme)] == ["acme"]
    of_default = select(EventRow).where(EventRow.stream_id == shared, EventRow.tenant_id == "")
    assert [e.data["text"] for e in session.scalars(of_default)] == ["default"]


def test_events_of_a_versionless_stream_are_in_append_order(
    backend: SQLAlchemyBackend, session: Session
) -> None:
    log = StreamId(name="orm-log")
    for text in ("b", "a", "c"):
        backend.event_store.append(Posted(text=text), stream_id=log, expected_version=NO_VERSIONING)
    session.commit()

    (stream,) = streams_matching(session, log)
    assert [(e.version, e.data["text"]) for e in stream.events] == [
        (None, "b"),
        (None, "a"),
        (None, "c"),
    ]


def test_orm_objects_see_later_appends_once_expired(
    backend: SQLAlchemyBackend, session: Session
) -> None:
    """The store writes with Core statements: loaded collections refresh on expiry or commit."""
    cart = StreamId(name="orm-cart")
    backend.event_store.append(Posted(text="1"), stream_id=cart)
    (stream,) = streams_matching(session, cart)  # uncommitted: the session sees its own rows
    assert [e.version for e in stream.events] == [1]

    backend.event_store.append(Posted(text="2"), stream_id=cart, expected_version=1)
    session.commit()
    assert [e.version for e in stream.events] == [1, 2]
    assert stream.version == 2


def test_the_relationships_load_on_access_and_add_nothing_to_the_tables() -> None:
    for model, names in ((Stream, {"events", "snapshots"}), (EventRow, {"stream"})):
        relationships = inspect(model).relationships
        assert names <= set(relationships.keys())
        assert {relationships[name].lazy for name in names} == {"select"}
    proxies = {"stream", "stream_id", "tenant_id"}
    assert not {"events", "snapshots", "stream_id"} & set(inspect(Stream).columns.keys())
    assert not proxies & set(inspect(EventRow).columns.keys())
    assert not proxies & set(inspect(SnapshotRow).columns.keys())


def test_stream_id_compares_with_stream_ids_only() -> None:
    with pytest.raises(TypeError, match="StreamId"):
        Stream.stream_id == "orders-1"  # noqa: B015


def test_a_second_event_model_on_the_same_stream_model_links_one_way() -> None:
    """One stream model serves one event model's ``events``; others still reach the stream."""

    class LinkBase(DeclarativeBase):
        pass

    class AuditEvent(BaseEvent):
        __tablename__ = "orm_link_audit_events"

    first = configure_models(LinkBase)
    second = configure_models(LinkBase, event_model=AuditEvent)
    assert second.stream_model is first.stream_model
    engine = create_engine("sqlite://", poolclass=StaticPool)
    LinkBase.metadata.create_all(engine)
    with Session(engine) as session:
        stream_id = StreamId(name="linked")
        SQLAlchemyBackend().configure(session, custom_models=first).event_store.append(
            Posted(text="main"), stream_id=stream_id
        )
        SQLAlchemyBackend().configure(session, custom_models=second).event_store.append(
            Posted(text="audit"), stream_id=stream_id
        )
        session.commit()
        stream = session.scalars(
            select(first.stream_model).where(first.stream_model.stream_id == stream_id)
        ).one()
        (audit,) = session.scalars(select(AuditEvent))
        assert audit.stream is stream
        assert audit.stream_id == stream_id
        assert [e.data["text"] for e in stream.events] == ["main"]
