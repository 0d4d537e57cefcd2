"""The management commands ``event_sourcery_outbox`` (relay) and ``event_sourcery_tail``."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from event_sourcery import DEFAULT_TENANT, StreamId
from event_sourcery import Event as DomainEvent
from event_sourcery.event import Recorded
from event_sourcery_django import DjangoBackend, DjangoConfig
from event_sourcery_django.models import OutboxEntry
from tests.backends.django.support import empty_tables, migrate_once

ALIAS = "default"
MODULE = __name__

PUBLISHED: list[Recorded] = []
"""What ``publish`` received."""


class Shipped(DomainEvent):
    parcel: int


def publish(record: Recorded) -> None:
    PUBLISHED.append(record)


def fail(record: Recorded) -> None:
    raise RuntimeError(f"broker down for {record.position}")


def publish_then_terminate(record: Recorded) -> None:
    """Publishes, then asks the relay to stop as a process manager would (SIGTERM)."""
    PUBLISHED.append(record)
    os.kill(os.getpid(), signal.SIGTERM)


@pytest.fixture
def backend() -> Iterator[DjangoBackend]:
    migrate_once(ALIAS)
    empty_tables(ALIAS)
    PUBLISHED.clear()
    yield DjangoBackend().configure(DjangoConfig(using=ALIAS)).with_outbox()
    empty_tables(ALIAS)
    connections[ALIAS].close()


def ship(backend: DjangoBackend, stream_id: StreamId, *parcels: int) -> None:
    backend.event_store.append(*(Shipped(parcel=p) for p in parcels), stream_id=stream_id)


def run(command: str, *args: str, **options: Any) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, **options)
    return out.getvalue()


# event_sourcery_outbox


def test_outbox_once_publishes_pending_entries(backend: DjangoBackend) -> None:
    ship(backend, StreamId(name="order-1"), 1, 2, 3)

    out = run("event_sourcery_outbox", "--once", f"--publisher={MODULE}:publish", verbosity=2)

    assert [r.wrapped_event.event.parcel for r in PUBLISHED] == [1, 2, 3]
    assert out.splitlines() == ["run 1: 3 published, 0 failed"]
    assert OutboxEntry.objects.count() == 0


def test_outbox_limit_bounds_a_run(backend: DjangoBackend) -> None:
    ship(backend, StreamId(name="order-1"), 1, 2, 3)

    out = run(
        "event_sourcery_outbox",
        "--once",
        "--limit=2",
        "--database=default",
        f"--publisher={MODULE}.publish",
        verbosity=2,
    )

    assert [r.wrapped_event.event.parcel for r in PUBLISHED] == [1, 2]
    assert out.splitlines() == ["run 1: 2 published, 0 failed"]
    assert OutboxEntry.objects.count() == 1


def test_outbox_counts_failures_and_is_quiet_by_default(backend: DjangoBackend) -> None:
    ship(backend, StreamId(name="order-1"), 1)

    out = run("event_sourcery_outbox", "--once", f"--publisher={MODULE}:fail")

    assert out == ""
    entry = OutboxEntry.objects.get()
    assert entry.failures == 1
    assert entry.last_error == f"RuntimeError: broker down for {entry.position}"


def test_outbox_loop_stops_cleanly_on_sigterm(backend: DjangoBackend) -> None:
    ship(backend, StreamId(name="order-1"), 1, 2)

    out = run(
        "event_sourcery_outbox",
        "--interval=0",
        "--limit=1",
        f"--publisher={MODULE}:publish_then_terminate",
        verbosity=2,
    )

    assert [r.wrapped_event.event.parcel for r in PUBLISHED] == [1]
    assert out.splitlines() == [
        "run 1: 1 published, 0 failed",
        "Outbox relay stopped after 1 run(s).",
    ]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.parametrize(
    ("publisher", "message"),
    [
        ("nowhere", "must look like 'module:function'"),
        ("no_such_module_here:publish", "Cannot import publisher"),
        (f"{MODULE}:missing", "Cannot import publisher"),
        (f"{MODULE}:ALIAS", "is not callable"),
    ],
)
def test_outbox_rejects_a_bad_publisher(publisher: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("event_sourcery_outbox", "--once", f"--publisher={publisher}")


def test_outbox_rejects_a_bad_limit() -> None:
    with pytest.raises(CommandError, match="--limit must be at least 1"):
        run("event_sourcery_outbox", "--once", "--limit=0", f"--publisher={MODULE}:publish")


# event_sourcery_tail


def test_tail_prints_a_line_per_event(backend: DjangoBackend) -> None:
    ship(backend, StreamId(name="order-1", category="orders"), 1, 2)
    ship(backend.in_tenant_mode("acme"), StreamId(name="invoice-1"), 3)

    out = run("event_sourcery_tail", "--from=0", "--limit=3")

    lines = [line.split("\t") for line in out.splitlines()]
    assert [fields[1:] for fields in lines] == [
        ["-", "orders/order-1", f"{Shipped.__module__}.Shipped", "1"],
        ["-", "orders/order-1", f"{Shipped.__module__}.Shipped", "2"],
        ["acme", "invoice-1", f"{Shipped.__module__}.Shipped", "1"],
    ]
    positions = [int(fields[0]) for fields in lines]
    assert positions == sorted(positions)


def test_tail_json_category_and_from(backend: DjangoBackend) -> None:
    ship(backend, StreamId(name="order-1", category="orders"), 1)
    ship(backend, StreamId(name="invoice-1", category="invoices"), 2)
    ship(backend, StreamId(name="order-2", category="orders"), 3)
    first = json.loads(run("event_sourcery_tail", "--from=0", "--limit=1", "--json"))

    out = run(
        "event_sourcery_tail",
        f"--from={first['position']}",
        "--category=orders",
        "--json",
        "--timelimit=0.3",
    )

    records = [json.loads(line) for line in out.splitlines()]
    assert first["stream_name"] == "order-1"
    assert [r["stream_name"] for r in records] == ["order-2"]
    assert records[0]["category"] == "orders"
    assert records[0]["tenant_id"] == DEFAULT_TENANT
    assert records[0]["version"] == 1
    assert set(records[0]) == {
        "position",
        "tenant_id",
        "stream_uuid",
        "stream_name",
        "category",
        "name",
        "version",
    }


def test_tail_starts_at_the_current_position_by_default(backend: DjangoBackend) -> None:
    ship(backend, StreamId(name="order-1"), 1, 2)

    out = run("event_sourcery_tail", "--timelimit=0.2")

    assert out == ""


def test_tail_rejects_bad_options() -> None:
    with pytest.raises(CommandError, match="--from must be a position"):
        run("event_sourcery_tail", "--from=-1")
    with pytest.raises(CommandError, match="--timelimit must be positive"):
        run("event_sourcery_tail", "--timelimit=0")
