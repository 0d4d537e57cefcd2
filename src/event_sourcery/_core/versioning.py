"""Versioning modes of an append and the rule that decides whether it may proceed."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence

from event_sourcery.exceptions import (
    ConcurrentStreamWriteError,
    ExpectedVersionUsedOnVersionlessStream,
    NoExpectedVersionGivenOnVersionedStream,
    VersionsDoNotMatchVersioning,
)


class Versioning(ABC):
    """How an append relates to the stream's stored version."""

    @abstractmethod
    def validate_if_compatible(self, version: int | None) -> None:
        """Raise a ``VersioningMismatch`` if the stored ``version`` contradicts this mode."""

    @property
    @abstractmethod
    def expected_version(self) -> int | None:
        """The version the stream must have before the append (``0`` = do not compare)."""

    @property
    @abstractmethod
    def initial_version(self) -> int | None:
        """The stream version after the append (the last event's version)."""


class NoVersioning(Versioning):
    """The stream has no versions at all (``NO_VERSIONING``)."""

    def validate_if_compatible(self, version: int | None) -> None:
        if version is not None:
            raise NoExpectedVersionGivenOnVersionedStream()

    @property
    def expected_version(self) -> None:
        return None

    @property
    def initial_version(self) -> None:
        return None

    def __repr__(self) -> str:
        return "NO_VERSIONING"


NO_VERSIONING = NoVersioning()


class ExplicitVersioning(Versioning):
    """An append with an integer ``expected_version``."""

    def __init__(self, expected_version: int, initial_version: int) -> None:
        self._expected_version = expected_version
        self._initial_version = initial_version

    def validate_if_compatible(self, version: int | None) -> None:
        if version is None:
            raise ExpectedVersionUsedOnVersionlessStream()

    @property
    def expected_version(self) -> int:
        return self._expected_version

    @property
    def initial_version(self) -> int:
        return self._initial_version

    def __repr__(self) -> str:
        return (
            f"ExplicitVersioning(expected_version={self._expected_version}, "
            f"initial_version={self._initial_version})"
        )


def check_batch_versions(versioning: Versioning, versions: Sequence[int | None]) -> None:
    """Reject a batch whose versions contradict the mode or repeat inside the batch."""
    if versioning is NO_VERSIONING or isinstance(versioning, NoVersioning):
        if any(v is not None for v in versions):
            raise VersionsDoNotMatchVersioning(
                "NO_VERSIONING was given but some events carry a version: "
                "a versionless stream stores only events with version=None"
            )
        return
    if any(v is None or isinstance(v, bool) or not isinstance(v, int) for v in versions):
        raise VersionsDoNotMatchVersioning(
            "Every event of a versioned append needs an integer version; use NO_VERSIONING "
            "for versionless streams"
        )
    if len(set(versions)) != len(versions):
        raise ConcurrentStreamWriteError(f"The batch repeats a version: {list(versions)}")


def plan_stored_version(
    exists: bool,
    stored_version: int | None,
    versioning: Versioning,
    versions: Sequence[int | None],
    taken: Collection[int] = (),
) -> int | None:
    """Decide an append to one (tenant, stream) and return the stream's new stored version.

    The rule (SPEC §4.3, "our rule"): the mode must match the stream's; a non-zero expected
    version must equal the stored one; no version of the batch may be taken already (``taken``
    holds the batch's versions that the stream already has). The stored version moves to the
    batch's last version (never backwards). Raises, so the caller writes nothing, otherwise.
    """
    check_batch_versions(versioning, versions)
    if exists:
        versioning.validate_if_compatible(stored_version)
        expected = versioning.expected_version
        if expected and stored_version != expected:
            raise ConcurrentStreamWriteError(stored_version, expected)
        if taken:
            raise ConcurrentStreamWriteError(
                f"Versions {sorted(taken)} already exist in the stream (stored version "
                f"{stored_version})"
            )
    elif versioning.expected_version:
        raise ConcurrentStreamWriteError(None, versioning.expected_version)
    new_version = versioning.initial_version
    if new_version is None:
        return None
    # A pre-numbered batch may be unsorted or fill a gap below the stored version: the stored
    # version is the highest version of the stream and never moves back.
    new_version = max([new_version, *(v for v in versions if v is not None)])
    if exists and stored_version is not None:
        return max(stored_version, new_version)
    return new_version
