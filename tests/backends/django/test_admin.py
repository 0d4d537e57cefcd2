"""The read-only admin of streams, events and the outbox, for a logged-in staff user."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client
from django.test.utils import (
    override_settings,
    setup_test_environment,
    teardown_test_environment,
)

from event_sourcery import Event as DomainEvent
from event_sourcery import StreamId
from event_sourcery_django import DjangoBackend, DjangoConfig
from event_sourcery_django.models import Event, OutboxEntry, Stream
from tests.backends.django.support import empty_tables, migrate_once

ALIAS = "default"
"""The admin reads the default database."""


class ParcelShipped(DomainEvent):
    parcel: int
    address: str


@pytest.fixture(scope="module", autouse=True)
def _test_environment() -> Iterator[None]:
    """Django's test environment: ``testserver`` allowed, responses carry their context."""
    try:
        setup_test_environment()
    except RuntimeError:  # set up already (by another module of the session): leave it be
        yield
        return
    yield
    teardown_test_environment()


@pytest.fixture
def backend() -> Iterator[DjangoBackend]:
    migrate_once(ALIAS)
    empty_tables(ALIAS)
    yield DjangoBackend().configure(DjangoConfig(using=ALIAS)).with_outbox()
    empty_tables(ALIAS)
    connections[ALIAS].close()


@pytest.fixture
def client(backend: DjangoBackend) -> Client:
    user, _ = User.objects.get_or_create(
        username="staff", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    return client


class ParcelLost(DomainEvent):
    parcel: int


def ship(backend: DjangoBackend, stream_id: StreamId, *parcels: int) -> None:
    backend.event_store.append(
        *(ParcelShipped(parcel=p, address=f"Ülica {p}") for p in parcels), stream_id=stream_id
    )


def kill_outbox(attempts_left: int = 0) -> None:
    OutboxEntry.objects.update(
        tries_left=attempts_left, failures=3, last_error="RuntimeError: broker down"
    )


def test_stream_changelist_lists_streams(backend: DjangoBackend, client: Client) -> None:
    ship(backend, StreamId(name="order-1", category="orders"), 1)
    ship(backend, StreamId(name="invoice-1", category="invoices"), 2, 3)

    page = client.get("/admin/event_sourcery_django/stream/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "order-1" in text
    assert "invoice-1" in text
    assert "Add stream" not in text


def test_stream_filters_and_search(backend: DjangoBackend, client: Client) -> None:
    ship(backend, StreamId(name="order-1", category="orders"), 1)
    ship(backend, StreamId(name="invoice-1", category="invoices"), 2)
    ship(backend.in_tenant_mode("acme"), StreamId(name="order-2", category="orders"), 3)
    invoice = Stream.objects.get(name="invoice-1")

    by_category = client.get("/admin/event_sourcery_django/stream/", {"category": "orders"})
    by_tenant = client.get("/admin/event_sourcery_django/stream/", {"tenant_id": "acme"})
    by_name = client.get("/admin/event_sourcery_django/stream/", {"q": "invoice"})
    by_uuid = client.get("/admin/event_sourcery_django/stream/", {"q": str(invoice.uuid)})

    assert listed(by_category) == {"order-1", "order-2"}
    assert listed(by_tenant) == {"order-2"}
    assert listed(by_name) == {"invoice-1"}
    assert listed(by_uuid) == {"invoice-1"}


def listed(page: object) -> set[str]:
    """The stream names shown on a stream changelist page."""
    assert getattr(page, "status_code", None) == 200
    changelist = page.context["cl"]  # type: ignore[attr-defined]
    return {stream.name for stream in changelist.result_list}


def test_stream_change_page_is_read_only(backend: DjangoBackend, client: Client) -> None:
    ship(backend, StreamId(name="order-1", category="orders"), 1)
    stream = Stream.objects.get()
    url = f"/admin/event_sourcery_django/stream/{stream.pk}/change/"

    page = client.get(url)
    post = client.post(url, {"name": "renamed", "category": "x", "tenant_id": "y"})

    assert page.status_code == 200
    assert "order-1" in page.content.decode()
    assert 'name="name"' not in page.content.decode()
    assert post.status_code == 403
    assert Stream.objects.get().name == "order-1"


def test_event_pages_show_pretty_json(backend: DjangoBackend, client: Client) -> None:
    ship(backend, StreamId(name="order-1", category="orders"), 7)
    event = Event.objects.get()

    changelist = client.get("/admin/event_sourcery_django/event/")
    change = client.get(f"/admin/event_sourcery_django/event/{event.pk}/change/")

    assert changelist.status_code == 200
    assert "ParcelShipped" in changelist.content.decode()
    assert change.status_code == 200
    text = change.content.decode()
    assert '<pre class="event-sourcery-json">' in text
    assert "&quot;parcel&quot;: 7" in text
    assert "Ülica 7" in text
    assert "\n  &quot;" in text  # indented


def test_event_filters_and_search(backend: DjangoBackend, client: Client) -> None:
    ship(backend, StreamId(name="order-1", category="orders"), 1)
    ship(backend, StreamId(name="invoice-1", category="invoices"), 2)
    ship(backend.in_tenant_mode("acme"), StreamId(name="order-2", category="orders"), 3)
    backend.event_store.append(ParcelLost(parcel=4), stream_id=StreamId(name="order-3"))
    order_2 = Stream.objects.get(name="order-2")
    lost = Event.objects.get(stream__name="order-3").name
    url = "/admin/event_sourcery_django/event/"

    def streams(**query: str) -> set[str]:
        page = client.get(url, query)
        assert page.status_code == 200
        return {event.stream.name for event in page.context["cl"].result_list}

    assert streams(stream__category="orders") == {"order-1", "order-2"}
    assert streams(stream__tenant_id="acme") == {"order-2"}
    assert streams(name=lost) == {"order-3"}
    assert streams(q="invoice") == {"invoice-1"}
    assert streams(q=str(order_2.uuid)) == {"order-2"}


def test_nothing_can_be_added_changed_or_deleted(backend: DjangoBackend, client: Client) -> None:
    ship(backend, StreamId(name="order-1"), 1)
    event = Event.objects.get()
    stream = Stream.objects.get()
    entry = OutboxEntry.objects.get()

    for model in ("stream", "event", "outboxentry"):
        assert client.get(f"/admin/event_sourcery_django/{model}/add/").status_code == 403
    assert client.post(f"/admin/event_sourcery_django/event/{event.pk}/delete/").status_code == 403
    assert (
        client.post(f"/admin/event_sourcery_django/stream/{stream.pk}/delete/").status_code == 403
    )
    pending_delete = client.post(
        f"/admin/event_sourcery_django/outboxentry/{entry.pk}/delete/", {"post": "yes"}
    )
    change = client.post(
        f"/admin/event_sourcery_django/event/{event.pk}/change/", {"name": "Forged"}
    )

    assert pending_delete.status_code == 403
    assert change.status_code == 403
    assert Event.objects.get().name.endswith("ParcelShipped")
    assert OutboxEntry.objects.count() == 1


def test_outbox_pages_and_state_filter(backend: DjangoBackend, client: Client) -> None:
    ship(backend, StreamId(name="order-1"), 1, 2)
    dead, pending = OutboxEntry.objects.order_by("id")
    OutboxEntry.objects.filter(pk=dead.pk).update(
        tries_left=0, failures=3, last_error="RuntimeError: broker down", next_attempt_at=None
    )
    url = "/admin/event_sourcery_django/outboxentry/"

    def entries(**query: str) -> set[int]:
        page = client.get(url, query)
        assert page.status_code == 200
        return {entry.pk for entry in page.context["cl"].result_list}

    changelist = client.get(url)
    change = client.get(f"{url}{dead.pk}/change/")

    assert changelist.status_code == 200
    assert "RuntimeError: broker down" in changelist.content.decode()
    assert change.status_code == 200
    assert '<pre class="event-sourcery-json">' in change.content.decode()
    assert entries() == {dead.pk, pending.pk}
    assert entries(state="dead") == {dead.pk}
    assert entries(state="pending") == {pending.pk}


def test_requeue_action_requeues_dead_letters(backend: DjangoBackend, client: Client) -> None:
    ship(backend, StreamId(name="order-1"), 1, 2)
    dead, pending = OutboxEntry.objects.order_by("id")
    OutboxEntry.objects.filter(pk=dead.pk).update(
        tries_left=0, failures=3, next_attempt_at=datetime(2100, 1, 1)
    )
    OutboxEntry.objects.filter(pk=pending.pk).update(tries_left=1, failures=2)

    page = client.post(
        "/admin/event_sourcery_django/outboxentry/",
        {"action": "requeue", "_selected_action": [dead.pk, pending.pk]},
        follow=True,
    )

    assert page.status_code == 200
    text = page.content.decode()
    assert "1 dead letter(s) requeued." in text
    assert "1 pending entry(ies) left as they were." in text
    requeued = OutboxEntry.objects.get(pk=dead.pk)
    assert requeued.tries_left == DjangoConfig().outbox_attempts
    assert requeued.next_attempt_at is None
    assert OutboxEntry.objects.get(pk=pending.pk).tries_left == 1
    assert [entry.id for entry in backend.outbox.dead_letters()] == []


def test_requeue_uses_the_attempts_setting(backend: DjangoBackend, client: Client) -> None:
    ship(backend, StreamId(name="order-1"), 1)
    kill_outbox()
    entry = OutboxEntry.objects.get()

    with override_settings(EVENT_SOURCERY_OUTBOX_ATTEMPTS=7):
        client.post(
            "/admin/event_sourcery_django/outboxentry/",
            {"action": "requeue", "_selected_action": [entry.pk]},
        )

    assert OutboxEntry.objects.get().tries_left == 7


def test_only_dead_letters_can_be_deleted(backend: DjangoBackend, client: Client) -> None:
    ship(backend, StreamId(name="order-1"), 1, 2)
    dead, pending = OutboxEntry.objects.order_by("id")
    OutboxEntry.objects.filter(pk=dead.pk).update(tries_left=0)
    url = "/admin/event_sourcery_django/outboxentry/"

    refused = client.post(f"{url}{pending.pk}/delete/", {"post": "yes"})
    deleted = client.post(f"{url}{dead.pk}/delete/", {"post": "yes"})

    assert refused.status_code == 403
    assert deleted.status_code == 302
    assert list(OutboxEntry.objects.values_list("pk", flat=True)) == [pending.pk]
