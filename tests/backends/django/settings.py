"""Django settings of the Django backend's tests, without databases.

``support.py`` passes them to ``settings.configure`` together with the test databases; mypy's
django-stubs plugin reads them too (``[tool.django-stubs]`` in ``pyproject.toml``), which is why
they are a module and not a literal in the conftest.
"""

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "event_sourcery_django",
]
USE_TZ = False
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SECRET_KEY = "event-sourcery-tests"
