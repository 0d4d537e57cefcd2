"""The double's own tests: one double per module, reset before each test, driven by a client.

These fixtures replace the package's ``backend``-based ``client`` fixture: the protocol tests
talk to the double directly, never through the Event Sourcery backend.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kurrentdbclient import KurrentDBClient

from tests.backends.kurrentdb.double import KurrentDBDouble


@pytest.fixture(scope="module")
def server() -> Iterator[KurrentDBDouble]:
    with KurrentDBDouble() as double:
        yield double


@pytest.fixture(scope="module")
def module_client(server: KurrentDBDouble) -> Iterator[KurrentDBClient]:
    client = KurrentDBClient(uri=server.uri)
    yield client
    client.close()


@pytest.fixture
def client(server: KurrentDBDouble, module_client: KurrentDBClient) -> KurrentDBClient:
    server.reset()
    return module_client
