"""The Django example project (``examples/django``) works end to end with Django's test client.

The example configures Django with its own settings module, and Django's settings can be
configured only once per process, so each check runs the project in a subprocess: the example's
directory as working directory, ``shop.settings`` as ``DJANGO_SETTINGS_MODULE`` and a fresh SQLite
file of ``tmp_path`` as its database (``EVENT_SOURCERY_EXAMPLE_DB``). When the suite's PostgreSQL
server is reachable, the same requests on a database of its own must give the same answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from tests.run_databases import django_database

pytest.importorskip("django")

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "examples" / "django"
DATABASE_VARIABLE = "EVENT_SOURCERY_EXAMPLE_DB"
POSTGRES_URL = os.environ.get(
    "EVENT_SOURCERY_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EXAMPLE_DATABASE = django_database() + "_example"
"""The example's own database on the suite's PostgreSQL server, recreated by its test."""

DRIVER = """
import json, django
django.setup()
from django.core.management import call_command
from django.test import Client

call_command("migrate", verbosity=0)
client = Client()
responses = []

def post(order, body):
    response = client.post(f"/orders/{order}/items", body, content_type="application/json")
    responses.append([response.status_code, response.json()])

def get(order):
    response = client.get(f"/orders/{order}")
    responses.append([response.status_code, response.json()])

post("42", {"sku": "apple", "quantity": 2})
post("42", {"sku": "pear", "expected_version": 1})
post("42", {"sku": "plum", "expected_version": 1})
post("42", {"quantity": 3})
post("7", {"sku": "apple"})
get("42")
get("43")
post("42", {"sku": "pear", "quantity": 4})

from event_sourcery_django.models import Event, OutboxEntry
queued = [entry.position for entry in OutboxEntry.objects.order_by("id")]
stored = [
    [e.stream.name, e.stream.category, e.version, e.name, e.data]
    for e in Event.objects.select_related("stream").order_by("id")
]
positions = [e.id for e in Event.objects.order_by("id")]
print(json.dumps({"responses": responses, "stored": stored, "queued": queued == positions}))
"""

APPEND_ONE = """
import django
django.setup()
from django.core.management import call_command
from django.test import Client

call_command("migrate", verbosity=0)
response = Client().post("/orders/1/items", {"sku": "fig"}, content_type="application/json")
assert response.status_code == 201, response.content
"""

PENDING = """
import django
django.setup()
from event_sourcery_django.models import OutboxEntry

print(OutboxEntry.objects.filter(tries_left__gt=0).count())
"""


def run(
    tmp_path: Path, *args: str, database: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop.settings",
        DATABASE_VARIABLE: database or str(tmp_path / "shop.sqlite3"),
        "PYTHONWARNINGS": "error",
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return parse(run(tmp_path_factory.mktemp("django-example"), "-c", DRIVER))


def parse(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return parsed


def test_posting_items_appends_events_and_answers_the_new_state(outcome: dict[str, Any]) -> None:
    responses = outcome["responses"]
    assert responses[0] == [201, {"order": "42", "version": 1, "items": {"apple": 2}}]
    assert responses[1] == [201, {"order": "42", "version": 2, "items": {"apple": 2, "pear": 1}}]
    assert responses[4] == [201, {"order": "7", "version": 1, "items": {"apple": 1}}]


def test_without_expected_version_the_item_goes_after_the_current_version(
    outcome: dict[str, Any],
) -> None:
    state = {"order": "42", "version": 3, "items": {"apple": 2, "pear": 5}}
    assert outcome["responses"][7] == [201, state]


def test_a_stale_expected_version_is_a_conflict(outcome: dict[str, Any]) -> None:
    assert outcome["responses"][2] == [409, {"error": "order 42 changed; reload it"}]


def test_an_invalid_body_is_rejected(outcome: dict[str, Any]) -> None:
    status, body = outcome["responses"][3]
    assert status == 400
    assert body["error"].startswith("invalid item")


def test_getting_an_order_loads_its_stream(outcome: dict[str, Any]) -> None:
    responses = outcome["responses"]
    assert responses[5] == [200, {"order": "42", "version": 2, "items": {"apple": 2, "pear": 1}}]
    assert responses[6] == [404, {"error": "no order 43"}]


def test_only_accepted_items_are_stored(outcome: dict[str, Any]) -> None:
    names = {name for *_, name, _ in outcome["stored"]}
    assert len(names) == 1
    assert names.pop().endswith("ItemAdded")
    assert [[s, c, v, d] for s, c, v, _, d in outcome["stored"]] == [
        ["order-42", "orders", 1, {"sku": "apple", "quantity": 2}],
        ["order-42", "orders", 2, {"sku": "pear", "quantity": 1}],
        ["order-7", "orders", 1, {"sku": "apple", "quantity": 1}],
        ["order-42", "orders", 3, {"sku": "pear", "quantity": 4}],
    ]


def test_every_stored_event_is_queued_in_the_outbox(outcome: dict[str, Any]) -> None:
    assert outcome["queued"] is True


def test_manage_py_migrates_and_passes_the_system_checks(tmp_path: Path) -> None:
    migrated = run(tmp_path, "manage.py", "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    checked = run(
        tmp_path, "manage.py", "check", "--database", "default", "--fail-level", "WARNING"
    )
    assert checked.returncode == 0, checked.stderr
    fresh = run(tmp_path, "manage.py", "makemigrations", "--check", "--dry-run")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr


def test_the_outbox_relay_publishes_the_queued_events(tmp_path: Path) -> None:
    commands = ROOT / "src" / "event_sourcery_django" / "management" / "commands"
    if not (commands / "event_sourcery_outbox.py").exists():
        pytest.skip("the event_sourcery_outbox command is not there yet")
    appended = run(tmp_path, "-c", APPEND_ONE)
    assert appended.returncode == 0, appended.stderr
    relay = ["manage.py", "event_sourcery_outbox", "--publisher", "orders.store:publish", "--once"]
    relayed = run(tmp_path, *relay)
    assert relayed.returncode == 0, relayed.stderr
    left = run(tmp_path, "-c", PENDING)
    assert left.returncode == 0, left.stderr
    assert left.stdout.split() == ["0"]


def postgres_example_url() -> str:
    """A fresh ``es_django_example`` database on the suite's PostgreSQL server, as a URL."""
    psycopg = pytest.importorskip("psycopg")
    server = urlsplit(POSTGRES_URL)
    user = unquote(server.username or "postgres")
    password = unquote(server.password or "")
    host, port = server.hostname or "127.0.0.1", server.port or 5432
    try:
        with psycopg.connect(
            dbname="postgres",
            host=host,
            port=port,
            user=user,
            password=password,
            connect_timeout=5,
            autocommit=True,
        ) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {EXAMPLE_DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {EXAMPLE_DATABASE}")
    except Exception as error:
        pytest.skip(f"PostgreSQL at {host}:{port} unavailable: {error}")
    credentials = quote(user) + (f":{quote(password)}" if password else "")
    return f"postgresql://{credentials}@{host}:{port}/{EXAMPLE_DATABASE}"


@pytest.mark.postgres
def test_postgresql_gives_the_same_answers(tmp_path: Path, outcome: dict[str, Any]) -> None:
    on_postgres = parse(run(tmp_path, "-c", DRIVER, database=postgres_example_url()))
    assert on_postgres == outcome
