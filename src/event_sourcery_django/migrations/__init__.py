"""Migrations of ``event_sourcery_django``.

* ``0001_initial`` is the existing library's schema, as it shipped: a database it created is
  already at this migration (Django recorded it under the same app label and name).
* ``0002`` upgrades it to this package's models (see :mod:`event_sourcery_django.models`).
"""
