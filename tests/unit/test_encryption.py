"""The AES-GCM cipher and the ``Encryption`` service (SPEC §12.3-12.5)."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from event_sourcery import StreamId
from event_sourcery._core.encryption import subject_key
from event_sourcery.backend import InMemoryKeyStorage
from event_sourcery.encryption import (
    AesGcmEncryptionStrategy,
    DataSubject,
    Encrypted,
    Encryption,
    generate_key,
)
from event_sourcery.event import EventRegistry
from event_sourcery.exceptions import (
    DecryptionFailed,
    KeyNotFoundError,
    NoSubjectIdFound,
    PrivacyError,
)
from event_sourcery.interfaces import EncryptionStrategy

CIPHER = AesGcmEncryptionStrategy()
KEY = generate_key()


# --------------------------------------------------------------------------- cipher


@given(text=st.text())
def test_aes_gcm_decrypts_what_it_encrypted(text: str) -> None:
    sealed = CIPHER.encrypt(text, KEY)

    assert sealed.startswith("aesgcm1:")
    assert CIPHER.decrypt(sealed, KEY) == text


def test_aes_gcm_uses_a_fresh_nonce_so_equal_plaintexts_encrypt_differently() -> None:
    first, second = CIPHER.encrypt("same", KEY), CIPHER.encrypt("same", KEY)

    assert first != second
    assert CIPHER.decrypt(first, KEY) == CIPHER.decrypt(second, KEY) == "same"


def test_aes_gcm_encrypts_the_text_form_of_non_strings() -> None:
    assert CIPHER.decrypt(CIPHER.encrypt(12345, KEY), KEY) == "12345"


def test_aes_gcm_rejects_a_tampered_value() -> None:
    sealed = CIPHER.encrypt("secret", KEY)
    blob = bytearray(base64.urlsafe_b64decode(sealed[len("aesgcm1:") :]))
    blob[-1] ^= 0x01
    tampered = "aesgcm1:" + base64.urlsafe_b64encode(bytes(blob)).decode()

    with pytest.raises(DecryptionFailed):
        CIPHER.decrypt(tampered, KEY)


def test_aes_gcm_rejects_a_wrong_key() -> None:
    sealed = CIPHER.encrypt("secret", KEY)

    with pytest.raises(DecryptionFailed) as caught:
        CIPHER.decrypt(sealed, generate_key())

    assert isinstance(caught.value, PrivacyError)


@pytest.mark.parametrize(
    "value",
    ["plain text", "aesgcm1:", "aesgcm1:!!not base64!!", "aesgcm1:AAAA", None, 42],
)
def test_aes_gcm_rejects_values_it_did_not_write(value: Any) -> None:
    with pytest.raises(DecryptionFailed):
        CIPHER.decrypt(value, KEY)


@pytest.mark.parametrize("size", [16, 24, 32])
def test_generate_key_makes_random_aes_keys_of_the_given_size(size: int) -> None:
    first, second = generate_key(size), generate_key(size)

    assert len(first) == len(second) == size
    assert first != second
    assert CIPHER.decrypt(CIPHER.encrypt("x", first), first) == "x"


def test_generate_key_defaults_to_aes_256_and_is_offered_by_the_strategy() -> None:
    assert len(generate_key()) == 32
    assert len(AesGcmEncryptionStrategy.generate_key()) == 32
    assert len(CIPHER.generate_key(16)) == 16


@pytest.mark.parametrize("size", [0, 8, 31, 64])
def test_generate_key_rejects_sizes_aes_does_not_have(size: int) -> None:
    with pytest.raises(ValueError, match="16, 24 or 32"):
        generate_key(size)


# --------------------------------------------------------------------------- the service


class CountingKeys(InMemoryKeyStorage):
    def __init__(self) -> None:
        super().__init__()
        self.lookups: list[str] = []

    def get(self, subject_id: Any) -> bytes | None:
        self.lookups.append(subject_id)
        return super().get(subject_id)


class Signup(BaseModel):
    __event_name__ = "unit-tests.encryption.Signup"

    user_id: Annotated[UUID, DataSubject]
    email: Annotated[str, Encrypted(mask_value="[gone]")]
    nickname: Annotated[str, Encrypted(mask_value="")]
    referrer_email: Annotated[str | None, Encrypted(mask_value=None, subject_field="referrer")] = (
        None
    )
    referrer: int | None = None


class Anonymous(BaseModel):
    __event_name__ = "unit-tests.encryption.Anonymous"

    note: Annotated[str, Encrypted(mask_value="")]


class Open(BaseModel):
    __event_name__ = "unit-tests.encryption.Open"

    note: str


STREAM = StreamId(name="signups")
"""The subject of ``referrer_email`` when ``referrer`` is empty (a field's own subject field
falls back to the stream name, not to the data subject)."""


def make(keys: InMemoryKeyStorage | None = None) -> Encryption:
    registry = EventRegistry()
    for model in (Signup, Anonymous, Open):
        registry.add(model)
    encryption = Encryption(registry, AesGcmEncryptionStrategy(), keys or InMemoryKeyStorage())
    encryption.store_key(STREAM.name, generate_key())
    return encryption


def test_a_uuid_data_subject_encrypts_and_decrypts_with_its_key() -> None:
    encryption = make()
    user = uuid4()
    encryption.store_key(user, generate_key())
    event = Signup(user_id=user, email="a@b.c", nickname="12345")

    data = encryption.encrypt(event, STREAM)
    back = encryption.decrypt(Signup, data, STREAM)

    assert data["user_id"] == str(user)
    assert data["email"] != "a@b.c"
    assert Signup.model_validate(back) == event


def test_a_fields_own_subject_field_takes_precedence_over_the_data_subject() -> None:
    keys = InMemoryKeyStorage()
    encryption = make(keys)
    user = uuid4()
    encryption.store_key(user, generate_key())
    encryption.store_key(7, generate_key())
    event = Signup(user_id=user, email="u@x", nickname="n", referrer_email="r@x", referrer=7)
    data = encryption.encrypt(event, StreamId())

    encryption.shred(7)
    back = Signup.model_validate(encryption.decrypt(Signup, data, StreamId()))

    assert back.referrer_email is None
    assert back.email == "u@x"
    assert keys.get("7") is None


def test_the_stream_name_is_the_subject_when_the_event_has_none() -> None:
    encryption = make()
    encryption.store_key("customer-9", generate_key())
    stream_id = StreamId(name="customer-9")

    data = encryption.encrypt(Anonymous(note="hi"), stream_id)

    assert encryption.decrypt(Anonymous, data, stream_id) == {"note": "hi"}
    encryption.shred("customer-9")
    assert encryption.decrypt(Anonymous, data, stream_id) == {"note": ""}


def test_an_empty_own_subject_field_falls_back_to_the_stream_name_not_the_data_subject() -> None:
    encryption = make()
    user = uuid4()
    encryption.store_key(user, generate_key())
    event = Signup(user_id=user, email="e", nickname="n", referrer_email="r@x", referrer=None)
    data = encryption.encrypt(event, STREAM)

    encryption.shred(STREAM.name)
    back = Signup.model_validate(encryption.decrypt(Signup, data, STREAM))

    assert back.referrer_email is None
    assert back.email == "e"
    with pytest.raises(NoSubjectIdFound):
        encryption.encrypt(event, StreamId())


def test_no_subject_and_no_stream_name_is_no_subject_id_found() -> None:
    stream_id = StreamId()

    with pytest.raises(NoSubjectIdFound) as caught:
        make().encrypt(Anonymous(note="hi"), stream_id)

    assert caught.value.stream_id == stream_id


def test_a_missing_key_on_encrypt_is_key_not_found_naming_the_subject() -> None:
    user = uuid4()

    with pytest.raises(KeyNotFoundError) as caught:
        make().encrypt(Signup(user_id=user, email="e", nickname="n"), StreamId())

    assert caught.value.subject_id == str(user)


def test_decrypting_without_any_subject_reads_the_mask() -> None:
    encryption = make()
    data = {"note": CIPHER.encrypt('"hi"', KEY)}

    assert encryption.decrypt(Anonymous, data, StreamId()) == {"note": ""}


def test_each_subjects_key_is_looked_up_once_per_event() -> None:
    keys = CountingKeys()
    encryption = make(keys)
    user = uuid4()
    encryption.store_key(user, generate_key())
    event = Signup(user_id=user, email="e", nickname="n", referrer_email=None)

    keys.lookups.clear()
    data = encryption.encrypt(event, STREAM)
    assert sorted(keys.lookups) == sorted([str(user), "signups"])
    keys.lookups.clear()
    encryption.decrypt(Signup, data, STREAM)
    assert sorted(keys.lookups) == sorted([str(user), "signups"])


def test_events_without_encrypted_fields_pass_through_untouched() -> None:
    encryption = Encryption(EventRegistry(), AesGcmEncryptionStrategy(), InMemoryKeyStorage())
    encryption.registry.add(Open)
    raw = {"note": "x"}

    assert encryption.encrypt(Open(note="x"), StreamId()) == raw
    assert encryption.decrypt(Open, raw, StreamId()) is raw


def test_decrypt_does_not_modify_the_stored_data() -> None:
    encryption = make()
    user = uuid4()
    encryption.store_key(user, generate_key())
    data = encryption.encrypt(Signup(user_id=user, email="e", nickname="n"), STREAM)
    stored = dict(data)

    encryption.decrypt(Signup, data, STREAM)

    assert data == stored


def test_fields_missing_from_old_data_are_left_for_validation_to_default() -> None:
    encryption = make()
    user = uuid4()
    encryption.store_key(user, generate_key())
    data = encryption.encrypt(Signup(user_id=user, email="e", nickname="n"), STREAM)
    del data["referrer_email"]

    back = Signup.model_validate(encryption.decrypt(Signup, data, STREAM))

    assert back.referrer_email is None


def test_a_cipher_returning_non_text_is_taken_as_is() -> None:
    class ObjectCipher(EncryptionStrategy):
        def encrypt(self, data: Any, key: bytes) -> str:
            return "sealed"

        def decrypt(self, data: str, key: bytes) -> Any:
            return ["already", "decoded"]

    class Holder(BaseModel):
        __event_name__ = "unit-tests.encryption.Holder"

        owner: Annotated[str, DataSubject]
        items: Annotated[list[str], Encrypted(mask_value=[])]

    registry = EventRegistry()
    registry.add(Holder)
    keys = InMemoryKeyStorage()
    keys.store("o", b"k")
    encryption = Encryption(registry, ObjectCipher(), keys)

    data = encryption.encrypt(Holder(owner="o", items=["x"]), StreamId())

    assert data == {"owner": "o", "items": "sealed"}
    assert encryption.decrypt(Holder, data, StreamId()) == {
        "owner": "o",
        "items": ["already", "decoded"],
    }


def test_nested_fields_under_a_null_or_non_list_value_are_skipped() -> None:
    class Inner(BaseModel):
        code: Annotated[str, Encrypted(mask_value="?")]

    class Outer(BaseModel):
        __event_name__ = "unit-tests.encryption.Outer"

        owner: Annotated[str, DataSubject]
        inner: Inner | None = None
        many: list[Inner] | None = None

    registry = EventRegistry()
    registry.add(Outer)
    keys = InMemoryKeyStorage()
    keys.store("o", KEY)
    encryption = Encryption(registry, AesGcmEncryptionStrategy(), keys)

    data = encryption.encrypt(Outer(owner="o"), StreamId())

    assert data == {"owner": "o", "inner": None, "many": None}
    assert encryption.decrypt(Outer, data, StreamId()) == data
    odd_shape = {"owner": "o", "inner": None, "many": {"code": "not a list"}}
    assert encryption.decrypt(Outer, odd_shape, StreamId()) == odd_shape  # validation reports it


@pytest.mark.parametrize(
    ("subject", "text"),
    [("alice", "alice"), (uuid4(), None), (5, "5")],
)
def test_subject_keys_are_text(subject: Any, text: str | None) -> None:
    assert subject_key(subject) == (text if text is not None else str(subject))


def test_in_memory_key_storage_is_scoped_per_tenant_and_forgets_missing_keys_quietly() -> None:
    keys = InMemoryKeyStorage()
    tenant = keys.scoped_for_tenant("acme")
    user = uuid4()

    keys.store(user, b"default")
    tenant.store(user, b"acme")
    tenant.delete("never stored")

    assert keys.get(user) == b"default"
    assert keys.get(str(user)) == b"default"
    assert tenant.get(user) == b"acme"
    assert tenant.keys is keys.keys
    tenant.delete(user)
    assert tenant.get(user) is None
    assert keys.get(user) == b"default"
