"""The subscription builder over a fake ``SubscriptionStrategy`` (SPEC §9.1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from event_sourcery import StreamId
from event_sourcery.backend import InMemoryKeyStorage
from event_sourcery.encryption import AesGcmEncryptionStrategy, Encryption
from event_sourcery.event import Event, EventRegistry, RawEvent, Recorded, RecordedRaw, Serde
from event_sourcery.exceptions import IllegalCategoryName, InvalidTimelimit, MissingStartPosition
from event_sourcery.interfaces import SubscriptionStrategy
from event_sourcery.subscription import SubscriptionBuilder


class Ticked(Event):
    __event_name__ = "unit-tests.builder.Ticked"

    n: int = 0


class Tocked(Event):
    __event_name__ = "unit-tests.builder.Tocked"


def recorded(position: int) -> RecordedRaw:
    raw = RawEvent(
        uuid=uuid4(),
        stream_id=StreamId(category="clock"),
        created_at=datetime(2024, 1, 1),
        name="unit-tests.builder.Ticked",
        data={"n": position},
        context={"correlation_id": None, "causation_id": None},
        version=position,
    )
    return RecordedRaw(entry=raw, position=position, tenant_id="t")


class FakeStrategy(SubscriptionStrategy):
    def __init__(self, batches: list[list[RecordedRaw]]) -> None:
        self.batches = batches
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _serve(self, method: str, **kwargs: Any) -> Iterator[list[RecordedRaw]]:
        self.calls.append((method, kwargs))
        return iter(self.batches)

    def subscribe_to_all(
        self, start_from: int, batch_size: int, timelimit: timedelta
    ) -> Iterator[list[RecordedRaw]]:
        return self._serve("all", start_from=start_from, batch_size=batch_size, timelimit=timelimit)

    def subscribe_to_category(
        self, start_from: int, batch_size: int, timelimit: timedelta, category: str
    ) -> Iterator[list[RecordedRaw]]:
        return self._serve(
            "category",
            start_from=start_from,
            batch_size=batch_size,
            timelimit=timelimit,
            category=category,
        )

    def subscribe_to_events(
        self, start_from: int, batch_size: int, timelimit: timedelta, events: list[str]
    ) -> Iterator[list[RecordedRaw]]:
        return self._serve(
            "events",
            start_from=start_from,
            batch_size=batch_size,
            timelimit=timelimit,
            events=events,
        )


def builder(batches: list[list[RecordedRaw]] | None = None) -> tuple[SubscriptionBuilder, Any]:
    registry = EventRegistry()
    serde = Serde(registry, Encryption(registry, AesGcmEncryptionStrategy(), InMemoryKeyStorage()))
    strategy = FakeStrategy(batches or [])
    return SubscriptionBuilder(serde, strategy), strategy


def test_build_iter_yields_records_and_none_for_empty_batches() -> None:
    subscription, strategy = builder([[recorded(1)], [], [recorded(2)]])

    records = list(subscription.start_from(0).build_iter(0.5))

    assert [r.position if r else None for r in records] == [1, None, 2]
    first = records[0]
    assert isinstance(first, Recorded)
    assert first.wrapped_event.event == Ticked(n=1)
    assert first.tenant_id == "t"
    assert strategy.calls == [
        ("all", {"start_from": 0, "batch_size": 1, "timelimit": timedelta(seconds=0.5)})
    ]


def test_build_batch_deserialises_whole_batches() -> None:
    subscription, strategy = builder([[recorded(4), recorded(5)], []])

    batches = list(subscription.start_from(3).build_batch(2, timedelta(seconds=1)))

    assert [[r.position for r in batch] for batch in batches] == [[4, 5], []]
    assert strategy.calls[0][1]["batch_size"] == 2


def test_to_category_subscribes_to_that_category() -> None:
    subscription, strategy = builder()

    next(iter(subscription.start_from(7).to_category("clock").build_batch(3, 1)), None)

    assert strategy.calls == [
        (
            "category",
            {
                "start_from": 7,
                "batch_size": 3,
                "timelimit": timedelta(seconds=1),
                "category": "clock",
            },
        )
    ]


def test_to_events_subscribes_to_the_registered_names() -> None:
    subscription, strategy = builder()

    list(subscription.start_from(0).to_events([Ticked, Tocked]).build_iter(1))

    assert strategy.calls[0][0] == "events"
    assert strategy.calls[0][1]["events"] == [
        "unit-tests.builder.Ticked",
        "unit-tests.builder.Tocked",
    ]


def test_the_builder_mutates_and_returns_itself() -> None:
    subscription, _ = builder()

    assert subscription.start_from(1) is subscription
    assert subscription.to_category("c") is subscription


@pytest.mark.parametrize("position", [-1, True, "0", 1.5, None])
def test_start_from_needs_a_non_negative_int(position: Any) -> None:
    subscription, _ = builder()

    with pytest.raises(ValueError, match="start_from"):
        subscription.start_from(position)


def test_filters_and_builds_need_start_from_first() -> None:
    subscription, strategy = builder()

    with pytest.raises(MissingStartPosition):
        subscription.to_category("c")
    with pytest.raises(MissingStartPosition):
        subscription.to_events([Ticked])
    with pytest.raises(MissingStartPosition):
        subscription.build_iter(1)
    with pytest.raises(TypeError):
        subscription.build_batch(2, 1)
    assert strategy.calls == []


def test_a_category_must_be_a_string() -> None:
    subscription, _ = builder()

    with pytest.raises(IllegalCategoryName):
        subscription.start_from(0).to_category(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, -3])
def test_a_batch_size_below_one_is_rejected_eagerly(size: int) -> None:
    subscription, strategy = builder()

    with pytest.raises(ValueError, match="Batch size"):
        subscription.start_from(0).build_batch(size, 1)
    assert strategy.calls == []


@pytest.mark.parametrize("limit", [0.09, 0, -1, timedelta(milliseconds=50)])
def test_a_short_time_limit_is_rejected_eagerly(limit: float | timedelta) -> None:
    subscription, strategy = builder()

    with pytest.raises(InvalidTimelimit):
        subscription.start_from(0).build_iter(limit)
    with pytest.raises(ValueError, match="100 milliseconds"):
        subscription.build_batch(2, limit)
    assert strategy.calls == []
