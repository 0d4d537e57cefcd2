"""SPEC §2.2, §4, §13: streams addressed by name (uuid5 of the name)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from uuid import UUID

import pytest

from event_sourcery import Event, EventStore, StreamId
from event_sourcery.backend import Backend
from event_sourcery.exceptions import AnotherStreamWithThisNameButOtherIdExists
from tests.contract.backends import Capability


class OtherNamespaceStreamId(StreamId):
    """Derives ids with another namespace: the same name gets another uuid."""

    NAMESPACE = UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")


class Opened(Event):
    by: str


Commit = Callable[[], None]


def test_a_named_stream_is_appended_and_loaded_by_name(
    event_store: EventStore, commit: Commit
) -> None:
    event_store.append(Opened(by="ann"), stream_id=StreamId(name="accounts/1"))
    commit()
    event_store.append(Opened(by="bob"), stream_id=StreamId(name="accounts/1"), expected_version=1)
    commit()

    loaded = event_store.load_stream(StreamId(name="accounts/1"))

    assert [(e.version, e.event) for e in loaded] == [(1, Opened(by="ann")), (2, Opened(by="bob"))]


def test_a_named_stream_is_loaded_by_its_derived_uuid(
    event_store: EventStore, commit: Commit
) -> None:
    event_store.append(Opened(by="ann"), stream_id=StreamId(name="accounts/2"))
    commit()
    derived = uuid.uuid5(StreamId.NAMESPACE, "accounts/2")

    loaded = event_store.load_stream(StreamId(uuid=derived))

    assert [e.event for e in loaded] == [Opened(by="ann")]


def test_appending_by_name_to_a_stream_created_by_uuid_continues_it(
    event_store: EventStore, commit: Commit
) -> None:
    derived = StreamId(name="accounts/3")
    event_store.append(Opened(by="ann"), stream_id=StreamId(uuid=derived))
    commit()

    event_store.append(Opened(by="bob"), stream_id=StreamId(name="accounts/3"), expected_version=1)
    commit()

    for stream_id in (StreamId(name="accounts/3"), StreamId(uuid=derived)):
        loaded = event_store.load_stream(stream_id)
        assert [(e.version, e.event.by) for e in loaded] == [(1, "ann"), (2, "bob")]


def test_appending_by_uuid_to_a_stream_created_by_name_continues_it(
    event_store: EventStore, commit: Commit
) -> None:
    event_store.append(Opened(by="ann"), stream_id=StreamId(name="accounts/4"))
    commit()
    event_store.append(
        Opened(by="bob"),
        stream_id=StreamId(uuid=uuid.uuid5(StreamId.NAMESPACE, "accounts/4")),
        expected_version=1,
    )
    commit()

    loaded = event_store.load_stream(StreamId(name="accounts/4"))
    assert [(e.version, e.event.by) for e in loaded] == [(1, "ann"), (2, "bob")]


def test_streams_with_different_names_are_separate(event_store: EventStore, commit: Commit) -> None:
    event_store.append(Opened(by="ann"), stream_id=StreamId(name="accounts/5"))
    event_store.append(Opened(by="bob"), stream_id=StreamId(name="accounts/6"))
    commit()

    assert [e.event.by for e in event_store.load_stream(StreamId(name="accounts/5"))] == ["ann"]
    assert [e.event.by for e in event_store.load_stream(StreamId(name="accounts/6"))] == ["bob"]


@pytest.mark.requires(Capability.NAME_CONFLICT_DETECTION)
def test_a_name_taken_by_a_stream_with_another_uuid_is_rejected(
    event_store: EventStore, commit: Commit
) -> None:
    event_store.append(Opened(by="ann"), stream_id=StreamId(name="accounts/7"))
    commit()
    impostor = OtherNamespaceStreamId(name="accounts/7")
    assert impostor.int != StreamId(name="accounts/7").int

    with pytest.raises(AnotherStreamWithThisNameButOtherIdExists):
        event_store.append(Opened(by="eve"), stream_id=impostor)

    assert list(event_store.load_stream(StreamId(uuid=impostor))) == []
    loaded = event_store.load_stream(StreamId(name="accounts/7"))
    assert [(e.version, e.event.by) for e in loaded] == [(1, "ann")]


@pytest.mark.requires(Capability.NAME_CONFLICT_DETECTION)
def test_a_name_conflict_is_detected_within_the_same_category_only(
    event_store: EventStore, commit: Commit
) -> None:
    event_store.append(Opened(by="ann"), stream_id=StreamId(name="accounts/8", category="c1"))
    commit()

    with pytest.raises(AnotherStreamWithThisNameButOtherIdExists):
        event_store.append(
            Opened(by="eve"), stream_id=OtherNamespaceStreamId(name="accounts/8", category="c1")
        )
    event_store.append(
        Opened(by="bob"), stream_id=OtherNamespaceStreamId(name="accounts/8", category="c2")
    )
    commit()

    in_c2 = OtherNamespaceStreamId(name="accounts/8", category="c2")
    assert [e.event.by for e in event_store.load_stream(in_c2)] == ["bob"]
    in_c1 = StreamId(name="accounts/8", category="c1")
    assert [e.event.by for e in event_store.load_stream(in_c1)] == ["ann"]


def test_the_same_name_with_another_uuid_in_another_tenant_is_no_conflict(
    backend: Backend, commit: Commit
) -> None:
    backend.event_store.append(Opened(by="ann"), stream_id=StreamId(name="accounts/9"))
    commit()
    tenant_store = backend.in_tenant_mode("tenant9").event_store

    tenant_store.append(Opened(by="bob"), stream_id=OtherNamespaceStreamId(name="accounts/9"))
    commit()

    loaded = tenant_store.load_stream(OtherNamespaceStreamId(name="accounts/9"))
    assert [e.event.by for e in loaded] == ["bob"]
    default_loaded = backend.event_store.load_stream(StreamId(name="accounts/9"))
    assert [e.event.by for e in default_loaded] == ["ann"]
