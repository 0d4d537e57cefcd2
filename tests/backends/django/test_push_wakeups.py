"""PostgreSQL push wake-ups of Django subscriptions (``LISTEN``/``NOTIFY``, ADR 0006).

The subscriber polls only every 5 s here, and the writer is another process (so the in-process
wake-up cannot reach the subscriber): an event delivered well within a second of its commit
can only have come through ``NOTIFY``.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections

from event_sourcery import Event, StreamId
from event_sourcery_django import DjangoBackend, DjangoConfig
from tests.backends.django import support

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(60)]

ALIAS = support.POSTGRES_ALIAS
POLL = timedelta(seconds=5)


class PushPinged(Event):
    number: int


def backend() -> DjangoBackend:
    return DjangoBackend().configure(DjangoConfig(using=ALIAS, gap_retry_interval=POLL))


def append_in_another_process(go: Any, committed: Any) -> None:
    """Spawned writer: waits for ``go``, appends one event, reports the commit time."""
    from tests.backends.django import support as configured  # configures Django here

    go.wait(30)
    stream = StreamId(category="push")
    backend().event_store.append(PushPinged(number=1), stream_id=stream)
    committed.put(time.monotonic())
    connections[configured.POSTGRES_ALIAS].close()


@pytest.fixture
def postgres() -> Any:
    support.require(ALIAS)
    support.migrate_once(ALIAS)
    support.empty_tables(ALIAS)
    yield ALIAS
    support.empty_tables(ALIAS)
    connections[ALIAS].close()


def listening() -> set[int]:
    """Server process ids of the connections ``LISTEN``ing on this database."""
    with connections[ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN %%'"
        )
        return {int(row[0]) for row in cursor.fetchall()}


def assert_closed(pids: set[int]) -> None:
    """The server processes ``pids`` end (soon after their clients closed them)."""
    deadline = time.monotonic() + 5
    while pids & listening():
        assert time.monotonic() < deadline, "the LISTEN connection outlived the subscription"
        time.sleep(0.02)


def test_a_commit_in_another_process_wakes_a_waiting_subscriber_at_once(postgres: str) -> None:
    start = backend().event_store.position
    before = listening()  # of other tests' subscriptions, if any
    context = multiprocessing.get_context("spawn")
    go, committed = context.Event(), context.Queue()
    writer = context.Process(target=append_in_another_process, args=(go, committed))
    writer.start()
    received: queue.Queue[tuple[float, int]] = queue.Queue()

    def subscribe() -> None:
        subscription = backend().subscriber.start_from(start).build_iter(timedelta(seconds=30))
        try:
            for record in subscription:
                if record is not None:
                    assert isinstance(record.wrapped_event.event, PushPinged)
                    received.put((time.monotonic(), record.wrapped_event.event.number))
                    return
        finally:
            subscription.close()  # type: ignore[attr-defined]
            connections[ALIAS].close()

    subscriber = threading.Thread(target=subscribe, daemon=True)
    subscriber.start()
    deadline = time.monotonic() + 10
    while not (ours := listening() - before):  # the subscriber waits on its LISTEN connection
        assert time.monotonic() < deadline, "the subscriber never LISTENed"
        time.sleep(0.02)
    time.sleep(0.2)  # well into the 5 s poll interval
    go.set()
    commit_time = committed.get(timeout=30)
    arrival, number = received.get(timeout=10)
    writer.join(10)
    subscriber.join(10)
    assert number == 1
    assert arrival - commit_time < 1.0, "delivered by polling, not by the push wake-up"
    assert_closed(ours)  # closing the iterator closed the LISTEN connection


def test_closing_a_waiting_subscription_closes_its_listen_connection(postgres: str) -> None:
    start = backend().event_store.position
    before = listening()
    subscription = backend().subscriber.start_from(start).build_batch(10, 0.1)
    assert next(subscription) == []  # waited: the LISTEN connection is open
    ours = listening() - before
    assert len(ours) == 1
    subscription.close()  # type: ignore[attr-defined]
    assert_closed(ours)


def test_a_broken_listen_connection_is_replaced_and_push_goes_on(postgres: str) -> None:
    store = backend().event_store
    start = store.position
    before = listening()
    subscription = backend().subscriber.start_from(start).build_batch(10, 0.1)
    assert next(subscription) == []
    (killed,) = listening() - before
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [killed])
    assert_closed({killed})

    assert next(subscription) == []  # the wait hit the broken connection: it polled instead
    assert next(subscription) == []  # and opened a new one
    (replacement,) = listening() - before
    assert replacement != killed
    store.append(PushPinged(number=2), stream_id=StreamId(category="push"))
    (record,) = next(subscription)
    assert isinstance(record.wrapped_event.event, PushPinged)
    subscription.close()  # type: ignore[attr-defined]
    assert_closed({replacement})
