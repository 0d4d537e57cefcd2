"""``Aggregate``: a consistency boundary that changes state only by emitting events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar


class Aggregate:
    """Subclass with ``category``, a no-argument ``__init__`` and ``__apply__(event)``."""

    category: ClassVar[str]
    _changes: list[Any]

    def __apply__(self, event: Any) -> None:
        """Change state according to ``event`` (called on replay and on ``_emit``)."""
        raise NotImplementedError

    def _emit(self, event: Any) -> None:
        """Apply ``event`` and remember it as a pending change."""
        self.__apply__(event)
        if "_changes" not in self.__dict__:
            self._changes = []
        self._changes.append(event)

    @property
    def __changes__(self) -> list[Any]:
        """A copy of the pending (not yet saved) events."""
        return list(self.__dict__.get("_changes", ()))

    @contextmanager
    def __persisting_changes__(self) -> Iterator[Iterator[Any]]:
        """Yield the pending events; once the block succeeds they are no longer pending."""
        pending = self.__changes__
        yield iter(pending)
        del self.__dict__.get("_changes", [])[: len(pending)]
