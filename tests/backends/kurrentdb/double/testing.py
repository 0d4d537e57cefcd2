"""Helpers for tests that drive the double through the client."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from kurrentdbclient import RecordedEvent

T = TypeVar("T")


class Received:
    """Iterates a subscription in a thread, so tests can wait with deadlines."""

    def __init__(self, subscription: Iterable[RecordedEvent]) -> None:
        self._items: queue.Queue[RecordedEvent | BaseException] = queue.Queue()
        threading.Thread(target=self._run, args=(subscription,), daemon=True).start()

    def _run(self, subscription: Iterable[RecordedEvent]) -> None:
        try:
            for item in subscription:
                self._items.put(item)
        except BaseException as error:  # handed to the test by take() / error()
            self._items.put(error)

    def take(self, count: int, timeout: float = 5.0) -> list[RecordedEvent]:
        deadline = time.monotonic() + timeout
        items: list[RecordedEvent] = []
        while len(items) < count:
            item = self._items.get(timeout=max(0.0, deadline - time.monotonic()))
            if isinstance(item, BaseException):
                raise item
            items.append(item)
        return items

    def error(self, timeout: float = 5.0) -> BaseException:
        deadline = time.monotonic() + timeout
        while True:
            item = self._items.get(timeout=max(0.0, deadline - time.monotonic()))
            if isinstance(item, BaseException):
                return item

    def nothing_more(self, wait: float = 0.2) -> bool:
        try:
            self._items.get(timeout=wait)
        except queue.Empty:
            return True
        return False


def eventually(check: Callable[[], T], timeout: float = 5.0, interval: float = 0.02) -> T:
    """Call ``check`` until it returns without raising (e.g. an asynchronous ack landed)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except Exception:
            if time.monotonic() >= deadline:
                raise
            time.sleep(interval)
