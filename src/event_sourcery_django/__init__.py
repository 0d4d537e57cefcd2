"""Django backend: a Django app (label ``event_sourcery_django``) storing events with the ORM.

Add ``"event_sourcery_django"`` to ``INSTALLED_APPS`` and run ``python manage.py migrate``. The
app's models and migrations live in :mod:`event_sourcery_django.models` and
``event_sourcery_django.migrations``; importing this package does not import Django.
"""

__all__: list[str] = []
