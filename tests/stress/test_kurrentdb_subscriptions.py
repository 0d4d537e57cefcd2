"""KurrentDB subscriptions under concurrent writers: every committed event exactly once.

Bounded: four writer threads each make 40 appends of 1-3 events through ``KurrentDBBackend``
(their own streams and two shared streams in the ``hot`` category, where appends with an
expected version race and some lose with ``ConcurrentStreamWriteError``); about one step in
eight deletes one of the writer's own streams instead (``tests/stress/deletes.py``: mostly one
the batch subscriber has delivered). Meanwhile three subscribers read from the position before
the run: all events in batches, all events one by one, and the ``hot`` category. Each must
deliver exactly the committed events of its selection whose stream survives, once each, in
strictly increasing positions, in the same order; events of deleted streams at most once and
not read after their delete; resuming from any delivered position (a deleted event's too)
gives exactly the surviving rest. Runs against ``KURRENTDB_URI`` or the in-process test double.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import pytest

from event_sourcery import Event, StreamId
from event_sourcery.backend import Backend
from event_sourcery.event import Recorded, WrappedEvent
from event_sourcery.exceptions import ConcurrentStreamWriteError
from tests.contract.backends import KurrentDBFactory
from tests.stress.deletes import DeletePolicy

pytestmark = [pytest.mark.kurrentdb, pytest.mark.timeout(90)]

WRITERS = 4
APPENDS = 40
OWN_STREAMS = 4
DELETE_RATIO = 0.12
TIMELIMIT = timedelta(milliseconds=300)
HOT = [StreamId(category="hot") for _ in range(2)]


class Stirred(Event):
    __event_name__ = "stress.kurrentdb.Stirred"
    writer: int
    number: int


@dataclass
class Run:
    committed: list[tuple[UUID, StreamId]] = field(default_factory=list)
    conflicts: int = 0
    errors: list[BaseException] = field(default_factory=list)
    delivered: dict[str, list[Recorded]] = field(default_factory=dict)
    asked: dict[str, list[float]] = field(default_factory=dict)
    """When each subscriber asked for the batch that brought each record (wall clock)."""
    deleted: dict[StreamId, float] = field(default_factory=dict)
    """Each deleted stream with when its delete returned (wall clock)."""
    start: int = 0

    @property
    def surviving(self) -> set[UUID]:
        return {u for u, stream_id in self.committed if stream_id not in self.deleted}

    def deleted_events(self) -> dict[UUID, float]:
        """Events of deleted streams with when the delete returned."""
        return {u: self.deleted[s] for u, s in self.committed if s in self.deleted}


def write(backend: Backend, writer: int, run: Run, lock: threading.Lock) -> None:
    store = backend.event_store
    rng = random.Random(writer)
    own = [StreamId(category="calm") for _ in range(OWN_STREAMS)]

    def delivered() -> set[str]:
        with lock:
            return {str(r.wrapped_event.uuid) for r in run.delivered["batch"]}

    deletes = DeletePolicy(DELETE_RATIO, writer + 100, delivered)
    for number in range(APPENDS):
        chosen = deletes.victim(own, number == APPENDS - 1)
        if chosen is not None:
            victim, read = chosen
            try:
                store.delete_stream(victim)
            except BaseException as error:
                with lock:
                    run.errors.append(error)
                return
            with lock:
                run.deleted[victim] = time.time()
            deletes.deleted(victim, read)
            own.remove(victim)
            own.append(StreamId(category="calm"))
            continue
        stream_id = rng.choice([*deletes.active(own), *HOT])
        count = rng.randint(1, 3)
        events = [Stirred(writer=writer, number=number * 10 + i) for i in range(count)]
        try:
            loaded = store.load_stream(stream_id)
            version = loaded[-1].version if loaded else 0
            wrapped = [WrappedEvent.wrap(e, (version or 0) + i + 1) for i, e in enumerate(events)]
            store.append(*wrapped, stream_id=stream_id, expected_version=version or 0)
        except ConcurrentStreamWriteError:
            with lock:
                run.conflicts += 1
            continue
        except BaseException as error:
            with lock:
                run.errors.append(error)
            return
        with lock:
            run.committed.extend((w.uuid, stream_id) for w in wrapped)
        deletes.committed(stream_id, [str(w.uuid) for w in wrapped])


def subscribe(
    iterator: Iterator[object],
    until: threading.Event,
    into: list[Recorded],
    asked_at: list[float],
    lock: threading.Lock,
) -> None:
    quiet_rounds = 0
    asked = time.time()
    for item in iterator:
        records = item if isinstance(item, list) else [item] if item is not None else []
        with lock:
            into.extend(records)  # type: ignore[arg-type]
            asked_at.extend(asked for _ in records)
        asked = time.time()
        if until.is_set():
            quiet_rounds = 0 if records else quiet_rounds + 1
            if quiet_rounds >= 2:
                return


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    with KurrentDBFactory().make() as made:
        yield made


@pytest.fixture(scope="module")
def run(backend: Backend) -> Run:
    result = Run(start=backend.event_store.position or 0)
    lock = threading.Lock()
    done = threading.Event()
    subscriber = backend.subscriber
    iterators: dict[str, Iterator[object]] = {
        "batch": subscriber.start_from(result.start).build_batch(7, TIMELIMIT),
        "iter": backend.subscriber.start_from(result.start).build_iter(TIMELIMIT),
        "hot": backend.subscriber.start_from(result.start)
        .to_category("hot")
        .build_batch(5, TIMELIMIT),
    }
    readers = []
    for name, iterator in iterators.items():
        result.delivered[name], result.asked[name] = [], []
        reader = threading.Thread(
            target=subscribe,
            args=(iterator, done, result.delivered[name], result.asked[name], lock),
        )
        reader.start()
        readers.append(reader)
    writers = [
        threading.Thread(target=write, args=(backend, w, result, lock)) for w in range(WRITERS)
    ]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    deadline = time.monotonic() + 60
    for reader in readers:
        reader.join(timeout=max(deadline - time.monotonic(), 0))
    return result


def uuids(records: list[Recorded]) -> list[UUID]:
    return [r.wrapped_event.uuid for r in records]


def test_the_run_had_commits_and_conflicts(run: Run) -> None:
    assert run.errors == []
    assert len(run.committed) > 100
    assert run.conflicts > 0, "the hot streams should have produced lost races"


def test_streams_were_deleted_some_after_their_events_were_delivered(run: Run) -> None:
    assert len(run.deleted) >= WRITERS
    gone = run.deleted_events()
    for name in ("batch", "iter"):
        assert set(uuids(run.delivered[name])) & gone.keys(), f"{name} got no deleted event"


@pytest.mark.parametrize("subscriber", ["batch", "iter"])
def test_every_committed_event_is_delivered_exactly_once(run: Run, subscriber: str) -> None:
    """Events of surviving streams exactly once; of deleted streams at most once."""
    delivered = uuids(run.delivered[subscriber])
    assert len(delivered) == len(set(delivered)), "duplicates"
    assert set(delivered) - run.deleted_events().keys() == run.surviving


def test_no_event_is_read_after_its_stream_was_deleted(run: Run) -> None:
    """The batch subscriber asked for each deleted event's batch before the delete returned
    (``build_iter`` hands out records it read ahead: no bound there)."""
    gone = run.deleted_events()
    late = [
        (record.wrapped_event.uuid, record.position)
        for record, asked in zip(run.delivered["batch"], run.asked["batch"], strict=True)
        if record.wrapped_event.uuid in gone and asked > gone[record.wrapped_event.uuid]
    ]
    assert late == []


def test_the_category_subscriber_gets_exactly_the_category(run: Run) -> None:
    delivered = uuids(run.delivered["hot"])
    assert len(delivered) == len(set(delivered))
    assert set(delivered) == {u for u, stream_id in run.committed if stream_id.category == "hot"}


def test_positions_increase_and_subscribers_agree_on_the_order(run: Run) -> None:
    batch = run.delivered["batch"]
    positions = [r.position for r in batch]
    assert all(a < b for a, b in itertools.pairwise(positions))
    both = set(uuids(batch)) & set(uuids(run.delivered["iter"]))
    assert run.surviving <= both
    assert [u for u in uuids(batch) if u in both] == [
        u for u in uuids(run.delivered["iter"]) if u in both
    ]
    hot_order = [r for r in batch if r.stream_id.category == "hot"]
    assert uuids(hot_order) == uuids(run.delivered["hot"])


def test_versions_in_each_stream_are_unique_and_ordered(backend: Backend, run: Run) -> None:
    for stream_id in {s for _, s in run.committed} - run.deleted.keys():
        versions = [e.version for e in backend.event_store.load_stream(stream_id)]
        assert versions == list(range(1, len(versions) + 1)), stream_id


def resumed(backend: Backend, position: int) -> list[UUID]:
    iterator = backend.subscriber.start_from(position).build_batch(1000, TIMELIMIT)
    records: list[Recorded] = []
    while batch := next(iterator):
        records.extend(batch)
    return uuids(records)


def test_resuming_from_a_delivered_position_delivers_exactly_the_rest(
    backend: Backend, run: Run
) -> None:
    """From positions delivered during the run, surviving events' and deleted events' alike:
    exactly the surviving events after it."""
    delivered = run.delivered["batch"]
    gone = run.deleted_events()
    deleted = [i for i, r in enumerate(delivered) if r.wrapped_event.uuid in gone]
    assert deleted, "no delivered event of a deleted stream to resume from"
    for index in sorted({0, len(delivered) // 2, len(delivered) - 2, deleted[0], deleted[-1]}):
        rest = [u for u in uuids(delivered[index + 1 :]) if u not in gone]
        kind = "a deleted event's" if index in deleted else "a surviving event's"
        position = delivered[index].position
        assert resumed(backend, position) == rest, f"from {position} ({kind})"
