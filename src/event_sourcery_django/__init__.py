"""Django backend: a Django app (label ``event_sourcery_django``) storing events with the ORM.

Add ``"event_sourcery_django"`` to ``INSTALLED_APPS``, run ``python manage.py migrate`` and use
``DjangoBackend()``. Importing this package checks that Django is installed but does not import
it: the strategies are imported when a backend is built.
"""

from importlib.util import find_spec as _find_spec

try:
    if _find_spec("django") is None:
        raise ModuleNotFoundError("No module named 'django'", name="django")
except ModuleNotFoundError as error:  # the django extra is not installed
    from event_sourcery._core.extras import extra_missing

    replacement = extra_missing(error, __name__, "django", ["django"])
    if replacement is None:
        raise
    raise replacement from error

from event_sourcery_django.backend import DjangoBackend, DjangoConfig

__all__ = ["DjangoBackend", "DjangoConfig"]
