"""Field encryption and crypto-shredding (SPEC §12) with the real AES-GCM cipher."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel

from event_sourcery import Event, EventStore, StreamId
from event_sourcery.backend import Backend, InMemoryKeyStorage
from event_sourcery.encryption import (
    AesGcmEncryptionStrategy,
    DataSubject,
    Encrypted,
    Encryption,
    generate_key,
)
from event_sourcery.event import EventRegistry, RawEvent
from event_sourcery.exceptions import (
    AmbiguousDataSubject,
    EncryptedFieldsUndiscoverable,
    KeyNotFoundError,
    NoSubjectIdFound,
)
from event_sourcery.interfaces import StorageStrategy, SubscriptionStrategy
from tests.contract.backends import BackendFactory, Capability

# --- event types ------------------------------------------------------------------------------


class Profile(BaseModel):
    nickname: str
    score: int


class Address(BaseModel):
    street: Annotated[str, Encrypted(mask_value="[street]")]
    city: str


@dataclass
class Card:
    number: Annotated[str, Encrypted(mask_value="[card]")]
    brand: str


class Contact(BaseModel):
    email: Annotated[str, Encrypted(mask_value="[email]")]
    label: str


BORN_MASK = datetime(1970, 1, 1)
PROFILE_MASK = Profile(nickname="[profile]", score=0)


class CustomerRegistered(Event):
    customer_id: Annotated[str, DataSubject]
    name: Annotated[str, Encrypted(mask_value="[name]")]
    age: Annotated[int, Encrypted(mask_value=-1)]
    balance: Annotated[float, Encrypted(mask_value=0.0)]
    vip: Annotated[bool, Encrypted(mask_value=False)]
    nickname: Annotated[str | None, Encrypted(mask_value="[nickname]")]
    tags: Annotated[list[str], Encrypted(mask_value=[])]
    attributes: Annotated[dict[str, int], Encrypted(mask_value={})]
    born_at: Annotated[datetime, Encrypted(mask_value=BORN_MASK)]
    profile: Annotated[Profile, Encrypted(mask_value=PROFILE_MASK)]
    card: Card
    address: Address
    contacts: list[Contact]
    previous_address: Address | None = None
    segment: str = "retail"
    """Not encrypted."""


MASKS: dict[str, Any] = {
    "name": "[name]",
    "age": -1,
    "balance": 0.0,
    "vip": False,
    "nickname": "[nickname]",
    "tags": [],
    "attributes": {},
    "born_at": BORN_MASK,
    "profile": PROFILE_MASK,
}


class NoteTaken(Event):
    """A JSON-looking string must come back as the same string."""

    author: Annotated[str, DataSubject]
    text: Annotated[str, Encrypted(mask_value="[text]")]


class ParcelSent(Event):
    """Two subjects: the sender (default) and the recipient (named by ``subject_field``)."""

    sender: Annotated[str, DataSubject]
    recipient: str
    sender_address: Annotated[str, Encrypted(mask_value="[sender]")]
    recipient_address: Annotated[
        str, Encrypted(mask_value="[recipient]", subject_field="recipient")
    ]


class Diagnosed(Event):
    """No subject field: the stream name is the subject."""

    diagnosis: Annotated[str, Encrypted(mask_value="[diagnosis]")]


class UuidSubjectEvent(Event):
    person: Annotated[UUID, DataSubject]
    secret: Annotated[str, Encrypted(mask_value="[secret]")]


class IntSubjectEvent(Event):
    person: Annotated[int, DataSubject]
    secret: Annotated[str, Encrypted(mask_value="[secret]")]


class EmptyableSubjectEvent(Event):
    person: Annotated[str, DataSubject]
    secret: Annotated[str, Encrypted(mask_value="[secret]")]


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def encrypted(backend: Backend) -> Backend:
    return backend.with_encryption(AesGcmEncryptionStrategy(), InMemoryKeyStorage())


@pytest.fixture
def store(encrypted: Backend) -> EventStore:
    return encrypted.event_store


def store_key(backend: Backend, subject: Any) -> None:
    backend[Encryption].store_key(subject, generate_key())


def customer(customer_id: str, **changes: Any) -> CustomerRegistered:
    fields: dict[str, Any] = {
        "customer_id": customer_id,
        "name": f"Zebulon Quartermaine {customer_id}",
        "age": 42,
        "balance": 1234.5,
        "vip": True,
        "nickname": "Zeb the Quiet",
        "tags": ["tag-alpha-secret", "tag-beta-secret"],
        "attributes": {"visits-secret": 3},
        "born_at": datetime(1983, 4, 5, 6, 7, 8, 9),
        "profile": Profile(nickname="profile-nick-secret", score=99),
        "card": Card(number="4111-1111-1111-1111", brand="Visa"),
        "address": Address(street="Quartz Street 9", city="Gdansk"),
        "contacts": [
            Contact(email="zebulon@example.test", label="home"),
            Contact(email="zeb@work.example.test", label="work"),
        ],
        "previous_address": Address(street="Old Mill Lane 3", city="Poznan"),
    }
    fields.update(changes)
    return CustomerRegistered(**fields)


PLAINTEXTS = [
    "Zebulon Quartermaine",
    "Zeb the Quiet",
    "tag-alpha-secret",
    "tag-beta-secret",
    "visits-secret",
    "1983-04-05",
    "profile-nick-secret",
    "4111-1111-1111-1111",
    "Quartz Street 9",
    "zebulon@example.test",
    "zeb@work.example.test",
    "Old Mill Lane 3",
]
"""Distinctive plaintexts of the encrypted fields of ``customer(...)``."""


def stored_text(raws: list[RawEvent]) -> str:
    return json.dumps([raw.data for raw in raws], default=str)


def load_one(store: EventStore, stream_id: StreamId) -> Any:
    (wrapped,) = store.load_stream(stream_id)
    return wrapped.event


def append(
    store: EventStore, commit: Callable[[], None], event: Event, stream_id: StreamId | None = None
) -> StreamId:
    stream = stream_id or StreamId()
    store.append(event, stream_id=stream)
    commit()
    return stream


# --- round trips ------------------------------------------------------------------------------


def test_every_encrypted_field_type_round_trips(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    store_key(encrypted, "c1")
    event = customer("c1")

    stream_id = append(store, commit, event)

    loaded = load_one(store, stream_id)
    assert loaded == event
    assert type(loaded.born_at) is datetime
    assert type(loaded.age) is int
    assert type(loaded.balance) is float
    assert isinstance(loaded.card, Card)


def test_optional_and_nested_values_round_trip_when_empty(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    store_key(encrypted, "c1")
    event = customer(
        "c1", nickname=None, previous_address=None, contacts=[], tags=[], attributes={}
    )

    stream_id = append(store, commit, event)

    assert load_one(store, stream_id) == event


def test_aware_datetime_round_trips(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    store_key(encrypted, "c1")
    event = customer("c1", born_at=datetime(1983, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=2))))

    stream_id = append(store, commit, event)

    assert load_one(store, stream_id).born_at == event.born_at


@pytest.mark.parametrize(
    "text",
    ["12345", "true", "false", "null", "", "1.5", '{"a": 1}', "[1, 2]", '"quoted"', "plain text"],
)
def test_json_looking_string_stays_the_same_string(
    encrypted: Backend, store: EventStore, commit: Callable[[], None], text: str
) -> None:
    store_key(encrypted, "author")

    stream_id = append(store, commit, NoteTaken(author="author", text=text))

    loaded = load_one(store, stream_id)
    assert loaded.text == text
    assert type(loaded.text) is str


def test_subscriptions_and_outbox_deliver_decrypted_events(
    encrypted: Backend, commit: Callable[[], None]
) -> None:
    encrypted.with_outbox()
    store = encrypted.event_store
    store_key(encrypted, "c1")
    start = store.position or 0
    event = customer("c1")

    append(store, commit, event)

    records = next(encrypted.subscriber.start_from(start).build_batch(10, 0.2))
    assert [r.wrapped_event.event for r in records] == [event]
    published: list[Any] = []
    encrypted.outbox.run(lambda record: published.append(record.wrapped_event.event))
    commit()
    assert published == [event]


def test_plaintext_of_encrypted_fields_never_reaches_storage(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    store_key(encrypted, "c1")
    start = store.position or 0

    stream_id = append(store, commit, customer("c1"))

    raws = encrypted[StorageStrategy].fetch_events(stream_id)
    logged = next(
        encrypted[SubscriptionStrategy].subscribe_to_all(
            start_from=start, batch_size=10, timelimit=timedelta(seconds=0.2)
        )
    )
    for text in (stored_text(raws), stored_text([r.entry for r in logged])):
        assert [plain for plain in ("Gdansk", "Visa", "retail") if plain not in text] == []
        leaked = [plain for plain in PLAINTEXTS if plain in text]
        assert leaked == []


def test_an_encrypted_field_behind_an_unresolvable_annotation_is_never_stored_in_plaintext(
    factory: BackendFactory, encrypted: Backend, store: EventStore
) -> None:
    Secret = Annotated[str, Encrypted(mask_value="[pin]")]  # named by a string

    @dataclass
    class Pin:
        digits: Secret

    class PinSet(Event):
        customer_id: Annotated[str, DataSubject]
        pin: Pin

    store_key(encrypted, "c9")
    stream_id = StreamId()
    with pytest.raises(EncryptedFieldsUndiscoverable):
        store.append(
            PinSet(customer_id="c9", pin=Pin(digits="pin-9876-secret")), stream_id=stream_id
        )
    factory.rollback(encrypted)

    raws = encrypted[StorageStrategy].fetch_events(stream_id)
    assert "pin-9876-secret" not in stored_text(raws)
    assert raws == []


# --- subjects ---------------------------------------------------------------------------------


def test_shredded_subject_reads_as_mask_values_and_other_subjects_are_unaffected(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    store_key(encrypted, "alice")
    store_key(encrypted, "bob")
    alice, bob = customer("alice"), customer("bob")
    alice_stream = append(store, commit, alice)
    bob_stream = append(store, commit, bob)

    encrypted[Encryption].shred("alice")
    commit()

    shredded = load_one(store, alice_stream)
    for field, mask in MASKS.items():
        assert getattr(shredded, field) == mask, field
    assert shredded.card == Card(number="[card]", brand="Visa")
    assert shredded.address == Address(street="[street]", city="Gdansk")
    assert shredded.contacts == [
        Contact(email="[email]", label="home"),
        Contact(email="[email]", label="work"),
    ]
    assert shredded.previous_address == Address(street="[street]", city="Poznan")
    assert shredded.customer_id == "alice"
    assert shredded.segment == "retail"
    assert load_one(store, bob_stream) == bob


def test_shredded_subject_is_masked_in_subscriptions_too(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    store_key(encrypted, "author")
    start = store.position or 0
    append(store, commit, NoteTaken(author="author", text="my diary"))

    encrypted[Encryption].shred("author")
    commit()

    records = next(encrypted.subscriber.start_from(start).build_batch(10, 0.2))
    assert [r.wrapped_event.event for r in records] == [NoteTaken(author="author", text="[text]")]


def test_subject_field_names_the_subject_of_an_encrypted_field(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    store_key(encrypted, "sender")
    store_key(encrypted, "recipient")
    event = ParcelSent(
        sender="sender",
        recipient="recipient",
        sender_address="1 Sender Road",
        recipient_address="2 Recipient Road",
    )
    stream_id = append(store, commit, event)
    assert load_one(store, stream_id) == event

    encrypted[Encryption].shred("recipient")
    commit()

    loaded = load_one(store, stream_id)
    assert loaded.sender_address == "1 Sender Road"
    assert loaded.recipient_address == "[recipient]"


def test_subject_is_read_from_each_event(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    store_key(encrypted, "a")
    store_key(encrypted, "b")
    stream_id = StreamId()
    store.append(
        NoteTaken(author="a", text="by a"), NoteTaken(author="b", text="by b"), stream_id=stream_id
    )
    commit()

    encrypted[Encryption].shred("a")
    commit()

    assert [e.event.text for e in store.load_stream(stream_id)] == ["[text]", "by b"]


@pytest.mark.requires(Capability.STREAM_NAMES_STORED)
def test_stream_name_is_the_subject_when_the_event_has_no_subject_field(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    store_key(encrypted, "patients/7")
    store_key(encrypted, "patients/8")
    seven = append(store, commit, Diagnosed(diagnosis="flu"), StreamId(name="patients/7"))
    eight = append(store, commit, Diagnosed(diagnosis="cold"), StreamId(name="patients/8"))
    assert load_one(store, seven) == Diagnosed(diagnosis="flu")

    encrypted[Encryption].shred("patients/7")
    commit()

    assert load_one(store, seven) == Diagnosed(diagnosis="[diagnosis]")
    assert load_one(store, eight) == Diagnosed(diagnosis="cold")


def test_uuid_subject_round_trips_and_can_be_shredded(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    person, other = uuid4(), uuid4()
    store_key(encrypted, person)
    store_key(encrypted, other)
    mine = append(store, commit, UuidSubjectEvent(person=person, secret="mine"))
    theirs = append(store, commit, UuidSubjectEvent(person=other, secret="theirs"))
    assert load_one(store, mine) == UuidSubjectEvent(person=person, secret="mine")

    encrypted[Encryption].shred(person)
    commit()

    assert load_one(store, mine) == UuidSubjectEvent(person=person, secret="[secret]")
    assert load_one(store, theirs) == UuidSubjectEvent(person=other, secret="theirs")


def test_int_subject_round_trips_and_can_be_shredded(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    store_key(encrypted, 7)
    store_key(encrypted, 8)
    seven = append(store, commit, IntSubjectEvent(person=7, secret="seven"))
    eight = append(store, commit, IntSubjectEvent(person=8, secret="eight"))
    assert load_one(store, seven) == IntSubjectEvent(person=7, secret="seven")

    encrypted[Encryption].shred(7)
    commit()

    assert load_one(store, seven) == IntSubjectEvent(person=7, secret="[secret]")
    assert load_one(store, eight) == IntSubjectEvent(person=8, secret="eight")


def test_key_stored_through_the_key_storage_is_used(
    encrypted: Backend, store: EventStore, commit: Callable[[], None]
) -> None:
    encrypted[Encryption].key_storage.store("author", generate_key())

    stream_id = append(store, commit, NoteTaken(author="author", text="hello"))

    assert load_one(store, stream_id) == NoteTaken(author="author", text="hello")


# --- errors -----------------------------------------------------------------------------------


def test_missing_key_fails_the_append_with_the_subject_and_stores_nothing(
    factory: BackendFactory, encrypted: Backend, store: EventStore
) -> None:
    stream_id = StreamId()

    with pytest.raises(KeyNotFoundError) as caught:
        store.append(NoteTaken(author="nobody", text="hi"), stream_id=stream_id)
    factory.rollback(encrypted)

    assert caught.value.subject_id == "nobody"
    assert store.load_stream(stream_id) == []


def test_missing_subject_fails_the_append_with_the_stream_id_and_stores_nothing(
    factory: BackendFactory, encrypted: Backend, store: EventStore
) -> None:
    store_key(encrypted, "")
    stream_id = StreamId(category="notes")

    with pytest.raises(NoSubjectIdFound) as caught:
        store.append(EmptyableSubjectEvent(person="", secret="hi"), stream_id=stream_id)
    with pytest.raises(NoSubjectIdFound):
        store.append(Diagnosed(diagnosis="flu"), stream_id=stream_id)
    factory.rollback(encrypted)

    assert caught.value.stream_id == stream_id
    assert store.load_stream(stream_id) == []


def test_a_batch_with_one_unencryptable_event_stores_none_of_it(
    factory: BackendFactory, encrypted: Backend, store: EventStore
) -> None:
    store_key(encrypted, "known")
    stream_id = StreamId()

    with pytest.raises(KeyNotFoundError):
        store.append(
            NoteTaken(author="known", text="fine"),
            NoteTaken(author="unknown", text="no key"),
            stream_id=stream_id,
        )
    factory.rollback(encrypted)

    assert store.load_stream(stream_id) == []


def test_two_data_subject_fields_are_rejected_when_registering(encrypted: Backend) -> None:
    class TwoSubjects(BaseModel):
        first: Annotated[str, DataSubject]
        second: Annotated[str, DataSubject]
        secret: Annotated[str, Encrypted(mask_value="")]

    with pytest.raises(AmbiguousDataSubject):
        encrypted[EventRegistry].add(TwoSubjects)


def test_event_with_two_data_subject_fields_cannot_be_appended(
    factory: BackendFactory, encrypted: Backend, store: EventStore
) -> None:
    class TwoSubjectsEvent(Event):
        first: Annotated[str, DataSubject]
        second: Annotated[str, DataSubject]

    stream_id = StreamId()
    with pytest.raises(AmbiguousDataSubject):
        store.append(TwoSubjectsEvent(first="a", second="b"), stream_id=stream_id)
    factory.rollback(encrypted)

    assert store.load_stream(stream_id) == []


# --- tenants ----------------------------------------------------------------------------------


def test_keys_are_per_tenant(
    factory: BackendFactory, encrypted: Backend, commit: Callable[[], None]
) -> None:
    tenant_a, tenant_b = encrypted.in_tenant_mode("tenant_a"), encrypted.in_tenant_mode("tenant_b")
    store_key(tenant_a, "author")

    in_a = append(tenant_a.event_store, commit, NoteTaken(author="author", text="in a"))
    in_b = StreamId()
    with pytest.raises(KeyNotFoundError):
        tenant_b.event_store.append(NoteTaken(author="author", text="in b"), stream_id=in_b)
    factory.rollback(encrypted)

    assert load_one(tenant_a.event_store, in_a).text == "in a"
    assert tenant_b.event_store.load_stream(in_b) == []


def test_shredding_in_one_tenant_does_not_affect_another(
    encrypted: Backend, commit: Callable[[], None]
) -> None:
    tenant_a, tenant_b = encrypted.in_tenant_mode("tenant_a"), encrypted.in_tenant_mode("tenant_b")
    store_key(tenant_a, "author")
    store_key(tenant_b, "author")
    stream_id = StreamId()
    append(tenant_a.event_store, commit, NoteTaken(author="author", text="in a"), stream_id)
    append(tenant_b.event_store, commit, NoteTaken(author="author", text="in b"), stream_id)

    tenant_a[Encryption].shred("author")
    commit()

    assert load_one(tenant_a.event_store, stream_id).text == "[text]"
    assert load_one(tenant_b.event_store, stream_id).text == "in b"
