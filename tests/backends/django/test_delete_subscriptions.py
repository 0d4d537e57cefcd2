"""Deleting streams after out-of-order commits never makes a resumed Django subscription skip or
repeat an event (issue 10.3).

The contract suite runs Django in autocommit mode, so its interleaved-commit test cannot run
here; this one holds a transaction open on a second connection (another thread). On PostgreSQL
the order key is the writer's transaction id: a transaction that began writing first sorts
first even where its later rows got higher ids than rows committed in between (ADR 0006).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connections, transaction

from event_sourcery import Event, StreamId
from event_sourcery.event import Recorded
from event_sourcery_django import DjangoBackend, DjangoConfig
from event_sourcery_django.models import DeletedEvent
from tests.backends.django import support
from tests.contract.reading import collect, nothing_more

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(60)]

ALIAS = support.POSTGRES_ALIAS
SHORT = 0.2


class Noted(Event):
    text: str


@pytest.fixture
def postgres() -> Iterator[str]:
    support.require(ALIAS)
    support.migrate_once(ALIAS)
    support.empty_tables(ALIAS)
    yield ALIAS
    support.empty_tables(ALIAS)
    connections[ALIAS].close()


def backend() -> DjangoBackend:
    config = DjangoConfig(using=ALIAS, gap_retry_interval=timedelta(milliseconds=50))
    return DjangoBackend().configure(config)


def note(text: str) -> StreamId:
    """Append ``text`` to a new stream."""
    stream_id = StreamId()
    backend().event_store.append(Noted(text=text), stream_id=stream_id)
    return stream_id


def texts(records: list[Recorded]) -> list[str]:
    return [record.wrapped_event.event.text for record in records]  # type: ignore[attr-defined]


def resumed(position: int, count: int) -> list[str]:
    """What a subscription resumed from ``position`` delivers (``count`` expected, then none)."""
    subscription = backend().subscriber.start_from(position).build_batch(10, SHORT)
    got = texts(collect(subscription, count))
    assert nothing_more(subscription), got
    return got


def interleaved() -> tuple[StreamId, StreamId]:
    """e1 committed; a transaction writes d1, e2 commits on another connection, the transaction
    writes d2 and commits. Ids: e1 < d1 < e2 < d2; order: e1, d1, d2, e2."""
    note("e1")
    began, go = threading.Event(), threading.Event()
    doomed: list[StreamId] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with transaction.atomic(using=ALIAS):
                doomed.append(note("d1"))
                began.set()
                go.wait(30)
                doomed.append(note("d2"))
        except BaseException as error:  # reported by the test thread
            errors.append(error)
        finally:
            began.set()
            connections[ALIAS].close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        began.wait(30)
        note("e2")
    finally:
        go.set()
        writer.join(30)
    assert errors == []
    return doomed[0], doomed[1]


def test_resuming_from_any_delivered_position_after_out_of_order_commits_and_a_delete(
    postgres: str,
) -> None:
    doomed = interleaved()
    delivered = collect(backend().subscriber.start_from(0).build_batch(10, SHORT), 4)
    assert texts(delivered) == ["e1", "d1", "d2", "e2"]
    assert [r.position for r in delivered] != sorted(r.position for r in delivered)

    for stream_id in doomed:
        backend().event_store.delete_stream(stream_id)
    note("new")

    for handled, record in enumerate(delivered, 1):
        rest = [t for t in texts(delivered[handled:]) if not t.startswith("d")] + ["new"]
        assert resumed(record.position, len(rest)) == rest, f"resumed after {handled}"


def test_a_position_deleted_before_keys_were_kept_resumes_after_the_newest_key_before_it(
    postgres: str,
) -> None:
    """Events deleted before migration 0003 left no key: the fallback (exact unless that event's
    transaction interleaved with others) still holds."""
    doomed = note("d1")
    note("e1")
    delivered = collect(backend().subscriber.start_from(0).build_batch(10, SHORT), 2)
    backend().event_store.delete_stream(doomed)
    DeletedEvent.objects.using(ALIAS).all().delete()

    assert resumed(delivered[0].position, 1) == ["e1"]
