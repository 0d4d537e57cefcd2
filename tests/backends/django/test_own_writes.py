"""A Django subscription reads its connection's own writes (ADR 0006): inside ``atomic()``
(commit, rollback, a rolled-back savepoint) and in a ``TestCase``, where nothing ever commits;
another connection's events still come only once committed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.db import connections, transaction
from django.test import TestCase

from event_sourcery import Event, StreamId
from event_sourcery.event import Recorded
from event_sourcery_django import DjangoBackend, DjangoConfig
from tests.backends.django import support
from tests.contract.reading import collect, nothing_more

SHORT = 0.2


class Noted(Event):
    number: int


class Other(Event):
    number: int


def backend(alias: str) -> DjangoBackend:
    config = DjangoConfig(using=alias, gap_retry_interval=timedelta(milliseconds=50))
    return DjangoBackend().configure(config)


def note(alias: str, *numbers: int, category: str = "notes") -> None:
    kind = Noted if category == "notes" else Other
    stream_id = StreamId(category=category)
    backend(alias).event_store.append(*(kind(number=n) for n in numbers), stream_id=stream_id)


def numbers(records: list[Recorded]) -> list[int]:
    return [record.wrapped_event.event.number for record in records]


class _Rollback(Exception):
    """Raised out of an ``atomic`` block to roll it back."""


@contextmanager
def rolled_back(alias: str) -> Iterator[None]:
    """An ``atomic`` block that the body leaves by an exception (so it rolls back)."""
    try:
        with transaction.atomic(using=alias):
            yield
            raise _Rollback
    except _Rollback:
        pass


BUILDS = [
    pytest.param(lambda b: b.build_iter(SHORT), id="iter"),
    pytest.param(lambda b: b.build_batch(3, SHORT), id="batch"),
]
FILTERS = [
    pytest.param(lambda b: b, [1, 2, 90, 3], id="all"),
    pytest.param(lambda b: b.to_category("notes"), [1, 2, 3], id="category"),
    pytest.param(lambda b: b.to_events([Noted]), [1, 2, 3], id="events"),
]
Build = Callable[[Any], Iterator[Any]]


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize(("narrow", "expected"), FILTERS)
def test_inside_atomic_own_events_are_delivered_and_not_again_after_the_commit(
    alias: str, build: Build, narrow: Callable[[Any], Any], expected: list[int]
) -> None:
    subscription = build(narrow(backend(alias).subscriber.start_from(0)))
    with transaction.atomic(using=alias):
        note(alias, 1, 2)
        note(alias, 90, category="others")
        note(alias, 3)
        assert numbers(collect(subscription, len(expected))) == expected
    note(alias, 4)

    assert numbers(collect(subscription, 1)) == [4]
    assert nothing_more(subscription)


@pytest.mark.parametrize("build", BUILDS)
def test_after_a_rolled_back_atomic_nothing_is_delivered_again_and_nothing_skipped(
    alias: str, build: Build
) -> None:
    """On SQLite the next event takes the rolled-back id again: it is still delivered."""
    subscription = build(backend(alias).subscriber.start_from(0))
    with rolled_back(alias):
        note(alias, 1, 2)
        assert numbers(collect(subscription, 2)) == [1, 2]
    note(alias, 3)

    assert numbers(collect(subscription, 1)) == [3]
    assert nothing_more(subscription)


def test_a_rolled_back_savepoint_drops_only_its_events(alias: str) -> None:
    subscription = backend(alias).subscriber.start_from(0).build_iter(SHORT)
    with transaction.atomic(using=alias):
        note(alias, 1)
        with rolled_back(alias):
            note(alias, 2)
            assert numbers(collect(subscription, 2)) == [1, 2]
        note(alias, 3)
        assert numbers(collect(subscription, 1)) == [3]
    assert nothing_more(subscription)

    fresh = backend(alias).subscriber.start_from(0).build_batch(5, SHORT)
    assert numbers(collect(fresh, 2)) == [1, 3]
    assert nothing_more(fresh)


def test_another_connections_events_come_only_once_committed(alias: str) -> None:
    subscription = backend(alias).subscriber.start_from(0).build_iter(SHORT)
    appended, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with transaction.atomic(using=alias):
                note(alias, 1)
                appended.set()
                release.wait(30)
        except BaseException as error:  # reported by the test thread
            errors.append(error)
        finally:
            appended.set()
            connections[alias].close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        appended.wait(30)
        assert nothing_more(subscription)
    finally:
        release.set()
        writer.join(30)

    assert errors == []
    assert numbers(collect(subscription, 1)) == [1]
    assert nothing_more(subscription)


# --- a TestCase: nothing ever commits ---------------------------------------------------------


class OwnWritesInATestCase(TestCase):
    """A user's projection test: events appended in the test reach a subscription."""

    alias: ClassVar[str] = "default"
    databases = {"default"}

    @classmethod
    def setUpClass(cls) -> None:
        support.require(cls.alias)
        support.migrate_once(cls.alias)
        support.empty_tables(cls.alias)
        super().setUpClass()

    def test_events_appended_in_the_test_are_delivered_once(self) -> None:
        subscription = backend(self.alias).subscriber.start_from(0).build_iter(SHORT)
        note(self.alias, 1, 2)
        assert numbers(collect(subscription, 2)) == [1, 2]
        note(self.alias, 3)
        assert numbers(collect(subscription, 1)) == [3]
        assert nothing_more(subscription)

    def test_batches_and_filters_see_them_too(self) -> None:
        note(self.alias, 1)
        note(self.alias, 90, category="others")
        note(self.alias, 2)
        start = backend(self.alias).subscriber.start_from(0)
        batches = start.to_category("notes").build_batch(2, SHORT)
        assert numbers(collect(batches, 2)) == [1, 2]
        assert nothing_more(batches)

    def test_captured_on_commit_callbacks_do_not_count_as_a_commit(self) -> None:
        subscription = backend(self.alias).subscriber.start_from(0).build_iter(SHORT)
        with self.captureOnCommitCallbacks(using=self.alias, execute=True) as callbacks:
            note(self.alias, 1)
        assert len(callbacks) == 1
        assert numbers(collect(subscription, 1)) == [1]
        note(self.alias, 2)
        assert numbers(collect(subscription, 1)) == [2]
        assert nothing_more(subscription)


@pytest.mark.postgres
class OwnWritesInAPostgresTestCase(OwnWritesInATestCase):
    alias: ClassVar[str] = support.POSTGRES_ALIAS
    databases = {support.POSTGRES_ALIAS}
