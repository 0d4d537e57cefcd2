"""Which streams the stress writers delete, and when (issue 10: ``delete_stream`` mixed in).

A writer deletes only its own streams, never one it may still append to: on a delete draw it
first *retires* a stream (no more appends), and a later draw deletes a retired stream once the
``build_batch`` subscriber has delivered all its events, so deleted events are delivered before
their delete. Some draws delete a stream whose events may not have been delivered yet (they are
never delivered then), and a writer's last transaction waits (bounded) for a retired stream to be
delivered and deletes it, so every run deletes streams a subscriber has read.
"""

from __future__ import annotations

import queue
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from event_sourcery import StreamId

KEPT_STREAMS = 2
"""A writer retires or deletes a stream only while it has more active ones (appends need a
choice)."""
UNREAD_VICTIM_RATIO = 0.3
"""Share of delete draws that delete an active stream, read or not, when none retired is read."""
FINAL_WAIT = 5.0
"""How long a writer's last transaction waits for a retired stream to be delivered."""


class DeliveryFeed:
    """The uuids the parent's ``build_batch`` subscriber delivered, as a writer process sees them
    (the subscriber puts each batch's uuids on ``queue``)."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.seen: set[str] = set()

    def __call__(self) -> set[str]:
        """Every uuid delivered so far (what arrived on the queue up to now)."""
        while True:
            try:
                self.seen.update(self.queue.get_nowait())
            except queue.Empty:
                return self.seen


@dataclass
class DeletePolicy:
    """One writer's choice of streams to delete (``ratio`` 0: never)."""

    ratio: float
    seed: int
    delivered: Callable[[], set[str]] = set
    """The event uuids delivered so far (a ``DeliveryFeed`` in writer processes)."""
    retired: list[StreamId] = field(default_factory=list)
    events_of: dict[StreamId, list[str]] = field(default_factory=dict)
    """The committed event uuids of each stream."""
    deleted_read: bool = False
    """Whether a stream whose events were all delivered has been deleted (committed)."""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def active(self, streams: list[StreamId]) -> list[StreamId]:
        """The streams to append to (not retired)."""
        return [s for s in streams if s not in self.retired]

    def committed(self, stream: StreamId, uuids: list[str]) -> None:
        """Events appended to ``stream`` were committed."""
        self.events_of.setdefault(stream, []).extend(uuids)

    def victim(self, streams: list[StreamId], last: bool) -> tuple[StreamId, bool] | None:
        """The stream this transaction deletes and whether all its events were delivered, or
        ``None`` to append instead."""
        if not self.ratio:
            return None
        if last and not self.deleted_read:
            return self._read_victim(streams)
        if self.rng.random() >= self.ratio:
            return None
        read = self._read(self.retired)
        if read:
            return self.rng.choice(read), True
        active = self.active(streams)
        if len(active) <= KEPT_STREAMS:
            return None
        if not self.retired:
            self.retired.append(self.rng.choice(active))
            return None
        if self.rng.random() < UNREAD_VICTIM_RATIO:
            chosen = self.rng.choice(active)
            return chosen, chosen in self._read([chosen])
        return None

    def deleted(self, stream: StreamId, read: bool) -> None:
        """The delete of ``stream`` was committed."""
        if stream in self.retired:
            self.retired.remove(stream)
        self.events_of.pop(stream, None)
        self.deleted_read = self.deleted_read or read

    def _read(self, candidates: list[StreamId]) -> list[StreamId]:
        delivered = self.delivered()
        return [s for s in candidates if set(self.events_of.get(s, ())) <= delivered]

    def _read_victim(self, streams: list[StreamId]) -> tuple[StreamId, bool] | None:
        active = self.active(streams)
        if not self.retired and len(active) > KEPT_STREAMS:
            self.retired.append(self.rng.choice(active))
        deadline = time.monotonic() + FINAL_WAIT
        while self.retired:
            read = self._read(self.retired)
            if read:
                return self.rng.choice(read), True
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)
        return None
