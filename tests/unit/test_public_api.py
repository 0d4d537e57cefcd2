"""Every public name of SPEC §1 is importable from its documented module."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "event_sourcery": [
        "DEFAULT_TENANT",
        "NO_VERSIONING",
        "Backend",
        "Event",
        "EventStore",
        "Outbox",
        "StreamCategory",
        "StreamId",
        "StreamUUID",
        "TenantId",
        "TransactionalBackend",
    ],
    "event_sourcery.event": [
        "Context",
        "ContextComponent",
        "Entry",
        "Event",
        "EventContextEnricher",
        "EventCorrelation",
        "EventRegistry",
        "Position",
        "RawEvent",
        "Recorded",
        "RecordedRaw",
        "Serde",
        "WrappedEvent",
    ],
    "event_sourcery.backend": [
        "Backend",
        "InMemoryBackend",
        "InMemoryConfig",
        "InMemoryKeyStorage",
        "TransactionalBackend",
        "not_configured",
        "singleton",
    ],
    "event_sourcery.encryption": [
        "DataSubject",
        "Encrypted",
        "Encryption",
        "NoEncryptionStrategy",
        "NoKeyStorageStrategy",
    ],
    "event_sourcery.exceptions": [
        "EventStoreException",
        "ConcurrentStreamWriteError",
        "AnotherStreamWithThisNameButOtherIdExists",
        "IllegalCategoryName",
        "IllegalTenantId",
        "VersioningMismatch",
        "ExpectedVersionUsedOnVersionlessStream",
        "NoExpectedVersionGivenOnVersionedStream",
        "IncompatibleUuidAndName",
        "ConflictingContextComponent",
        "AppendTooLarge",
        "ClassModuleUnavailable",
        "DuplicatedEvent",
        "PrivacyError",
        "KeyNotFoundError",
        "NoSubjectIdFound",
        "EncryptedFieldsUndiscoverable",
        "NoProviderConfigured",
        "InvalidEventData",
        "DuplicateEventUuid",
        "VersionOutOfRange",
        "NotAStreamId",
    ],
    "event_sourcery.interfaces": [
        "EncryptionKeyStorageStrategy",
        "EncryptionStrategy",
        "OutboxFiltererStrategy",
        "OutboxStorageStrategy",
        "StorageStrategy",
        "SubscriptionStrategy",
        "Versioning",
    ],
    "event_sourcery.in_transaction": ["Dispatcher", "Listener", "Listeners"],
    "event_sourcery.outbox": ["NoOutboxStorageStrategy", "Outbox", "no_filter"],
    "event_sourcery.subscription": [
        "BuildPhase",
        "FilterPhase",
        "PositionPhase",
        "SubscriptionBuilder",
    ],
    "event_sourcery.event_sourcing": ["Aggregate", "Repository", "WrappedAggregate"],
    "event_sourcery.read_model": ["CursorsDao", "Projector", "ReadModel"],
    "event_sourcery._event_store.event.dto": ["Context"],
}


@pytest.mark.parametrize(("module", "names"), PUBLIC.items(), ids=list(PUBLIC))
def test_the_public_names_are_importable(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)

    missing = [name for name in names if not hasattr(imported, name)]

    assert missing == []


def test_the_aliases_and_constants_have_their_documented_values() -> None:
    import event_sourcery
    from event_sourcery import event

    assert event_sourcery.DEFAULT_TENANT == ""
    assert event_sourcery.TenantId is str
    assert event_sourcery.StreamCategory is str
    assert event.Position is int
