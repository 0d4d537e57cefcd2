"""Concurrent writers and outbox relays on Django's SQLite backend (issue 10.5).

A deferred SQLite transaction that reads first cannot wait for the write lock (SQLite refuses the
upgrade at once with "database is locked"), so appends and relays take the write lock first. Each
test runs on two aliases of one SQLite file: ``default`` (``transaction_mode="IMMEDIATE"`` where
Django has it, 5.1+) and ``deferred``, added here without the option (Django 4.2's behaviour).
Every thread uses its own connection (Django's connections are per thread) and closes it.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import django
import pytest
from django.core import checks
from django.db import connections, transaction

from event_sourcery import Event, StreamId
from event_sourcery.event import Recorded
from event_sourcery.exceptions import BackendUnavailable, ConcurrentStreamWriteError
from event_sourcery_django import DjangoBackend, DjangoConfig
from event_sourcery_django.checks import W003, check_sqlite_transaction_mode
from event_sourcery_django.models import Event as EventRow
from event_sourcery_django.models import OutboxEntry as OutboxRow
from tests.backends.django.support import empty_tables, migrate_once

pytestmark = pytest.mark.timeout(60)

DEFERRED = "deferred"
THREADS = 4
APPENDS = 15
RELAYS = 3
ENTRIES = 600


class Counted(Event):
    writer: int
    number: int


@pytest.fixture(params=["default", DEFERRED])
def sqlite(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, emptied SQLite alias: ``default`` or ``deferred`` (same file, no option)."""
    alias: str = request.param
    migrate_once("default")
    empty_tables("default")
    connections["default"].close()
    if alias == DEFERRED:
        deferred = copy.deepcopy(connections.settings["default"])
        deferred["OPTIONS"].pop("transaction_mode", None)
        connections.settings[DEFERRED] = deferred
    try:
        yield alias
    finally:
        connections[alias].close()
        connections.settings.pop(DEFERRED, None)
        empty_tables("default")
        connections["default"].close()


def in_threads(count: int, work: Callable[[int], None], alias: str) -> list[BaseException]:
    """Run ``work(number)`` in ``count`` threads, each closing its connection; their errors."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def main(number: int) -> None:
        try:
            start.wait()
            work(number)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=main, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_concurrent_appends_all_succeed_and_are_stored_once(sqlite: str) -> None:
    store = DjangoBackend().configure(DjangoConfig(using=sqlite)).event_store
    shared = StreamId(name="shared")
    conflicts = Counter[int]()

    def append(writer: int) -> None:
        own = StreamId(name=f"writer-{writer}")
        for number in range(APPENDS):
            store.append(
                Counted(writer=writer, number=number), stream_id=own, expected_version=number
            )
            while True:  # the documented retry: reload, decide again, append
                version = len(store.load_stream(shared))
                event = Counted(writer=writer, number=number)
                try:
                    if number % 2:
                        with transaction.atomic(using=sqlite):  # the caller's transaction
                            store.append(event, stream_id=shared, expected_version=version)
                    else:
                        store.append(event, stream_id=shared, expected_version=version)
                    break
                except ConcurrentStreamWriteError:
                    conflicts[writer] += 1

    errors = in_threads(THREADS, append, sqlite)

    assert errors == []
    stored = list(EventRow.objects.using(sqlite).values_list("stream__name", "data"))
    per_stream = Counter(name for name, _ in stored)
    assert per_stream == {"shared": THREADS * APPENDS, **{f"writer-{n}": APPENDS for n in range(4)}}
    shared_events = [(d["writer"], d["number"]) for name, d in stored if name == "shared"]
    assert sorted(shared_events) == [(w, n) for w in range(THREADS) for n in range(APPENDS)]
    versions = [event.version for event in store.load_stream(shared)]
    assert versions == list(range(1, THREADS * APPENDS + 1))


def test_competing_relays_never_publish_an_entry_twice(sqlite: str) -> None:
    backend = DjangoBackend().configure(DjangoConfig(using=sqlite)).with_outbox()
    with transaction.atomic(using=sqlite):
        for number in range(ENTRIES):
            backend.event_store.append(
                Counted(writer=0, number=number), stream_id=StreamId(name=f"s-{number}")
            )
    connections[sqlite].close()
    published: list[int] = []
    lock = threading.Lock()

    def publish(record: Recorded) -> None:
        time.sleep(0.0005)  # a publisher takes some time: relays overlap
        with lock:
            published.append(record.wrapped_event.event.number)

    def relay(_: int) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                backend.outbox.run(publish, limit=25)
            except BackendUnavailable:  # a lock timeout: try again later
                continue
            if not OutboxRow.objects.using(sqlite).exists():
                return

    errors = in_threads(RELAYS, relay, sqlite)

    assert errors == []
    duplicates = {number: n for number, n in Counter(published).items() if n > 1}
    assert duplicates == {}
    assert sorted(published) == list(range(ENTRIES))


@pytest.mark.skipif(django.VERSION < (5, 1), reason="transaction_mode needs Django 5.1+")
def test_check_warns_about_a_sqlite_alias_without_immediate_transactions() -> None:
    without = {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.sqlite3", "OPTIONS": {}}
    deferred = {**without, "OPTIONS": {"transaction_mode": "DEFERRED"}}
    immediate = {**without, "OPTIONS": {"transaction_mode": "IMMEDIATE"}}
    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "x", "OPTIONS": {}}
    databases: dict[str, Any] = {
        "default": immediate,
        "plain": without,
        "deferred": deferred,
        "exclusive": {**without, "OPTIONS": {"transaction_mode": "exclusive"}},
        "pg": postgres,
    }

    messages = check_sqlite_transaction_mode(None, databases_settings=databases)

    assert [(m.id, m.level) for m in messages] == [(W003, checks.WARNING)] * 2
    assert "'plain'" in messages[0].msg
    assert "'deferred'" in messages[1].msg
    assert '"transaction_mode": "IMMEDIATE"' in (messages[0].hint or "")


@pytest.mark.skipif(django.VERSION < (5, 1), reason="transaction_mode needs Django 5.1+")
def test_the_test_settings_pass_the_check() -> None:
    assert [m for m in checks.run_checks() if m.id == W003] == []
    assert check_sqlite_transaction_mode(None) == []


def test_a_publisher_whose_own_query_fails_costs_an_attempt_not_the_run(alias: str) -> None:
    backend = DjangoBackend().configure(DjangoConfig(using=alias)).with_outbox()
    for number in range(3):
        backend.event_store.append(
            Counted(writer=0, number=number), stream_id=StreamId(name=f"p-{number}")
        )
    published: list[int] = []

    def publish(record: Recorded) -> None:
        number = record.wrapped_event.event.number
        if number == 1:  # the publisher's own query fails on the relay's connection
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table")
        published.append(number)

    backend.outbox.run(publish)

    assert published == [0, 2]
    [left] = OutboxRow.objects.using(alias).all()
    assert (left.stream_name, left.failures) == ("p-1", 1)
