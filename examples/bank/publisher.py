"""The outbox relay: a publisher that "sends" account events to a (pretend) message broker."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from event_sourcery import Outbox
from event_sourcery.event import Recorded

Out = Callable[[str], None]


@dataclass(frozen=True)
class Message:
    event: str
    stream: str
    version: int | None

    def __str__(self) -> str:
        return f"{self.event:<15} {self.stream:<14} v{self.version}"


class BrokerUnavailable(Exception):
    """The broker did not acknowledge the message."""


class Publisher:
    """Collects the messages it sends; its ``fail_on`` attempts (1-based) time out instead."""

    def __init__(self, out: Out, fail_on: Collection[int] = ()) -> None:
        self.sent: list[Message] = []
        self.failed: list[Message] = []
        self._out = out
        self._fail_on = fail_on

    def __call__(self, record: Recorded) -> None:
        wrapped = record.wrapped_event
        message = Message(type(wrapped.event).__name__, str(record.stream_id.name), wrapped.version)
        if self.attempts + 1 in self._fail_on:
            self.failed.append(message)
            self._out(f"    failed  {message}  (broker timeout)")
            raise BrokerUnavailable("broker timeout")
        retried = " (retried)" if message in self.failed else ""
        self.sent.append(message)
        self._out(f"    sent    {message}{retried}")

    @property
    def attempts(self) -> int:
        return len(self.sent) + len(self.failed)


class _OneLine(logging.Handler):
    def __init__(self, out: Out) -> None:
        super().__init__()
        self._out = out

    def emit(self, record: logging.LogRecord) -> None:
        self._out(f"    [log]   {record.getMessage()}")


def relay(outbox: Outbox, publisher: Publisher, out: Out) -> tuple[int, int]:
    """One outbox run; returns how many messages were sent and how many failed.

    The outbox logs (and swallows) a failed publish and offers the entry again on a later run;
    here its log line goes to ``out`` instead of a traceback on stderr.
    """
    logger = logging.getLogger("event_sourcery.outbox")
    handler = _OneLine(out)
    logger.addHandler(handler)
    sent, failed = len(publisher.sent), len(publisher.failed)
    try:
        outbox.run(publisher)
    finally:
        logger.removeHandler(handler)
    return len(publisher.sent) - sent, len(publisher.failed) - failed
