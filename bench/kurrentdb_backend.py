"""KurrentDB backend workloads beside the raw ``kurrentdbclient`` on the same server.

``python -m bench.run kurrentdb``. The server is ``KURRENTDB_URI`` when set; otherwise the
in-process test double of the test suite (``tests/backends/kurrentdb/double``), labelled
``kdb-double``. Against the double the figures compare client-side costs and round trips only —
the double is a Python gRPC server, not a database — so read the ratios, not the absolute rates.
The reference appends with the client directly (one request per append, expected state "no
stream") and reads a stream with ``get_stream`` plus JSON and pydantic decoding.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from uuid import uuid4

from bench.in_memory import Deposited, Figure, append_figures, best_of_three


def _server_uri() -> tuple[str, Callable[[], None]]:
    uri = os.environ.get("KURRENTDB_URI")
    if uri:
        return uri, lambda: None
    from tests.backends.kurrentdb.double import KurrentDBDouble

    double = KurrentDBDouble()
    double.start()
    return double.uri, double.stop


def run() -> Iterator[Figure]:
    from kurrentdbclient import KurrentDBClient, NewEvent, StreamState

    from event_sourcery import StreamId
    from event_sourcery_kurrentdb import KurrentDBBackend, KurrentDBConfig
    from event_sourcery_kurrentdb.stream import Name

    uri, stop = _server_uri()
    client = KurrentDBClient(uri=uri)
    try:
        backend = KurrentDBBackend().configure(client, KurrentDBConfig(timeout=30))
        store = backend.event_store
        start = store.position or 0

        def raw_append(events: int) -> None:
            new = [
                NewEvent(
                    type="bench.in_memory.Deposited",
                    data=json.dumps(
                        Deposited(account="a", amount=i).model_dump(mode="json")
                    ).encode(),
                    metadata=b'{"correlation_id":null,"causation_id":null}',
                )
                for i in range(events)
            ]
            client.append_to_stream(
                f"bench-raw-{uuid4().hex}", events=new, current_version=StreamState.NO_STREAM
            )

        yield from append_figures(store, raw_append, 200)

        stream = StreamId()
        store.append(*(Deposited(account="a", amount=i) for i in range(1_000)), stream_id=stream)
        raw_name = str(Name(stream, ""))

        def raw_load() -> None:
            events = client.get_stream(raw_name)
            for event in events:
                json.loads(event.metadata)
                Deposited.model_validate_json(event.data)
            assert len(events) == 1_000

        yield best_of_three(
            "load a 1,000-event stream",
            1_000,
            lambda: store.load_stream(stream),
            raw_load,
        )

        seen = 0
        started = time.perf_counter()
        for batch in backend.subscriber.start_from(start).build_batch(1_000, 0.2):
            if not batch:
                break
            seen += len(batch)
        rate = seen / (time.perf_counter() - started)
        yield Figure(
            f"catch-up subscription over {seen:,} events",
            rate,
            _raw_catch_up(client, seen),
            "events/s",
        )

        yield from _live_latency(backend)
    finally:
        client.close()
        stop()


def _raw_catch_up(client: object, count: int) -> float:
    """The client's own catch-up subscription over the same events, decoded with pydantic."""
    from kurrentdbclient import KurrentDBClient

    from event_sourcery_kurrentdb.stream import scope

    assert isinstance(client, KurrentDBClient)
    started = time.perf_counter()
    subscription = client.subscribe_to_all(filter_include=[scope()], filter_by_stream_name=True)
    received = 0
    for event in subscription:
        json.loads(event.metadata)
        Deposited.model_validate_json(event.data)
        received += 1
        if received == count:
            break
    subscription.stop()
    return received / (time.perf_counter() - started)


def _live_latency(backend: object) -> Iterator[Figure]:
    from event_sourcery import StreamId
    from event_sourcery.backend import Backend

    assert isinstance(backend, Backend)
    store = backend.event_store
    iterator = backend.subscriber.start_from(store.position or 0).build_iter(1)
    sent: dict[int, float] = {}
    latencies: list[float] = []
    ready = threading.Event()

    def receive() -> None:
        ready.set()
        while len(latencies) < 200:
            record = next(iterator)
            if record is not None:
                amount = record.wrapped_event.event.amount
                latencies.append((time.perf_counter() - sent[amount]) * 1000)

    reader = threading.Thread(target=receive, daemon=True)
    reader.start()
    ready.wait()
    for amount in range(200):
        sent[amount] = time.perf_counter()
        store.append(Deposited(account="live", amount=amount), stream_id=StreamId())
        time.sleep(0.002)
    reader.join(timeout=30)
    quantiles = statistics.quantiles(latencies, n=100)
    yield Figure("live delivery latency p50", quantiles[49], None, "ms")
    yield Figure("live delivery latency p99", quantiles[98], None, "ms")
