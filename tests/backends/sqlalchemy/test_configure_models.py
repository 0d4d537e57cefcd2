"""``configure_models`` on a second declarative base in the same process (SPEC §19.2 item 11)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import StaticPool

from event_sourcery import StreamId
from event_sourcery.event import WrappedEvent
from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models
from event_sourcery_sqlalchemy.models import BaseEvent, DefaultEvent, DefaultStream
from tests.backends.sqlalchemy.support import Posted


class SecondBase(DeclarativeBase):
    """Another application's base, in the process where the test suite mapped the defaults."""


def test_default_models_can_serve_a_second_declarative_base() -> None:
    models = configure_models(SecondBase)

    assert inspect(DefaultEvent).registry is not SecondBase.registry  # mapped elsewhere first
    assert models.event_model is not DefaultEvent
    assert models.event_model.__tablename__ == DefaultEvent.__tablename__
    assert models.event_model.__table__.metadata is SecondBase.metadata  # type: ignore[attr-defined]
    assert set(SecondBase.metadata.tables) == {
        "event_sourcery_streams",
        "event_sourcery_events",
        "event_sourcery_events_deleted",
        "event_sourcery_snapshots",
        "event_sourcery_outbox_entries",
        "event_sourcery_projector_cursors",
    }
    assert configure_models(SecondBase) == models  # idempotent

    engine = create_engine("sqlite://", poolclass=StaticPool)
    SecondBase.metadata.create_all(engine)
    with Session(engine) as session:
        backend = SQLAlchemyBackend().configure(session, custom_models=models)
        stream_id = StreamId(name="second/1")
        backend.event_store.append(Posted(text="hello"), stream_id=stream_id)
        session.commit()
        loaded = backend.event_store.load_stream(stream_id)
    assert [(e.version, e.event) for e in loaded] == [(1, Posted(text="hello"))]
    assert isinstance(loaded[0], WrappedEvent)
    assert models.stream_model is not DefaultStream


def test_a_custom_model_mapped_onto_another_base_is_a_clear_error() -> None:
    class Third(DeclarativeBase):
        pass

    class OwnEvent(BaseEvent):
        __tablename__ = "own_events"

    configure_models(SecondBase, event_model=OwnEvent)
    with pytest.raises(ValueError, match="already mapped onto another declarative base"):
        configure_models(Third, event_model=OwnEvent)
