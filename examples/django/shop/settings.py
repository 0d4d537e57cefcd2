"""Settings of the example shop: Event Sourcery's Django app on SQLite or PostgreSQL.

The database is a SQLite file, ``db.sqlite3`` beside ``manage.py``, unless
``EVENT_SOURCERY_EXAMPLE_DB`` names another one:

* a path, for another SQLite file: ``EVENT_SOURCERY_EXAMPLE_DB=/tmp/shop.sqlite3``;
* a ``postgresql://user:password@host:port/name`` URL, for PostgreSQL (needs ``psycopg``).

This is an example: ``DEBUG`` is on and the secret key is public. Do not deploy it as it is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import django

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_VARIABLE = "EVENT_SOURCERY_EXAMPLE_DB"


def database(value: str) -> dict[str, Any]:
    """Django's ``DATABASES["default"]`` for a SQLite path or a PostgreSQL URL."""
    if value.startswith(("postgres://", "postgresql://")):
        url = urlsplit(value)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": url.path.lstrip("/"),
            "HOST": url.hostname or "127.0.0.1",
            "PORT": str(url.port or 5432),
            "USER": unquote(url.username or "postgres"),
            "PASSWORD": unquote(url.password or ""),
        }
    # Django 5.1+: every transaction takes SQLite's write lock at BEGIN, so concurrent requests
    # wait for each other instead of failing with "database is locked" (check W003)
    options = {"transaction_mode": "IMMEDIATE"} if django.VERSION >= (5, 1) else {}
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": value, "OPTIONS": options}


SECRET_KEY = "example-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "event_sourcery_django",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database(os.environ.get(DATABASE_VARIABLE) or str(BASE_DIR / "db.sqlite3")),
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True  # Event Sourcery's naive UTC timestamps are stored as aware UTC
TIME_ZONE = "UTC"
STATIC_URL = "static/"
