"""Privacy markers (``DataSubject``, ``Encrypted``) and discovery of encrypted fields in a type."""

from __future__ import annotations

import dataclasses
import types
from collections import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ForwardRef, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel

from event_sourcery.exceptions import AmbiguousDataSubject, EncryptedFieldsUndiscoverable

LIST_ITEMS = "[]"
"""Path segment meaning "every item of this list"."""


class _DataSubjectMarker:
    def __repr__(self) -> str:
        return "DataSubject"


DataSubject: Any = _DataSubjectMarker()
"""Marks the field that identifies whose personal data an event holds:
``user_id: Annotated[str, DataSubject]``."""


@dataclass(frozen=True)
class Encrypted:
    """Marks a field whose value is encrypted with its data subject's key.

    ``mask_value`` is what the field reads as once the key is shredded; ``subject_field`` names
    another top-level field holding the subject id (default: the event's ``DataSubject`` field).
    """

    mask_value: Any
    subject_field: str | None = None


@dataclass(frozen=True)
class EncryptedField:
    """Where an encrypted value lives in an event's JSON data and how to read it back."""

    path: tuple[str, ...]
    marker: Encrypted
    text_only: bool
    """The field only accepts strings (so an old-format plaintext is kept verbatim)."""
    nullable: bool = False
    """The field also accepts ``None`` (so a ``null`` plaintext reads as ``None``)."""

    @property
    def dotted(self) -> str:
        return ".".join(self.path).replace(f".{LIST_ITEMS}", LIST_ITEMS)


@dataclass(frozen=True)
class PrivacyLayout:
    """The encrypted fields and the data-subject field of one event type."""

    fields: tuple[EncryptedField, ...]
    subject_field: str | None


def privacy_layout(model: type) -> PrivacyLayout:
    """Find the encrypted fields (recursively, with dotted paths) and the subject of ``model``."""
    subjects = [name for name, _, metadata in _fields_of(model) if DataSubject in metadata]
    if len(subjects) > 1:
        raise AmbiguousDataSubject(
            f"{model.__qualname__} marks {len(subjects)} fields as DataSubject "
            f"({', '.join(subjects)}); an event has at most one data subject"
        )
    return PrivacyLayout(
        fields=tuple(_encrypted_fields(model, (), frozenset())),
        subject_field=subjects[0] if subjects else None,
    )


def _encrypted_fields(
    model: type, prefix: tuple[str, ...], seen: frozenset[type]
) -> Iterator[EncryptedField]:
    for name, annotation, metadata in _fields_of(model, prefix):
        marker = next((m for m in metadata if isinstance(m, Encrypted)), None)
        if marker is not None:
            yield EncryptedField(
                (*prefix, name), marker, _accepts_only_text(annotation), _accepts_none(annotation)
            )
            continue
        path, nested = _nested_model((*prefix, name), annotation)
        if nested is not None and nested not in seen:
            yield from _encrypted_fields(nested, path, seen | {model})


def _fields_of(
    model: type, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, Any, tuple[Any, ...]]]:
    """(name, bare annotation, Annotated metadata) of each data field of a model or dataclass.

    ``EncryptedFieldsUndiscoverable`` when the hints cannot be resolved: an unresolved hint could
    hide an ``Encrypted`` marker, and missing one would store its value in plaintext.
    """
    if isinstance(model, type) and issubclass(model, BaseModel):
        if not model.__pydantic_complete__ and not _rebuild(model):
            raise EncryptedFieldsUndiscoverable(
                model, ".".join(path), "pydantic could not resolve its annotations"
            )
        for name, info in model.model_fields.items():
            if isinstance(info.annotation, (str, ForwardRef)):
                raise EncryptedFieldsUndiscoverable(
                    model, ".".join((*path, name)), f"unresolved {info.annotation!r}"
                )
            yield name, info.annotation, tuple(info.metadata)
        return
    if dataclasses.is_dataclass(model):
        try:
            hints = get_type_hints(model, include_extras=True)
        except Exception as error:
            raise EncryptedFieldsUndiscoverable(
                model, ".".join(path), f"{type(error).__name__}: {error}"
            ) from error
        for f in dataclasses.fields(model):
            bare, metadata = _split_annotated(hints.get(f.name, Any))
            yield f.name, bare, metadata


def _rebuild(model: type[BaseModel]) -> bool:
    """Let pydantic resolve forward references defined since the class (its own namespaces)."""
    return bool(model.model_rebuild(raise_errors=False))


def _split_annotated(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    if get_origin(annotation) is Annotated:
        args = get_args(annotation)
        return args[0], tuple(args[1:])
    return annotation, ()


def _nested_model(path: tuple[str, ...], annotation: Any) -> tuple[tuple[str, ...], type | None]:
    """The model class an annotation holds (through Optional, Annotated and lists), if any."""
    annotation, _ = _split_annotated(annotation)
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            return path, None
        return _nested_model(path, members[0])
    if origin in (list, tuple, set, frozenset, abc.Sequence, abc.MutableSequence):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        if len(args) != 1:
            return path, None
        return _nested_model((*path, LIST_ITEMS), args[0])
    if isinstance(annotation, type) and (
        issubclass(annotation, BaseModel) or dataclasses.is_dataclass(annotation)
    ):
        return path, annotation
    return path, None


def _accepts_none(annotation: Any) -> bool:
    annotation, _ = _split_annotated(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return type(None) in get_args(annotation)
    return annotation is None or annotation is type(None)


def _accepts_only_text(annotation: Any) -> bool:
    annotation, _ = _split_annotated(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return len(members) == 1 and _accepts_only_text(members[0])
    return annotation is str
