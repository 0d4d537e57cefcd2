"""Turning the arguments of ``EventStore.append`` into numbered events and a versioning mode."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from event_sourcery._core.input_checks import check_envelopes, check_version
from event_sourcery._core.records import WrappedEvent
from event_sourcery._core.versioning import (
    NO_VERSIONING,
    ExplicitVersioning,
    NoVersioning,
    Versioning,
    check_batch_versions,
)
from event_sourcery.exceptions import MixedEventKinds, NotAnEvent, NothingToAppend


def plan_append(
    events: Sequence[Any], expected_version: int | Versioning
) -> tuple[list[WrappedEvent[Any]], Versioning]:
    """Wrap and number bare events, keep ``WrappedEvent`` versions; build the versioning mode.

    Bare events get ``expected_version + 1, + 2, …`` (``None`` under ``NO_VERSIONING``).
    """
    if not events:
        raise NothingToAppend("append() needs at least one event")
    wrapped_kind = [isinstance(event, WrappedEvent) for event in events]
    for event in events:
        if not isinstance(event, (WrappedEvent, BaseModel)):
            raise NotAnEvent(
                f"append() takes Event or WrappedEvent objects, got {type(event).__name__}"
            )
    if any(wrapped_kind) and not all(wrapped_kind):
        raise MixedEventKinds(
            "append() got both bare events and WrappedEvents in one call; wrap them all or none"
        )
    no_versioning = expected_version is NO_VERSIONING or isinstance(expected_version, NoVersioning)
    if not no_versioning and (
        isinstance(expected_version, bool) or not isinstance(expected_version, int)
    ):
        raise TypeError(
            f"expected_version must be an int or NO_VERSIONING, got {expected_version!r}"
        )
    if not no_versioning:
        check_version(expected_version, "expected_version")  # type: ignore[arg-type]
    if all(wrapped_kind):
        wrapped: list[WrappedEvent[Any]] = list(events)
    elif no_versioning:
        wrapped = [WrappedEvent.wrap(event, None) for event in events]
    else:
        first = int(expected_version)  # type: ignore[arg-type]
        wrapped = [WrappedEvent.wrap(event, first + i) for i, event in enumerate(events, 1)]
    for event in wrapped:
        if not isinstance(event.event, BaseModel):
            raise NotAnEvent(
                f"WrappedEvent.event must be an Event, got {type(event.event).__name__}"
            )
    check_envelopes(wrapped)
    versioning: Versioning = NO_VERSIONING
    if not no_versioning:
        last = wrapped[-1].version
        versioning = ExplicitVersioning(
            expected_version=int(expected_version),  # type: ignore[arg-type]
            initial_version=last if last is not None else 0,
        )
    check_batch_versions(versioning, [event.version for event in wrapped])
    return wrapped, versioning
