"""Turning ``append`` arguments into numbered events and a versioning mode (SPEC §4.2)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from event_sourcery import NO_VERSIONING
from event_sourcery._core.append_plan import plan_append
from event_sourcery._core.versioning import ExplicitVersioning, NoVersioning
from event_sourcery.event import Event, WrappedEvent
from event_sourcery.exceptions import (
    ConcurrentStreamWriteError,
    ExpectedVersionUsedOnVersionlessStream,
    MixedEventKinds,
    NoExpectedVersionGivenOnVersionedStream,
    NotAnEvent,
    NothingToAppend,
    VersionsDoNotMatchVersioning,
)


class Thing(Event):
    __event_name__ = "unit-tests.append_plan.Thing"


def test_appending_nothing_is_refused() -> None:
    with pytest.raises(NothingToAppend):
        plan_append([], 0)


@pytest.mark.parametrize("bad", [{"a": 1}, "event", 1, None])
def test_appending_something_that_is_not_an_event_is_refused(bad: Any) -> None:
    with pytest.raises(NotAnEvent):
        plan_append([Thing(), bad], 0)


def test_a_wrapped_event_must_wrap_an_event() -> None:
    with pytest.raises(NotAnEvent):
        plan_append([WrappedEvent({"a": 1}, 1)], 0)  # type: ignore[type-var]


def test_mixing_bare_and_wrapped_events_is_refused() -> None:
    with pytest.raises(MixedEventKinds):
        plan_append([Thing(), WrappedEvent.wrap(Thing(), 2)], 0)
    with pytest.raises(MixedEventKinds):
        plan_append([WrappedEvent.wrap(Thing(), 1), Thing()], 0)


@pytest.mark.parametrize("expected", [True, False, "1", 1.0, None])
def test_expected_version_must_be_an_int_or_no_versioning(expected: Any) -> None:
    with pytest.raises(TypeError, match="expected_version"):
        plan_append([Thing()], expected)


def test_no_versioning_leaves_bare_events_without_versions() -> None:
    wrapped, versioning = plan_append([Thing(), Thing()], NO_VERSIONING)

    assert [w.version for w in wrapped] == [None, None]
    assert versioning is NO_VERSIONING
    assert versioning.expected_version is None
    assert versioning.initial_version is None
    assert repr(versioning) == "NO_VERSIONING"


def test_any_no_versioning_instance_counts_as_no_versioning() -> None:
    wrapped, versioning = plan_append([Thing()], NoVersioning())

    assert wrapped[0].version is None
    assert versioning is NO_VERSIONING


def test_a_plain_pydantic_model_can_be_appended() -> None:
    class Plain(BaseModel):
        pass

    wrapped, _ = plan_append([Plain()], 0)

    assert wrapped[0].version == 1


def test_explicit_versioning_reports_its_expected_and_final_version() -> None:
    _, versioning = plan_append([Thing(), Thing()], 4)

    assert isinstance(versioning, ExplicitVersioning)
    assert (versioning.expected_version, versioning.initial_version) == (4, 6)
    assert repr(versioning) == "ExplicitVersioning(expected_version=4, initial_version=6)"


def test_wrapped_events_must_all_be_versioned_for_a_numeric_expected_version() -> None:
    events = [WrappedEvent.wrap(Thing(), 1), WrappedEvent.wrap(Thing(), None)]

    with pytest.raises(VersionsDoNotMatchVersioning):
        plan_append(events, 0)
    with pytest.raises(VersionsDoNotMatchVersioning):
        plan_append([WrappedEvent.wrap(Thing(), None)], 0)


def test_wrapped_events_must_be_unversioned_under_no_versioning() -> None:
    with pytest.raises(VersionsDoNotMatchVersioning):
        plan_append([WrappedEvent.wrap(Thing(), 1)], NO_VERSIONING)


def test_a_bool_version_is_not_a_version() -> None:
    with pytest.raises(VersionsDoNotMatchVersioning):
        plan_append([WrappedEvent.wrap(Thing(), True)], 0)


def test_a_batch_repeating_a_version_is_a_concurrent_write() -> None:
    events = [WrappedEvent.wrap(Thing(), 2), WrappedEvent.wrap(Thing(), 2)]

    with pytest.raises(ConcurrentStreamWriteError):
        plan_append(events, 0)


def test_compatibility_checks_name_the_mismatch() -> None:
    with pytest.raises(ExpectedVersionUsedOnVersionlessStream):
        ExplicitVersioning(1, 2).validate_if_compatible(None)
    with pytest.raises(NoExpectedVersionGivenOnVersionedStream):
        NO_VERSIONING.validate_if_compatible(3)
    ExplicitVersioning(1, 2).validate_if_compatible(0)
    NO_VERSIONING.validate_if_compatible(None)
