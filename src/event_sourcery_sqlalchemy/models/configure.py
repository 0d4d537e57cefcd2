"""``configure_models``: map the model classes onto a declarative base's metadata."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import MetaData, inspect
from sqlalchemy.exc import NoInspectionAvailable

from event_sourcery_sqlalchemy.models.base import (
    BaseEvent,
    BaseOutboxEntry,
    BaseProjectorCursor,
    BaseSnapshot,
    BaseStream,
)
from event_sourcery_sqlalchemy.models.default import (
    DefaultEvent,
    DefaultOutboxEntry,
    DefaultProjectorCursor,
    DefaultSnapshot,
    DefaultStream,
)


class BaseProto(Protocol):
    """A declarative base: anything with ``metadata`` (and a ``registry``)."""

    metadata: MetaData


def configure_models(
    base: Any,
    event_model: type[BaseEvent] = DefaultEvent,
    stream_model: type[BaseStream] = DefaultStream,
    snapshot_model: type[BaseSnapshot] = DefaultSnapshot,
    outbox_entry_model: type[BaseOutboxEntry] = DefaultOutboxEntry,
    projector_cursor_model: type[BaseProjectorCursor] = DefaultProjectorCursor,
) -> None:
    """Link the models and map them onto ``base.metadata`` (classes already mapped are kept).

    Works with ``DeclarativeBase`` subclasses and ``declarative_base()`` bases. A class can be
    mapped once per process, so the default models live in one metadata; use subclasses with
    their own ``__tablename__`` for a second set of tables.
    """
    event_model.__stream_model__ = stream_model
    snapshot_model.__stream_model__ = stream_model
    for model in (
        stream_model,
        event_model,
        snapshot_model,
        outbox_entry_model,
        projector_cursor_model,
    ):
        if not _is_mapped(model):
            base.registry.map_declaratively(model)


def _is_mapped(model: type) -> bool:
    try:
        inspect(model)
    except NoInspectionAvailable:
        return False
    return True
