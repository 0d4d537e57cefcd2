"""SPEC §2: stream identities (``StreamUUID``, ``StreamId``), their derivation and equality."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from uuid import UUID

import pytest

from event_sourcery import Event, EventStore, StreamId, StreamUUID
from event_sourcery.exceptions import EventStoreException, IncompatibleUuidAndName

NAMESPACE = UUID("3a24a3ee-d33d-4266-93ab-7d8e256a6d44")


class OtherNamespaceStreamUUID(StreamUUID):
    NAMESPACE = UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


class OtherNamespaceStreamId(StreamId):
    NAMESPACE = UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


class Noted(Event):
    note: str


# -- derivation ----------------------------------------------------------------------------------


def test_the_name_namespace_is_the_data_compatible_constant() -> None:
    assert StreamUUID.NAMESPACE == NAMESPACE
    assert StreamId.NAMESPACE == NAMESPACE


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("name", "7864c8b7-c5ce-5c1a-b92a-0e9b322daa24"),
        ("Test #1", "98d2202b-bab8-5b7f-b50b-a830761fad6e"),
        ("invoices/1003", "28151947-71f3-590d-8132-7f9cd7bb9adc"),
        ("x", "28ec4fe8-8b01-59e3-b6f5-984bcdccf561"),
    ],
)
def test_a_name_maps_to_the_documented_uuid5(name: str, expected: str) -> None:
    assert str(StreamUUID(name=name)) == expected
    assert str(StreamId(name=name)) == expected
    assert StreamId(name=name) == UUID(expected)


def test_ids_without_uuid_name_or_hex_are_random_and_differ() -> None:
    first, second = StreamUUID(), StreamId()
    assert first != second
    assert StreamId() != StreamId()
    assert first.version == 4
    assert second.version == 4
    assert first.name is None
    assert second.category is None


def test_an_id_from_a_uuid_equals_that_uuid() -> None:
    plain = uuid.uuid4()
    assert StreamUUID(uuid=plain) == plain
    assert StreamId(uuid=plain) == plain
    assert StreamId(plain).int == plain.int


def test_an_id_from_hex_equals_the_parsed_uuid() -> None:
    plain = uuid.uuid4()
    assert StreamUUID(from_hex=plain.hex) == plain
    assert StreamId(from_hex=plain.hex) == plain
    assert StreamId(from_hex=str(plain)) == plain


def test_an_explicit_uuid_wins_over_hex() -> None:
    chosen, ignored = uuid.uuid4(), uuid.uuid4()
    assert StreamId(uuid=chosen, from_hex=ignored.hex) == chosen


def test_a_name_wins_over_hex_which_is_silently_ignored() -> None:
    ignored = uuid.uuid4()
    stream_id = StreamId(name="invoices/1003", from_hex=ignored.hex)
    assert stream_id == UUID("28151947-71f3-590d-8132-7f9cd7bb9adc")
    assert stream_id.name == "invoices/1003"


def test_a_uuid_with_the_matching_name_is_accepted_and_keeps_the_name() -> None:
    derived = uuid.uuid5(NAMESPACE, "orders/7")
    stream_id = StreamId(uuid=derived, name="orders/7", category="orders")
    assert stream_id == derived
    assert stream_id.name == "orders/7"
    assert stream_id.category == "orders"


def test_a_uuid_with_a_non_matching_name_raises_incompatible_uuid_and_name() -> None:
    received = uuid.uuid4()
    with pytest.raises(IncompatibleUuidAndName) as caught:
        StreamId(uuid=received, name="orders/7")
    error = caught.value
    assert isinstance(error, EventStoreException)
    assert error.received == received
    assert error.expected == uuid.uuid5(NAMESPACE, "orders/7")
    assert error.name == "orders/7"
    assert error.args == (error.received, error.expected, error.name)


def test_a_stream_uuid_with_a_non_matching_name_raises_too() -> None:
    with pytest.raises(IncompatibleUuidAndName):
        StreamUUID(uuid=uuid.uuid4(), name="x")


def test_positional_arguments_are_uuid_name_hex_category() -> None:
    derived = uuid.uuid5(NAMESPACE, "carts/1")
    stream_id = StreamId(derived, "carts/1", None, "carts")
    assert stream_id == derived
    assert stream_id.name == "carts/1"
    assert stream_id.category == "carts"
    assert StreamUUID(None, None, derived.hex) == derived


def test_a_subclass_with_another_namespace_derives_other_ids() -> None:
    other_namespace = OtherNamespaceStreamId.NAMESPACE
    other = OtherNamespaceStreamId(name="name")
    assert other == uuid.uuid5(other_namespace, "name")
    assert other.int != StreamId(name="name").int
    assert OtherNamespaceStreamUUID(name="x") == uuid.uuid5(other_namespace, "x")


def test_a_subclass_rejects_the_default_namespace_uuid_for_a_name() -> None:
    default_derived = StreamId(name="name")
    with pytest.raises(IncompatibleUuidAndName) as caught:
        OtherNamespaceStreamId(uuid=default_derived, name="name")
    assert caught.value.expected == OtherNamespaceStreamId(name="name")


def test_stream_id_from_a_named_stream_uuid_does_not_copy_the_name() -> None:
    named = StreamUUID(name="carts/2")
    stream_id = StreamId(uuid=named)
    assert stream_id == named
    assert stream_id.name is None
    assert StreamId(uuid=named, name=named.name).name == "carts/2"


def test_ids_are_immutable() -> None:
    stream_id = StreamId(category="c")
    with pytest.raises((AttributeError, TypeError)):
        stream_id.category = "d"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        stream_id.name = "n"  # type: ignore[misc]
    assert stream_id.category == "c"
    assert stream_id.name is None


# -- text forms ----------------------------------------------------------------------------------


def test_str_and_hex_are_those_of_the_uuid() -> None:
    plain = uuid.uuid4()
    stream_id = StreamId(uuid=plain, category="c")
    assert str(stream_id) == str(plain)
    assert stream_id.hex == plain.hex
    assert len(stream_id.hex) == 32


def test_stream_uuid_repr_shows_hex_and_name() -> None:
    named = StreamUUID(name="x")
    assert repr(named) == "StreamUUID(hex=28ec4fe8-8b01-59e3-b6f5-984bcdccf561, name=x)"
    plain = uuid.uuid4()
    assert repr(StreamUUID(plain)) == f"StreamUUID(hex={plain}, name=None)"


def test_stream_id_repr_shows_hex_name_and_category() -> None:
    assert repr(StreamId(name="x", category="letters")) == (
        "StreamId(hex=28ec4fe8-8b01-59e3-b6f5-984bcdccf561, name=x, category=letters)"
    )
    plain = uuid.uuid4()
    assert repr(StreamId(plain)) == f"StreamId(hex={plain}, name=None, category=None)"


# -- equality and hashing ------------------------------------------------------------------------


def test_stream_uuids_compare_by_uuid_only_ignoring_the_name() -> None:
    named = StreamUUID(name="x")
    unnamed = StreamUUID(uuid=uuid.uuid5(NAMESPACE, "x"))
    assert named == unnamed
    assert hash(named) == hash(unnamed)


def test_stream_ids_with_the_same_uuid_and_category_are_equal_whatever_the_name() -> None:
    named = StreamId(name="x", category="c")
    unnamed = StreamId(uuid=uuid.uuid5(NAMESPACE, "x"), category="c")
    assert named == unnamed
    assert (named != unnamed) is False
    assert hash(named) == hash(unnamed)


def test_stream_ids_with_the_same_uuid_in_other_categories_differ() -> None:
    plain = uuid.uuid4()
    first, second = StreamId(plain, category="c1"), StreamId(plain, category="c2")
    assert first != second
    assert hash(first) != hash(second)
    assert len({first, second}) == 2


def test_category_none_and_empty_string_are_different_in_python_equality() -> None:
    plain = uuid.uuid4()
    assert StreamId(plain) != StreamId(plain, category="")
    assert StreamId(plain, category=None) == StreamId(plain)


def test_stream_ids_with_other_uuids_differ_even_in_one_category() -> None:
    assert StreamId(category="c") != StreamId(category="c")


def test_a_stream_id_compared_with_a_plain_uuid_compares_the_uuid_only() -> None:
    plain = uuid.uuid4()
    assert StreamId(plain, category="c") == plain
    assert plain == StreamId(plain, category="c")
    assert StreamId(plain) == StreamUUID(plain)
    assert StreamId(plain, category="c") != uuid.uuid4()


def test_stream_ids_work_as_dictionary_keys_per_uuid_and_category() -> None:
    plain = uuid.uuid4()
    table = {StreamId(plain, category="a"): 1, StreamId(plain, category="b"): 2}
    assert table[StreamId(plain, category="a")] == 1
    assert table[StreamId(plain, category="b")] == 2
    assert StreamId(plain) not in table


def test_stream_ids_are_uuids() -> None:
    stream_id = StreamId(name="x", category="c")
    assert isinstance(stream_id, UUID)
    assert isinstance(stream_id, StreamUUID)
    assert dataclasses.is_dataclass(stream_id)
    assert UUID(str(stream_id)) == stream_id


# -- the rules hold in storage -------------------------------------------------------------------


def test_ids_from_name_uuid_and_hex_address_the_same_stream(
    event_store: EventStore, commit: Callable[[], None]
) -> None:
    by_name = StreamId(name="ledgers/9", category="ledgers")
    event_store.append(Noted(note="first"), stream_id=by_name)
    commit()
    derived = uuid.uuid5(NAMESPACE, "ledgers/9")
    for same in (
        StreamId(uuid=derived, category="ledgers"),
        StreamId(from_hex=derived.hex, category="ledgers"),
        StreamId(name="ledgers/9", category="ledgers"),
    ):
        loaded = event_store.load_stream(same)
        assert [e.event for e in loaded] == [Noted(note="first")]
