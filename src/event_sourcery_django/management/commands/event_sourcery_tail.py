"""``python manage.py event_sourcery_tail``: print the events of a subscription as they come.

One line per event, tab-separated: position, tenant (``-`` for the default one), stream
(``category/name`` or uuid), event name and version (``-`` if none); or a JSON object per line
with ``--json``. Starts after ``--from`` (default: the current position, i.e. only new events),
optionally only ``--category``; stops after ``--limit`` events, after ``--timelimit`` seconds or on
Ctrl-C. Events are read raw: their classes need not be importable and their (possibly encrypted)
data is not shown.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError, CommandParser

from event_sourcery._core.records import RecordedRaw
from event_sourcery._core.strategies import SubscriptionStrategy
from event_sourcery_django.management import backend_for

MIN_POLL = 0.1
"""Shortest subscription time limit the core accepts, in seconds."""

MAX_POLL = 1.0
"""Longest wait of one subscription poll, in seconds (bounds the reaction to --timelimit)."""


def describe(record: RecordedRaw) -> dict[str, Any]:
    """The fields printed for ``record``."""
    entry = record.entry
    stream_id = entry.stream_id
    return {
        "position": record.position,
        "tenant_id": record.tenant_id,
        "stream_uuid": str(UUID(int=stream_id.int)),
        "stream_name": stream_id.name,
        "category": stream_id.category,
        "name": entry.name,
        "version": entry.version,
    }


def line(fields: dict[str, Any]) -> str:
    label = fields["stream_name"] or fields["stream_uuid"]
    stream = f"{fields['category']}/{label}" if fields["category"] else label
    version = "-" if fields["version"] is None else str(fields["version"])
    tenant = fields["tenant_id"] or "-"
    return "\t".join((str(fields["position"]), tenant, stream, fields["name"], version))


class Command(BaseCommand):
    help = "Print the events of a subscription (all events, or one category) as they come."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from",
            dest="start",
            type=int,
            default=None,
            help="Print events after this position (default: the current one: new events only).",
        )
        parser.add_argument("--category", default=None, help="Only this stream category.")
        parser.add_argument("--limit", type=int, default=None, help="Exit after N events.")
        parser.add_argument(
            "--timelimit",
            type=float,
            default=None,
            help="Exit after this many seconds (default: run until interrupted).",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON lines.")
        parser.add_argument(
            "--database", default="default", help="The database alias (default: 'default')."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        start: int | None = options["start"]
        limit: int | None = options["limit"]
        timelimit: float | None = options["timelimit"]
        if start is not None and start < 0:
            raise CommandError(f"--from must be a position (>= 0), got {start}")
        if limit is not None and limit < 1:
            raise CommandError(f"--limit must be at least 1, got {limit}")
        if timelimit is not None and timelimit <= 0:
            raise CommandError(f"--timelimit must be positive, got {timelimit}")
        backend = backend_for(options["database"])
        if start is None:
            start = backend.event_store.position or 0
        poll = timedelta(seconds=max(MIN_POLL, min(MAX_POLL, timelimit or MAX_POLL)))
        strategy = backend[SubscriptionStrategy]
        category: str | None = options["category"]
        size = min(limit, 100) if limit else 100
        batches = (
            strategy.subscribe_to_category(start, size, poll, category)
            if category is not None
            else strategy.subscribe_to_all(start, size, poll)
        )
        deadline = None if timelimit is None else time.monotonic() + timelimit
        printed = 0
        try:
            for batch in batches:
                for record in batch:
                    fields = describe(record)
                    self.stdout.write(json.dumps(fields) if options["json"] else line(fields))
                    printed += 1
                    if limit is not None and printed >= limit:
                        return
                if deadline is not None and time.monotonic() >= deadline:
                    return
        except KeyboardInterrupt:
            return
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()
