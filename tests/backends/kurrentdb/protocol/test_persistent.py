"""Persistent subscriptions of the KurrentDB test double, driven through the real client."""

from __future__ import annotations

import time

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.common import AbstractPersistentSubscription
from kurrentdbclient.exceptions import (
    AbortedByServerError,
    AlreadyExistsError,
    CancelledError,
    InternalError,
    MaximumSubscriptionsReachedError,
    NotFoundError,
)

from tests.backends.kurrentdb.double import KurrentDBDouble
from tests.backends.kurrentdb.double.testing import Received, eventually

pytestmark = pytest.mark.kurrentdb

PARKED = "$persistentsubscription-$all::g-parked"


def write(client: KurrentDBClient, stream: str, *types: str) -> int:
    events = [NewEvent(type=t, data=b"{}") for t in types]
    return client.append_to_stream(stream, current_version=StreamState.ANY, events=events)


def assert_parked(client: KurrentDBClient, types: list[str], stream: str = PARKED) -> None:
    """The parked stream shows ``types`` (soon: n/acks travel asynchronously)."""

    def check() -> None:
        assert [e.type for e in client.get_stream(stream, resolve_links=True)] == types

    eventually(check)


def consume(
    client: KurrentDBClient, group: str = "g", stream: str | None = None, buffer_size: int = 10
) -> AbstractPersistentSubscription:
    settings = {"event_buffer_size": buffer_size, "max_ack_delay": 0.01, "stopping_grace": 0.01}
    if stream is None:
        return client.read_subscription_to_all(group, timeout=10, **settings)  # type: ignore[arg-type]
    return client.read_subscription_to_stream(group, stream, timeout=10, **settings)  # type: ignore[arg-type]


def test_events_are_delivered_in_order_and_acked_ones_never_again(
    client: KurrentDBClient,
) -> None:
    client.create_subscription_to_all("g")
    write(client, "a", "A1", "A2")
    write(client, "b", "B1")
    subscription = consume(client)
    assert subscription.subscription_id == "$all::g"
    received = Received(subscription)
    events = received.take(3)
    assert [(e.type, e.retry_count) for e in events] == [("A1", 0), ("A2", 0), ("B1", 0)]
    for event in events:
        subscription.ack(event)
    write(client, "b", "B2")
    (live,) = received.take(1)
    assert live.type == "B2"
    subscription.ack(live)
    assert received.nothing_more()
    subscription.stop()
    assert Received(consume(client)).nothing_more()


def test_groups_are_unique_and_unknown_groups_not_found(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g")
    with pytest.raises(AlreadyExistsError):
        client.create_subscription_to_all("g")
    client.create_subscription_to_stream("g", "s")  # another source, another group
    with pytest.raises(NotFoundError):
        consume(client, "unknown")
    with pytest.raises(NotFoundError):
        client.get_subscription_info("unknown")
    with pytest.raises(NotFoundError):
        client.replay_parked_events("unknown")
    with pytest.raises(NotFoundError):
        client.update_subscription_to_all("unknown")
    with pytest.raises(NotFoundError):
        client.delete_subscription("unknown")


def test_nack_retry_redelivers_with_a_higher_retry_count(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g", max_retry_count=5)
    write(client, "a", "A1", "A2")
    subscription = consume(client)
    received = Received(subscription)
    first, second = received.take(2)
    subscription.nack(first, "retry")
    subscription.ack(second)
    (again,) = received.take(1)
    assert (again.id, again.retry_count) == (first.id, 1)
    subscription.nack(again, "retry")
    (third_time,) = received.take(1)
    assert (third_time.id, third_time.retry_count) == (first.id, 2)
    subscription.ack(third_time)
    assert received.nothing_more()
    subscription.stop()


def test_messages_retried_beyond_max_retry_count_are_parked(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g", max_retry_count=2)
    write(client, "a", "Poison")
    subscription = consume(client)
    received = Received(subscription)
    retry_counts = []
    for _ in range(3):
        (event,) = received.take(1)
        retry_counts.append(event.retry_count)
        subscription.nack(event, "retry")
    assert retry_counts == [0, 1, 2]
    assert received.nothing_more()
    subscription.stop()

    assert_parked(client, ["Poison"])
    (parked,) = client.get_stream(PARKED, resolve_links=True)
    assert (parked.stream_name, parked.type) == ("a", "Poison")
    assert parked.link is not None
    assert (parked.link.type, parked.link.stream_name) == ("$>", PARKED)
    assert parked.link.data == b"0@a"
    assert client.get_subscription_info("g").parked_message_count == 1


def test_parked_messages_wait_for_a_replay(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g")
    write(client, "a", "A1", "A2", "A3")
    subscription = consume(client)
    received = Received(subscription)
    a1, a2, a3 = received.take(3)
    subscription.nack(a1, "park")
    subscription.ack(a2)
    subscription.nack(a3, "park")
    assert_parked(client, ["A1", "A3"])
    assert received.nothing_more()

    client.replay_parked_events("g")
    replayed = received.take(2)
    assert [(e.type, e.retry_count) for e in replayed] == [("A1", 0), ("A3", 0)]
    # The replay truncates the parked stream.
    assert client.get_stream(PARKED, resolve_links=True) == ()
    subscription.ack(replayed[0])
    subscription.nack(replayed[1], "park")
    assert_parked(client, ["A3"])
    assert received.nothing_more()
    subscription.stop()


def test_skipped_messages_are_done(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g")
    write(client, "a", "A1")
    subscription = consume(client)
    received = Received(subscription)
    (event,) = received.take(1)
    subscription.nack(event, "skip")
    assert received.nothing_more()
    subscription.stop()
    with pytest.raises(NotFoundError):
        client.get_stream(PARKED)


def test_unsettled_messages_go_to_the_next_consumer(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g")
    write(client, "a", "A1", "A2")
    first = consume(client)
    a1, a2 = Received(first).take(2)
    first.stop()
    redelivered = Received(consume(client)).take(2)
    assert [(e.id, e.retry_count) for e in redelivered] == [(a1.id, 1), (a2.id, 1)]


def test_buffer_size_limits_the_messages_in_flight(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g")
    write(client, "a", "A1", "A2", "A3")
    subscription = consume(client, buffer_size=2)
    received = Received(subscription)
    a1, _ = received.take(2)
    assert received.nothing_more()
    subscription.ack(a1)
    assert [e.type for e in received.take(1)] == ["A3"]
    subscription.stop()


def test_unacked_messages_are_retried_after_the_message_timeout(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g", message_timeout=0.2)
    write(client, "a", "Slow")
    subscription = consume(client)
    received = Received(subscription)
    (event,) = received.take(1)
    (again,) = received.take(1, timeout=2)
    assert (again.id, again.retry_count) == (event.id, 1)
    subscription.ack(again)
    subscription.stop()


def test_filters_and_start_positions(client: KurrentDBClient) -> None:
    write(client, "wanted-1", "Old")
    position = write(client, "wanted-2", "Start")
    write(client, "unwanted", "Other")
    write(client, "wanted-3", "Later")
    client.create_subscription_to_all(
        "g", commit_position=position, filter_include=("wanted-.*",), filter_by_stream_name=True
    )
    client.create_subscription_to_all("from-end", from_end=True)
    by_position = Received(consume(client))
    assert [e.type for e in by_position.take(2)] == ["Start", "Later"]
    assert by_position.nothing_more()
    from_end = Received(consume(client, "from-end"))
    assert from_end.nothing_more(0.1)
    write(client, "unwanted", "New")
    assert [e.type for e in from_end.take(1)] == ["New"]


def test_the_default_filter_skips_system_events(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g")
    client.set_stream_metadata("a", metadata={"x": 1})
    write(client, "a", "A1")
    received = Received(consume(client))
    assert [e.type for e in received.take(1)] == ["A1"]
    assert received.nothing_more()


def test_stream_groups(client: KurrentDBClient) -> None:
    write(client, "s", "S0", "S1")
    write(client, "other", "O")
    client.create_subscription_to_stream("g", "s", stream_position=1)
    subscription = consume(client, stream="s")
    assert subscription.subscription_id == "s::g"
    received = Received(subscription)
    (s1,) = received.take(1)
    assert (s1.type, s1.stream_position) == ("S1", 1)
    write(client, "s", "S2")
    (s2,) = received.take(1)
    subscription.nack(s2, "park")
    subscription.ack(s1)
    assert_parked(client, ["S2"], "$persistentsubscription-s::g-parked")
    subscription.stop()


def test_list_info_update_and_delete(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g", max_retry_count=3, message_timeout=4.5)
    client.create_subscription_to_stream("h", "s", from_end=True)
    assert sorted(i.group_name for i in client.list_subscriptions()) == ["g", "h"]
    assert [i.group_name for i in client.list_subscriptions_to_stream("s")] == ["h"]

    info = client.get_subscription_info("g")
    assert (info.event_source, info.max_retry_count, info.message_timeout) == ("$all", 3, 4.5)
    assert info.start_from == "C:0/P:0"
    assert client.get_subscription_info("h", "s").start_from == "-1"

    client.update_subscription_to_all("g", max_retry_count=7)
    assert client.get_subscription_info("g").max_retry_count == 7

    received = Received(consume(client))
    received.nothing_more(0.05)
    client.delete_subscription("g")
    assert isinstance(received.error(), CancelledError)
    with pytest.raises(NotFoundError):
        client.get_subscription_info("g")
    assert [i.group_name for i in client.list_subscriptions()] == ["h"]


def test_connected_consumers_are_listed(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g")
    write(client, "a", "A1")
    subscription = consume(client)
    Received(subscription).take(1)
    (connection,) = client.get_subscription_info("g").connections
    assert connection.in_flight_messages == 1
    subscription.stop()


def test_max_subscriber_count(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g", max_subscriber_count=1)
    first = consume(client)
    with pytest.raises(MaximumSubscriptionsReachedError):
        consume(client)
    first.stop()


def test_reset_ends_consumers(server: KurrentDBDouble, client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g")
    received = Received(consume(client))
    received.nothing_more(0.05)
    server.reset()
    assert isinstance(received.error(), AbortedByServerError)


# -- behaviour documented for KurrentDB (issue 10, item 10) ----------------------------------


def test_events_waiting_in_the_live_buffer_are_counted(client: KurrentDBClient) -> None:
    client.create_subscription_to_all("g", live_buffer_size=2)
    assert client.get_subscription_info("g").live_buffer_count == 0
    write(client, "a", "A1")
    assert client.get_subscription_info("g").live_buffer_count == 1
    write(client, "a", "A2", "A3")
    assert client.get_subscription_info("g").live_buffer_count == 2  # at most live_buffer_size
    subscription = consume(client)
    Received(subscription).take(3)
    assert client.get_subscription_info("g").live_buffer_count == 0
    subscription.stop()


def test_message_timeouts_are_checked_on_a_one_second_tick(client: KurrentDBClient) -> None:
    """KurrentDB looks for timed-out messages once a second: a message acked a little after
    its ``message_timeout`` (the client batches acks) is not redelivered."""
    client.create_subscription_to_all("g", message_timeout=0.1)
    write(client, "a", "Late", "Never")
    subscription = consume(client)
    received = Received(subscription)
    late, never = received.take(2)
    delivered = time.monotonic()
    time.sleep(0.3)
    subscription.ack(late)
    (again,) = received.take(1, timeout=3)
    assert (again.id, again.retry_count) == (never.id, 1)
    assert time.monotonic() - delivered >= 0.5  # the next tick, not the next 50 ms
    subscription.ack(again)
    assert received.nothing_more(0.3)
    subscription.stop()


def test_an_unknown_consumer_strategy_is_an_internal_error(client: KurrentDBClient) -> None:
    with pytest.raises(InternalError):
        client.create_subscription_to_all("g", consumer_strategy="Nearest")  # type: ignore[arg-type]
    assert client.list_subscriptions() == []
    client.create_subscription_to_all("g", consumer_strategy="PinnedByCorrelation")
    assert client.get_subscription_info("g").consumer_strategy == "PinnedByCorrelation"


@pytest.mark.parametrize(("history", "batch"), [(20, 20), (10, 20)])
def test_a_history_buffer_not_above_the_read_batch_is_an_internal_error(
    client: KurrentDBClient, history: int, batch: int
) -> None:
    with pytest.raises(InternalError):
        client.create_subscription_to_all("g", history_buffer_size=history, read_batch_size=batch)
    assert client.list_subscriptions() == []
    client.create_subscription_to_all("g", history_buffer_size=21, read_batch_size=20)
    with pytest.raises(InternalError):
        client.update_subscription_to_all("g", history_buffer_size=history, read_batch_size=batch)


def test_an_unfiltered_all_group_skips_system_streams_and_its_parked_messages(
    client: KurrentDBClient,
) -> None:
    client.create_subscription_to_all("g", filter_exclude=())
    write(client, "a", "A1")
    subscription = consume(client)
    received = Received(subscription)
    (a1,) = received.take(1)
    subscription.nack(a1, "park")
    assert_parked(client, ["A1"])
    client.set_stream_metadata("a", metadata={"x": 1})
    write(client, "$system", "S1")
    write(client, "a", "A2")
    (a2,) = received.take(1)
    assert a2.type == "A2"
    subscription.ack(a2)
    assert received.nothing_more()
    subscription.stop()
