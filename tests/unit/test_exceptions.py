"""The exception hierarchy (SPEC §13) and the payloads of dataclass exceptions."""

from __future__ import annotations

import pickle
from uuid import uuid4

import pytest

from event_sourcery import exceptions as ex

HIERARCHY = [
    (ex.EventStoreException, Exception),
    (ex.ConcurrentStreamWriteError, ex.EventStoreException),
    (ex.AnotherStreamWithThisNameButOtherIdExists, ex.EventStoreException),
    (ex.IllegalCategoryName, ex.EventStoreException),
    (ex.IllegalTenantId, ex.EventStoreException),
    (ex.VersioningMismatch, ex.EventStoreException),
    (ex.ExpectedVersionUsedOnVersionlessStream, ex.VersioningMismatch),
    (ex.NoExpectedVersionGivenOnVersionedStream, ex.VersioningMismatch),
    (ex.IncompatibleUuidAndName, ex.EventStoreException),
    (ex.PrivacyError, ex.EventStoreException),
    (ex.KeyNotFoundError, ex.PrivacyError),
    (ex.NoSubjectIdFound, ex.PrivacyError),
    (ex.ClassModuleUnavailable, Exception),
    (ex.DuplicatedEvent, Exception),
    (ex.NoProviderConfigured, Exception),
]

ADDITIONS = [
    (ex.VersionsDoNotMatchVersioning, (ex.VersioningMismatch, ValueError)),
    (ex.StreamNotFound, (ex.EventStoreException, LookupError)),
    (ex.NothingToAppend, (ex.EventStoreException, ValueError)),
    (ex.NotAnEvent, (ex.EventStoreException, TypeError)),
    (ex.MixedEventKinds, (ex.EventStoreException, TypeError)),
    (ex.UnknownEventName, (ex.EventStoreException, KeyError)),
    (ex.UnregisteredEventType, (ex.EventStoreException, KeyError)),
    (ex.InvalidTimelimit, (ex.EventStoreException, ValueError)),
    (ex.MissingStartPosition, (ex.EventStoreException, TypeError)),
    (ex.DecryptionFailed, (ex.PrivacyError,)),
    (ex.EncryptedFieldsUndiscoverable, (ex.PrivacyError, TypeError)),
    (ex.AmbiguousDataSubject, (ex.PrivacyError, TypeError)),
    (ex.EventNameInherited, (ex.DuplicatedEvent, KeyError)),
    (ex.IllegalStreamName, (ex.EventStoreException, ValueError)),
    (ex.ModelsNotConfigured, (ex.NoProviderConfigured, AttributeError)),
    (ex.InvalidEventData, (ex.EventStoreException, ValueError)),
    (ex.DuplicateEventUuid, (ex.EventStoreException, ValueError)),
    (ex.VersionOutOfRange, (ex.EventStoreException, ValueError)),
    (ex.NotAStreamId, (ex.EventStoreException, TypeError, AttributeError)),
]


@pytest.mark.parametrize(("error", "parent"), HIERARCHY, ids=[e.__name__ for e, _ in HIERARCHY])
def test_the_documented_hierarchy_holds(error: type, parent: type) -> None:
    assert issubclass(error, parent)


@pytest.mark.parametrize(
    "error",
    [ex.ClassModuleUnavailable, ex.DuplicatedEvent, ex.NoProviderConfigured],
)
def test_registry_and_configuration_errors_are_not_event_store_exceptions(error: type) -> None:
    assert not issubclass(error, ex.EventStoreException)


@pytest.mark.parametrize(("error", "parents"), ADDITIONS, ids=[e.__name__ for e, _ in ADDITIONS])
def test_added_errors_also_subclass_the_built_in_they_replace(
    error: type, parents: tuple[type, ...]
) -> None:
    for parent in parents:
        assert issubclass(error, parent)


def test_incompatible_uuid_and_name_keeps_its_fields_as_attributes_and_args() -> None:
    received, expected = uuid4(), uuid4()

    error = ex.IncompatibleUuidAndName(received=received, expected=expected, name="n")

    assert (error.received, error.expected, error.name) == (received, expected, "n")
    assert error.args == (received, expected, "n")
    assert error == ex.IncompatibleUuidAndName(received, expected, "n")


def test_key_not_found_keeps_the_subject_as_attribute_and_args() -> None:
    error = ex.KeyNotFoundError("alice")

    assert error.subject_id == "alice"
    assert error.args == ("alice",)
    assert "alice" in str(error)


def test_no_subject_id_found_keeps_the_stream_id_as_attribute_and_args() -> None:
    stream_id = uuid4()

    error = ex.NoSubjectIdFound(stream_id=stream_id)

    assert error.stream_id == stream_id
    assert error.args == (stream_id,)


@pytest.mark.parametrize(
    "error",
    [
        ex.IncompatibleUuidAndName(uuid4(), uuid4(), "n"),
        ex.KeyNotFoundError("alice"),
        ex.NoSubjectIdFound(uuid4()),
    ],
    ids=lambda e: type(e).__name__,
)
def test_dataclass_exceptions_survive_pickling(error: Exception) -> None:
    copied = pickle.loads(pickle.dumps(error))

    assert type(copied) is type(error)
    assert copied.args == error.args
    assert copied == error


def test_unknown_event_name_names_the_missing_type() -> None:
    error = ex.UnknownEventName("shop.OrderPlaced")

    assert error.name == "shop.OrderPlaced"
    assert error.args == ("shop.OrderPlaced",)
    assert "shop.OrderPlaced" in str(error)


def test_unregistered_event_type_names_the_type_and_the_reason() -> None:
    class Lost:
        pass

    plain = ex.UnregisteredEventType(Lost)
    explained = ex.UnregisteredEventType(Lost, reason="its name is taken")

    assert plain.event_type is Lost
    assert "Lost" in str(plain)
    assert str(explained).endswith(": its name is taken")


def test_event_name_inherited_reads_as_its_message_not_as_a_quoted_key() -> None:
    assert str(ex.EventNameInherited("Child inherits 'x'")) == "Child inherits 'x'"


def test_concurrent_write_error_can_carry_stored_and_expected_versions() -> None:
    error = ex.ConcurrentStreamWriteError(3, 5)

    assert error.args == (3, 5)
    assert "3" in str(error)
    assert "5" in str(error)


def test_concurrent_write_error_can_carry_a_message() -> None:
    error = ex.ConcurrentStreamWriteError("Versions [2] already exist in the stream")

    assert str(error) == "Versions [2] already exist in the stream"


def test_schema_not_migrated_is_an_event_store_exception_but_not_backend_unavailable() -> None:
    """Retrying cannot help until the migration has run (ADR 0008)."""
    assert issubclass(ex.SchemaNotMigrated, ex.EventStoreException)
    assert not issubclass(ex.SchemaNotMigrated, ex.BackendUnavailable)


def test_models_not_configured_reads_as_its_message_and_survives_pickling() -> None:
    error = ex.ModelsNotConfigured("call configure_models(Base)")

    copied = pickle.loads(pickle.dumps(error))

    assert str(error) == "call configure_models(Base)"
    assert type(copied) is ex.ModelsNotConfigured
    assert copied.args == error.args


@pytest.mark.parametrize(
    "error", [ex.DuplicateEventUuid, ex.InvalidEventData, ex.VersionOutOfRange]
)
def test_errors_no_retry_can_fix_are_not_concurrent_write_errors(error: type) -> None:
    assert not issubclass(error, ex.ConcurrentStreamWriteError)


def test_encrypted_fields_undiscoverable_names_the_class_the_field_and_the_cause() -> None:
    error = ex.EncryptedFieldsUndiscoverable(int, "card", "NameError: name 'Secret' is not defined")

    assert (error.model, error.path) == (int, "card")
    assert "int" in str(error)
    assert "'card'" in str(error)
    assert "Secret" in str(error)
    assert "plaintext" in str(error)
    copied = pickle.loads(pickle.dumps(error))
    assert (copied.model, copied.path, copied.reason) == (error.model, error.path, error.reason)
