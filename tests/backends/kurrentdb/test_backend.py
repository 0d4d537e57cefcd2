"""KurrentDB-specific guarantees (SPEC §19 items 3 and 25 fixed), beyond the contract suite."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from uuid import uuid4

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from pydantic import BaseModel, ConfigDict

from event_sourcery import NO_VERSIONING, Event, StreamId
from event_sourcery._core.versioning import ExplicitVersioning
from event_sourcery.backend import Backend
from event_sourcery.event import Recorded, Serde, WrappedEvent
from event_sourcery.exceptions import (
    BackendUnavailable,
    ConcurrentStreamWriteError,
    IllegalCategoryName,
    IllegalTenantId,
)
from event_sourcery.interfaces import StorageStrategy
from event_sourcery_kurrentdb import AppendTooLarge, KurrentDBBackend, KurrentDBConfig
from event_sourcery_kurrentdb.stream import Name

pytestmark = pytest.mark.kurrentdb

SHORT = 0.3


class Booked(Event):
    __event_name__ = "kdb.tests.Booked"
    seat: str


class DottedName(Event):
    __event_name__ = "kdb.tests.Seat.Moved"
    seat: str


class LookAlike(Event):
    __event_name__ = "kdbXtestsXSeatXMoved"
    seat: str


class Summary(Event):
    __event_name__ = "kdb.tests.Summary"
    seats: int


def drain(backend: Backend, start: int, **target: object) -> list[Recorded]:
    """Everything a fresh subscription from ``start`` delivers within ``SHORT``."""
    phase = backend.subscriber.start_from(start)
    if "category" in target:
        builder = phase.to_category(str(target["category"]))
    elif "events" in target:
        builder = phase.to_events(target["events"])  # type: ignore[arg-type]
    else:
        builder = phase
    return next(builder.build_batch(1000, SHORT))


# --- atomic optimistic concurrency ------------------------------------------------------------


def race(writers: int, append: Callable[[int], None]) -> tuple[int, list[BaseException]]:
    """Run ``append`` in ``writers`` threads released at once; (successes, errors)."""
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []
    wins = []

    def write(index: int) -> None:
        barrier.wait()
        try:
            append(index)
            wins.append(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(wins), errors


def test_concurrent_appends_with_the_same_expected_version_have_one_winner(
    backend: Backend,
) -> None:
    store = backend.event_store
    stream_id = StreamId()
    store.append(Booked(seat="A0"), stream_id=stream_id)

    wins, errors = race(
        8, lambda i: store.append(Booked(seat=f"A{i}"), stream_id=stream_id, expected_version=1)
    )

    assert wins == 1
    assert len(errors) == 7
    assert all(isinstance(e, ConcurrentStreamWriteError) for e in errors)
    assert [e.version for e in store.load_stream(stream_id)] == [1, 2]


def test_concurrent_creation_of_one_stream_has_one_winner(backend: Backend) -> None:
    store = backend.event_store
    stream_id = StreamId()

    wins, errors = race(6, lambda i: store.append(Booked(seat=f"B{i}"), stream_id=stream_id))

    assert wins == 1
    assert all(isinstance(e, ConcurrentStreamWriteError) for e in errors)
    assert [e.version for e in store.load_stream(stream_id)] == [1]


def test_concurrent_versionless_appends_all_land(backend: Backend) -> None:
    store = backend.event_store
    stream_id = StreamId()
    store.append(Booked(seat="start"), stream_id=stream_id, expected_version=NO_VERSIONING)

    wins, errors = race(
        8,
        lambda i: store.append(
            Booked(seat=f"C{i}"), stream_id=stream_id, expected_version=NO_VERSIONING
        ),
    )

    assert (wins, errors) == (8, [])
    loaded = store.load_stream(stream_id)
    assert len(loaded) == 9
    assert {e.version for e in loaded} == {None}


def test_pre_numbered_batches_from_racing_writers_never_share_a_version(backend: Backend) -> None:
    store = backend.event_store
    stream_id = StreamId()

    def append(index: int) -> None:
        store.append(
            WrappedEvent.wrap(Booked(seat=f"D{index}"), version=index % 3 + 1), stream_id=stream_id
        )

    race(9, append)

    versions = [e.version for e in store.load_stream(stream_id)]
    assert sorted(versions) == sorted(set(versions))
    assert len(versions) >= 1


def test_a_gap_below_the_stored_version_can_be_filled_once(backend: Backend) -> None:
    store = backend.event_store
    stream_id = StreamId()
    store.append(
        *[WrappedEvent.wrap(Booked(seat=s), version=v) for s, v in [("a", 1), ("c", 3)]],
        stream_id=stream_id,
    )

    store.append(WrappedEvent.wrap(Booked(seat="b"), version=2), stream_id=stream_id)
    with pytest.raises(ConcurrentStreamWriteError):
        store.append(WrappedEvent.wrap(Booked(seat="b2"), version=2), stream_id=stream_id)

    assert [(e.version, e.event.seat) for e in store.load_stream(stream_id)] == [
        (1, "a"),
        (2, "b"),
        (3, "c"),
    ]
    store.append(Booked(seat="d"), stream_id=stream_id, expected_version=3)


def test_a_deleted_stream_starts_again_at_version_one(backend: Backend) -> None:
    store = backend.event_store
    stream_id = StreamId()
    store.append(Booked(seat="x"), Booked(seat="y"), stream_id=stream_id)
    store.save_snapshot(stream_id, WrappedEvent.wrap(Summary(seats=2), version=2))
    store.delete_stream(stream_id)

    store.append(Booked(seat="z"), stream_id=stream_id)

    assert [(e.version, e.event) for e in store.load_stream(stream_id)] == [(1, Booked(seat="z"))]


# --- filters ------------------------------------------------------------------------------------


def test_a_category_subscription_never_sees_a_longer_category_or_snapshots(
    backend: Backend,
) -> None:
    store = backend.event_store
    start = store.position or 0
    own = StreamId(category="seat")
    store.append(Booked(seat="own"), stream_id=own)
    store.append(Booked(seat="longer"), stream_id=StreamId(category="seats"))
    store.append(Booked(seat="prefixed"), stream_id=StreamId(category="xseat"))
    store.save_snapshot(own, WrappedEvent.wrap(Booked(seat="snapshot"), version=1))

    records = drain(backend, start, category="seat")

    assert [r.wrapped_event.event.seat for r in records] == ["own"]


def test_event_type_subscription_treats_dots_literally_and_skips_snapshots(
    backend: Backend,
) -> None:
    store = backend.event_store
    start = store.position or 0
    stream_id = StreamId()
    store.append(DottedName(seat="dotted"), LookAlike(seat="look-alike"), stream_id=stream_id)
    store.save_snapshot(stream_id, WrappedEvent.wrap(DottedName(seat="snapshot"), version=2))

    records = drain(backend, start, events=[DottedName])

    assert [r.wrapped_event.event.seat for r in records] == ["dotted"]


def test_all_subscription_skips_snapshots_metadata_and_foreign_streams(
    backend: Backend, client: KurrentDBClient
) -> None:
    store = backend.event_store
    start = store.position or 0
    stream_id = StreamId()
    store.append(Booked(seat="kept"), stream_id=stream_id)
    store.save_snapshot(stream_id, WrappedEvent.wrap(Summary(seats=1), version=1))
    client.append_to_stream(
        f"foreign-{uuid4().hex}",
        events=[NewEvent(type="Other", data=b"{}")],
        current_version=StreamState.ANY,
    )
    store.delete_stream(StreamId())  # a no-op on a missing stream
    gone = StreamId()
    store.append(Booked(seat="gone"), stream_id=gone)
    store.delete_stream(gone)  # writes stream metadata

    records = drain(backend, start)

    assert [r.wrapped_event.event for r in records] == [Booked(seat="kept")]


# --- deleted streams: their events stay in $all until the server scavenges ------------------


@pytest.mark.parametrize(
    "target",
    [
        pytest.param({}, id="all"),
        pytest.param({"category": "seat"}, id="category"),
        pytest.param({"events": [Booked]}, id="events"),
    ],
)
def test_a_subscription_passing_over_a_deleted_stream_skips_its_events(
    backend: Backend, target: dict[str, object]
) -> None:
    store = backend.event_store
    start = store.position or 0
    doomed = StreamId(category="seat")
    store.append(Booked(seat="a"), stream_id=StreamId(category="seat"))
    store.append(Booked(seat="d1"), Booked(seat="d2"), stream_id=doomed)
    store.append(Booked(seat="b"), stream_id=StreamId(category="seat"))
    store.delete_stream(doomed)

    records = drain(backend, start, **target)

    assert [r.wrapped_event.event.seat for r in records] == ["a", "b"]


def test_a_recreated_stream_delivers_only_the_events_appended_after_the_delete(
    backend: Backend,
) -> None:
    store = backend.event_store
    start = store.position or 0
    stream_id = StreamId()
    store.append(Booked(seat="old"), stream_id=stream_id)
    store.delete_stream(stream_id)
    store.append(Booked(seat="new"), stream_id=stream_id)

    records = drain(backend, start)

    assert [(r.wrapped_event.event.seat, r.wrapped_event.version) for r in records] == [("new", 1)]


def test_the_events_of_a_tombstoned_stream_are_skipped(
    backend: Backend, client: KurrentDBClient
) -> None:
    store = backend.event_store
    start = store.position or 0
    stream_id = StreamId()
    store.append(Booked(seat="gone"), stream_id=stream_id)
    store.append(Booked(seat="kept"), stream_id=StreamId())
    client.tombstone_stream(str(Name(stream_id, "")), current_version=StreamState.ANY)

    records = drain(backend, start)

    assert [r.wrapped_event.event.seat for r in records] == ["kept"]


def test_the_outbox_never_sees_snapshots(backend: Backend) -> None:
    backend.with_outbox()
    store = backend.event_store
    stream_id = StreamId()
    store.append(Booked(seat="published"), stream_id=stream_id)
    store.save_snapshot(stream_id, WrappedEvent.wrap(Summary(seats=1), version=1))
    published: list[Recorded] = []

    backend.outbox.run(published.append)

    assert [r.wrapped_event.event for r in published] == [Booked(seat="published")]


# --- what round-trips ---------------------------------------------------------------------------


class AnyContext(BaseModel):
    """Every stored context field, declared or not."""

    model_config = ConfigDict(extra="allow")


def test_hostile_context_keys_and_stream_names_round_trip(backend: Backend) -> None:
    """Context keys that look like the metadata layout: component names, and the extra root
    fields of a context stored before release 0.6 (written here through the storage strategy)."""
    store = backend.event_store
    start = store.position or 0
    stream_id = StreamId(name=f"order {uuid4()}: $special-ünïcode", category="orders")
    hostile = {"created_at": "mine", "$es-version": 7, "$custom": [1], "plain": {"a": 1}}
    stored = {
        "correlation_id": None,
        "causation_id": None,
        "components": {"$es-stream_position": {"v": 1}, "created_at": {"x": "y"}},
        **hostile,
    }
    event = WrappedEvent.wrap(Booked(seat="ctx"), version=1)
    raw = dataclasses.replace(backend[Serde].serialize(event, stream_id), context=stored)
    backend[StorageStrategy].insert_events(stream_id, ExplicitVersioning(0, 1), [raw])

    (loaded,) = store.load_stream(stream_id)
    (record,) = drain(backend, start)

    for wrapped in (loaded, record.wrapped_event):
        assert wrapped.uuid == event.uuid
        assert wrapped.event == event.event
        assert wrapped.context.components == stored["components"]
        extra = wrapped.get_context(AnyContext).model_extra
        assert extra == {"correlation_id": None, "causation_id": None, **hostile}
    assert record.stream_id == stream_id
    assert record.stream_id.name == stream_id.name


def test_streams_written_by_the_existing_library_load(
    backend: Backend, client: KurrentDBClient
) -> None:
    """SPEC §16.4 layout: context keys and created_at at the top, versions from positions."""
    stream_id = StreamId(category="legacy")
    name = Name(stream_id, "")
    created = "2025-01-02T03:04:05.123456"
    metadata = json.dumps({"correlation_id": None, "causation_id": None, "created_at": created})
    events = [
        NewEvent(
            type="kdb.tests.Booked",
            data=json.dumps({"seat": s}).encode(),
            metadata=metadata.encode(),
        )
        for s in "abc"
    ]
    client.append_to_stream(str(name), events=events, current_version=StreamState.NO_STREAM)
    snapshot_metadata = json.dumps({"created_at": created, "$es-stream_position": 1})
    client.append_to_stream(
        name.snapshot,
        events=[
            NewEvent(
                type="kdb.tests.Summary", data=b'{"seats": 2}', metadata=snapshot_metadata.encode()
            )
        ],
        current_version=StreamState.ANY,
    )
    store = backend.event_store

    loaded = store.load_stream(stream_id)

    assert [(e.version, e.event) for e in loaded] == [(2, Summary(seats=2)), (3, Booked(seat="c"))]
    ranged = store.load_stream(stream_id, start=1, stop=2)
    assert [(e.version, e.event) for e in ranged] == [(1, Booked(seat="a"))]
    assert ranged[0].created_at.isoformat() == created
    store.append(Booked(seat="d"), stream_id=stream_id, expected_version=3)
    assert store.load_stream(stream_id)[-1].version == 4


# --- names that cannot be encoded ---------------------------------------------------------------


@pytest.mark.parametrize("tenant", ["acme-eu", "\udfff"], ids=["dash", "surrogate"])
def test_a_tenant_kurrentdb_cannot_store_is_refused_at_the_first_operation(
    backend: Backend, tenant: str
) -> None:
    """Like the other backends: ``in_tenant_mode`` accepts it, every operation refuses it
    before anything is sent."""
    position = backend.event_store.position
    store = backend.in_tenant_mode(tenant).event_store
    stream_id = StreamId()
    with pytest.raises(IllegalTenantId):
        store.append(Booked(seat="x"), stream_id=stream_id)
    with pytest.raises(IllegalTenantId):
        store.load_stream(stream_id)
    with pytest.raises(IllegalTenantId):
        store.delete_stream(stream_id)
    assert backend.event_store.position == position


def test_category_with_a_dash_is_refused_before_anything_is_written(backend: Backend) -> None:
    store = backend.event_store
    position = store.position
    with pytest.raises(IllegalCategoryName):
        store.append(Booked(seat="x"), stream_id=StreamId(category="a-b"))
    with pytest.raises(IllegalCategoryName):
        backend.subscriber.start_from(0).to_category("a-b").build_iter(SHORT)
    assert store.position == position


# --- outbox without network at configuration, bounded runs ------------------------------------


def test_with_outbox_sends_nothing_and_a_down_server_is_backend_unavailable() -> None:
    client = KurrentDBClient(uri="kurrentdb://127.0.0.1:1?Tls=false&MaxDiscoverAttempts=1")
    backend = KurrentDBBackend().configure(client, KurrentDBConfig(timeout=1)).with_outbox()

    with pytest.raises(BackendUnavailable):
        backend.outbox.run(lambda record: None)
    with pytest.raises(BackendUnavailable):
        backend.event_store.append(Booked(seat="x"), stream_id=StreamId())
    with pytest.raises(BackendUnavailable):
        backend.event_store.load_stream(StreamId())
    client.close()


def test_a_subscription_the_server_aborts_raises_backend_unavailable(backend: Backend) -> None:
    from tests.backends.kurrentdb.server import target

    if not target().is_double:
        pytest.skip("aborting every open call needs the test double's reset()")
    iterator = backend.subscriber.start_from(0).build_iter(SHORT)
    assert next(iterator) is None  # subscribed, nothing to deliver

    target().reset(backend[KurrentDBClient])  # ends every open call with ABORTED

    with pytest.raises(BackendUnavailable):
        next(iterator)


def test_an_idle_outbox_run_returns(backend: Backend, config: KurrentDBConfig) -> None:
    backend.with_outbox()
    started = time.monotonic()

    backend.outbox.run(lambda record: None)

    assert time.monotonic() - started < config.outbox_wait + 5


def test_rejected_messages_are_acknowledged_not_redelivered(backend: Backend) -> None:
    seen: list[str] = []

    def filterer(entry: object) -> bool:
        seen.append(entry.name)  # type: ignore[attr-defined]
        return False

    backend.with_outbox(filterer)
    backend.event_store.append(Booked(seat="x"), stream_id=StreamId())

    for _ in range(3):
        backend.outbox.run(lambda record: None)

    assert seen == ["kdb.tests.Booked"]
    assert backend.outbox.dead_letters() == []


# --- KurrentDB's maximum append size ---------------------------------------------------------


def test_an_append_beyond_the_servers_max_append_size_raises_append_too_large(
    backend: Backend,
) -> None:
    """One append is atomic, so it is not split: the library says what the server refused
    (``MaxAppendSize``, 1,048,576 bytes by default) and nothing is written."""
    store = backend.event_store
    stream_id = StreamId()
    big = Booked(seat="x" * 600_000)
    with pytest.raises(AppendTooLarge, match="MaxAppendSize") as caught:
        store.append(big, big, stream_id=stream_id)
    assert isinstance(caught.value, ValueError)
    assert store.load_stream(stream_id) == []
    store.append(big, stream_id=stream_id)
    assert len(store.load_stream(stream_id)) == 1
