"""Bad input and faults on the Django backend: lost connections, unique violations, over-long
names, hostile strings, the outbox with and without ``atomic``, failing listeners.

A killed connection is a real one: the test reads the connection's server process id
(``pg_backend_pid()``) and ends it from another connection (``pg_terminate_backend``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, connections, transaction
from django.test.utils import CaptureQueriesContext

from event_sourcery import Event, StreamId
from event_sourcery.event import Recorded, WrappedEvent
from event_sourcery.exceptions import (
    BackendUnavailable,
    ConcurrentStreamWriteError,
    DuplicateEventUuid,
    IllegalCategoryName,
    IllegalEventName,
    IllegalStreamName,
    IllegalTenantId,
)
from event_sourcery_django import DjangoBackend, DjangoConfig
from event_sourcery_django.models import Event as EventRow
from event_sourcery_django.models import OutboxEntry as OutboxRow
from event_sourcery_django.models import Stream as StreamRow
from tests.backends.django import support

PG = support.POSTGRES_ALIAS
LIMIT = 255
"""Length of the category, tenant and stream name columns."""


class Noted(Event):
    text: str


class LongNamed(Event):
    __event_name__ = "f" * 201

    text: str


class ListenerFailed(Exception):
    pass


def failing_listener(wrapped_event: WrappedEvent[Any], *_: Any) -> None:
    raise ListenerFailed(f"cannot handle {wrapped_event.event!r}")


def picky_listener(wrapped_event: WrappedEvent[Any], *_: Any) -> None:
    if getattr(wrapped_event.event, "text", None) == "fails":
        raise ListenerFailed(f"cannot handle {wrapped_event.event!r}")


@pytest.fixture
def postgres() -> Iterator[str]:
    support.require(PG)
    support.migrate_once(PG)
    support.empty_tables(PG)
    yield PG
    connections[PG].close()
    support.empty_tables(PG)
    connections[PG].close()


def backend_on(alias: str) -> DjangoBackend:
    return DjangoBackend().configure(DjangoConfig(using=alias))


def texts(backend: DjangoBackend, stream_id: StreamId) -> list[tuple[int | None, str]]:
    loaded = backend.event_store.load_stream(stream_id)
    return [(e.version, e.event.text) for e in loaded if isinstance(e.event, Noted)]


def admin_connection() -> psycopg.Connection[Any]:
    params = connections[PG].get_connection_params()
    return psycopg.connect(**params, autocommit=True)


def committed_rows(table: str) -> int:
    """Rows of ``table`` as another connection sees them (committed only)."""
    with admin_connection() as admin:
        row = admin.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(row[0])


def kill_connection(alias: str = PG) -> None:
    """End the server side of this thread's connection of ``alias``; wait until it is gone."""
    connections[alias].ensure_connection()
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    with admin_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 5
        while True:
            row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
            found = row.fetchone()
            if not found or not found[0]:
                return
            assert time.monotonic() < deadline, f"connection {pid} survived the kill"
            time.sleep(0.01)


# A dropped connection.


def test_a_connection_dropped_before_an_append_raises_backend_unavailable(
    postgres: str,
) -> None:
    backend = backend_on(postgres)
    stream_id = StreamId()
    kill_connection()

    with pytest.raises(BackendUnavailable):
        backend.event_store.append(Noted(text="lost"), stream_id=stream_id)

    assert committed_rows(StreamRow._meta.db_table) == 0
    connections[postgres].close()  # what close_old_connections does with an unusable one
    backend.event_store.append(Noted(text="fresh"), stream_id=stream_id)
    assert texts(backend, stream_id) == [(1, "fresh")]


def test_a_connection_dropped_mid_append_raises_backend_unavailable_and_stores_nothing(
    postgres: str,
) -> None:
    """The connection dies after the rows are inserted, before the append's commit."""
    backend = backend_on(postgres)
    stream_id = StreamId(name="mid-append", category="faults")

    def kill_mid_append(*_: Any) -> None:
        kill_connection()

    backend.in_transaction.register(kill_mid_append, to=Noted)
    with pytest.raises(BackendUnavailable):
        backend.event_store.append(Noted(text="1"), Noted(text="2"), stream_id=stream_id)
    backend.in_transaction.remove(kill_mid_append, to=Noted)

    assert committed_rows(StreamRow._meta.db_table) == 0
    assert committed_rows(EventRow._meta.db_table) == 0
    connections[postgres].close()
    backend.event_store.append(Noted(text="again"), stream_id=stream_id, expected_version=0)
    assert texts(backend, stream_id) == [(1, "again")]


def test_a_connection_dropped_inside_the_callers_atomic_block_loses_the_whole_block(
    postgres: str,
) -> None:
    backend = backend_on(postgres)
    first, second = StreamId(), StreamId()

    def block() -> None:
        with transaction.atomic(using=postgres):
            backend.event_store.append(Noted(text="written"), stream_id=first)
            kill_connection()
            backend.event_store.append(Noted(text="lost"), stream_id=second)

    with pytest.raises(BackendUnavailable):
        block()

    assert committed_rows(StreamRow._meta.db_table) == 0
    assert committed_rows(EventRow._meta.db_table) == 0
    connections[postgres].close()
    backend.event_store.append(Noted(text="again"), stream_id=first, expected_version=0)
    assert texts(backend, first) == [(1, "again")]


def test_close_old_connections_makes_a_killed_connection_usable_again(postgres: str) -> None:
    from django.db import close_old_connections

    backend = backend_on(postgres)
    kill_connection()
    with pytest.raises(BackendUnavailable):
        backend.event_store.append(Noted(text="lost"), stream_id=StreamId())

    close_old_connections()  # runs at the start and end of every request
    stream_id = StreamId()
    backend.event_store.append(Noted(text="next request"), stream_id=stream_id)
    assert texts(backend, stream_id) == [(1, "next request")]


# Unique violations surface as ConcurrentStreamWriteError.


def test_an_event_uuid_stored_twice_is_a_duplicate_event_uuid_not_an_integrity_error(
    alias: str,
) -> None:
    """Not a ConcurrentStreamWriteError: no retry can fix it (issue 10.8)."""
    backend = backend_on(alias)
    wrapped = WrappedEvent.wrap(Noted(text="once"), version=1)
    backend.event_store.append(wrapped, stream_id=StreamId())

    with pytest.raises(DuplicateEventUuid) as raised:
        backend.event_store.append(wrapped, stream_id=StreamId())

    assert isinstance(raised.value.__cause__, IntegrityError)
    assert StreamRow.objects.using(alias).count() == 1
    stream_id = StreamId()
    backend.event_store.append(Noted(text="after"), stream_id=stream_id)
    assert texts(backend, stream_id) == [(1, "after")]


def test_two_threads_creating_the_same_stream_at_version_zero_conflict_cleanly(
    postgres: str,
) -> None:
    """Both see the stream missing; the second's INSERT waits on the unique index until the
    first commits, then fails: a ConcurrentStreamWriteError, never an IntegrityError."""
    stream_id = StreamId(name="new-aggregate", category="carts")
    first_appended, second_started = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def first() -> None:
        try:
            with transaction.atomic(using=postgres):
                backend_on(postgres).event_store.append(
                    WrappedEvent.wrap(Noted(text="first"), 1),
                    stream_id=stream_id,
                    expected_version=0,
                )
                first_appended.set()
                second_started.wait(10)
                time.sleep(0.3)  # the second writer is blocked on the unique index now
            outcome["first"] = "committed"
        except Exception as error:  # pragma: no cover - reported by the assertion below
            outcome["first"] = error
        finally:
            connections[postgres].close()

    def second() -> None:
        first_appended.wait(10)
        second_started.set()
        try:
            backend_on(postgres).event_store.append(
                WrappedEvent.wrap(Noted(text="second"), 1),
                stream_id=stream_id,
                expected_version=0,
            )
            outcome["second"] = "committed"
        except Exception as error:
            outcome["second"] = error
        finally:
            connections[postgres].close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert outcome["first"] == "committed"
    assert isinstance(outcome["second"], ConcurrentStreamWriteError), outcome["second"]
    assert not isinstance(outcome["second"], IntegrityError)
    assert texts(backend_on(postgres), stream_id) == [(1, "first")]
    assert committed_rows(EventRow._meta.db_table) == 1


def test_a_writer_that_read_a_stream_missing_before_another_created_it_conflicts(
    alias: str,
) -> None:
    stream_id = StreamId(name="seen-missing", category="carts")
    backend = backend_on(alias)
    assert texts(backend, stream_id) == []
    backend.event_store.append(
        WrappedEvent.wrap(Noted(text="first"), 1), stream_id=stream_id, expected_version=0
    )

    with pytest.raises(ConcurrentStreamWriteError):
        backend.event_store.append(
            WrappedEvent.wrap(Noted(text="second"), 1), stream_id=stream_id, expected_version=0
        )

    assert texts(backend, stream_id) == [(1, "first")]


# Over-long category, tenant, stream or event name: a clear error before any SQL.


def test_a_category_longer_than_its_column_is_rejected_before_any_sql(alias: str) -> None:
    backend = backend_on(alias)
    with CaptureQueriesContext(connections[alias]) as queries, pytest.raises(IllegalCategoryName):
        backend.event_store.append(Noted(text="x"), stream_id=StreamId(category="c" * 256))

    assert len(queries) == 0


def test_a_tenant_longer_than_its_column_is_rejected_before_any_sql(alias: str) -> None:
    tenant = backend_on(alias).in_tenant_mode("t" * 256)
    with CaptureQueriesContext(connections[alias]) as queries, pytest.raises(IllegalTenantId):
        tenant.event_store.append(Noted(text="x"), stream_id=StreamId())

    assert len(queries) == 0


def test_a_stream_name_longer_than_its_column_is_rejected_before_any_sql(alias: str) -> None:
    backend = backend_on(alias)
    with (
        CaptureQueriesContext(connections[alias]) as queries,
        pytest.raises(IllegalStreamName, match="Stream name longer than 255"),
    ):
        backend.event_store.append(Noted(text="x"), stream_id=StreamId(name="n" * 256))

    assert len(queries) == 0


def test_an_event_name_longer_than_its_column_is_rejected_before_any_sql(alias: str) -> None:
    backend = backend_on(alias)
    with (
        CaptureQueriesContext(connections[alias]) as queries,
        pytest.raises(IllegalEventName, match="longer than 200"),
    ):
        backend.event_store.append(LongNamed(text="x"), stream_id=StreamId())

    assert len(queries) == 0
    assert StreamRow.objects.using(alias).count() == 0


@pytest.mark.parametrize("char", ["x", "é", "中", "🎉"], ids=["ascii", "latin", "cjk", "emoji"])
def test_names_of_exactly_the_column_length_are_stored_whatever_the_characters(
    alias: str, char: str
) -> None:
    value = char * LIMIT
    tenant = backend_on(alias).in_tenant_mode(value)
    stream_id = StreamId(name=value, category=value)
    tenant.event_store.append(Noted(text=value), stream_id=stream_id)

    assert texts(tenant, StreamId(name=value, category=value)) == [(1, value)]
    row = StreamRow.objects.using(alias).get()
    assert (row.name, row.category, row.tenant_id) == (value, value, value)


# Hostile strings are data, stored and loaded verbatim.

HOSTILE = [
    'O\'Brien "quoted"',
    "100% %s %(name)s {0} {}",
    "a; DROP TABLE event_sourcery_django_event; --",
    "SELECT * FROM streams WHERE 1=1 OR ''=''",
    "back\\slash \\' \\\\ \\n",
    "🎉 emoji 👩‍👩‍👧 and 中文 漢字 한국어",
    "tab\tnew\nline\rreturn",
    "$$ dollar $tag$ quoting $$",
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_strings_are_stored_and_loaded_verbatim(alias: str, value: str) -> None:
    tenant = backend_on(alias).in_tenant_mode(value)
    stream_id = StreamId(name=value, category=value)
    start = tenant.event_store.position or 0
    tenant.event_store.append(Noted(text=value), Noted(text=value[::-1]), stream_id=stream_id)

    assert texts(tenant, StreamId(name=value, category=value)) == [(1, value), (2, value[::-1])]
    row = StreamRow.objects.using(alias).get()
    assert (row.name, row.category, row.tenant_id) == (value, value, value)
    delivered = next(tenant.subscriber.start_from(start).to_category(value).build_batch(10, 0.5))
    assert [r.wrapped_event.event.text for r in delivered] == [value, value[::-1]]
    assert {(r.stream_id.name, r.stream_id.category, r.tenant_id) for r in delivered} == {
        (value, value, value)
    }


# The outbox in autocommit mode and inside atomic blocks.


def test_the_outbox_runs_outside_any_atomic_block_in_a_transaction_of_its_own(
    alias: str,
) -> None:
    backend = backend_on(alias).with_outbox()
    backend.event_store.append(Noted(text="out"), stream_id=StreamId())
    assert connections[alias].get_autocommit()
    assert not connections[alias].in_atomic_block

    published: list[Recorded] = []
    backend.outbox.run(published.append)

    assert [r.wrapped_event.event.text for r in published] == ["out"]
    assert OutboxRow.objects.using(alias).count() == 0


def test_a_failing_publisher_outside_atomic_records_the_failure(alias: str) -> None:
    backend = backend_on(alias).with_outbox()
    backend.event_store.append(Noted(text="out"), stream_id=StreamId())

    def failing(record: Recorded) -> None:
        raise RuntimeError("broker down")

    backend.outbox.run(failing)

    row = OutboxRow.objects.using(alias).get()
    assert (row.failures, row.tries_left) == (1, 2)
    assert row.last_error == "RuntimeError: broker down"


def test_the_outbox_runs_inside_the_callers_atomic_block(alias: str) -> None:
    backend = backend_on(alias).with_outbox()
    published: list[Recorded] = []
    with transaction.atomic(using=alias):
        backend.event_store.append(Noted(text="in"), stream_id=StreamId())
        backend.outbox.run(published.append)
        assert OutboxRow.objects.using(alias).count() == 0

    assert [r.wrapped_event.event.text for r in published] == ["in"]
    assert OutboxRow.objects.using(alias).count() == 0


def test_an_outbox_run_rolled_back_with_the_callers_block_publishes_again(alias: str) -> None:
    backend = backend_on(alias).with_outbox()
    backend.event_store.append(Noted(text="again"), stream_id=StreamId())
    published: list[Recorded] = []

    def block() -> None:
        with transaction.atomic(using=alias):
            backend.outbox.run(published.append)
            raise ListenerFailed("the caller's block fails after the run")

    with pytest.raises(ListenerFailed):
        block()

    assert OutboxRow.objects.using(alias).count() == 1
    backend.outbox.run(published.append)
    assert [r.wrapped_event.event.text for r in published] == ["again", "again"]
    assert OutboxRow.objects.using(alias).count() == 0


# Listeners run inside the append's transaction.


def test_a_listener_raising_inside_atomic_rolls_back_the_callers_block(alias: str) -> None:
    backend = backend_on(alias).with_outbox()
    earlier, failing = StreamId(), StreamId()

    def block() -> None:
        with transaction.atomic(using=alias):
            backend.event_store.append(Noted(text="earlier"), stream_id=earlier)
            backend.event_store.append(Noted(text="fails"), stream_id=failing)

    backend.in_transaction.register(picky_listener, to=Noted)
    with pytest.raises(ListenerFailed):
        block()
    backend.in_transaction.remove(picky_listener, to=Noted)

    assert StreamRow.objects.using(alias).count() == 0
    assert EventRow.objects.using(alias).count() == 0
    assert OutboxRow.objects.using(alias).count() == 0
    backend.event_store.append(Noted(text="after"), stream_id=earlier, expected_version=0)
    assert texts(backend, earlier) == [(1, "after")]


def test_a_listener_raising_in_autocommit_mode_stores_nothing(alias: str) -> None:
    backend = backend_on(alias)
    backend.in_transaction.register(failing_listener, to=Noted)
    with pytest.raises(ListenerFailed):
        backend.event_store.append(Noted(text="fails"), stream_id=StreamId())
    backend.in_transaction.remove(failing_listener, to=Noted)

    assert StreamRow.objects.using(alias).count() == 0
    assert EventRow.objects.using(alias).count() == 0
