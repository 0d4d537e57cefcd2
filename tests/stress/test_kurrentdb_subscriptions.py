"""KurrentDB subscriptions under concurrent writers: every committed event exactly once.

Bounded: four writer threads each make 40 appends of 1-3 events through ``KurrentDBBackend``
(their own streams and two shared streams in the ``hot`` category, where appends with an
expected version race and some lose with ``ConcurrentStreamWriteError``). Meanwhile three
subscribers read from the position before the run: all events in batches, all events one by
one, and the ``hot`` category. Each must deliver exactly the committed events of its selection,
once each, in strictly increasing positions, in the same order; resuming from any delivered
position gives exactly the rest. Runs against ``KURRENTDB_URI`` or the in-process test double.
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

pytestmark = [pytest.mark.kurrentdb, pytest.mark.timeout(90)]

WRITERS = 4
APPENDS = 40
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
    start: int = 0


def write(backend: Backend, writer: int, run: Run, lock: threading.Lock) -> None:
    store = backend.event_store
    rng = random.Random(writer)
    own = StreamId(category="calm")
    for number in range(APPENDS):
        stream_id = rng.choice([own, *HOT])
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


def subscribe(iterator: Iterator[object], until: threading.Event, into: list[Recorded]) -> None:
    quiet_rounds = 0
    for item in iterator:
        records = item if isinstance(item, list) else [item] if item is not None else []
        into.extend(records)  # type: ignore[arg-type]
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
        result.delivered[name] = []
        reader = threading.Thread(target=subscribe, args=(iterator, done, result.delivered[name]))
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


@pytest.mark.parametrize("subscriber", ["batch", "iter"])
def test_every_committed_event_is_delivered_exactly_once(run: Run, subscriber: str) -> None:
    delivered = uuids(run.delivered[subscriber])
    assert len(delivered) == len(set(delivered)), "duplicates"
    assert set(delivered) == {u for u, _ in run.committed}


def test_the_category_subscriber_gets_exactly_the_category(run: Run) -> None:
    delivered = uuids(run.delivered["hot"])
    assert len(delivered) == len(set(delivered))
    assert set(delivered) == {u for u, stream_id in run.committed if stream_id.category == "hot"}


def test_positions_increase_and_subscribers_agree_on_the_order(run: Run) -> None:
    batch = run.delivered["batch"]
    positions = [r.position for r in batch]
    assert all(a < b for a, b in itertools.pairwise(positions))
    assert uuids(batch) == uuids(run.delivered["iter"])
    hot_order = [r for r in batch if r.stream_id.category == "hot"]
    assert uuids(hot_order) == uuids(run.delivered["hot"])


def test_versions_in_each_stream_are_unique_and_ordered(backend: Backend, run: Run) -> None:
    for stream_id in {s for _, s in run.committed}:
        versions = [e.version for e in backend.event_store.load_stream(stream_id)]
        assert versions == list(range(1, len(versions) + 1)), stream_id


def test_resuming_from_a_delivered_position_delivers_exactly_the_rest(
    backend: Backend, run: Run
) -> None:
    delivered = run.delivered["batch"]
    for index in (0, len(delivered) // 2, len(delivered) - 2):
        iterator = backend.subscriber.start_from(delivered[index].position).build_batch(
            1000, TIMELIMIT
        )
        resumed: list[Recorded] = []
        while batch := next(iterator):
            resumed.extend(batch)
        assert uuids(resumed) == uuids(delivered[index + 1 :])
