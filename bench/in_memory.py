"""In-memory backend workloads beside a bare reference (dicts + pydantic, no event store).

The reference does the minimum any store must do with the same data: dump each event with
pydantic into a dict held in a list (append), validate it back (load, catch-up). The ratio
``ours / reference`` is the share of the bare speed the library keeps.
"""

from __future__ import annotations

import statistics
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from uuid import uuid4

from event_sourcery import Event, EventStore, StreamId
from event_sourcery.backend import InMemoryBackend


class Deposited(Event):
    account: str
    amount: int
    note: str = "salary"


@dataclass
class Figure:
    workload: str
    ours: float
    reference: float | None
    unit: str

    @property
    def ratio(self) -> str:
        if not self.reference:
            return "-"
        return f"{self.ours / self.reference:.2f}x"


def _rate(count: int, run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def best_of_three(
    workload: str, per: int, ours: Callable[[], object], reference: Callable[[], object]
) -> Figure:
    """The best of three alternating timed runs of each side (``per`` events per run)."""
    best = [0.0, 0.0]
    for _ in range(3):
        for index, side in enumerate((ours, reference)):
            best[index] = max(best[index], _rate(per, side))
    return Figure(workload, best[0], best[1], "events/s")


def append_figures(
    store: EventStore, raw_append: Callable[[int], object], n: int, suffix: str = ""
) -> Iterator[Figure]:
    """``n`` appends of 1, then of 10 events to new streams, beside ``raw_append(events)``."""
    for events, workload in ((1, "append 1 event to a new stream"), (10, "append 10 events")):
        batch = [Deposited(account="a", amount=i) for i in range(events)]

        def ours(batch: list[Deposited] = batch) -> None:
            for _ in range(n):
                store.append(*batch, stream_id=StreamId())

        def reference(events: int = events) -> None:
            for _ in range(n):
                raw_append(events)

        yield best_of_three(workload + suffix, n * events, ours, reference)


def append_single(n: int = 5_000) -> Figure:
    store = InMemoryBackend().event_store
    raw: dict[str, list[dict[str, object]]] = {}
    events = [Deposited(account="a", amount=i) for i in range(n)]

    def ours() -> None:
        for event in events:
            store.append(event, stream_id=StreamId())

    def reference() -> None:
        for event in events:
            raw.setdefault(str(uuid4()), []).append(event.model_dump(mode="json"))

    return Figure("append 1 event to a new stream", _rate(n, ours), _rate(n, reference), "events/s")


def append_ten(n: int = 1_000) -> Figure:
    store = InMemoryBackend().event_store
    raw: dict[str, list[dict[str, object]]] = {}
    batch = [Deposited(account="a", amount=i) for i in range(10)]

    def ours() -> None:
        for _ in range(n):
            store.append(*batch, stream_id=StreamId())

    def reference() -> None:
        for _ in range(n):
            raw[str(uuid4())] = [event.model_dump(mode="json") for event in batch]

    return Figure(
        "append 10 events + commit", _rate(n * 10, ours), _rate(n * 10, reference), "events/s"
    )


def load_thousand(repeat: int = 20) -> Figure:
    store = InMemoryBackend().event_store
    stream = StreamId()
    events = [Deposited(account="a", amount=i) for i in range(1_000)]
    store.append(*events, stream_id=stream)
    dumped = [event.model_dump(mode="json") for event in events]

    def ours() -> None:
        for _ in range(repeat):
            assert len(store.load_stream(stream)) == 1_000

    def reference() -> None:
        for _ in range(repeat):
            assert len([Deposited.model_validate(d) for d in dumped]) == 1_000

    return Figure(
        "load a 1,000-event stream",
        _rate(repeat * 1_000, ours),
        _rate(repeat * 1_000, reference),
        "events/s",
    )


def catch_up(n: int = 100_000) -> tuple[Figure, Figure]:
    backend = InMemoryBackend()
    store = backend.event_store
    for start in range(0, n, 100):
        store.append(
            *(Deposited(account="a", amount=i) for i in range(start, start + 100)),
            stream_id=StreamId(),
        )
    dumped = [Deposited(account="a", amount=i).model_dump(mode="json") for i in range(n)]

    def ours() -> None:
        seen = 0
        for batch in backend.subscriber.start_from(0).build_batch(1_000, 0.1):
            if not batch:
                break
            seen += len(batch)
        assert seen == n

    def reference() -> None:
        assert len([Deposited.model_validate(d) for d in dumped]) == n

    rate = _rate(n, ours)
    tracemalloc.start()  # a second pass: tracing slows allocation, so it is not timed
    ours()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (
        Figure(f"catch-up subscription over {n:,} events", rate, _rate(n, reference), "events/s"),
        Figure("catch-up peak traced memory", peak / 2**20, None, "MiB"),
    )


def live_latency(samples: int = 200) -> list[Figure]:
    backend = InMemoryBackend()
    store = backend.event_store
    stream = StreamId()
    subscription = backend.subscriber.start_from(store.position or 0).build_iter(1)
    sent: list[float] = []
    latencies: list[float] = []
    ready = threading.Event()

    def writer() -> None:
        for i in range(samples):
            ready.wait()
            ready.clear()
            sent.append(time.perf_counter())
            store.append(Deposited(account="a", amount=i), stream_id=stream, expected_version=i)

    thread = threading.Thread(target=writer)
    thread.start()
    for _ in range(samples):
        ready.set()
        record = next(subscription)
        latencies.append(time.perf_counter() - sent[record.position - 1] if record else 1.0)
    thread.join()
    ms = sorted(x * 1000 for x in latencies)
    return [
        Figure("live delivery latency p50", statistics.median(ms), None, "ms"),
        Figure("live delivery latency p99", ms[int(len(ms) * 0.99) - 1], None, "ms"),
    ]


def outbox_drain(n: int = 10_000) -> Figure:
    backend = InMemoryBackend().configure().with_outbox()
    for start in range(0, n, 100):
        backend.event_store.append(
            *(Deposited(account="a", amount=i) for i in range(start, start + 100)),
            stream_id=StreamId(),
        )
    published: list[object] = []

    def ours() -> None:
        while len(published) < n:
            backend.outbox.run(published.append, limit=1_000)

    return Figure("outbox drain", _rate(n, ours), None, "events/s")


def run() -> list[Figure]:
    figures = [append_single(), append_ten(), load_thousand()]
    figures.extend(catch_up())
    figures.extend(live_latency())
    figures.append(outbox_drain())
    return figures
