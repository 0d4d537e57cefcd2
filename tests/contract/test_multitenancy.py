"""SPEC §7: a backend acts as one tenant; streams, versions, snapshots and deletes are isolated."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from event_sourcery import DEFAULT_TENANT, NO_VERSIONING, Event, StreamId, TenantId
from event_sourcery.backend import Backend
from event_sourcery.event import WrappedEvent
from event_sourcery.exceptions import (
    ConcurrentStreamWriteError,
    EventStoreException,
    IllegalCategoryName,
    IllegalTenantId,
    StreamNotFound,
)

Commit = Callable[[], None]


class Posted(Event):
    text: str


class Summary(Event):
    texts: list[str]


def texts(backend: Backend, stream_id: StreamId) -> list[tuple[int | None, str]]:
    loaded = backend.event_store.load_stream(stream_id)
    return [
        (e.version, e.event.text if isinstance(e.event, Posted) else f"summary:{e.event.texts}")
        for e in loaded
    ]


def test_the_default_tenant_is_the_empty_string(backend: Backend) -> None:
    assert DEFAULT_TENANT == ""
    assert backend[TenantId] == DEFAULT_TENANT


def test_a_tenant_less_stream_is_invisible_from_a_tenant(backend: Backend, commit: Commit) -> None:
    stream_id = StreamId()
    backend.event_store.append(Posted(text="default"), stream_id=stream_id)
    commit()
    tenant = backend.in_tenant_mode("acme")

    assert texts(tenant, stream_id) == []
    assert texts(backend, stream_id) == [(1, "default")]


def test_a_tenant_stream_is_invisible_without_a_tenant(backend: Backend, commit: Commit) -> None:
    stream_id = StreamId()
    tenant = backend.in_tenant_mode("acme")
    tenant.event_store.append(Posted(text="acme"), stream_id=stream_id)
    commit()

    assert texts(backend, stream_id) == []
    assert texts(tenant, stream_id) == [(1, "acme")]


def test_a_tenant_stream_is_invisible_from_another_tenant(backend: Backend, commit: Commit) -> None:
    stream_id = StreamId(name="shared-name")
    first, second = backend.in_tenant_mode("first"), backend.in_tenant_mode("second")
    first.event_store.append(Posted(text="first"), stream_id=stream_id)
    commit()

    assert texts(second, stream_id) == []
    assert texts(backend.in_tenant_mode("first"), stream_id) == [(1, "first")]


def test_the_same_stream_id_exists_independently_in_each_tenant(
    backend: Backend, commit: Commit
) -> None:
    stream_id = StreamId(name="orders/1", category="orders")
    first, second = backend.in_tenant_mode("first"), backend.in_tenant_mode("second")
    backend.event_store.append(Posted(text="d1"), Posted(text="d2"), stream_id=stream_id)
    first.event_store.append(Posted(text="f1"), stream_id=stream_id)
    second.event_store.append(
        Posted(text="s1"), Posted(text="s2"), Posted(text="s3"), stream_id=stream_id
    )
    commit()

    assert texts(backend, stream_id) == [(1, "d1"), (2, "d2")]
    assert texts(first, stream_id) == [(1, "f1")]
    assert texts(second, stream_id) == [(1, "s1"), (2, "s2"), (3, "s3")]


def test_each_tenant_has_its_own_stream_version(backend: Backend, commit: Commit) -> None:
    stream_id = StreamId()
    tenant = backend.in_tenant_mode("acme")
    backend.event_store.append(Posted(text="d1"), Posted(text="d2"), stream_id=stream_id)
    commit()
    tenant.event_store.append(Posted(text="t1"), stream_id=stream_id)
    commit()

    with pytest.raises(ConcurrentStreamWriteError):
        tenant.event_store.append(Posted(text="t?"), stream_id=stream_id, expected_version=2)
    tenant.event_store.append(Posted(text="t2"), stream_id=stream_id, expected_version=1)
    commit()
    backend.event_store.append(Posted(text="d3"), stream_id=stream_id, expected_version=2)
    commit()

    assert texts(backend, stream_id) == [(1, "d1"), (2, "d2"), (3, "d3")]
    assert texts(tenant, stream_id) == [(1, "t1"), (2, "t2")]


def test_an_append_in_a_tenant_does_not_move_the_default_streams_version(
    backend: Backend, commit: Commit
) -> None:
    stream_id = StreamId()
    backend.event_store.append(Posted(text="d1"), stream_id=stream_id)
    commit()
    backend.in_tenant_mode("acme").event_store.append(
        Posted(text="t1"), Posted(text="t2"), Posted(text="t3"), stream_id=stream_id
    )
    commit()

    with pytest.raises(ConcurrentStreamWriteError):
        backend.event_store.append(Posted(text="d?"), stream_id=stream_id, expected_version=3)
    backend.event_store.append(Posted(text="d2"), stream_id=stream_id, expected_version=1)
    commit()
    assert texts(backend, stream_id) == [(1, "d1"), (2, "d2")]


def test_versioning_modes_are_per_tenant(backend: Backend, commit: Commit) -> None:
    stream_id = StreamId()
    tenant = backend.in_tenant_mode("acme")
    backend.event_store.append(
        Posted(text="d"), stream_id=stream_id, expected_version=NO_VERSIONING
    )
    commit()
    tenant.event_store.append(Posted(text="t"), stream_id=stream_id, expected_version=0)
    commit()

    assert texts(backend, stream_id) == [(None, "d")]
    assert texts(tenant, stream_id) == [(1, "t")]


def test_snapshots_are_tenant_scoped(backend: Backend, commit: Commit) -> None:
    stream_id = StreamId()
    tenant = backend.in_tenant_mode("acme")
    backend.event_store.append(Posted(text="d1"), Posted(text="d2"), stream_id=stream_id)
    tenant.event_store.append(Posted(text="t1"), Posted(text="t2"), stream_id=stream_id)
    commit()

    tenant.event_store.save_snapshot(stream_id, WrappedEvent.wrap(Summary(texts=["t1", "t2"]), 2))
    commit()

    assert texts(tenant, stream_id) == [(2, "summary:['t1', 't2']")]
    assert texts(backend, stream_id) == [(1, "d1"), (2, "d2")]


def test_a_snapshot_needs_the_stream_in_the_same_tenant(backend: Backend, commit: Commit) -> None:
    stream_id = StreamId()
    backend.event_store.append(Posted(text="d1"), stream_id=stream_id)
    commit()
    tenant = backend.in_tenant_mode("acme")

    with pytest.raises(StreamNotFound):
        tenant.event_store.save_snapshot(stream_id, WrappedEvent.wrap(Summary(texts=["d1"]), 1))

    assert texts(tenant, stream_id) == []
    assert texts(backend, stream_id) == [(1, "d1")]


def test_deleting_in_a_tenant_leaves_the_default_stream(backend: Backend, commit: Commit) -> None:
    stream_id = StreamId()
    tenant = backend.in_tenant_mode("acme")
    backend.event_store.append(Posted(text="d1"), stream_id=stream_id)
    tenant.event_store.append(Posted(text="t1"), stream_id=stream_id)
    commit()

    tenant.event_store.delete_stream(stream_id)
    commit()

    assert texts(tenant, stream_id) == []
    assert texts(backend, stream_id) == [(1, "d1")]


def test_deleting_without_a_tenant_leaves_the_tenant_streams(
    backend: Backend, commit: Commit
) -> None:
    stream_id = StreamId()
    first, second = backend.in_tenant_mode("first"), backend.in_tenant_mode("second")
    backend.event_store.append(Posted(text="d1"), stream_id=stream_id)
    first.event_store.append(Posted(text="f1"), stream_id=stream_id)
    second.event_store.append(Posted(text="s1"), stream_id=stream_id)
    commit()

    backend.event_store.delete_stream(stream_id)
    commit()

    assert texts(backend, stream_id) == []
    assert texts(first, stream_id) == [(1, "f1")]
    assert texts(second, stream_id) == [(1, "s1")]


def test_deleting_a_stream_with_a_snapshot_in_a_tenant_leaves_the_default_snapshot(
    backend: Backend, commit: Commit
) -> None:
    stream_id = StreamId()
    tenant = backend.in_tenant_mode("acme")
    for store, text in ((backend.event_store, "d"), (tenant.event_store, "t")):
        store.append(Posted(text=text), stream_id=stream_id)
        commit()
        store.save_snapshot(stream_id, WrappedEvent.wrap(Summary(texts=[text]), 1))
        commit()

    tenant.event_store.delete_stream(stream_id)
    commit()

    assert texts(tenant, stream_id) == []
    assert texts(backend, stream_id) == [(1, "summary:['d']")]


def test_in_tenant_mode_returns_a_copy_and_leaves_the_original(
    backend: Backend, commit: Commit
) -> None:
    tenant = backend.in_tenant_mode("acme")

    assert tenant is not backend
    assert tenant[TenantId] == "acme"
    assert backend[TenantId] == DEFAULT_TENANT

    stream_id = StreamId()
    backend.event_store.append(Posted(text="still default"), stream_id=stream_id)
    commit()
    assert texts(backend, stream_id) == [(1, "still default")]
    assert texts(tenant, stream_id) == []


def test_a_tenant_copy_can_switch_to_another_tenant_or_back_to_the_default(
    backend: Backend, commit: Commit
) -> None:
    stream_id = StreamId()
    first = backend.in_tenant_mode("first")
    first.event_store.append(Posted(text="f1"), stream_id=stream_id)
    backend.event_store.append(Posted(text="d1"), stream_id=stream_id)
    commit()

    second = first.in_tenant_mode("second")
    back_to_default = first.in_tenant_mode(DEFAULT_TENANT)

    assert first[TenantId] == "first"
    assert texts(second, stream_id) == []
    assert texts(back_to_default, stream_id) == [(1, "d1")]
    assert texts(first, stream_id) == [(1, "f1")]


def test_two_copies_for_the_same_tenant_share_its_streams(backend: Backend, commit: Commit) -> None:
    stream_id = StreamId()
    backend.in_tenant_mode("acme").event_store.append(Posted(text="t1"), stream_id=stream_id)
    commit()

    assert texts(backend.in_tenant_mode("acme"), stream_id) == [(1, "t1")]


@pytest.mark.parametrize("tenant_id", [1, None, b"acme", ["acme"]])
def test_a_tenant_that_is_not_a_string_is_an_illegal_tenant_id(
    backend: Backend, tenant_id: object
) -> None:
    with pytest.raises(IllegalTenantId) as caught:
        backend.in_tenant_mode(tenant_id)  # type: ignore[arg-type]
    assert isinstance(caught.value, EventStoreException)
    assert backend[TenantId] == DEFAULT_TENANT


@pytest.mark.parametrize("category", [1, b"orders", ["orders"]])
def test_a_category_that_is_not_a_string_is_an_illegal_category_name(category: object) -> None:
    with pytest.raises(IllegalCategoryName) as caught:
        StreamId(category=category)  # type: ignore[arg-type]
    assert isinstance(caught.value, EventStoreException)
