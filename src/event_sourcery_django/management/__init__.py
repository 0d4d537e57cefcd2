"""Management commands of ``event_sourcery_django`` and what they share with the admin."""

from __future__ import annotations

from django.conf import settings

from event_sourcery_django.backend import DjangoBackend, DjangoConfig

ATTEMPTS_SETTING = "EVENT_SOURCERY_OUTBOX_ATTEMPTS"
"""Optional setting: the outbox attempts of the commands' backend and of a requeued dead letter."""


def outbox_attempts() -> int:
    """``settings.EVENT_SOURCERY_OUTBOX_ATTEMPTS`` if set, else ``DjangoConfig``'s default."""
    attempts = getattr(settings, ATTEMPTS_SETTING, None)
    if attempts is None:
        return DjangoConfig().outbox_attempts
    return DjangoConfig(outbox_attempts=attempts).outbox_attempts


def backend_for(using: str) -> DjangoBackend:
    """A backend with an outbox on the database alias ``using``."""
    config = DjangoConfig(using=using, outbox_attempts=outbox_attempts())
    return DjangoBackend().configure(config).with_outbox()
