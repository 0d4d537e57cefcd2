"""Subscription rules: time limits, selectors, the batching cursor and the polling loop."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from event_sourcery import StreamId
from event_sourcery._core.cursor import ALL, BatchCursor, Fetched, OrderCursor, Selector, timebox
from event_sourcery._store.polling import poll_batches
from event_sourcery.event import RawEvent, RecordedRaw
from event_sourcery.exceptions import IllegalCategoryName, InvalidTimelimit


def record(position: int, category: str | None = None, name: str = "Happened") -> RecordedRaw:
    raw = RawEvent(
        uuid=uuid4(),
        stream_id=StreamId(category=category),
        created_at=datetime(2024, 1, 1),
        name=name,
        data={},
        context={},
        version=1,
    )
    return RecordedRaw(entry=raw, position=position, tenant_id="")


# --------------------------------------------------------------------------- timebox


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (0.1, timedelta(milliseconds=100)),
        (1, timedelta(seconds=1)),
        (2.5, timedelta(seconds=2.5)),
        (timedelta(milliseconds=100), timedelta(milliseconds=100)),
        (timedelta(minutes=1), timedelta(minutes=1)),
    ],
)
def test_timebox_accepts_limits_from_100_milliseconds(
    limit: float | timedelta, expected: timedelta
) -> None:
    assert timebox(limit) == expected


@pytest.mark.parametrize(
    ("limit", "shown"),
    [
        (0.09, "0.09"),
        (0, "0.00"),
        (-1, "-1.00"),
        (-1.9999, "-2.00"),
        (timedelta(seconds=0.09), "0.09"),
        (timedelta(seconds=-10), "-10.00"),
    ],
)
def test_timebox_rejects_limits_below_100_milliseconds(
    limit: float | timedelta, shown: str
) -> None:
    with pytest.raises(ValueError, match="Timebox must be at least 100 milliseconds") as caught:
        timebox(limit)

    assert isinstance(caught.value, InvalidTimelimit)
    assert str(caught.value).endswith(f"Received: {shown}")


# --------------------------------------------------------------------------- selector


def test_the_all_selector_matches_everything() -> None:
    assert ALL.matches(record(1))
    assert ALL.matches(record(2, category="orders", name="Other"))


def test_a_category_selector_matches_that_category_only() -> None:
    selector = Selector(category="orders")

    assert selector.matches(record(1, category="orders"))
    assert not selector.matches(record(2, category="users"))
    assert not selector.matches(record(3))


def test_the_empty_category_selects_streams_without_a_category() -> None:
    selector = Selector(category="")

    assert selector.matches(record(1))
    assert selector.matches(record(2, category=""))
    assert not selector.matches(record(3, category="orders"))


def test_a_names_selector_matches_exact_event_names() -> None:
    selector = Selector(names=frozenset({"a.Created"}))

    assert selector.matches(record(1, name="a.Created"))
    assert not selector.matches(record(2, name="a.CreatedLater"))
    assert not selector.matches(record(3, name="aXCreated"))


def test_category_and_names_must_both_match() -> None:
    selector = Selector(category="orders", names=frozenset({"Paid"}))

    assert selector.matches(record(1, category="orders", name="Paid"))
    assert not selector.matches(record(2, category="orders", name="Sent"))
    assert not selector.matches(record(3, category="users", name="Paid"))


@pytest.mark.parametrize("category", [1, b"orders", ["orders"]])
def test_a_category_that_is_not_a_string_is_illegal(category: object) -> None:
    with pytest.raises(IllegalCategoryName):
        Selector(category=category)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- cursor


def test_the_batch_cursor_fills_a_batch_and_hands_it_over() -> None:
    cursor = BatchCursor(position=5, batch_size=3)

    assert (cursor.wanted, cursor.full) == (3, False)
    cursor.advance(Fetched([record(6), record(7)], position=7))
    assert (cursor.wanted, cursor.full, cursor.position) == (1, False, 7)
    cursor.advance(Fetched([record(9)], position=9))
    assert (cursor.wanted, cursor.full) == (0, True)

    batch = cursor.take()

    assert [r.position for r in batch] == [6, 7, 9]
    assert (cursor.pending, cursor.position, cursor.wanted) == ([], 9, 3)


def test_the_batch_cursor_resumes_where_the_source_says_even_at_a_lower_position() -> None:
    # On PostgreSQL and MariaDB events arrive in commit order, not in id (position) order, so
    # the next read must start from the last delivered position even when it is lower.
    cursor = BatchCursor(position=10, batch_size=2)

    cursor.advance(Fetched([], position=15))
    assert cursor.position == 15
    cursor.advance(Fetched([], position=12))
    assert cursor.position == 12


# --------------------------------------------------------------------------- polling loop


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeSource:
    """Records by position; ``wait_for_events`` lets time pass and may deliver arrivals."""

    def __init__(self, clock: FakeClock, records: list[RecordedRaw] | None = None) -> None:
        self.clock = clock
        self.records = list(records or [])
        self.arrivals: list[list[RecordedRaw]] = []
        self.waits: list[tuple[int, float]] = []
        self.fetches: list[tuple[int, int]] = []
        self.fetch_cost = 0.0
        self.wait_cost: float | None = None

    def fetch_after(self, position: int, limit: int, selector: Selector) -> Fetched:
        self.fetches.append((position, limit))
        self.clock.now += self.fetch_cost
        found = [r for r in self.records if r.position > position and selector.matches(r)]
        found = found[:limit]
        scanned = found[-1].position if found else max([position, *self.positions()])
        return Fetched(found, scanned)

    def positions(self) -> list[int]:
        return [r.position for r in self.records]

    def wait_for_events(self, after: int, timeout: float) -> None:
        self.waits.append((after, timeout))
        if self.arrivals:
            self.records.extend(self.arrivals.pop(0))
            self.clock.now += 0.01
        else:
            self.clock.now += timeout if self.wait_cost is None else self.wait_cost


def poll(
    source: FakeSource,
    clock: FakeClock,
    batch_size: int,
    limit: float = 1.0,
    start_from: int = 0,
    selector: Selector = ALL,
) -> Iterator[list[RecordedRaw]]:
    return poll_batches(
        source,
        start_from=start_from,
        batch_size=batch_size,
        timelimit=timedelta(seconds=limit),
        selector=selector,
        clock=clock,
    )


def test_a_full_batch_is_returned_without_waiting() -> None:
    clock = FakeClock()
    source = FakeSource(clock, [record(1), record(2), record(3)])

    batch = next(poll(source, clock, batch_size=2))

    assert [r.position for r in batch] == [1, 2]
    assert source.waits == []
    assert clock.now == 1000.0


def test_a_partial_batch_is_returned_when_the_time_limit_expires() -> None:
    clock = FakeClock()
    source = FakeSource(clock, [record(1)])

    batch = next(poll(source, clock, batch_size=2, limit=0.5))

    assert [r.position for r in batch] == [1]
    assert source.waits == [(1, 0.5)]
    assert clock.now == pytest.approx(1000.5)


def test_an_empty_batch_is_returned_when_nothing_arrives_in_time() -> None:
    clock = FakeClock()
    source = FakeSource(clock)

    assert next(poll(source, clock, batch_size=3, limit=0.2)) == []
    assert clock.now == pytest.approx(1000.2)


def test_wait_is_given_the_time_remaining_until_the_deadline() -> None:
    clock = FakeClock()
    source = FakeSource(clock)
    source.fetch_cost = 0.1
    source.wait_cost = 0.25

    assert next(poll(source, clock, batch_size=1, limit=1.0)) == []

    timeouts = [timeout for _, timeout in source.waits]
    assert timeouts == pytest.approx([0.9, 0.55, 0.2])
    assert clock.now >= 1001.0


def test_events_arriving_while_waiting_complete_the_batch_before_the_deadline() -> None:
    clock = FakeClock()
    source = FakeSource(clock, [record(1)])
    source.arrivals = [[record(2)], [record(3)]]

    batch = next(poll(source, clock, batch_size=3, limit=5))

    assert [r.position for r in batch] == [1, 2, 3]
    assert len(source.waits) == 2
    assert clock.now < 1005


def test_only_the_missing_part_of_a_batch_is_fetched() -> None:
    clock = FakeClock()
    source = FakeSource(clock, [record(1)])
    source.arrivals = [[record(2), record(3), record(4)]]

    batch = next(poll(source, clock, batch_size=3))

    assert [r.position for r in batch] == [1, 2, 3]
    assert source.fetches == [(0, 3), (1, 2)]


def test_the_position_persists_across_batches_and_starts_after_start_from() -> None:
    clock = FakeClock()
    source = FakeSource(clock, [record(p) for p in range(1, 6)])
    batches = poll(source, clock, batch_size=2, start_from=1, limit=0.1)

    assert [r.position for r in next(batches)] == [2, 3]
    assert [r.position for r in next(batches)] == [4, 5]
    assert next(batches) == []
    source.records.extend([record(6), record(7)])
    assert [r.position for r in next(batches)] == [6, 7]


def test_the_selector_is_passed_to_the_source() -> None:
    clock = FakeClock()
    source = FakeSource(
        clock, [record(1, category="a"), record(2, category="b"), record(3, category="a")]
    )

    batch = next(poll(source, clock, batch_size=2, selector=Selector(category="a")))

    assert [r.position for r in batch] == [1, 3]


def test_a_batch_size_below_one_is_rejected() -> None:
    clock = FakeClock()

    with pytest.raises(ValueError, match="at least 1"):
        next(poll(FakeSource(clock), clock, batch_size=0))


def test_the_order_cursor_looks_a_resumed_position_up_once() -> None:
    looked_up: list[int] = []

    def key_at(position: int) -> int | None:
        looked_up.append(position)
        return 70 if position == 7 else None

    cursor = OrderCursor()
    assert cursor.resume(0, key_at) == (-1, 0)
    assert cursor.resume(7, key_at) == (70, 7)
    assert cursor.resume(7, key_at) == (70, 7)
    cursor.move(90, 3)  # commit order: a lower id with a higher key
    assert cursor.resume(3, key_at) == (90, 3)
    assert cursor.resume(5, key_at) == (0, 5)  # unknown key: from the start of the order
    assert looked_up == [7, 5]
