"""Django backend workloads beside raw SQL on the same Django connection and tables.

``python -m bench.run django-sqlite`` / ``django-postgres``. The reference writes the same rows
with hand-written SQL through ``connection.cursor()``, one ``transaction.atomic`` per append
like the backend: what the ORM and the library add on top of Django's database layer.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from bench.in_memory import Deposited, Figure, append_figures, best_of_three

POSTGRES_DATABASE = "es_bench_django"
_configured: dict[str, str] = {}


def _configure() -> None:
    """Configure Django once: SQLite file ``sqlite`` and PostgreSQL ``postgresql`` aliases."""
    if _configured:
        return
    import django
    from django.conf import settings

    scratch = Path(tempfile.mkdtemp(prefix="event-sourcery-bench-django-"))
    settings.configure(
        INSTALLED_APPS=["event_sourcery_django"],
        USE_TZ=False,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(scratch / "e.db")},
            "postgresql": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": POSTGRES_DATABASE,
                "HOST": os.environ.get("EVENT_SOURCERY_BENCH_PG_HOST", "127.0.0.1"),
                "PORT": "5432",
                "USER": "postgres",
            },
        },
    )
    django.setup()
    _configured["done"] = "yes"


def _prepare(alias: str) -> None:
    from django.core.management import call_command

    if alias == "postgresql":
        import psycopg

        try:
            admin = psycopg.connect(
                host="127.0.0.1",
                user="postgres",
                dbname="postgres",
                autocommit=True,
                connect_timeout=5,
            )
        except psycopg.OperationalError as error:
            raise ConnectionError(f"PostgreSQL unavailable: {error}") from error
        with admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{POSTGRES_DATABASE}"')
    call_command("migrate", "event_sourcery_django", database=alias, verbosity=0)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def run_alias(alias: str) -> Iterator[Figure]:
    _configure()
    _prepare(alias)
    from django.db import connections, transaction

    from event_sourcery import StreamId
    from event_sourcery_django import DjangoBackend, DjangoConfig

    backend = DjangoBackend().configure(DjangoConfig(using=alias))
    store = backend.event_store
    connection = connections[alias]
    context = {"correlation_id": None, "causation_id": None}

    def raw_append(events: int) -> None:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO event_sourcery_django_stream (uuid, name, category, tenant_id, "
                "version) VALUES (%s, NULL, '', '', %s) RETURNING id",
                [uuid.uuid4().hex if alias == "default" else uuid.uuid4(), events],
            )
            stream = cursor.fetchone()[0]
            for version in range(1, events + 1):
                cursor.execute(
                    "INSERT INTO event_sourcery_django_event (version, uuid, stream_id, name, "
                    "data, event_context, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [
                        version,
                        uuid.uuid4().hex if alias == "default" else uuid.uuid4(),
                        stream,
                        "bench.in_memory.Deposited",
                        json.dumps(Deposited(account="a", amount=version).model_dump(mode="json")),
                        json.dumps(context),
                        _now(),
                    ],
                )

    n = 200 if alias == "default" else 300
    yield from append_figures(store, raw_append, n, suffix=" (autocommit)")

    stream = StreamId()
    store.append(*(Deposited(account="a", amount=i) for i in range(1_000)), stream_id=stream)

    def raw_load() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT e.uuid, e.created_at, e.name, e.data, e.event_context, e.version "
                "FROM event_sourcery_django_event e JOIN event_sourcery_django_stream s "
                "ON s.id = e.stream_id WHERE s.uuid = %s AND s.tenant_id = '' AND "
                "s.category = '' ORDER BY e.version",
                [stream.hex if alias == "default" else uuid.UUID(int=stream.int)],
            )
            rows = cursor.fetchall()
        for row in rows:
            data = row[3] if isinstance(row[3], dict) else json.loads(row[3])
            Deposited.model_validate(data)
        assert len(rows) == 1_000

    yield best_of_three(
        "load a 1,000-event stream", 1_000, lambda: store.load_stream(stream), raw_load
    )

    seen = [0]

    def ours_catch_up() -> None:
        seen[0] = 0
        for batch in backend.subscriber.start_from(0).build_batch(1_000, 0.1):
            if not batch:
                break
            seen[0] += len(batch)

    started = time.perf_counter()
    ours_catch_up()
    rate = seen[0] / (time.perf_counter() - started)
    yield Figure(f"catch-up subscription over {seen[0]:,} events", rate, None, "events/s")


def run_sqlite() -> Iterator[Figure]:
    yield from run_alias("default")


def run_postgres() -> Iterator[Figure]:
    yield from run_alias("postgresql")
