"""``configure_models``: map the model classes onto a declarative base's metadata."""

from __future__ import annotations

import weakref
from typing import Any, Protocol, TypeVar

from sqlalchemy import MetaData, inspect
from sqlalchemy.exc import NoInspectionAvailable
from sqlalchemy.orm import Mapper, relationship

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
from event_sourcery_sqlalchemy.models_set import Models

T = TypeVar("T")


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
) -> Models:
    """Map the models onto ``base.metadata``, link them and return them as ``Models``.

    The links are ORM relationships for queries of your own: ``stream`` on events and
    snapshots, ``events`` and ``snapshots`` on streams (loaded on access); they add no columns.

    Works with ``DeclarativeBase`` subclasses and ``declarative_base()`` bases. A class can be
    mapped only once, so when a ``Default*`` model is already mapped onto another base, this base
    gets its own copy of it (same table name): pass the returned ``Models`` to
    ``SQLAlchemyBackend().configure(session, custom_models=...)`` for that base's tables. A custom
    model mapped onto another base is an error.
    """
    registry = base.registry
    stream = _mapped_on(registry, stream_model, BaseStream, {})
    linked = {"__stream_model__": stream}
    event = _mapped_on(registry, event_model, BaseEvent, linked)
    snapshot = _mapped_on(registry, snapshot_model, BaseSnapshot, linked)
    _link(stream, event, "events", ("version", "id"))
    _link(stream, snapshot, "snapshots", ("version", "created_at"))
    return Models(
        stream_model=stream,
        event_model=event,
        snapshot_model=snapshot,
        outbox_entry_model=_mapped_on(registry, outbox_entry_model, BaseOutboxEntry, {}),
        projector_cursor_model=_mapped_on(
            registry, projector_cursor_model, BaseProjectorCursor, {}
        ),
    )


_DEFAULTS = (
    DefaultEvent,
    DefaultStream,
    DefaultSnapshot,
    DefaultOutboxEntry,
    DefaultProjectorCursor,
)


_copies: weakref.WeakKeyDictionary[Any, dict[type, type]] = weakref.WeakKeyDictionary()
"""Per registry, its copies of default models (registries keep mapped classes only weakly)."""


def _mapped_on(registry: Any, model: type[T], mixin: type, links: dict[str, Any]) -> type[T]:
    """``model`` mapped onto ``registry`` (a copy of a default model mapped elsewhere)."""
    if not _is_mapped(model):
        for name, value in links.items():
            setattr(model, name, value)
        registry.map_declaratively(model)
        return model
    if inspect(model).registry is registry:
        return model
    copies = _copies.setdefault(registry, {})
    if model in copies:  # configured before: this base's copy
        return copies[model]
    if model not in _DEFAULTS:
        raise ValueError(
            f"{model.__qualname__} is already mapped onto another declarative base; "
            "define a subclass of the Base* mixin for this one"
        )
    attributes = {
        "__tablename__": model.__tablename__,  # type: ignore[attr-defined]
        "__module__": model.__module__,
        "__qualname__": model.__qualname__,
        **links,
    }
    copy: type[T] = type(model.__name__, (mixin,), attributes)
    registry.map_declaratively(copy)
    copies[model] = copy
    return copy


def _link(stream: type, child: type, collection: str, order_by: tuple[str, ...]) -> None:
    """Relate ``child.stream`` and ``stream.<collection>`` (once; configuring again is a no-op).

    A stream model serves one event and one snapshot model with its collections; a further
    child model sharing that stream table gets a one-way ``stream`` relationship.
    """
    child_mapper: Mapper[Any] = inspect(child)
    if child_mapper.has_property("stream"):
        return
    stream_mapper: Mapper[Any] = inspect(stream)
    if stream_mapper.has_property(collection):
        child_mapper.add_property("stream", relationship(stream))
        return
    columns = child.__table__.c  # type: ignore[attr-defined]
    ordered = [columns[name] for name in order_by]
    stream_mapper.add_property(
        collection, relationship(child, back_populates="stream", order_by=ordered, lazy="select")
    )
    child_mapper.add_property(
        "stream", relationship(stream, back_populates=collection, lazy="select")
    )


def _is_mapped(model: type) -> bool:
    try:
        inspect(model)
    except NoInspectionAvailable:
        return False
    return True
