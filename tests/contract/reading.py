"""Reading subscriptions in tests: what arrives within a bound, and whether anything more does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from event_sourcery.event import Recorded

GIVE_UP = 10.0
"""How long a test waits for events it expects (PostgreSQL delivers own events once every
older transaction on the server has finished; other test runs may hold one briefly)."""


def collect(subscription: Iterator[Any], count: int) -> list[Recorded]:
    """The next ``count`` records of a ``build_iter`` or ``build_batch`` iterator (or fewer, if
    they do not come within ``GIVE_UP``); a batch may bring more."""
    got: list[Recorded] = []
    deadline = time.monotonic() + GIVE_UP
    while len(got) < count and time.monotonic() < deadline:
        item = next(subscription)
        if isinstance(item, list):
            got.extend(item)
        elif item is not None:
            got.append(item)
    return got


def nothing_more(subscription: Iterator[Any]) -> bool:
    """Whether the next call brings nothing (it waits the subscription's time limit)."""
    item = next(subscription)
    return item is None or item == []
