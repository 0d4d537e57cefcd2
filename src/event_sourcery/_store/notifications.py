"""Waiting for PostgreSQL ``NOTIFY`` on a driver connection (psycopg 3 or psycopg2).

Database-neutral code of the backends' push wake-ups: the backend opens a dedicated connection
(its own way), and this module ``LISTEN``s on it and waits. Nothing here opens a connection.
"""

from __future__ import annotations

import contextlib
import select
from collections.abc import Callable
from typing import Any

NOTIFY_CHANNEL = "event_sourcery"
"""The channel appending transactions notify (``pg_notify`` inside the transaction)."""


class NotificationListener:
    """``LISTEN``s on ``driver`` (a raw psycopg connection it owns) until ``close()``."""

    def __init__(self, driver: Any, close: Callable[[], None] | None = None) -> None:
        self._driver = driver
        self._close = close or driver.close
        driver.autocommit = True
        cursor = driver.cursor()
        try:
            cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")
        finally:
            cursor.close()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a notification; returns whether one came."""
        driver = self._driver
        if hasattr(driver, "notifies") and hasattr(driver, "pgconn"):  # psycopg 3
            return any(True for _ in driver.notifies(timeout=timeout, stop_after=1))
        ready, _, _ = select.select([driver], [], [], timeout)  # psycopg2
        if not ready:
            return False
        driver.poll()
        got = bool(driver.notifies)
        driver.notifies.clear()
        return got

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection must not raise
            self._close()
