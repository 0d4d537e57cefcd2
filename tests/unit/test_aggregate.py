"""``Aggregate`` pending changes (SPEC §14.1, §19 item 22)."""

from __future__ import annotations

from typing import Any

import pytest

from event_sourcery.event import Event
from event_sourcery.event_sourcing import Aggregate


class Switched(Event):
    __event_name__ = "unit-tests.aggregate.Switched"

    on: bool


class Light(Aggregate):
    category = "light"

    def __init__(self) -> None:
        self.on = False
        self.applied: list[Any] = []

    def __apply__(self, event: Any) -> None:
        self.applied.append(event)
        self.on = event.on

    def switch(self, on: bool) -> None:
        self._emit(Switched(on=on))


def test_emit_applies_the_event_and_keeps_it_pending() -> None:
    light = Light()

    light.switch(True)
    light.switch(False)

    assert light.on is False
    assert light.applied == [Switched(on=True), Switched(on=False)]
    assert light.__changes__ == [Switched(on=True), Switched(on=False)]


def test_changes_is_a_copy() -> None:
    light = Light()
    light.switch(True)

    light.__changes__.clear()

    assert light.__changes__ == [Switched(on=True)]


def test_a_fresh_aggregate_has_no_changes() -> None:
    light = Light()

    assert light.__changes__ == []
    with light.__persisting_changes__() as changes:
        assert list(changes) == []
    assert light.__changes__ == []


def test_persisted_changes_are_cleared_once_the_block_succeeds() -> None:
    light = Light()
    light.switch(True)

    with light.__persisting_changes__() as changes:
        assert list(changes) == [Switched(on=True)]
        assert light.__changes__ == [Switched(on=True)]

    assert light.__changes__ == []


def test_changes_stay_pending_when_the_block_fails() -> None:
    light = Light()
    light.switch(True)

    with pytest.raises(RuntimeError), light.__persisting_changes__():
        raise RuntimeError("the store is down")

    assert light.__changes__ == [Switched(on=True)]


def test_events_emitted_while_persisting_stay_pending() -> None:
    light = Light()
    light.switch(True)

    with light.__persisting_changes__() as changes:
        saved = list(changes)
        light.switch(False)

    assert saved == [Switched(on=True)]
    assert light.__changes__ == [Switched(on=False)]


def test_the_base_aggregate_does_not_know_how_to_apply_events() -> None:
    with pytest.raises(NotImplementedError):
        Aggregate()._emit(Switched(on=True))
