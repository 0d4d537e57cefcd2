"""``Feed``: the items of a blocking gRPC stream, taken with a time limit.

The client's subscriptions block in ``next()`` until the server sends something. A daemon
thread reads the stream into a small bounded queue (gRPC flow control holds the server back
when the reader falls behind), so a caller can wait for the next item at most a given time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_BUFFER = 256
_PUT_RETRY = 0.05


class FeedEnded(Exception):
    """The stream ended (the server or the client closed it)."""


class _End:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class Feed(Generic[T]):
    """Reads ``source`` in a daemon thread; ``stop`` is called on ``close``."""

    def __init__(self, source: Iterator[T], stop: Callable[[], None]) -> None:
        self._source = source
        self._stop = stop
        self._items: queue.Queue[T | _End] = queue.Queue(maxsize=_BUFFER)
        self._closed = threading.Event()
        self._ended: _End | None = None
        self._thread = threading.Thread(target=self._read, name="kurrentdb-feed", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        end = _End(None)
        try:
            for item in self._source:
                if not self._put(item):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            end = _End(error)
        self._put(end)

    def _put(self, item: T | _End) -> bool:
        while not self._closed.is_set():
            try:
                self._items.put(item, timeout=_PUT_RETRY)
            except queue.Full:
                continue
            return True
        return False

    def get(self, timeout: float) -> T | None:
        """The next item, or ``None`` if none came within ``timeout`` seconds.

        Re-raises the error that ended the stream; ``FeedEnded`` if it ended normally.
        """
        if self._ended is not None:
            return self._finish(self._ended)
        try:
            item = self._items.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None
        if isinstance(item, _End):
            self._ended = item
            return self._finish(item)
        return item

    @staticmethod
    def _finish(end: _End) -> T | None:
        if end.error is not None:
            raise end.error
        raise FeedEnded

    def close(self) -> None:
        """Stop the stream and the reading thread."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._stop()
        self._thread.join(timeout=5)
