"""Event naming and the ``EventRegistry`` (SPEC §3.7).

Every ``Event`` subclass defined here stays in the global class tree, so names that a test makes
collide on purpose carry a ``unit-tests.registry.`` prefix no other test uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pytest
from pydantic import BaseModel

from event_sourcery._core.registry import event_name, inherited_name_owner
from event_sourcery.encryption import DataSubject, Encrypted
from event_sourcery.event import Event, EventRegistry
from event_sourcery.exceptions import (
    AmbiguousDataSubject,
    ClassModuleUnavailable,
    DuplicatedEvent,
    EncryptedFieldsUndiscoverable,
    EventNameInherited,
    UnknownEventName,
    UnregisteredEventType,
)


class Registered(Event):
    value: int = 0


class Named(Event):
    __event_name__ = "unit-tests.registry.Named"


class NamedParent(Event):
    __event_name__ = "unit-tests.registry.NamedParent"


class InheritsName(NamedParent):
    """Inherits ``__event_name__`` without setting its own."""


class RenamedChild(NamedParent):
    __event_name__ = "unit-tests.registry.RenamedChild"


class ClashA(Event):
    __event_name__ = "unit-tests.registry.clash"


class ClashB(Event):
    __event_name__ = "unit-tests.registry.clash"


class DiamondLeft(Event):
    pass


class DiamondRight(Event):
    pass


class Diamond(DiamondLeft, DiamondRight):
    """Reachable from ``Event`` along two paths."""


class Address(BaseModel):
    street: Annotated[str, Encrypted(mask_value="")]
    city: str


class Profile(Event):
    __event_name__ = "unit-tests.registry.Profile"

    user_id: Annotated[str, DataSubject]
    email: Annotated[str, Encrypted(mask_value="[REDACTED]")]
    phone: Annotated[str, Encrypted(mask_value="", subject_field="owner")]
    owner: str = ""
    address: Address
    previous: list[Address] = []


class NoSecrets(Event):
    __event_name__ = "unit-tests.registry.NoSecrets"

    note: str = ""


# --------------------------------------------------------------------------- naming


def test_the_default_name_is_module_and_qualified_class_name() -> None:
    assert event_name(Registered) == "tests.unit.test_registry.Registered"


def test_a_local_class_name_includes_the_function_locals_marker() -> None:
    class Local(BaseModel):
        pass

    assert event_name(Local) == (
        "tests.unit.test_registry."
        "test_a_local_class_name_includes_the_function_locals_marker.<locals>.Local"
    )


def test_event_name_attribute_wins_over_the_module_path() -> None:
    assert event_name(Named) == "unit-tests.registry.Named"


def test_an_empty_event_name_attribute_falls_back_to_the_module_path() -> None:
    class Empty(BaseModel):
        __event_name__ = ""

    assert event_name(Empty).endswith(".<locals>.Empty")


def test_an_inherited_event_name_counts_as_the_name() -> None:
    assert event_name(InheritsName) == "unit-tests.registry.NamedParent"
    assert inherited_name_owner(InheritsName) is NamedParent
    assert inherited_name_owner(NamedParent) is None
    assert inherited_name_owner(RenamedChild) is None
    assert inherited_name_owner(Registered) is None


def test_a_class_without_a_module_has_no_default_name() -> None:
    class Orphan(BaseModel):
        pass

    Orphan.__module__ = ""

    with pytest.raises(ClassModuleUnavailable):
        event_name(Orphan)


# --------------------------------------------------------------------------- registration


def test_a_new_registry_knows_every_event_class_defined_so_far() -> None:
    registry = EventRegistry()

    assert Registered in registry
    assert registry.name_for_type(Registered) == "tests.unit.test_registry.Registered"
    assert registry.type_for_name("unit-tests.registry.Named") is Named
    assert registry.type_for_name("unit-tests.registry.RenamedChild") is RenamedChild


def test_a_class_reachable_along_two_inheritance_paths_is_registered_once() -> None:
    registry = EventRegistry()

    assert Diamond in registry
    assert registry.type_for_name("tests.unit.test_registry.Diamond") is Diamond
    assert registry.type_for_name("tests.unit.test_registry.DiamondLeft") is DiamondLeft


def test_the_construction_scan_keeps_the_first_of_two_classes_sharing_a_name() -> None:
    registry = EventRegistry()

    assert registry.type_for_name("unit-tests.registry.clash") is ClashA
    assert ClashB not in registry


def test_add_returns_the_class_so_it_works_as_a_decorator() -> None:
    registry = EventRegistry()

    @registry.add
    class Decorated(BaseModel):
        __event_name__ = "unit-tests.registry.Decorated"

    assert registry.type_for_name("unit-tests.registry.Decorated") is Decorated
    assert registry.name_for_type(Decorated) == "unit-tests.registry.Decorated"


def test_adding_a_registered_type_again_is_a_duplicated_event() -> None:
    registry = EventRegistry()

    with pytest.raises(DuplicatedEvent, match="Duplicated Event detected"):
        registry.add(Registered)


def test_adding_another_type_under_a_taken_name_is_a_duplicated_event() -> None:
    registry = EventRegistry()

    class Impostor(BaseModel):
        __event_name__ = "unit-tests.registry.Named"

    with pytest.raises(DuplicatedEvent, match="Duplicated Event name detected") as caught:
        registry.add(Impostor)

    assert not isinstance(caught.value, EventNameInherited)
    assert Impostor not in registry
    assert registry.type_for_name("unit-tests.registry.Named") is Named


def test_a_plain_pydantic_model_can_be_registered_with_add() -> None:
    registry = EventRegistry()

    class Plain(BaseModel):
        __event_name__ = "unit-tests.registry.Plain"

    registry.add(Plain)

    assert registry.type_for_name("unit-tests.registry.Plain") is Plain
    assert registry.name_for_type(Plain) == "unit-tests.registry.Plain"


def test_a_plain_pydantic_model_that_was_not_added_is_unregistered() -> None:
    registry = EventRegistry()

    class NotAdded(BaseModel):
        pass

    with pytest.raises(UnregisteredEventType) as caught:
        registry.name_for_type(NotAdded)

    assert isinstance(caught.value, KeyError)
    assert caught.value.event_type is NotAdded
    assert "NotAdded" in str(caught.value)


def test_classes_defined_after_the_registry_are_found_lazily_by_type_and_by_name() -> None:
    registry = EventRegistry()

    class Later(Event):
        __event_name__ = "unit-tests.registry.Later"

    class LaterToo(Event):
        __event_name__ = "unit-tests.registry.LaterToo"

    assert Later not in registry
    assert registry.name_for_type(Later) == "unit-tests.registry.Later"
    assert registry.type_for_name("unit-tests.registry.LaterToo") is LaterToo


def test_a_class_defined_without_the_subclass_hook_is_registered_on_lookup() -> None:
    class Quiet(Event):
        __event_name__ = "unit-tests.registry.Quiet"

        def __init_subclass__(cls, **kwargs: object) -> None:
            pass  # does not call Event.__init_subclass__, so no rescan is triggered

    registry = EventRegistry()
    assert Quiet in registry

    class Silent(Quiet):
        __event_name__ = "unit-tests.registry.Silent"

    assert Silent not in registry
    assert registry.name_for_type(Silent) == "unit-tests.registry.Silent"
    assert registry.type_for_name("unit-tests.registry.Silent") is Silent


def test_encrypted_fields_of_a_later_event_class_are_found_lazily() -> None:
    registry = EventRegistry()

    class LateSecret(Event):
        __event_name__ = "unit-tests.registry.LateSecret"

        owner: Annotated[str, DataSubject]
        secret: Annotated[str, Encrypted(mask_value="")]

    assert registry.encrypted_fields(of=LateSecret) == {"secret": Encrypted(mask_value="")}
    assert registry.subject_filed("secret", of=LateSecret) == "owner"


def test_a_later_class_whose_name_is_taken_explains_why_it_is_unregistered() -> None:
    registry = EventRegistry()

    class LateClash(Event):
        __event_name__ = "unit-tests.registry.Named"

    with pytest.raises(UnregisteredEventType) as caught:
        registry.name_for_type(LateClash)

    assert isinstance(caught.value, KeyError)
    assert "Duplicated Event name detected" in str(caught.value)


def test_a_subclass_inheriting_the_event_name_gets_a_clear_error_on_lookup() -> None:
    registry = EventRegistry()

    with pytest.raises(EventNameInherited) as caught:
        registry.name_for_type(InheritsName)

    error = caught.value
    assert isinstance(error, DuplicatedEvent)
    assert isinstance(error, KeyError)
    assert "InheritsName" in str(error)
    assert "NamedParent" in str(error)
    assert "unit-tests.registry.NamedParent" in str(error)
    assert registry.type_for_name("unit-tests.registry.NamedParent") is NamedParent


def test_adding_a_subclass_that_inherits_the_event_name_is_an_event_name_inherited() -> None:
    registry = EventRegistry()

    with pytest.raises(EventNameInherited):
        registry.add(InheritsName)
    assert InheritsName not in registry


def test_a_subclass_with_its_own_event_name_is_a_separate_event() -> None:
    registry = EventRegistry()

    assert registry.name_for_type(RenamedChild) == "unit-tests.registry.RenamedChild"
    assert registry.name_for_type(NamedParent) == "unit-tests.registry.NamedParent"


def test_an_unknown_name_is_an_unknown_event_name_that_is_a_key_error() -> None:
    registry = EventRegistry()

    with pytest.raises(KeyError) as caught:
        registry.type_for_name("unit-tests.registry.NeverDefined")

    error = caught.value
    assert isinstance(error, UnknownEventName)
    assert error.name == "unit-tests.registry.NeverDefined"
    assert "unit-tests.registry.NeverDefined" in str(error)


def test_registries_are_independent() -> None:
    first, second = EventRegistry(), EventRegistry()

    @first.add
    class OnlyInFirst(BaseModel):
        __event_name__ = "unit-tests.registry.OnlyInFirst"

    assert OnlyInFirst in first
    assert OnlyInFirst not in second
    with pytest.raises(UnknownEventName):
        second.type_for_name("unit-tests.registry.OnlyInFirst")


def test_a_model_with_two_data_subjects_cannot_be_registered() -> None:
    registry = EventRegistry()

    class TwoSubjects(BaseModel):
        a: Annotated[str, DataSubject]
        b: Annotated[str, DataSubject]

    with pytest.raises(AmbiguousDataSubject):
        registry.add(TwoSubjects)
    assert TwoSubjects not in registry


def test_an_event_whose_encrypted_fields_cannot_be_discovered_is_not_registered() -> None:
    registry = EventRegistry()
    Secret = Annotated[str, Encrypted(mask_value="?")]  # named by a string

    @dataclass
    class HiddenCard:
        number: Secret

    class PaidWithHiddenCard(Event):
        card: HiddenCard

    with pytest.raises(EncryptedFieldsUndiscoverable):
        registry.add(PaidWithHiddenCard)
    assert PaidWithHiddenCard not in registry
    with pytest.raises(EncryptedFieldsUndiscoverable):
        registry.name_for_type(PaidWithHiddenCard)


# --------------------------------------------------------------------------- privacy metadata


def test_encrypted_fields_are_listed_by_dotted_path() -> None:
    registry = EventRegistry()

    fields = registry.encrypted_fields(of=Profile)

    assert fields == {
        "email": Encrypted(mask_value="[REDACTED]"),
        "phone": Encrypted(mask_value="", subject_field="owner"),
        "address.street": Encrypted(mask_value=""),
        "previous[].street": Encrypted(mask_value=""),
    }


def test_an_event_without_encrypted_fields_has_none() -> None:
    registry = EventRegistry()

    assert registry.encrypted_fields(of=NoSecrets) == {}
    assert registry.privacy_layout(NoSecrets).subject_field is None
    assert registry.subject_filed("note", of=NoSecrets) is None


def test_encrypted_fields_of_an_unregistered_type_is_a_key_error() -> None:
    registry = EventRegistry()

    class Unregistered(BaseModel):
        secret: Annotated[str, Encrypted(mask_value="")]

    with pytest.raises(KeyError):
        registry.encrypted_fields(of=Unregistered)


def test_subject_field_is_the_fields_own_then_the_data_subject() -> None:
    registry = EventRegistry()

    assert registry.subject_filed("phone", of=Profile) == "owner"
    assert registry.subject_filed("email", of=Profile) == "user_id"
    assert registry.subject_filed("address.street", of=Profile) == "user_id"
    assert registry.privacy_layout(Profile).subject_field == "user_id"
