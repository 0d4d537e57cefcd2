"""Discovery of ``Encrypted`` fields and the ``DataSubject`` of a type (SPEC §12.1-12.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Optional, Union

import pytest
from pydantic import BaseModel

from event_sourcery._core.encrypted_fields import EncryptedField, privacy_layout
from event_sourcery.encryption import DataSubject, Encrypted
from event_sourcery.exceptions import (
    AmbiguousDataSubject,
    EncryptedFieldsUndiscoverable,
    PrivacyError,
)

SECRET = Encrypted(mask_value="?")


def paths(model: type) -> dict[str, EncryptedField]:
    return {f.dotted: f for f in privacy_layout(model).fields}


class Leaf(BaseModel):
    code: Annotated[str, SECRET]
    public: int = 0


@dataclass
class LeafPoint:
    x: Annotated[int, Encrypted(mask_value=0)]
    y: int = 0


@dataclass
class Wrapper:
    point: LeafPoint


class Node(BaseModel):
    code: Annotated[str, SECRET]
    child: Node | None = None


def test_top_level_annotated_fields_are_encrypted_whole() -> None:
    class Model(BaseModel):
        text: Annotated[str, SECRET]
        number: Annotated[int, Encrypted(mask_value=0)]
        plain: str

    found = paths(Model)

    assert set(found) == {"text", "number"}
    assert found["text"].path == ("text",)
    assert found["text"].marker is SECRET


def test_text_only_and_nullable_describe_what_the_field_accepts() -> None:
    class Model(BaseModel):
        text: Annotated[str, SECRET]
        maybe_text: Annotated[Optional[str], SECRET]  # noqa: UP045 (typing.Union form)
        union_text: Annotated[str | None, SECRET]
        number: Annotated[int, SECRET]
        maybe_number: Annotated[int | None, SECRET]
        either: Annotated[Union[str, int], SECRET]  # noqa: UP007 (typing.Union form)

    found = paths(Model)

    assert (found["text"].text_only, found["text"].nullable) == (True, False)
    assert (found["maybe_text"].text_only, found["maybe_text"].nullable) == (True, True)
    assert (found["union_text"].text_only, found["union_text"].nullable) == (True, True)
    assert (found["number"].text_only, found["number"].nullable) == (False, False)
    assert (found["maybe_number"].text_only, found["maybe_number"].nullable) == (False, True)
    assert (found["either"].text_only, found["either"].nullable) == (False, False)


def test_nested_models_and_dataclasses_are_recursed_with_dotted_paths() -> None:
    class Model(BaseModel):
        leaf: Leaf
        point: LeafPoint
        wrapper: Wrapper

    assert set(paths(Model)) == {"leaf.code", "point.x", "wrapper.point.x"}
    assert paths(Model)["wrapper.point.x"].path == ("wrapper", "point", "x")


def test_optional_annotated_and_sequence_nesting_is_recursed() -> None:
    class Model(BaseModel):
        maybe: Optional[Leaf] = None  # noqa: UP045 (typing.Union form)
        union_maybe: Leaf | None = None
        annotated: Annotated[Leaf, "just metadata"]
        items: list[Leaf] = []
        tuples: tuple[Leaf, ...] = ()
        nested_lists: list[list[LeafPoint]] = []
        optional_list: list[Leaf] | None = None

    assert set(paths(Model)) == {
        "maybe.code",
        "union_maybe.code",
        "annotated.code",
        "items[].code",
        "tuples[].code",
        "nested_lists[][].x",
        "optional_list[].code",
    }
    assert paths(Model)["items[].code"].path == ("items", "[]", "code")


def test_dicts_and_ambiguous_unions_are_not_recursed() -> None:
    class Other(BaseModel):
        secret: Annotated[str, SECRET]

    class Model(BaseModel):
        by_key: dict[str, Leaf] = {}
        either: Union[Leaf, Other, None] = None  # noqa: UP007 (typing.Union form)
        pair: tuple[Leaf, Other] | None = None
        anything: Any = None

    assert paths(Model) == {}


def test_an_encrypted_model_field_is_encrypted_whole_and_not_recursed() -> None:
    class Model(BaseModel):
        leaf: Annotated[Leaf, Encrypted(mask_value=None)]

    assert set(paths(Model)) == {"leaf"}


def test_self_referencing_models_are_recursed_once() -> None:
    assert set(paths(Node)) == {"code", "child.code"}


def test_dataclass_top_level_fields_and_subjects_are_found() -> None:
    @dataclass
    class Record:
        owner: Annotated[str, DataSubject]
        secret: Annotated[str, SECRET]

    layout = privacy_layout(Record)

    assert layout.subject_field == "owner"
    assert [f.dotted for f in layout.fields] == ["secret"]


def test_a_dataclass_with_unresolvable_annotations_cannot_be_discovered() -> None:
    @dataclass
    class Broken:
        x: UndefinedName  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(EncryptedFieldsUndiscoverable) as caught:
        privacy_layout(Broken)

    assert isinstance(caught.value, PrivacyError)
    assert isinstance(caught.value, TypeError)
    assert caught.value.model is Broken
    assert "Broken" in str(caught.value)
    assert "UndefinedName" in str(caught.value)


def _event_with_a_local_encrypted_alias() -> tuple[type[BaseModel], type]:
    Secret = Annotated[str, Encrypted(mask_value="?")]  # only a string annotation

    @dataclass
    class LocalCard:
        number: Secret

    class Paid(BaseModel):
        card: LocalCard

    return Paid, LocalCard


def test_a_nested_dataclass_naming_a_local_alias_is_never_taken_as_plain() -> None:
    paid, card = _event_with_a_local_encrypted_alias()

    with pytest.raises(EncryptedFieldsUndiscoverable) as caught:
        privacy_layout(paid)

    assert caught.value.model is card
    assert "card" in str(caught.value)


def test_a_model_whose_forward_reference_is_unresolved_cannot_be_discovered() -> None:
    class Pending(BaseModel):
        later: NotYetDefined  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(EncryptedFieldsUndiscoverable):
        privacy_layout(Pending)


def test_a_model_whose_forward_reference_resolves_later_is_rebuilt() -> None:
    assert set(paths(Later)) == {"leaf.code"}


class Later(BaseModel):
    leaf: LaterLeaf


class LaterLeaf(BaseModel):
    code: Annotated[str, SECRET]


def test_resolvable_nested_dataclasses_without_markers_are_plain() -> None:
    @dataclass
    class Plain:
        x: int
        y: list[str]

    class Model(BaseModel):
        plain: Plain

    assert privacy_layout(Model).fields == ()


def test_types_that_are_neither_models_nor_dataclasses_have_no_fields() -> None:
    assert privacy_layout(int).fields == ()
    assert privacy_layout(int).subject_field is None


def test_the_data_subject_is_the_marked_top_level_field() -> None:
    class Model(BaseModel):
        note: str
        user: Annotated[str, DataSubject]
        inner: Leaf

    assert privacy_layout(Model).subject_field == "user"


def test_no_data_subject_gives_none() -> None:
    assert privacy_layout(Leaf).subject_field is None


def test_two_data_subjects_are_ambiguous() -> None:
    class Model(BaseModel):
        first: Annotated[str, DataSubject]
        second: Annotated[int, DataSubject]

    with pytest.raises(AmbiguousDataSubject) as caught:
        privacy_layout(Model)

    assert isinstance(caught.value, PrivacyError)
    assert isinstance(caught.value, TypeError)
    assert "first" in str(caught.value)
    assert "second" in str(caught.value)


def test_the_data_subject_marker_has_a_readable_repr() -> None:
    assert repr(DataSubject) == "DataSubject"


def test_encrypted_is_a_frozen_value() -> None:
    marker = Encrypted(mask_value="x", subject_field="owner")

    assert marker == Encrypted("x", "owner")
    assert hash(marker) == hash(Encrypted("x", "owner"))
    with pytest.raises(AttributeError):
        marker.mask_value = "y"  # type: ignore[misc]
