"""The dependency-injection container (SPEC §6.1) and the default wiring of ``Backend`` (§6.2)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from event_sourcery import DEFAULT_TENANT, Backend, EventStore, Outbox, TenantId
from event_sourcery._store.container import Container
from event_sourcery.backend import InMemoryBackend, InMemoryKeyStorage, not_configured, singleton
from event_sourcery.encryption import (
    AesGcmEncryptionStrategy,
    Encryption,
    NoEncryptionStrategy,
    NoKeyStorageStrategy,
)
from event_sourcery.event import EventRegistry, Serde
from event_sourcery.exceptions import IllegalTenantId, NoProviderConfigured
from event_sourcery.in_transaction import Listeners
from event_sourcery.interfaces import (
    EncryptionKeyStorageStrategy,
    EncryptionStrategy,
    OutboxFiltererStrategy,
    StorageStrategy,
    SubscriptionStrategy,
)
from event_sourcery.outbox import NoOutboxStorageStrategy, no_filter


class Service:
    def __init__(self, tag: str = "") -> None:
        self.tag = tag


# --------------------------------------------------------------------------- container


def test_an_instance_of_the_key_type_is_stored_as_a_constant() -> None:
    container = Container()
    service = Service()

    container[Service] = service

    assert container[Service] is service
    assert container[Service] is service


def test_a_callable_that_is_not_an_instance_is_a_provider_called_on_every_access() -> None:
    container = Container()
    calls: list[Container] = []

    def provide(c: Container) -> Service:
        calls.append(c)
        return Service()

    container[Service] = provide

    first, second = container[Service], container[Service]
    assert first is not second
    assert calls == [container, container]


def test_a_provider_receives_the_container_it_is_resolved_from() -> None:
    container = Container()
    container[str] = "tenant-a"
    container[Service] = lambda c: Service(tag=c[str])
    copy = container.copy()
    copy[str] = "tenant-b"

    assert container[Service].tag == "tenant-a"
    assert copy[Service].tag == "tenant-b"


def test_a_plain_function_counts_as_an_instance_of_a_runtime_checkable_protocol() -> None:
    # the outbox filterer is a plain function: it must be stored, not called as a provider
    container = Container()

    container[OutboxFiltererStrategy] = no_filter

    assert container[OutboxFiltererStrategy] is no_filter


def test_non_callable_values_under_non_class_keys_are_constants() -> None:
    container = Container()

    container["settings"] = {"a": 1}
    container[list[int]] = [1, 2]
    container[int] = "not an int but not callable either"

    assert container["settings"] == {"a": 1}
    assert container[list[int]] == [1, 2]
    assert container[int] == "not an int but not callable either"


def test_callables_under_non_class_keys_are_providers() -> None:
    container = Container()

    container["answer"] = lambda _c: 42

    assert container["answer"] == 42


def test_unknown_key_raises_key_error_naming_the_key_without_chained_context() -> None:
    container = Container()

    with pytest.raises(KeyError) as caught:
        container[Service]

    assert caught.value.args == (Service,)
    assert caught.value.__suppress_context__


def test_get_returns_the_default_only_for_unknown_keys() -> None:
    container = Container()
    service = Service()
    fallback = Service()
    container[Service] = service

    assert container.get(Service) is service
    assert container.get(Service, fallback) is service
    assert container.get(int) is None
    assert container.get(int, 7) == 7


def test_contains_reports_registered_keys() -> None:
    container = Container()
    container[Service] = Service()

    assert Service in container
    assert int not in container


def test_a_copy_has_its_own_provider_map() -> None:
    original = Container()
    original[Service] = Service("original")
    copy = original.copy()

    copy[Service] = Service("copy")
    copy[int] = 1
    original[str] = "only in the original"

    assert original[Service].tag == "original"
    assert copy[Service].tag == "copy"
    assert int not in original
    assert str not in copy


def test_a_copy_shares_constants_and_keeps_its_type() -> None:
    backend = InMemoryBackend()

    copy = backend.copy()

    assert type(copy) is InMemoryBackend
    assert copy[EventRegistry] is backend[EventRegistry]


def test_singleton_calls_its_provider_once_and_is_shared_by_copies() -> None:
    container = Container()
    calls: list[Any] = []

    def provide(c: Container) -> Service:
        calls.append(c)
        return Service()

    container[Service] = singleton(provide)
    copy = container.copy()

    first = copy[Service]
    assert container[Service] is first
    assert copy.copy()[Service] is first
    assert calls == [copy]


def test_singleton_ignores_later_container_arguments() -> None:
    provider = singleton(lambda c: Service(tag=c))

    assert provider("first").tag == "first"
    assert provider("second").tag == "first"


def test_singleton_builds_once_under_concurrent_first_access() -> None:
    calls: list[int] = []
    barrier = threading.Barrier(8)

    def slow(_c: Any) -> Service:
        calls.append(1)
        return Service()

    provider = singleton(slow)
    results: list[Service] = []

    def resolve() -> None:
        barrier.wait()
        results.append(provider(None))

    threads = [threading.Thread(target=resolve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(calls) == 1
    assert all(result is results[0] for result in results)


def test_a_caller_waiting_for_the_first_singleton_build_gets_its_result() -> None:
    calls: list[int] = []
    waiter_results: list[Service] = []
    waiter: list[threading.Thread] = []

    def slow(_c: Any) -> Service:
        calls.append(1)
        thread = threading.Thread(target=lambda: waiter_results.append(provider(None)))
        thread.start()
        waiter.append(thread)
        time.sleep(0.05)  # the second caller now waits for the build in progress
        return Service("first")

    provider = singleton(slow)

    built = provider(None)
    waiter[0].join(timeout=5)

    assert waiter_results == [built]
    assert calls == [1]


def test_not_configured_raises_no_provider_configured_with_the_message_when_resolved() -> None:
    container = Container()
    container[Service] = not_configured("Configure the service first")

    assert Service in container
    with pytest.raises(NoProviderConfigured, match="Configure the service first"):
        container[Service]
    with pytest.raises(NoProviderConfigured):
        container.get(Service, Service())


# --------------------------------------------------------------------------- Backend defaults


def test_a_bare_backend_is_tenantless_and_has_a_registry() -> None:
    backend = Backend()

    assert backend[TenantId] == DEFAULT_TENANT == ""
    assert isinstance(backend[EventRegistry], EventRegistry)
    assert backend[EventRegistry] is backend[EventRegistry]


def test_a_bare_backend_has_no_storage_nor_subscriptions_configured() -> None:
    backend = Backend()

    for key in (StorageStrategy, SubscriptionStrategy):
        with pytest.raises(NoProviderConfigured, match="Use one of pyES backends"):
            backend[key]
    with pytest.raises(NoProviderConfigured):
        _ = backend.event_store
    with pytest.raises(NoProviderConfigured):
        _ = backend.subscriber


def test_a_bare_backend_has_an_outbox_that_never_publishes() -> None:
    backend = Backend()
    published: list[Any] = []

    backend.outbox.run(published.append)

    assert isinstance(backend.outbox, Outbox)
    assert published == []
    assert backend.outbox.dead_letters() == []
    assert backend.outbox.requeue([1, 2]) == 0
    assert list(NoOutboxStorageStrategy().outbox_entries(limit=10)) == []


def test_a_bare_backend_cannot_enable_an_outbox() -> None:
    with pytest.raises(NotImplementedError):
        Backend().with_outbox()


def test_the_default_cipher_and_key_storage_refuse_to_work() -> None:
    backend = Backend()
    strategy = backend[EncryptionStrategy]
    key_storage = backend[EncryptionKeyStorageStrategy]

    assert isinstance(strategy, NoEncryptionStrategy)
    assert isinstance(key_storage, NoKeyStorageStrategy)
    assert key_storage.scoped_for_tenant("t") is key_storage
    with pytest.raises(NotImplementedError):
        strategy.encrypt("x", b"k")
    with pytest.raises(NotImplementedError):
        strategy.decrypt("x", b"k")
    with pytest.raises(NotImplementedError):
        key_storage.get("s")
    with pytest.raises(NotImplementedError):
        key_storage.store("s", b"k")
    with pytest.raises(NotImplementedError):
        key_storage.delete("s")


def test_serde_and_encryption_are_built_from_the_current_registry() -> None:
    backend = InMemoryBackend()
    registry = EventRegistry()

    backend[EventRegistry] = registry

    assert backend[Serde].registry is registry
    assert backend[Encryption].registry is registry
    assert isinstance(backend.event_store, EventStore)


def test_in_tenant_mode_returns_a_copy_and_leaves_the_original_untouched() -> None:
    backend = InMemoryBackend()

    tenant = backend.in_tenant_mode("acme")

    assert tenant is not backend
    assert type(tenant) is InMemoryBackend
    assert tenant[TenantId] == "acme"
    assert backend[TenantId] == DEFAULT_TENANT


@pytest.mark.parametrize("tenant_id", [None, 1, b"acme", ("a",)])
def test_in_tenant_mode_rejects_a_tenant_that_is_not_a_string(tenant_id: Any) -> None:
    with pytest.raises(IllegalTenantId):
        InMemoryBackend().in_tenant_mode(tenant_id)


def test_with_encryption_returns_the_same_backend_and_scopes_keys_per_tenant() -> None:
    backend = InMemoryBackend()
    strategy = AesGcmEncryptionStrategy()
    key_storage = InMemoryKeyStorage()

    returned = backend.with_encryption(strategy, key_storage)
    tenant_keys = backend.in_tenant_mode("acme")[EncryptionKeyStorageStrategy]
    default_keys = backend[EncryptionKeyStorageStrategy]
    tenant_keys.store("alice", b"k" * 16)

    assert returned is backend
    assert backend[EncryptionStrategy] is strategy
    assert tenant_keys.get("alice") == b"k" * 16
    assert default_keys.get("alice") is None
    assert backend.in_tenant_mode("acme")[Encryption].key_storage.get("alice") == b"k" * 16


def test_transactional_listeners_are_one_per_backend_shared_by_tenant_copies() -> None:
    backend = InMemoryBackend()
    other = InMemoryBackend()

    listeners = backend.in_transaction

    assert isinstance(listeners, Listeners)
    assert backend.in_tenant_mode("acme").in_transaction is listeners
    assert backend[Listeners] is listeners
    assert other.in_transaction is not listeners


def test_every_subscriber_access_gives_a_fresh_builder() -> None:
    backend = InMemoryBackend()

    assert backend.subscriber is not backend.subscriber
