"""Django backend: a Django app (label ``event_sourcery_django``) storing events with the ORM.

Add ``"event_sourcery_django"`` to ``INSTALLED_APPS``, run ``python manage.py migrate`` and use
``DjangoBackend()``. Importing this package does not import Django: the strategies are imported
when a backend is built.
"""

from event_sourcery_django.backend import DjangoBackend, DjangoConfig

__all__ = ["DjangoBackend", "DjangoConfig"]
