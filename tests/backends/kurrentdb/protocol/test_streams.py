"""The KurrentDB test double's Streams service, driven only through the real client."""

from __future__ import annotations

import datetime
import itertools
import threading
from uuid import uuid4

import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, RecordedEvent, StreamState
from kurrentdbclient.exceptions import (
    FailedPreconditionError,
    GrpcError,
    MaximumAppendSizeExceededError,
    NotFoundError,
    StreamIsDeletedError,
    WrongCurrentVersionError,
)

from tests.backends.kurrentdb.double import KurrentDBDouble

pytestmark = pytest.mark.kurrentdb

MAX_REVISION = 2**63 - 1


def event(type_: str = "Happened", data: bytes = b"{}") -> NewEvent:
    return NewEvent(type=type_, data=data, metadata=b'{"m": 1}')


def append(
    client: KurrentDBClient,
    stream: str,
    current_version: int | StreamState,
    events: list[NewEvent],
    *,
    single: bool,
) -> int:
    """Append through the Append RPC (one NewEvent) or the BatchAppend RPC (a list)."""
    if single:
        assert len(events) == 1
        return client.append_to_stream(stream, current_version=current_version, events=events[0])
    return client.append_to_stream(stream, current_version=current_version, events=events)


def all_events(client: KurrentDBClient, **kwargs: object) -> list[RecordedEvent]:
    return list(client.read_all(filter_exclude=(), **kwargs))  # type: ignore[arg-type]


rpcs = pytest.mark.parametrize("single", [True, False], ids=["Append", "BatchAppend"])


# -- connection -----------------------------------------------------------------------------


def test_client_connects_to_an_empty_store(client: KurrentDBClient) -> None:
    assert client.get_commit_position() == 0
    assert all_events(client) == []


def test_reset_forgets_everything(server: KurrentDBDouble, client: KurrentDBClient) -> None:
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event()])
    server.reset()
    with pytest.raises(NotFoundError):
        client.get_stream("s")
    assert client.get_commit_position() == 0


# -- expected revisions ------------------------------------------------------------------------


@rpcs
def test_no_stream_accepts_only_a_new_stream(client: KurrentDBClient, single: bool) -> None:
    append(client, "s", StreamState.NO_STREAM, [event()], single=single)
    with pytest.raises(WrongCurrentVersionError) as raised:
        append(client, "s", StreamState.NO_STREAM, [event()], single=single)
    assert raised.value.actual_version == 0
    assert raised.value.expected_version == StreamState.NO_STREAM


@rpcs
def test_revision_must_be_the_last_revision(client: KurrentDBClient, single: bool) -> None:
    with pytest.raises(WrongCurrentVersionError) as raised:
        append(client, "s", 0, [event()], single=single)
    assert raised.value.actual_version == StreamState.NO_STREAM
    append(client, "s", StreamState.NO_STREAM, [event()], single=single)
    append(client, "s", 0, [event()], single=single)
    for wrong in (0, 2, 7):
        with pytest.raises(WrongCurrentVersionError) as raised:
            append(client, "s", wrong, [event()], single=single)
        assert raised.value.actual_version == 1
        assert raised.value.expected_version == wrong
    assert [e.stream_position for e in client.get_stream("s")] == [0, 1]


@rpcs
def test_any_never_checks(client: KurrentDBClient, single: bool) -> None:
    append(client, "s", StreamState.ANY, [event()], single=single)
    append(client, "s", StreamState.ANY, [event()], single=single)
    assert client.get_current_version("s") == 1


@rpcs
def test_stream_exists_needs_events(client: KurrentDBClient, single: bool) -> None:
    with pytest.raises(WrongCurrentVersionError) as raised:
        append(client, "s", StreamState.EXISTS, [event()], single=single)
    assert raised.value.actual_version == StreamState.NO_STREAM
    append(client, "s", StreamState.NO_STREAM, [event()], single=single)
    append(client, "s", StreamState.EXISTS, [event()], single=single)
    assert client.get_current_version("s") == 1


@rpcs
def test_resending_the_same_events_is_idempotent(client: KurrentDBClient, single: bool) -> None:
    events = [event()]
    first = append(client, "s", StreamState.NO_STREAM, events, single=single)
    again = append(client, "s", StreamState.NO_STREAM, events, single=single)
    assert again == first
    assert len(client.get_stream("s")) == 1


def test_a_rejected_batch_writes_nothing(client: KurrentDBClient) -> None:
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event()])
    with pytest.raises(WrongCurrentVersionError):
        client.append_to_stream("s", current_version=5, events=[event(), event(), event()])
    assert len(client.get_stream("s")) == 1
    assert len(all_events(client)) == 1


def test_an_empty_append_writes_nothing(client: KurrentDBClient) -> None:
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event()])
    client.append_to_stream("s", current_version=0, events=[])
    assert len(all_events(client)) == 1


def test_exactly_one_of_concurrent_same_revision_appends_wins(client: KurrentDBClient) -> None:
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event()])
    contenders = 16
    barrier = threading.Barrier(contenders)
    outcomes: list[str] = []

    def contend() -> None:
        barrier.wait()
        try:
            client.append_to_stream("s", current_version=0, events=[event(), event()])
        except WrongCurrentVersionError:
            outcomes.append("rejected")
        else:
            outcomes.append("won")

    threads = [threading.Thread(target=contend) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["rejected"] * (contenders - 1) + ["won"]
    assert [e.stream_position for e in client.get_stream("s")] == [0, 1, 2]


# -- recorded events and positions --------------------------------------------------------


def test_recorded_events_carry_what_was_appended(client: KurrentDBClient) -> None:
    new = NewEvent(type="Ordered", data=b'{"n": 1}', metadata=b'{"by": "me"}', id=uuid4())
    before = datetime.datetime.now(datetime.timezone.utc)
    position = client.append_to_stream("order-1", current_version=StreamState.ANY, events=new)
    (recorded,) = client.get_stream("order-1")
    assert recorded.id == new.id
    assert recorded.type == "Ordered"
    assert recorded.data == b'{"n": 1}'
    assert recorded.metadata == b'{"by": "me"}'
    assert recorded.content_type == "application/json"
    assert recorded.stream_name == "order-1"
    assert recorded.stream_position == 0
    assert recorded.commit_position == recorded.prepare_position == position
    assert recorded.recorded_at is not None
    assert before - datetime.timedelta(seconds=1) <= recorded.recorded_at
    assert recorded.recorded_at <= datetime.datetime.now(datetime.timezone.utc)


def test_positions_strictly_increase_and_are_not_contiguous(client: KurrentDBClient) -> None:
    last = client.append_to_stream("a", current_version=StreamState.ANY, events=[event()] * 1)
    returned = [last]
    for stream in ("b", "a", "c"):
        returned.append(
            client.append_to_stream(
                stream, current_version=StreamState.ANY, events=[event(), event()]
            )
        )
    positions = [e.commit_position for e in all_events(client)]
    assert len(positions) == 7
    assert positions[0] > 0
    assert all(later - earlier > 1 for earlier, later in itertools.pairwise(positions))
    assert returned == [positions[0], positions[2], positions[4], positions[6]]
    assert client.get_commit_position() == positions[-1]


def test_concurrent_appenders_get_distinct_increasing_positions(client: KurrentDBClient) -> None:
    def write(stream: str) -> None:
        for _ in range(10):
            client.append_to_stream(stream, current_version=StreamState.ANY, events=[event()])

    threads = [threading.Thread(target=write, args=(f"s{i}",)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = all_events(client)
    positions = [e.commit_position for e in events]
    assert len(events) == 50
    assert positions == sorted(set(positions))
    for i in range(5):
        assert [e.stream_position for e in client.get_stream(f"s{i}")] == list(range(10))


# -- reading streams ------------------------------------------------------------------------


@pytest.fixture
def stream_of_five(client: KurrentDBClient) -> list[NewEvent]:
    events = [event(f"E{i}") for i in range(5)]
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=events)
    client.append_to_stream("other", current_version=StreamState.NO_STREAM, events=[event()])
    return events


def test_read_stream_forwards_and_backwards(
    client: KurrentDBClient, stream_of_five: list[NewEvent]
) -> None:
    def revisions(**kwargs: object) -> list[int]:
        return [e.stream_position for e in client.get_stream("s", **kwargs)]  # type: ignore[arg-type]

    assert [e.id for e in client.get_stream("s")] == [e.id for e in stream_of_five]
    assert revisions() == [0, 1, 2, 3, 4]
    assert revisions(stream_position=2) == [2, 3, 4]
    assert revisions(stream_position=2, limit=2) == [2, 3]
    assert revisions(backwards=True) == [4, 3, 2, 1, 0]
    assert revisions(backwards=True, stream_position=2) == [2, 1, 0]
    assert revisions(backwards=True, limit=1) == [4]
    assert revisions(stream_position=9) == []


def test_reading_a_missing_stream_is_not_found(client: KurrentDBClient) -> None:
    with pytest.raises(NotFoundError):
        client.get_stream("missing")
    assert client.get_current_version("missing") == StreamState.NO_STREAM


def test_read_all_forwards_backwards_and_from_positions(
    client: KurrentDBClient, stream_of_five: list[NewEvent]
) -> None:
    events = all_events(client)
    assert [(e.stream_name, e.stream_position) for e in events] == [
        ("s", 0), ("s", 1), ("s", 2), ("s", 3), ("s", 4), ("other", 0)
    ]  # fmt: skip
    positions = [e.commit_position for e in events]
    assert [e.commit_position for e in all_events(client, backwards=True)] == positions[::-1]
    # Forwards from a position includes the event at that position...
    assert [e.commit_position for e in all_events(client, commit_position=positions[2])] == (
        positions[2:]
    )
    # ...backwards from a position starts before it.
    backwards = all_events(client, commit_position=positions[2], backwards=True)
    assert [e.commit_position for e in backwards] == positions[1::-1]
    assert [e.commit_position for e in all_events(client, limit=2)] == positions[:2]
    assert [e.commit_position for e in all_events(client, backwards=True, limit=2)] == (
        positions[:-3:-1]
    )


@pytest.fixture
def mixed_streams(client: KurrentDBClient) -> None:
    for stream, type_ in [
        ("order-1", "OrderPlaced"),
        ("my-order", "OrderPlaced"),
        ("big-invoice", "InvoiceSent"),
        ("invoice-2", "InvoiceSent"),
        ("order.x", "Shipped"),
    ]:
        client.append_to_stream(stream, current_version=StreamState.ANY, events=[event(type_)])
    client.set_stream_metadata("order-1", metadata={"$maxCount": 10})


def streams_read(client: KurrentDBClient, **kwargs: object) -> list[str]:
    return [e.stream_name for e in client.read_all(**kwargs)]  # type: ignore[arg-type]


def test_default_filter_excludes_system_events(
    client: KurrentDBClient, mixed_streams: None
) -> None:
    assert "$$order-1" not in streams_read(client)
    assert "$$order-1" in streams_read(client, filter_exclude=())
    assert [e.type for e in client.read_all(filter_exclude=()) if e.stream_name == "$$order-1"] == [
        "$metadata"
    ]


def test_filter_regex_on_stream_names_is_an_unanchored_search(
    client: KurrentDBClient, mixed_streams: None
) -> None:
    # The client sends ^order|invoice$: "starts with order" or "ends with invoice".
    found = streams_read(client, filter_include=("order", "invoice"), filter_by_stream_name=True)
    assert found == ["order-1", "big-invoice", "order.x"]
    escaped = streams_read(client, filter_include=(r"order\.x",), filter_by_stream_name=True)
    assert escaped == ["order.x"]
    excluded = streams_read(
        client, filter_exclude=("order-.*", r"\$.*"), filter_by_stream_name=True
    )
    assert excluded == ["my-order", "big-invoice", "invoice-2", "order.x"]


def test_filter_on_event_types(client: KurrentDBClient, mixed_streams: None) -> None:
    assert streams_read(client, filter_include=("Invoice.*",)) == ["big-invoice", "invoice-2"]
    # A custom exclude filter replaces the default one: system events come back.
    assert streams_read(client, filter_exclude=("OrderPlaced",)) == [
        "big-invoice",
        "invoice-2",
        "order.x",
        "$$order-1",
    ]


def test_filter_by_prefix(client: KurrentDBClient, mixed_streams: None) -> None:
    by_stream = streams_read(
        client, filter_include=("order", "big"), filter_by_stream_name=True, filter_by_prefix=True
    )
    assert by_stream == ["order-1", "big-invoice", "order.x"]
    by_type = streams_read(client, filter_include=("Ship",), filter_by_prefix=True)
    assert by_type == ["order.x"]


def test_filtered_read_limit_counts_matching_events(
    client: KurrentDBClient, mixed_streams: None
) -> None:
    assert streams_read(client, filter_include=("InvoiceSent",), limit=1) == ["big-invoice"]


# -- deleting ---------------------------------------------------------------------------------


def test_soft_delete_then_recreate_continues_revisions(client: KurrentDBClient) -> None:
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event()] * 1)
    client.append_to_stream("s", current_version=0, events=[event(), event()])
    client.delete_stream("s", current_version=2)

    with pytest.raises(NotFoundError):
        client.get_stream("s")
    assert client.get_current_version("s") == StreamState.NO_STREAM
    assert client.get_stream_metadata("s")[0] == {"$tb": MAX_REVISION}

    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event("New")])
    (recreated,) = client.get_stream("s")
    assert (recreated.type, recreated.stream_position) == ("New", 3)
    assert client.get_stream_metadata("s")[0] == {"$tb": 3}
    # The old events stay in $all (no scavenging).
    assert [e.stream_position for e in client.read_all() if e.stream_name == "s"] == [0, 1, 2, 3]


def test_after_soft_delete_the_old_revision_is_also_accepted(client: KurrentDBClient) -> None:
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event(), event()])
    client.delete_stream("s", current_version=StreamState.ANY)
    client.append_to_stream("s", current_version=1, events=[event()])
    assert [e.stream_position for e in client.get_stream("s")] == [2]


def test_after_soft_delete_stream_exists_is_refused(client: KurrentDBClient) -> None:
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event()])
    client.delete_stream("s", current_version=StreamState.EXISTS)
    with pytest.raises(StreamIsDeletedError):
        client.append_to_stream("s", current_version=StreamState.EXISTS, events=[event()])
    with pytest.raises(StreamIsDeletedError):
        client.delete_stream("s", current_version=StreamState.EXISTS)


@pytest.mark.parametrize(
    "expected", [StreamState.ANY, StreamState.NO_STREAM, StreamState.EXISTS, 0]
)
def test_deleting_a_missing_stream_is_not_found(
    client: KurrentDBClient, expected: int | StreamState
) -> None:
    with pytest.raises(NotFoundError):
        client.delete_stream("missing", current_version=expected)
    if expected != StreamState.ANY:
        with pytest.raises(NotFoundError):
            client.tombstone_stream("missing", current_version=expected)


def test_tombstoning_a_never_written_stream_with_any_deletes_it_for_good(
    client: KurrentDBClient,
) -> None:
    client.tombstone_stream("missing", current_version=StreamState.ANY)
    with pytest.raises(StreamIsDeletedError):
        client.append_to_stream("missing", current_version=StreamState.ANY, events=[event()])
    with pytest.raises(StreamIsDeletedError):
        client.get_stream("missing")


def test_deleting_at_a_wrong_revision_is_refused(client: KurrentDBClient) -> None:
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event(), event()])
    with pytest.raises(WrongCurrentVersionError) as raised:
        client.delete_stream("s", current_version=0)
    assert (raised.value.expected_version, raised.value.actual_version) == (0, 1)
    with pytest.raises(WrongCurrentVersionError):
        client.delete_stream("s", current_version=StreamState.NO_STREAM)
    assert len(client.get_stream("s")) == 2


def test_tombstoned_streams_are_gone_for_good(client: KurrentDBClient) -> None:
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event()])
    client.tombstone_stream("s", current_version=0)
    with pytest.raises(StreamIsDeletedError):
        client.get_stream("s")
    with pytest.raises(StreamIsDeletedError):
        client.append_to_stream("s", current_version=StreamState.ANY, events=[event()])
    with pytest.raises(StreamIsDeletedError):
        client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event()])
    # Through the Append RPC the real client maps the server's error to FailedPrecondition.
    with pytest.raises(FailedPreconditionError, match="is deleted"):
        client.append_to_stream("s", current_version=StreamState.ANY, events=event())
    with pytest.raises(StreamIsDeletedError):
        client.delete_stream("s", current_version=StreamState.ANY)
    with pytest.raises(StreamIsDeletedError):
        client.tombstone_stream("s", current_version=StreamState.ANY)
    with pytest.raises(StreamIsDeletedError):
        client.get_stream_metadata("s")


def test_metadata_of_a_tombstoned_stream_can_still_be_set(client: KurrentDBClient) -> None:
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event()])
    client.tombstone_stream("s", current_version=0)
    client.set_stream_metadata("s", metadata={"$maxCount": 5})
    client.set_stream_metadata("s", metadata={"$maxCount": 6}, current_version=0)
    with pytest.raises(StreamIsDeletedError):
        client.append_to_stream("s", current_version=StreamState.ANY, events=[event()])


def test_an_append_beyond_the_max_append_size_is_refused_whole(client: KurrentDBClient) -> None:
    """KurrentDB's ``MaxAppendSize`` (1,048,576 bytes by default) bounds one append, however
    many events it holds; nothing of a refused append is written."""
    half = NewEvent(type="Big", data=b"x" * 600_000)
    with pytest.raises(MaximumAppendSizeExceededError, match="1048576"):
        client.append_to_stream("s", current_version=StreamState.ANY, events=[half, half])
    with pytest.raises(GrpcError, match="Maximum Append Size of 1048576 Exceeded"):
        client.append_to_stream(
            "s", current_version=StreamState.ANY, events=NewEvent(type="Big", data=b"x" * 2**20)
        )
    with pytest.raises(NotFoundError):
        client.get_stream("s")
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[half])
    assert len(client.get_stream("s")) == 1


# -- metadata and links ----------------------------------------------------------------------


def test_stream_metadata_round_trips(client: KurrentDBClient) -> None:
    assert client.get_stream_metadata("s") == ({}, StreamState.NO_STREAM)
    client.set_stream_metadata("s", metadata={"custom": [1, 2]})
    client.set_stream_metadata("s", metadata={"custom": 3}, current_version=0)
    with pytest.raises(WrongCurrentVersionError):
        client.set_stream_metadata("s", metadata={}, current_version=0)
    assert client.get_stream_metadata("s") == ({"custom": 3}, 1)


def test_truncate_before_and_max_count_hide_events_from_stream_reads(
    client: KurrentDBClient,
) -> None:
    client.append_to_stream("s", current_version=StreamState.NO_STREAM, events=[event()] * 1)
    client.append_to_stream("s", current_version=0, events=[event(), event(), event()])
    client.set_stream_metadata("s", metadata={"$tb": 2})
    assert [e.stream_position for e in client.get_stream("s")] == [2, 3]
    client.set_stream_metadata("s", metadata={"$maxCount": 1})
    assert [e.stream_position for e in client.get_stream("s")] == [3]
    assert len([e for e in client.read_all() if e.stream_name == "s"]) == 4


def test_links_are_resolved_on_request(client: KurrentDBClient) -> None:
    client.append_to_stream("target", current_version=StreamState.ANY, events=[event(), event("B")])
    link = NewEvent(type="$>", data=b"1@target", content_type="application/octet-stream")
    client.append_to_stream("links", current_version=StreamState.ANY, events=[link])

    (raw,) = client.get_stream("links")
    assert (raw.type, raw.data, raw.link) == ("$>", b"1@target", None)
    (resolved,) = client.get_stream("links", resolve_links=True)
    assert (resolved.stream_name, resolved.stream_position, resolved.type) == ("target", 1, "B")
    assert resolved.link is not None
    assert resolved.link.id == link.id
    assert resolved.ack_id == link.id


def test_links_to_deleted_events_do_not_resolve(client: KurrentDBClient) -> None:
    client.append_to_stream("target", current_version=StreamState.ANY, events=[event()])
    link = NewEvent(type="$>", data=b"0@target", content_type="application/octet-stream")
    client.append_to_stream("links", current_version=StreamState.ANY, events=[link])
    client.delete_stream("target", current_version=0)
    assert len(client.get_stream("links")) == 1
    # The server sends the link with an empty event, which the client skips.
    assert client.get_stream("links", resolve_links=True) == ()
