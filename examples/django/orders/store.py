"""The project's event store: one ``DjangoBackend`` on the ``default`` database, with an outbox."""

from __future__ import annotations

import logging
from functools import cache

from event_sourcery import EventStore
from event_sourcery.event import Recorded
from event_sourcery_django import DjangoBackend, DjangoConfig

logger = logging.getLogger(__name__)


@cache
def backend() -> DjangoBackend:
    """Built on first use, once Django's settings and apps are ready.

    ``with_outbox()`` queues every appended event in the outbox table, in the append's
    transaction; a relay (``python manage.py event_sourcery_outbox``) publishes them.
    """
    return DjangoBackend().configure(DjangoConfig(using="default")).with_outbox()


def event_store() -> EventStore:
    """The event store of ``backend()``."""
    return backend().event_store


def publish(record: Recorded) -> None:
    """The outbox publisher of the example: it logs. A real one sends to a message broker."""
    logger.info(
        "published %s v%s of %s",
        type(record.wrapped_event.event).__name__,
        record.wrapped_event.version,
        record.stream_id.name,
    )
