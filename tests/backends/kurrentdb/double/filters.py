"""Server-side event filters of ``$all`` reads and subscriptions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from .log import Record

#: What a real server uses when a filter has no ``max`` window.
DEFAULT_WINDOW = 32


@dataclass(frozen=True)
class EventFilter:
    """Matches the stream name or the event type, by regex or by a list of prefixes.

    The regex is applied like .NET ``Regex.IsMatch``: an unanchored search.
    """

    target: Literal["stream", "type"]
    regex: re.Pattern[str] | None
    prefixes: tuple[str, ...]
    checkpoint_interval: int

    def matches(self, record: Record) -> bool:
        value = record.stream if self.target == "stream" else record.type
        if self.prefixes:
            return value.startswith(self.prefixes)
        if self.regex is not None:
            return self.regex.search(value) is not None
        return True


def filter_from_options(options: Any) -> EventFilter | None:
    """Build the filter of ``ReadReq.Options`` or ``CreateReq.AllOptions`` (None: no filter)."""
    if options.WhichOneof("filter_option") != "filter":
        return None
    filter_options = options.filter
    which = filter_options.WhichOneof("filter")
    if which is None:
        return None
    expression = getattr(filter_options, which)
    window = (
        filter_options.max
        if filter_options.WhichOneof("window") == "max" and filter_options.max > 0
        else DEFAULT_WINDOW
    )
    multiplier = max(1, filter_options.checkpointIntervalMultiplier)
    return EventFilter(
        target="stream" if which == "stream_identifier" else "type",
        regex=re.compile(expression.regex) if expression.regex else None,
        prefixes=tuple(expression.prefix),
        checkpoint_interval=window * multiplier,
    )
