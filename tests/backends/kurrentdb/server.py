"""The KurrentDB server the tests talk to: a real one, or the in-process test double.

With ``KURRENTDB_URI`` set (e.g. ``kurrentdb://127.0.0.1:2113?Tls=false`` for a server started
with ``docker run --rm -p 2113:2113 docker.kurrent.io/kurrent-latest/kurrentdb:latest
--insecure --mem-db``) every KurrentDB test runs against that server. Otherwise they run
against ``KurrentDBDouble`` (``tests/backends/kurrentdb/double``), started once per session.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from kurrentdbclient import KurrentDBClient

if TYPE_CHECKING:
    from tests.backends.kurrentdb.double import KurrentDBDouble

REAL_SERVER_URI = os.environ.get("KURRENTDB_URI", "")


@dataclass(frozen=True)
class Target:
    """Where the tests connect and how the state of one test is cleared."""

    uri: str
    double: KurrentDBDouble | None

    @property
    def is_double(self) -> bool:
        return self.double is not None

    def client(self) -> KurrentDBClient:
        return KurrentDBClient(uri=self.uri)

    def reset(self, client: KurrentDBClient) -> None:
        """Forget what a test wrote: the double resets; on a real server the test's
        persistent subscriptions are deleted (streams use fresh ids, so they can stay)."""
        if self.double is not None:
            self.double.reset()
            return
        for info in client.list_subscriptions():
            client.delete_subscription(info.group_name)


@cache
def target() -> Target:
    """The session's server (the double starts on first use and stops at exit)."""
    if REAL_SERVER_URI:
        return Target(uri=REAL_SERVER_URI, double=None)
    from tests.backends.kurrentdb.double import KurrentDBDouble

    double = KurrentDBDouble()
    double.start()
    atexit.register(double.stop)
    return Target(uri=double.uri, double=double)
