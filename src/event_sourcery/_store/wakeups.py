"""Process-local wake-ups: a commit of appended events notifies waiting subscribers at once.

Backends call ``notify_local(key)`` after a commit that appended events (``key`` names the
database); a subscriber of the same database in this process waits with ``wait_local``.
"""

from __future__ import annotations

import threading
from collections import defaultdict

_lock = threading.Lock()
_conditions: dict[str, threading.Condition] = defaultdict(lambda: threading.Condition(_lock))
_generations: dict[str, int] = defaultdict(int)


def notify_local(key: str) -> None:
    """Wake every subscriber of database ``key`` waiting in this process."""
    with _lock:
        _generations[key] += 1
        _conditions[key].notify_all()


def generation(key: str) -> int:
    """How many commits of database ``key`` were notified so far (to wait for the next)."""
    with _lock:
        return _generations[key]


def wait_local(key: str, seen: int, timeout: float) -> None:
    """Block until a commit newer than generation ``seen`` or ``timeout`` seconds."""
    with _lock:
        _conditions[key].wait_for(lambda: _generations[key] != seen, timeout)
