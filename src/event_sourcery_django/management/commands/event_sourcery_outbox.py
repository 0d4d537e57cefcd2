"""``python manage.py event_sourcery_outbox --publisher myapp.events:publish``: the outbox relay.

Runs ``backend.outbox.run(publisher, limit)`` every ``--interval`` seconds (right away again after
a full run) until interrupted: Ctrl-C or SIGTERM stop it cleanly after the current run. ``--once``
runs once. The publisher is a callable taking a ``Recorded``, given as ``module:function`` (or
``module.function``); its failures are counted as attempts and retried by later runs.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from event_sourcery.event import Recorded
from event_sourcery_django.management import backend_for

Publisher = Callable[[Recorded], None]


def load_publisher(path: str) -> Publisher:
    """The callable at ``module:attribute`` (or ``module.attribute``)."""
    module_name, sep, attribute = path.partition(":")
    if not sep:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise CommandError(f"--publisher must look like 'module:function', got {path!r}")
    try:
        target: Any = import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as error:
        raise CommandError(f"Cannot import publisher {path!r}: {error}") from error
    if not callable(target):
        raise CommandError(f"Publisher {path!r} is not callable")
    return target  # type: ignore[no-any-return]


class CountingPublisher:
    """Wraps a publisher and counts the records it published and the ones it failed."""

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher
        self.published = 0
        self.failed = 0

    def __call__(self, record: Recorded) -> None:
        try:
            self._publisher(record)
        except Exception:
            self.failed += 1
            raise
        self.published += 1


@contextmanager
def stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGTERM while inside (only possible in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Command(BaseCommand):
    help = "Publish the outbox's pending entries in a loop (the outbox relay)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--publisher",
            required=True,
            help="The callable receiving each record, as 'module:function'.",
        )
        parser.add_argument(
            "--limit", type=int, default=100, help="Entries per run (default: 100)."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds to wait after a run that was not full (default: 1).",
        )
        parser.add_argument("--once", action="store_true", help="Run once, then exit.")
        parser.add_argument(
            "--database", default="default", help="The database alias (default: 'default')."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit: int = options["limit"]
        interval: float = options["interval"]
        if limit < 1:
            raise CommandError(f"--limit must be at least 1, got {limit}")
        if interval < 0:
            raise CommandError(f"--interval must not be negative, got {interval}")
        publisher = load_publisher(options["publisher"])
        backend = backend_for(options["database"])
        verbosity: int = options["verbosity"]
        stop = threading.Event()
        runs = 0
        try:
            with stop_on_sigterm(stop):
                while not stop.is_set():
                    counting = CountingPublisher(publisher)
                    backend.outbox.run(counting, limit=limit)
                    runs += 1
                    if verbosity >= 2:
                        self.stdout.write(
                            f"run {runs}: {counting.published} published, {counting.failed} failed"
                        )
                    if options["once"]:
                        break
                    if counting.published + counting.failed < limit:
                        stop.wait(interval)
        except KeyboardInterrupt:
            pass
        if verbosity >= 1 and not options["once"]:
            self.stdout.write(f"Outbox relay stopped after {runs} run(s).")
