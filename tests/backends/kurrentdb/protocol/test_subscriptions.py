"""Catch-up subscriptions of the KurrentDB test double, driven through the real client."""

from __future__ import annotations

import threading
import time

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, RecordedEvent, StreamState
from kurrentdbclient.exceptions import (
    AbortedByServerError,
    GrpcDeadlineExceededError,
    StreamIsDeletedError,
)

from tests.backends.kurrentdb.double import KurrentDBDouble
from tests.backends.kurrentdb.double.testing import Received

pytestmark = pytest.mark.kurrentdb


def write(client: KurrentDBClient, stream: str, *types: str) -> int:
    events = [NewEvent(type=t, data=b"{}") for t in types]
    return client.append_to_stream(stream, current_version=StreamState.ANY, events=events)


def kinds(items: list[RecordedEvent]) -> list[str]:
    return [
        "caught_up" if i.is_caught_up else "checkpoint" if i.is_checkpoint else i.type
        for i in items
    ]


def test_subscribe_to_all_catches_up_then_goes_live(client: KurrentDBClient) -> None:
    write(client, "a", "A1", "A2")
    subscription = client.subscribe_to_all(include_caught_up=True, timeout=10)
    assert subscription.subscription_id
    received = Received(subscription)
    assert kinds(received.take(3)) == ["A1", "A2", "caught_up"]
    write(client, "b", "B1")
    write(client, "a", "A3")
    assert kinds(received.take(2)) == ["B1", "A3"]
    assert received.nothing_more()
    subscription.stop()


def test_caught_up_is_sent_for_an_empty_store(client: KurrentDBClient) -> None:
    subscription = client.subscribe_to_all(include_caught_up=True, timeout=10)
    (caught_up,) = Received(subscription).take(1)
    assert caught_up.is_caught_up
    subscription.stop()


def test_subscribe_to_all_from_a_position_starts_strictly_after_it(
    client: KurrentDBClient,
) -> None:
    write(client, "a", "A1")
    position = write(client, "a", "A2")
    write(client, "a", "A3")
    subscription = client.subscribe_to_all(commit_position=position, timeout=10)
    received = Received(subscription)
    assert kinds(received.take(1)) == ["A3"]
    assert received.nothing_more()
    subscription.stop()


def test_subscribe_to_all_from_the_end_gets_only_new_events(client: KurrentDBClient) -> None:
    write(client, "a", "Old")
    subscription = client.subscribe_to_all(from_end=True, include_caught_up=True, timeout=10)
    received = Received(subscription)
    assert kinds(received.take(1)) == ["caught_up"]
    write(client, "a", "New")
    assert kinds(received.take(1)) == ["New"]
    subscription.stop()


def test_concurrent_appends_arrive_once_each_in_commit_order(client: KurrentDBClient) -> None:
    start = write(client, "before", "Before")
    subscription = client.subscribe_to_all(commit_position=start, timeout=20)
    received = Received(subscription)
    writers, per_writer = 4, 40

    def append_many(stream: str) -> None:
        for _ in range(per_writer):
            write(client, stream, "Written")

    threads = [threading.Thread(target=append_many, args=(f"w{i}",)) for i in range(writers)]
    for thread in threads:
        thread.start()
    events = received.take(writers * per_writer, timeout=15)
    for thread in threads:
        thread.join()
    assert received.nothing_more()
    subscription.stop()
    in_store = [e for e in client.read_all() if e.commit_position > start]
    assert [e.id for e in events] == [e.id for e in in_store]
    assert len({e.id for e in events}) == writers * per_writer


def test_filtered_subscriptions_send_checkpoints(client: KurrentDBClient) -> None:
    for i in range(4):
        write(client, f"noise-{i}", "Noise")
    last = write(client, "wanted", "Wanted")
    subscription = client.subscribe_to_all(
        filter_include=("Wanted",),
        include_checkpoints=True,
        include_caught_up=True,
        window_size=2,
        checkpoint_interval_multiplier=1,
        timeout=10,
    )
    received = Received(subscription)
    items = received.take(5)
    # Every 2 scanned events a checkpoint; at the end of catch-up a checkpoint and caught_up.
    assert kinds(items) == ["checkpoint", "checkpoint", "Wanted", "checkpoint", "caught_up"]
    positions = [i.commit_position for i in items]
    assert positions == sorted(positions)
    assert positions[-2] == positions[-1] == last
    write(client, "noise-x", "Noise", "Noise")
    (live_checkpoint,) = received.take(1)
    assert live_checkpoint.is_checkpoint
    assert live_checkpoint.commit_position > last
    subscription.stop()


def test_resuming_from_a_checkpoint_loses_nothing(client: KurrentDBClient) -> None:
    write(client, "noise", "Noise", "Noise", "Noise")
    subscription = client.subscribe_to_all(
        filter_include=("Wanted",), include_checkpoints=True, window_size=1, timeout=10
    )
    (checkpoint,) = Received(subscription).take(1)
    subscription.stop()
    write(client, "wanted", "Wanted")
    resumed = client.subscribe_to_all(
        commit_position=checkpoint.commit_position, filter_include=("Wanted",), timeout=10
    )
    assert kinds(Received(resumed).take(1)) == ["Wanted"]
    resumed.stop()


def test_subscribe_to_a_stream(client: KurrentDBClient) -> None:
    write(client, "s", "S0", "S1", "S2")
    write(client, "other", "Other")
    subscription = client.subscribe_to_stream(
        "s", stream_position=0, include_caught_up=True, timeout=10
    )
    received = Received(subscription)
    items = received.take(3)
    assert kinds(items) == ["S1", "S2", "caught_up"]
    assert items[-1].stream_position == 2
    write(client, "other", "Other")
    write(client, "s", "S3")
    (live,) = received.take(1)
    assert (live.type, live.stream_position) == ("S3", 3)
    subscription.stop()


def test_stream_subscription_from_start_and_from_end(client: KurrentDBClient) -> None:
    write(client, "s", "S0")
    from_start = Received(client.subscribe_to_stream("s", timeout=10))
    from_end = Received(client.subscribe_to_stream("s", from_end=True, timeout=10))
    assert kinds(from_start.take(1)) == ["S0"]
    write(client, "s", "S1")
    assert kinds(from_start.take(1)) == ["S1"]
    assert kinds(from_end.take(1)) == ["S1"]


def test_subscribing_to_a_tombstoned_stream_fails(client: KurrentDBClient) -> None:
    write(client, "s", "S0")
    client.tombstone_stream("s", current_version=StreamState.ANY)
    with pytest.raises(StreamIsDeletedError):
        client.subscribe_to_stream("s", timeout=10)


def test_the_deadline_ends_a_subscription(client: KurrentDBClient) -> None:
    started = time.monotonic()
    subscription = client.subscribe_to_all(timeout=0.3)
    error = Received(subscription).error()
    assert isinstance(error, GrpcDeadlineExceededError)
    assert time.monotonic() - started < 2


def test_reset_ends_open_subscriptions(server: KurrentDBDouble, client: KurrentDBClient) -> None:
    received = Received(client.subscribe_to_all(include_caught_up=True, timeout=10))
    received.take(1)
    server.reset()
    assert isinstance(received.error(), AbortedByServerError)


def test_many_subscriptions_at_once(client: KurrentDBClient) -> None:
    subscriptions = [client.subscribe_to_all(from_end=True, timeout=10) for _ in range(30)]
    receivers = [Received(s) for s in subscriptions]
    write(client, "s", "Broadcast")
    for receiver in receivers:
        assert kinds(receiver.take(1)) == ["Broadcast"]
    for subscription in subscriptions:
        subscription.stop()
