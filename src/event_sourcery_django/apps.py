"""The Django application configuration of ``event_sourcery_django``."""

from __future__ import annotations

from django.apps import AppConfig


class EventSourceryDjangoConfig(AppConfig):
    """Event Sourcery's tables, migrations and system checks (label ``event_sourcery_django``)."""

    name = "event_sourcery_django"
    label = "event_sourcery_django"
    verbose_name = "Event Sourcery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from event_sourcery_django import checks

        checks.register()
