"""Using the SQLAlchemy backend before ``configure_models``: ``ModelsNotConfigured`` (issue 9).

The default models are mapped once per process (the test suite maps them onto its own base), so
the newcomer's case, a fresh process that never called ``configure_models``, runs in a
subprocess. Custom models that were never passed to ``configure_models`` are unmapped here too.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from event_sourcery.exceptions import ModelsNotConfigured, NoProviderConfigured
from event_sourcery_sqlalchemy import BaseOutboxEntry, BaseStream, Models, SQLAlchemyBackend
from event_sourcery_sqlalchemy.cursors_dao import SqlAlchemyCursorsDao
from event_sourcery_sqlalchemy.models import BaseProjectorCursor

ROOT = Path(__file__).resolve().parents[3]


class UnmappedStream(BaseStream):
    """A custom model never passed to ``configure_models``."""

    __tablename__ = "unmapped_streams"


class UnmappedOutboxEntry(BaseOutboxEntry):
    __tablename__ = "unmapped_outbox"


class UnmappedCursor(BaseProjectorCursor):
    __tablename__ = "unmapped_cursors"


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        yield session
    engine.dispose()


def assert_names_configure_models(error: ModelsNotConfigured, model: str) -> None:
    assert isinstance(error, NoProviderConfigured)
    assert isinstance(error, AttributeError)
    assert "event_sourcery_sqlalchemy.configure_models(Base)" in str(error)
    assert model in str(error)


@pytest.mark.parametrize(
    "use",
    [
        lambda backend: backend.event_store,
        lambda backend: backend.subscriber,
    ],
    ids=["event_store", "subscriber"],
)
def test_an_unmapped_custom_stream_model_raises_models_not_configured(
    session: Session, use: Callable[[SQLAlchemyBackend], object]
) -> None:
    backend = SQLAlchemyBackend().configure(
        session, custom_models=Models(stream_model=UnmappedStream)
    )

    with pytest.raises(ModelsNotConfigured) as caught:
        use(backend)

    assert_names_configure_models(caught.value, "UnmappedStream")
    assert not session.in_transaction()


def test_an_unmapped_outbox_model_raises_models_not_configured(session: Session) -> None:
    models = Models(outbox_entry_model=UnmappedOutboxEntry)
    backend = SQLAlchemyBackend().configure(session, custom_models=models).with_outbox()

    with pytest.raises(ModelsNotConfigured) as caught:
        backend.outbox  # noqa: B018

    assert_names_configure_models(caught.value, "UnmappedOutboxEntry")


def test_an_unmapped_cursor_model_raises_models_not_configured(session: Session) -> None:
    with pytest.raises(ModelsNotConfigured) as caught:
        SqlAlchemyCursorsDao(session, UnmappedCursor)

    assert_names_configure_models(caught.value, "UnmappedCursor")


NEWCOMER = """
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Session

from event_sourcery import Event, StreamId
from event_sourcery.exceptions import ModelsNotConfigured
from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models


class Placed(Event):
    n: int


engine = create_engine("sqlite://")
session = Session(engine)
backend = SQLAlchemyBackend().configure(session)  # before configure_models: allowed
for use in ("event_store", "subscriber", "outbox"):
    try:
        getattr(backend.with_outbox(), use)
    except ModelsNotConfigured as error:
        assert isinstance(error, AttributeError), type(error).__mro__
        print(use, "->", error)
    else:
        raise AssertionError(f"{use} did not raise")
assert not session.in_transaction()


class Base(DeclarativeBase):
    pass


configure_models(Base)
Base.metadata.create_all(engine)
backend.event_store.append(Placed(n=1), stream_id=StreamId(name="late"))
print("after configure_models:", len(backend.event_store.load_stream(StreamId(name="late"))))
"""


def test_the_default_models_before_configure_models_raise_models_not_configured() -> None:
    """A fresh process: every use says to call ``configure_models``; afterwards it works."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(NEWCOMER)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(" -> ")[0] for line in lines[:3]] == ["event_store", "subscriber", "outbox"]
    for line in lines[:3]:
        assert "is not mapped to a table" in line
        assert "event_sourcery_sqlalchemy.configure_models(Base)" in line
    assert lines[3] == "after configure_models: 1"
