"""Each test run owns its databases on the PostgreSQL and MariaDB servers.

Unless ``EVENT_SOURCERY_POSTGRES_URL`` / ``EVENT_SOURCERY_MARIADB_URL`` are set, a run creates a
database ``es_run_<pid>_<random>`` on each server and points the variables at it (spawned writer
processes inherit them). Every other database the suite needs is named after it
(``derived(url, "stress")`` …), and all of them are dropped when the run ends; databases of runs
whose process is gone (killed runs) are dropped when the next run starts. Two runs on one machine
never share a table.
"""

from __future__ import annotations

import os
import secrets
from contextlib import suppress

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

PREFIX = "es_run_"
SERVERS = {
    "EVENT_SOURCERY_POSTGRES_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/{}",
    "EVENT_SOURCERY_MARIADB_URL": "mysql+pymysql://root@127.0.0.1:3306/{}",
}
_claimed: list[URL] = []


def derived(url: str, suffix: str) -> str:
    """The name of a database of this run next to the one of ``url``."""
    return f"{make_url(url).database}_{suffix}"


def postgres_url() -> str:
    """The PostgreSQL URL of this run."""
    return os.environ.get(
        "EVENT_SOURCERY_POSTGRES_URL", SERVERS["EVENT_SOURCERY_POSTGRES_URL"].format("test")
    )


def django_database() -> str:
    """The PostgreSQL database of the Django tests; their other databases take it as prefix."""
    return os.environ.get("EVENT_SOURCERY_DJANGO_DATABASE") or derived(postgres_url(), "django")


def claim() -> None:
    """Create this run's databases where the environment names none."""
    name = f"{PREFIX}{os.getpid()}_{secrets.token_hex(3)}"
    for variable, template in SERVERS.items():
        if variable in os.environ:
            continue
        url = make_url(template.format(name))
        with suppress(Exception):  # no server: its tests skip (or fail in CI) with the reason
            _drop_abandoned(url)
            _run(url, f"CREATE DATABASE {name}")
            _claimed.append(url)
            os.environ[variable] = url.render_as_string(hide_password=False)


def release() -> None:
    """Drop the databases this run created, and those named after them."""
    for url in _claimed:
        with suppress(Exception):
            for database in _databases(url, f"{url.database}%"):
                _drop(url, database)


def _drop_abandoned(url: URL) -> None:
    for database in _databases(url, f"{PREFIX}%"):
        pid = database[len(PREFIX) :].split("_", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            _drop(url, database)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _databases(url: URL, like: str) -> list[str]:
    postgres = url.get_backend_name() == "postgresql"
    query = (
        "SELECT datname FROM pg_database WHERE datname LIKE :like"
        if postgres
        else "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :like"
    )
    engine = create_engine(_admin(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query), {"like": like}).scalars())
    finally:
        engine.dispose()


def _drop(url: URL, database: str) -> None:
    force = " WITH (FORCE)" if url.get_backend_name() == "postgresql" else ""
    _run(url, f"DROP DATABASE IF EXISTS {database}{force}")


def _run(url: URL, statement: str) -> None:
    engine = create_engine(_admin(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _admin(url: URL) -> URL:
    return url.set(database="postgres" if url.get_backend_name() == "postgresql" else "mysql")
