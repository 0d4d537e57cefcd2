"""Fixtures of the KurrentDB backend tests: a backend on the session's server and its client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kurrentdbclient import KurrentDBClient

from event_sourcery.backend import Backend
from event_sourcery_kurrentdb import KurrentDBConfig
from tests.contract.backends import KurrentDBFactory

pytestmark = pytest.mark.kurrentdb


@pytest.fixture
def backend() -> Iterator[Backend]:
    with KurrentDBFactory().make(outbox_attempts=2) as made:
        yield made


@pytest.fixture
def client(backend: Backend) -> KurrentDBClient:
    return backend[KurrentDBClient]


@pytest.fixture
def config(backend: Backend) -> KurrentDBConfig:
    return backend[KurrentDBConfig]
