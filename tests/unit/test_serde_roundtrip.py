"""Property: every supported field type survives serialisation, encrypted or not.

Round trips go through ``Serde`` directly (also through JSON text, as SQL and KurrentDB store it)
and through an in-memory backend's ``append`` + ``load_stream``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import string
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from event_sourcery import StreamId
from event_sourcery.backend import InMemoryBackend, InMemoryKeyStorage
from event_sourcery.encryption import (
    AesGcmEncryptionStrategy,
    DataSubject,
    Encrypted,
    Encryption,
    generate_key,
)
from event_sourcery.event import Context, Event, EventRegistry, RawEvent, Serde, WrappedEvent

JSON_LOOKING = ["12345", "-1", "1.5", "true", "false", "null", "[1]", "{}", '"q"', "", " "]


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Inner(BaseModel):
    label: str
    amount: Decimal
    tags: list[str]


@dataclass
class Point:
    x: int
    y: float
    note: str | None = None


class Outer(BaseModel):
    inner: Inner
    point: Point


class Plain(Event):
    __event_name__ = "unit-tests.serde.Plain"

    text: str
    integer: int
    floating: float
    flag: bool
    nothing: None
    maybe: int | None
    items: list[str]
    mapping: dict[str, int]
    naive: datetime
    aware: datetime
    ident: UUID
    money: Decimal
    color: Color
    level: Level
    inner: Inner
    point: Point
    outer: Outer


def _hidden(mask: Any) -> Encrypted:
    return Encrypted(mask_value=mask)


INNER_MASK = Inner(label="", amount=Decimal(0), tags=[])
POINT_MASK = Point(x=0, y=0.0)


class Secret(Event):
    __event_name__ = "unit-tests.serde.Secret"

    subject: Annotated[str, DataSubject]
    text: Annotated[str, _hidden("***")]
    integer: Annotated[int, _hidden(0)]
    floating: Annotated[float, _hidden(0.0)]
    flag: Annotated[bool, _hidden(False)]
    nothing: Annotated[None, _hidden(None)]
    maybe: Annotated[int | None, _hidden(None)]
    maybe_text: Annotated[str | None, _hidden(None)]
    items: Annotated[list[str], _hidden([])]
    mapping: Annotated[dict[str, int], _hidden({})]
    naive: Annotated[datetime, _hidden(datetime(2000, 1, 1))]
    aware: Annotated[datetime, _hidden(datetime(2000, 1, 1, tzinfo=timezone.utc))]
    ident: Annotated[UUID, _hidden(UUID(int=0))]
    money: Annotated[Decimal, _hidden(Decimal(0))]
    color: Annotated[Color, _hidden(Color.RED)]
    level: Annotated[Level, _hidden(Level.LOW)]
    inner: Annotated[Inner, _hidden(INNER_MASK)]
    point: Annotated[Point, _hidden(POINT_MASK)]
    outer: Annotated[Outer, _hidden(Outer(inner=INNER_MASK, point=POINT_MASK))]


class SecretInner(BaseModel):
    code: Annotated[str, Encrypted(mask_value="?")]
    public: int


@dataclass
class SecretPoint:
    x: Annotated[int, Encrypted(mask_value=-1)]
    y: int


class NestedSecrets(Event):
    """Encrypted fields inside nested models, dataclasses, optionals and lists."""

    __event_name__ = "unit-tests.serde.NestedSecrets"

    subject: Annotated[str, DataSubject]
    inner: SecretInner
    point: SecretPoint
    maybe_inner: SecretInner | None = None
    many: list[SecretInner] = []


class LegacyText(Event):
    __event_name__ = "unit-tests.serde.LegacyText"

    subject: Annotated[str, DataSubject]
    text: Annotated[str, Encrypted(mask_value="")]
    maybe_text: Annotated[str | None, Encrypted(mask_value=None)] = None


# --------------------------------------------------------------------------- strategies

STORABLE = st.characters(codec="utf-8", exclude_characters="\x00")
"""What every backend stores: NUL and lone surrogates raise InvalidEventData (issue 10.7)."""
texts = st.text(STORABLE) | st.sampled_from(JSON_LOOKING)
naive_datetimes = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9000, 1, 1))
offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_datetimes = st.builds(lambda dt, tz: dt.replace(tzinfo=tz), naive_datetimes, offsets)
decimals = st.decimals(allow_nan=False, allow_infinity=False)
floats = st.floats(allow_nan=False, allow_infinity=False)
inners = st.builds(Inner, label=texts, amount=decimals, tags=st.lists(texts, max_size=3))
points = st.builds(Point, x=st.integers(), y=floats, note=st.none() | texts)
outers = st.builds(Outer, inner=inners, point=points)

FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "text": texts,
    "integer": st.integers(),
    "floating": floats,
    "flag": st.booleans(),
    "nothing": st.none(),
    "maybe": st.none() | st.integers(),
    "items": st.lists(texts, max_size=4),
    "mapping": st.dictionaries(texts, st.integers(), max_size=4),
    "naive": naive_datetimes,
    "aware": aware_datetimes,
    "ident": st.uuids(),
    "money": decimals,
    "color": st.sampled_from(Color),
    "level": st.sampled_from(Level),
    "inner": inners,
    "point": points,
    "outer": outers,
}

plain_events = st.fixed_dictionaries(FIELD_VALUES).map(lambda fields: Plain(**fields))
subjects = st.sampled_from(["alice", "bob", "12345"])
secret_events = st.fixed_dictionaries(
    {**FIELD_VALUES, "subject": subjects, "maybe_text": st.none() | texts}
).map(lambda fields: Secret(**fields))
secret_inners = st.builds(SecretInner, code=texts, public=st.integers())
nested_events = st.builds(
    NestedSecrets,
    subject=subjects,
    inner=secret_inners,
    point=st.builds(SecretPoint, x=st.integers(), y=st.integers()),
    maybe_inner=st.none() | secret_inners,
    many=st.lists(secret_inners, max_size=3),
)
contexts = st.builds(
    Context,
    correlation_id=st.none() | st.uuids(),
    causation_id=st.none() | st.uuids(),
    components=st.dictionaries(
        st.text(STORABLE, min_size=1, max_size=12),
        st.fixed_dictionaries({"note": texts, "n": st.integers(), "tags": st.lists(texts)}),
        max_size=3,
    ),
)
stream_ids = st.builds(
    StreamId,
    name=st.none() | st.text(string.ascii_letters, min_size=1, max_size=8),
    category=st.none() | st.sampled_from(["orders", "users"]),
)


# --------------------------------------------------------------------------- fixtures

KEYS = {subject: generate_key() for subject in ("alice", "bob", "12345")}


def make_serde(with_keys: bool = True) -> tuple[Serde, InMemoryKeyStorage]:
    registry = EventRegistry()
    key_storage = InMemoryKeyStorage()
    if with_keys:
        for subject, key in KEYS.items():
            key_storage.store(subject, key)
    encryption = Encryption(registry, AesGcmEncryptionStrategy(), key_storage)
    return Serde(registry, encryption), key_storage


SERDE, _ = make_serde()


def through_json(raw: RawEvent) -> RawEvent:
    """The record as a JSON store gives it back (data and context as JSON text)."""
    return dataclasses.replace(
        raw, data=json.loads(json.dumps(raw.data)), context=json.loads(json.dumps(raw.context))
    )


def assert_same_envelope(back: WrappedEvent[Any], sent: WrappedEvent[Any]) -> None:
    assert back.uuid == sent.uuid
    assert back.created_at == sent.created_at
    assert back.version == sent.version
    assert back.context == sent.context


def assert_same_event(back: Event, sent: Event) -> None:
    assert type(back) is type(sent)
    assert back == sent
    for name in type(sent).model_fields:
        value = getattr(sent, name)
        # the same type, not only an equal value ("1" != 1, but True == 1 and 1 == 1.0)
        assert type(getattr(back, name)) is type(value), name
        if isinstance(value, datetime):
            assert getattr(back, name).utcoffset() == value.utcoffset(), name


# --------------------------------------------------------------------------- properties


@given(event=plain_events, context=contexts, version=st.none() | st.integers(1, 10**6))
def test_every_field_type_survives_serialize_then_deserialize(
    event: Plain, context: Context, version: int | None
) -> None:
    sent = WrappedEvent.wrap(event, version, context)
    stream_id = StreamId()

    raw = SERDE.serialize(sent, stream_id)
    back = SERDE.deserialize(raw)

    assert raw.name == "unit-tests.serde.Plain"
    assert raw.stream_id == stream_id
    assert_same_event(back.event, event)
    assert_same_envelope(back, sent)


@given(event=plain_events, context=contexts)
def test_every_field_type_survives_a_trip_through_json_text(event: Plain, context: Context) -> None:
    sent = WrappedEvent.wrap(event, 1, context)

    back = SERDE.deserialize(through_json(SERDE.serialize(sent, StreamId())))

    assert_same_event(back.event, event)
    assert back.context.model_dump() == context.model_dump()


@given(event=secret_events, context=contexts, stream_id=stream_ids)
def test_every_encrypted_field_type_survives_serialize_then_deserialize(
    event: Secret, context: Context, stream_id: StreamId
) -> None:
    sent = WrappedEvent.wrap(event, 3, context)

    raw = through_json(SERDE.serialize(sent, stream_id))
    back = SERDE.deserialize(raw)

    assert_same_event(back.event, event)
    assert_same_envelope(back, sent)


@given(event=secret_events)
def test_encrypted_fields_are_stored_as_ciphertext_and_the_subject_in_clear(
    event: Secret,
) -> None:
    raw = SERDE.serialize(WrappedEvent.wrap(event, 1), StreamId())

    assert raw.data["subject"] == event.subject
    encrypted = set(Secret.model_fields) - {"subject"}
    for name in encrypted:
        assert isinstance(raw.data[name], str), name
        assert raw.data[name].startswith("aesgcm1:"), name


@given(event=nested_events, stream_id=stream_ids)
def test_encrypted_fields_nested_in_models_dataclasses_optionals_and_lists_round_trip(
    event: NestedSecrets, stream_id: StreamId
) -> None:
    raw = through_json(SERDE.serialize(WrappedEvent.wrap(event, 1), stream_id))

    assert raw.data["inner"]["code"].startswith("aesgcm1:")
    assert raw.data["inner"]["public"] == event.inner.public
    assert raw.data["point"]["x"].startswith("aesgcm1:")
    assert all(item["code"].startswith("aesgcm1:") for item in raw.data["many"])
    if event.maybe_inner is not None:
        assert raw.data["maybe_inner"]["code"].startswith("aesgcm1:")
    assert_same_event(SERDE.deserialize(raw).event, event)


@given(event=nested_events)
def test_nested_encrypted_fields_read_as_their_masks_once_the_key_is_shredded(
    event: NestedSecrets,
) -> None:
    serde, key_storage = make_serde()
    raw = serde.serialize(WrappedEvent.wrap(event, 1), StreamId())
    serde.encryption.shred(event.subject)

    back = serde.deserialize(raw).event

    assert back.inner == SecretInner(code="?", public=event.inner.public)
    assert back.point == SecretPoint(x=-1, y=event.point.y)
    assert [item.code for item in back.many] == ["?"] * len(event.many)
    assert key_storage.get(event.subject) is None


@settings(max_examples=25)
@given(events=st.lists(plain_events, min_size=1, max_size=3), context=contexts)
def test_plain_events_survive_append_and_load_on_the_in_memory_backend(
    events: list[Plain], context: Context
) -> None:
    event_store = InMemoryBackend().event_store
    stream_id = StreamId(category="unit")
    sent = [WrappedEvent.wrap(e, n, context) for n, e in enumerate(events, 1)]

    event_store.append(*sent, stream_id=stream_id)
    loaded = event_store.load_stream(stream_id)

    assert len(loaded) == len(sent)
    for back, original in zip(loaded, sent, strict=True):
        assert_same_event(back.event, original.event)
        assert_same_envelope(back, original)


@settings(max_examples=25)
@given(events=st.lists(secret_events | nested_events, min_size=1, max_size=3))
def test_encrypted_events_survive_append_and_load_on_the_in_memory_backend(
    events: list[Event],
) -> None:
    key_storage = InMemoryKeyStorage()
    for subject, key in KEYS.items():
        key_storage.store(subject, key)
    backend = InMemoryBackend().with_encryption(AesGcmEncryptionStrategy(), key_storage)
    stream_id = StreamId(name="customer/1")

    backend.event_store.append(*events, stream_id=stream_id)
    loaded = backend.event_store.load_stream(stream_id)

    assert [e.version for e in loaded] == list(range(1, len(events) + 1))
    for back, original in zip(loaded, events, strict=True):
        assert_same_event(back.event, original)


# --------------------------------------------------------------------------- old data format


def legacy_raw(text: str, maybe_text: str | None, key: bytes) -> RawEvent:
    """A record as the existing library wrote it: plain strings encrypted without JSON quotes."""
    strategy = AesGcmEncryptionStrategy()
    data: dict[str, Any] = {"subject": "alice", "text": strategy.encrypt(text, key)}
    # it wrote non-strings as json.dumps text, so None became the text "null"
    data["maybe_text"] = strategy.encrypt("null" if maybe_text is None else maybe_text, key)
    return RawEvent(
        uuid=UUID(int=1),
        stream_id=StreamId(),
        created_at=datetime(2024, 1, 1),
        name="unit-tests.serde.LegacyText",
        data=data,
        context={"correlation_id": None, "causation_id": None},
        version=1,
    )


@given(
    text=(st.text(STORABLE) | st.sampled_from(JSON_LOOKING)).filter(
        lambda t: not (t.startswith('"') and t.endswith('"') and len(t) >= 2)
    )
)
def test_strings_encrypted_unquoted_by_the_existing_library_still_read_as_strings(
    text: str,
) -> None:
    # A plaintext that is itself a JSON string literal ('"q"') is ambiguous by nature: the
    # current format writes "q" exactly so. Every other text must come back verbatim.
    back = SERDE.deserialize(legacy_raw(text, text, KEYS["alice"])).event

    assert isinstance(back, LegacyText)
    assert back.text == text


@pytest.mark.parametrize("text", ["12345", "true", "null", "[1]", "{}", "", "plain words"])
def test_json_looking_legacy_plaintext_of_a_text_field_is_kept_verbatim(text: str) -> None:
    back = SERDE.deserialize(legacy_raw(text, None, KEYS["alice"])).event

    assert back.text == text
    assert back.maybe_text is None


def test_legacy_null_plaintext_of_an_optional_text_field_reads_as_none() -> None:
    # The existing library wrote None as the text "null" (json.dumps of the JSON-mode value).
    back = SERDE.deserialize(legacy_raw("x", "null", KEYS["alice"])).event

    assert back.maybe_text is None


@pytest.mark.parametrize("text", JSON_LOOKING)
def test_json_looking_strings_written_now_come_back_as_the_same_strings(text: str) -> None:
    event = LegacyText(subject="alice", text=text, maybe_text=text)

    back = SERDE.deserialize(SERDE.serialize(WrappedEvent.wrap(event, 1), StreamId())).event

    assert back.text == text
    assert back.maybe_text == text


def test_serde_without_a_key_for_the_subject_reads_masks() -> None:
    writer = SERDE
    reader, _ = make_serde(with_keys=False)
    event = LegacyText(subject="alice", text="secret", maybe_text="also")

    back = reader.deserialize(writer.serialize(WrappedEvent.wrap(event, 1), StreamId())).event

    assert back == LegacyText(subject="alice", text="", maybe_text=None)
