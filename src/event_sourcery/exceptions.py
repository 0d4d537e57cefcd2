"""Every exception the library raises on purpose.

The upstream names and hierarchy are kept (SPEC §13); the additions below subclass the matching
built-in as well (``TypeError``, ``ValueError``, ``KeyError``) so code that caught the built-in
error the existing library leaked keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from event_sourcery._core.records import RecordedRaw


class EventStoreException(Exception):
    """Base class of the event store's domain errors."""


class ConcurrentStreamWriteError(EventStoreException):
    """The stream changed since it was read: wrong expected version or a version collision.

    Raised with ``(stored_version, expected_version)`` for a wrong expected version, or with a
    message for a version collision.
    """

    def __str__(self) -> str:
        if len(self.args) == 2 and not any(isinstance(arg, str) for arg in self.args):
            stored, expected = self.args
            found = "does not exist" if stored is None else f"is at version {stored}"
            return f"Expected the stream at version {expected}, but it {found}"
        return super().__str__()


class AnotherStreamWithThisNameButOtherIdExists(EventStoreException):
    """A stream with this name (same category and tenant) already exists with another uuid."""


class IllegalCategoryName(EventStoreException):
    """The stream category cannot be stored (not a string, too long, or illegal characters)."""


class IllegalTenantId(EventStoreException):
    """The tenant id cannot be stored (not a string, too long, or illegal characters)."""


class IllegalEventName(EventStoreException, ValueError):
    """An event type name the storage cannot hold (e.g. longer than its column)."""


class IllegalStreamName(EventStoreException, ValueError):
    """A stream name the storage cannot hold (longer than its column); still a ``ValueError``."""


class VersioningMismatch(EventStoreException):
    """The append's versioning mode does not match the stream's."""


class ExpectedVersionUsedOnVersionlessStream(VersioningMismatch):
    """An integer ``expected_version`` was given for a stream created with ``NO_VERSIONING``."""


class NoExpectedVersionGivenOnVersionedStream(VersioningMismatch):
    """``NO_VERSIONING`` was given for a stream that has versions."""


class VersionsDoNotMatchVersioning(VersioningMismatch, ValueError):
    """A batch mixes versioned and unversioned events, or its versions contradict the mode.

    Under ``NO_VERSIONING`` every event must have ``version=None``; under an integer
    ``expected_version`` every event must have an integer version.
    """


@dataclass
class IncompatibleUuidAndName(EventStoreException):
    """The given uuid is not the one derived from the given stream name."""

    received: UUID
    expected: UUID
    name: str

    def __post_init__(self) -> None:
        super().__init__(self.received, self.expected, self.name)


class BackendUnavailable(EventStoreException):
    """The storage (database, server) could not be reached or the connection was lost.

    On SQL backends nothing of the failed operation is stored: roll back and retry on a fresh
    session. On KurrentDB an append whose answer was lost may have been stored: load the stream
    before retrying.
    """


class AppendTooLarge(EventStoreException, ValueError):
    """One append (all its events together) is larger than the storage accepts at once
    (KurrentDB's ``MaxAppendSize``, 1,048,576 bytes by default). Nothing was written; an append
    is atomic, so it is not split: append fewer or smaller events at a time, or raise the limit."""


class SchemaNotMigrated(EventStoreException):
    """The database's tables are older than the backend's models: a migration was not run.

    The message names the command that brings the schema up to date. Not a
    ``BackendUnavailable``: retrying cannot help until the migration has run (ADR 0008).
    """


class StreamNotFound(EventStoreException, LookupError):
    """The operation needs an existing stream (e.g. saving a snapshot) and there is none."""


class NothingToAppend(EventStoreException, ValueError, IndexError):
    """``append`` was called without any event (``IndexError`` is what upstream leaked)."""


class NotAnEvent(EventStoreException, TypeError):
    """``append`` got something that is not an ``Event`` or a ``WrappedEvent``."""


class MixedEventKinds(EventStoreException, TypeError):
    """One ``append`` call mixed bare ``Event`` objects with ``WrappedEvent`` objects."""


class UnknownEventName(EventStoreException, KeyError):
    """A stored event's type name is not registered (still a ``KeyError`` for compatibility).

    Read from a subscription, the outbox or a listener it carries the record's ``position`` and
    the raw ``record`` (a ``RecordedRaw``), so a consumer can log it and go on: the same
    subscription iterator continues after it, and ``start_from(error.position)`` skips exactly
    it. Both are ``None`` where no record is at hand (e.g. ``load_stream``).
    """

    def __init__(
        self, name: str, position: int | None = None, record: RecordedRaw | None = None
    ) -> None:
        super().__init__(name)
        self.name = name
        self.position = position
        self.record = record

    def __str__(self) -> str:
        return (
            f"No event type is registered under the name {self.name!r}: import the module "
            "that defines it or add it to the EventRegistry"
        )


class UnregisteredEventType(EventStoreException, KeyError):
    """An event type is not (and cannot be) registered (still a ``KeyError``)."""

    def __init__(self, event_type: type, reason: str = "") -> None:
        super().__init__(event_type)
        self.event_type = event_type
        self.reason = reason

    def __str__(self) -> str:
        name = getattr(self.event_type, "__qualname__", repr(self.event_type))
        message = f"{name} is not registered in the EventRegistry"
        return f"{message}: {self.reason}" if self.reason else message


class InvalidEventData(EventStoreException, ValueError):
    """An event no backend can store exactly: NUL characters, lone surrogates or NaN/Infinity in
    its data or context, or an envelope without a uuid or a ``datetime`` ``created_at``."""


class DuplicateEventUuid(EventStoreException, ValueError):
    """An event uuid used twice in one append, or already stored (in this or another stream).

    Not a ``ConcurrentStreamWriteError``: retrying the same events cannot succeed.
    """


class VersionOutOfRange(EventStoreException, ValueError):
    """A version (or ``expected_version``) outside what every backend stores: -2**31..2**31-1."""


class NotAStreamId(EventStoreException, TypeError, AttributeError):
    """``stream_id`` is not a ``StreamId`` (e.g. ``None`` or a string); also an
    ``AttributeError``, what was leaked before."""


class InvalidTimelimit(EventStoreException, ValueError):
    """A subscription time limit below 100 milliseconds."""


class MissingStartPosition(EventStoreException, TypeError):
    """A subscription was filtered or built before ``start_from`` was called."""


class PrivacyError(EventStoreException):
    """Base class of encryption and crypto-shredding errors."""


@dataclass
class KeyNotFoundError(PrivacyError):
    """No encryption key is stored for the data subject (store one before appending)."""

    subject_id: str

    def __post_init__(self) -> None:
        super().__init__(self.subject_id)


@dataclass
class NoSubjectIdFound(PrivacyError):
    """An event has encrypted fields but neither a subject field value nor a stream name."""

    stream_id: UUID

    def __post_init__(self) -> None:
        super().__init__(self.stream_id)


class DecryptionFailed(PrivacyError):
    """A ciphertext could not be decrypted: tampered data or a wrong key."""


class AmbiguousDataSubject(PrivacyError, TypeError):
    """An event type marks more than one field as its ``DataSubject``."""


class EncryptedFieldsUndiscoverable(PrivacyError, TypeError):
    """The type hints of an event, or of a model or dataclass it holds, cannot be resolved.

    Such a type might hide an ``Encrypted`` field (a function-local alias or class named in a
    string annotation), so it is refused rather than stored with nothing encrypted. The rule:
    every class the discovery walks into (the event, its nested models and dataclasses) must have
    resolvable hints, marker or not; pydantic needs them too, so ordinary events are unaffected.
    Raised at registration, at the latest on the first append. ``model`` is the class whose hints
    failed, ``path`` the dotted field path it sits at (``""`` for the event itself).
    """

    def __init__(self, model: type, path: str = "", reason: str = "") -> None:
        super().__init__(model, path, reason)
        self.model = model
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        name = getattr(self.model, "__qualname__", repr(self.model))
        where = f" (at field {self.path!r})" if self.path else ""
        because = f": {self.reason}" if self.reason else ""
        return (
            f"Cannot resolve the type hints of {name}{where}{because}; an Encrypted field "
            "there could not be found and would be stored in plaintext. Define the names its "
            "annotations use at module level (or drop 'from __future__ import annotations')"
        )


@dataclass
class ConflictingContextComponent(EventStoreException, ValueError):
    """Two context enrichers add components under the same wire name."""

    name: str

    def __post_init__(self) -> None:
        super().__init__(self.name)

    def __str__(self) -> str:
        return f"Two context enrichers add a component named {self.name!r}"


class ClassModuleUnavailable(Exception):
    """The module of an event class cannot be determined, so it has no default name."""


class DuplicatedEvent(Exception):
    """An event type, or its name, is already registered."""


class EventNameInherited(DuplicatedEvent, KeyError):
    """An event class inherits ``__event_name__`` from a parent, so the two would collide."""

    def __str__(self) -> str:
        return str(self.args[0])


class NoProviderConfigured(Exception):
    """A backend component was used before the backend was configured."""


class ModelsNotConfigured(NoProviderConfigured, AttributeError):
    """A SQLAlchemy model class is not mapped: ``configure_models(Base)`` was not called.

    Also an ``AttributeError``, what the existing library leaked (``... no attribute
    '__table__'``).
    """
