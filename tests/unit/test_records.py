"""The event data model (SPEC §3.1-3.6) and stream identities (§2)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4, uuid5

import pytest
from pydantic import TypeAdapter, ValidationError

from event_sourcery import StreamId, StreamUUID
from event_sourcery._core.records import event_class_generation, replace_version
from event_sourcery._core.stream_id import trusted_stream_id
from event_sourcery._event_store.event.dto import Context as CompatContext
from event_sourcery.event import (
    Context,
    Entry,
    Event,
    RawEvent,
    Recorded,
    RecordedRaw,
    WrappedEvent,
)
from event_sourcery.exceptions import IllegalCategoryName, IncompatibleUuidAndName


class Happened(Event):
    __event_name__ = "unit-tests.records.Happened"

    what: str = "it"


class UserContext(Context):
    user_id: int | None = None


# --------------------------------------------------------------------------- Event and Context


def test_events_reject_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        Happened(what="x", extra=1)  # type: ignore[call-arg]


def test_defining_an_event_class_bumps_the_class_generation() -> None:
    before = event_class_generation()

    class Fresh(Event):
        pass

    assert event_class_generation() > before


def test_context_dumps_uuids_as_text_and_components_as_json() -> None:
    correlation = uuid4()
    context = Context(correlation_id=correlation, components={"app": {"user": "alice", "n": 2}})

    dumped = context.model_dump(mode="json")

    assert dumped == {
        "correlation_id": str(correlation),
        "causation_id": None,
        "components": {"app": {"user": "alice", "n": 2}},
    }
    restored = Context(**dumped)
    assert restored.correlation_id == correlation
    assert restored == context


def test_context_rejects_unknown_root_keywords() -> None:
    with pytest.raises(ValidationError, match="user"):
        Context(correlation_id=uuid4(), user="alice")  # type: ignore[call-arg]


def test_the_private_context_path_is_an_alias_of_the_public_one() -> None:
    assert CompatContext is Context


# --------------------------------------------------------------------------- WrappedEvent


def test_wrapped_event_needs_a_version() -> None:
    with pytest.raises(TypeError):
        WrappedEvent(event=Happened())  # type: ignore[call-arg]


def test_wrapped_event_rejects_unknown_keywords() -> None:
    with pytest.raises(TypeError):
        WrappedEvent(event=Happened(), version=1, stream="s")  # type: ignore[call-arg]


def test_wrapped_event_defaults_to_a_new_uuid_naive_utc_now_and_an_empty_context() -> None:
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    first = WrappedEvent(event=Happened(), version=1)
    second = WrappedEvent(Happened(), None)
    after = datetime.now(timezone.utc).replace(tzinfo=None)

    assert isinstance(first.uuid, UUID)
    assert first.uuid.version == 4
    assert first.uuid != second.uuid
    assert first.created_at.tzinfo is None
    assert before <= first.created_at <= after
    assert first.context == Context()
    assert first.context is not second.context


def test_wrap_gives_a_fresh_envelope_and_keeps_a_given_context() -> None:
    context = Context(correlation_id=uuid4())

    plain = WrappedEvent.wrap(Happened(), 3)
    with_context = WrappedEvent.wrap(Happened(), None, context)

    assert plain.version == 3
    assert plain.context == Context()
    assert with_context.context is context
    assert with_context.version is None


def test_wrapped_events_are_mutable_and_compare_by_every_field() -> None:
    event = WrappedEvent.wrap(Happened(what="a"), 1)
    twin = dataclasses.replace(event)

    assert twin == event
    twin.version = 2
    assert twin != event
    assert replace_version(event, 2) == twin
    assert dataclasses.replace(event, event=Happened(what="b")) != event
    assert dataclasses.replace(event, uuid=uuid4()) != event
    assert dataclasses.replace(event, created_at=event.created_at + timedelta(1)) != event
    assert dataclasses.replace(event, context=Context(correlation_id=uuid4())) != event


def test_get_context_revalidates_the_context_as_the_given_type() -> None:
    correlation = uuid4()
    event = WrappedEvent.wrap(Happened(), 1, UserContext(user_id=7, correlation_id=correlation))

    typed = event.get_context(UserContext)
    plain = event.get_context(Context)

    assert isinstance(typed, UserContext)
    assert typed.user_id == 7
    assert typed.correlation_id == correlation
    assert type(plain) is Context
    assert plain.correlation_id == correlation


def test_a_pydantic_type_adapter_can_dump_wrapped_events() -> None:
    event = WrappedEvent.wrap(Happened(what="dumped"), 4, Context(correlation_id=uuid4()))

    generic = TypeAdapter(WrappedEvent[Event]).dump_python(event, serialize_as_any=True)
    specific = TypeAdapter(WrappedEvent[Happened]).dump_python(event, mode="json")

    assert generic["event"] == {"what": "dumped"}
    assert generic["version"] == 4
    assert generic["uuid"] == event.uuid
    assert specific["event"] == {"what": "dumped"}
    assert specific["created_at"] == event.created_at.isoformat()
    assert specific["context"]["correlation_id"] == str(event.context.correlation_id)


# --------------------------------------------------------------------------- storage records


def raw(**overrides: Any) -> RawEvent:
    fields: dict[str, Any] = {
        "uuid": uuid4(),
        "stream_id": StreamId(),
        "created_at": datetime(2024, 1, 1),
        "name": "unit-tests.records.Happened",
        "data": {"what": "it"},
        "context": {},
    }
    return RawEvent(**{**fields, **overrides})


def test_raw_event_is_frozen_and_version_defaults_to_none() -> None:
    record = raw()

    assert record.version is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.name = "other"  # type: ignore[misc]


def test_recorded_raw_defaults_to_the_default_tenant() -> None:
    assert RecordedRaw(entry=raw(), position=1).tenant_id == ""


def test_recorded_extends_entry_with_position_and_tenant_in_that_order() -> None:
    wrapped = WrappedEvent.wrap(Happened(), 1)
    stream_id = StreamId()

    record = Recorded(wrapped, stream_id, 5, "acme")

    assert isinstance(record, Entry)
    assert (record.wrapped_event, record.stream_id) == (wrapped, stream_id)
    assert (record.position, record.tenant_id) == (5, "acme")
    assert Recorded(wrapped, stream_id, 5).tenant_id == ""
    assert record == Recorded(
        wrapped_event=wrapped, stream_id=stream_id, position=5, tenant_id="acme"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.position = 6  # type: ignore[misc]


# --------------------------------------------------------------------------- stream ids


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("name", "7864c8b7-c5ce-5c1a-b92a-0e9b322daa24"),
        ("Test #1", "98d2202b-bab8-5b7f-b50b-a830761fad6e"),
        ("invoices/1003", "28151947-71f3-590d-8132-7f9cd7bb9adc"),
        ("x", "28ec4fe8-8b01-59e3-b6f5-984bcdccf561"),
    ],
)
def test_stream_names_map_to_the_documented_uuid5_ids(name: str, expected: str) -> None:
    assert str(StreamUUID(name=name)) == expected
    assert str(StreamId(name=name, category="c")) == expected


def test_uuid_beats_name_beats_hex() -> None:
    value = uuid4()

    assert StreamUUID(uuid=value) == value
    assert StreamUUID(from_hex=value.hex) == value
    assert StreamUUID(name="x", from_hex=value.hex) == StreamUUID(name="x")
    assert StreamUUID(uuid=uuid5(StreamUUID.NAMESPACE, "x"), name="x").name == "x"
    assert StreamUUID() != StreamUUID()


def test_a_uuid_that_does_not_match_the_name_is_rejected_with_both_ids() -> None:
    value = uuid4()

    with pytest.raises(IncompatibleUuidAndName) as caught:
        StreamId(uuid=value, name="x")

    assert caught.value.received == value
    assert caught.value.expected == uuid5(StreamUUID.NAMESPACE, "x")
    assert caught.value.name == "x"


def test_bad_names_and_categories_are_rejected() -> None:
    with pytest.raises(TypeError):
        StreamUUID(name=5)  # type: ignore[arg-type]
    with pytest.raises(IllegalCategoryName):
        StreamId(category=5)  # type: ignore[arg-type]


def test_stream_ids_compare_uuid_and_category_but_not_name() -> None:
    value = uuid4()

    assert StreamId(value, category="c") == StreamId(value, category="c")
    assert StreamId(value, category="c") != StreamId(value, category="d")
    assert StreamId(value) != StreamId(value, category="")
    assert StreamId(name="n") == StreamId(uuid=StreamUUID(name="n"))
    assert StreamId(value, category="c") == value
    assert StreamId(value) == StreamUUID(value)
    assert hash(StreamId(value, category="c")) != hash(StreamId(value, category="d"))
    assert hash(StreamId(name="n")) == hash(StreamId(uuid=StreamUUID(name="n")))


def test_stream_id_repr_shows_hex_name_and_category() -> None:
    stream_id = StreamId(name="x", category="c")

    assert repr(stream_id) == (
        "StreamId(hex=28ec4fe8-8b01-59e3-b6f5-984bcdccf561, name=x, category=c)"
    )
    assert repr(StreamUUID(name="x")) == (
        "StreamUUID(hex=28ec4fe8-8b01-59e3-b6f5-984bcdccf561, name=x)"
    )


class ForeignNamespaceId(StreamId):
    NAMESPACE = UUID("00000000-0000-0000-0000-000000000001")


@pytest.mark.parametrize(
    "stream_id",
    [
        StreamId(),
        StreamId(name="orders/1", category="orders"),
        StreamUUID(name="x"),
        ForeignNamespaceId(name="x", category="c"),
        trusted_stream_id(uuid4(), "name-from-another-namespace", "c"),
    ],
    ids=["random", "named", "stream-uuid", "subclass", "rebuilt-from-storage"],
)
def test_stream_ids_survive_pickling_and_deep_copies(stream_id: StreamUUID) -> None:
    for copied in (pickle.loads(pickle.dumps(stream_id)), copy.deepcopy(stream_id)):
        assert type(copied) is type(stream_id)
        assert copied == stream_id
        assert copied.int == stream_id.int
        assert copied.name == stream_id.name
        assert getattr(copied, "category", None) == getattr(stream_id, "category", None)
        assert hash(copied) == hash(stream_id)


def test_records_with_stream_ids_survive_pickling() -> None:
    record = RecordedRaw(entry=raw(stream_id=StreamId(name="n", category="c")), position=3)

    assert pickle.loads(pickle.dumps(record)) == record
