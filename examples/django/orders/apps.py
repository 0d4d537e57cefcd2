"""The ``orders`` application."""

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Views over order streams; the events live in ``event_sourcery_django``'s tables."""

    name = "orders"
    verbose_name = "Orders"
