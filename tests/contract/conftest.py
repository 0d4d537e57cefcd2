"""Fixtures of the contract suite: ``backend`` runs each test on every backend factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from event_sourcery import EventStore
from event_sourcery.backend import Backend
from tests.contract.backends import FACTORIES, BackendFactory, Capability


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires(capability): the test needs a backend capability (skipped otherwise)"
    )


@pytest.fixture(params=[pytest.param(f, id=f.name, marks=f.marks) for f in FACTORIES])
def factory(request: pytest.FixtureRequest) -> BackendFactory:
    chosen: BackendFactory = request.param
    for marker in request.node.iter_markers("requires"):
        capability: Capability = marker.args[0]
        if not chosen.supports(capability):
            pytest.skip(f"{chosen.name} lacks {capability.value}: {chosen.missing[capability]}")
    return chosen


@pytest.fixture
def backend(factory: BackendFactory) -> Iterator[Backend]:
    with factory.make(outbox_attempts=2) as made:
        yield made


@pytest.fixture
def event_store(backend: Backend) -> EventStore:
    return backend.event_store


@pytest.fixture
def commit(factory: BackendFactory, backend: Backend) -> Callable[[], None]:
    """Commit the caller's transaction on backends where the caller owns it."""
    return lambda: factory.commit(backend)
