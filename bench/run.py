"""`make bench`: run every benchmark and print figures with their reference ratios.

Select sections with arguments or ``BENCH`` (e.g. ``python -m bench.run postgres`` or
``BENCH=sqlite,postgres make bench``): ``in-memory``, ``sqlite``, ``postgres``, ``sql`` (both SQL
databases), ``django-sqlite``, ``django-postgres``, ``django`` (both), ``kurrentdb``
(``KURRENTDB_URI`` or the test suite's KurrentDB double) or ``all`` (the default).
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Iterable

from bench import in_memory
from bench.in_memory import Figure


def _sqlite() -> Iterable[Figure]:
    from bench import sqlalchemy

    return sqlalchemy.run_sqlite()


def _postgres() -> Iterable[Figure]:
    from bench import sqlalchemy

    return sqlalchemy.run_postgres()


def _django_sqlite() -> Iterable[Figure]:
    from bench import django_backend

    return django_backend.run_sqlite()


def _django_postgres() -> Iterable[Figure]:
    from bench import django_backend

    return django_backend.run_postgres()


def _kurrentdb() -> Iterable[Figure]:
    from bench import kurrentdb_backend

    return kurrentdb_backend.run()


SECTIONS: dict[str, Callable[[], Iterable[Figure]]] = {
    "in-memory": in_memory.run,
    "sqlite": _sqlite,
    "postgres": _postgres,
    "django-sqlite": _django_sqlite,
    "django-postgres": _django_postgres,
    "kurrentdb": _kurrentdb,
}
ALIASES = {
    "all": list(SECTIONS),
    "sql": ["sqlite", "postgres"],
    "django": ["django-sqlite", "django-postgres"],
}


def selected(names: list[str]) -> list[str]:
    chosen: list[str] = []
    for name in names or ["all"]:
        for section in ALIASES.get(name, [name]):
            if section not in SECTIONS:
                raise SystemExit(f"unknown benchmark {name!r}; choose from {', '.join(SECTIONS)}")
            if section not in chosen:
                chosen.append(section)
    return chosen


def main(argv: list[str] | None = None) -> None:
    if argv is None:
        argv = sys.argv[1:] or os.environ.get("BENCH", "").replace(",", " ").split()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {sys.platform}, "
        f"{os.cpu_count()} cores, load average {load}"
    )
    print(f"{'backend':<10} {'workload':<44} {'ours':>12} {'reference':>12} {'ratio':>7}  unit")
    for section in selected(argv):
        try:
            for figure in SECTIONS[section]():
                reference = f"{figure.reference:,.1f}" if figure.reference else "-"
                print(
                    f"{section:<10} {figure.workload:<44} {figure.ours:>12,.1f} {reference:>12} "
                    f"{figure.ratio:>7}  {figure.unit}",
                    flush=True,
                )
        except OSError as error:  # a database server that is not running
            print(f"{section:<10} skipped: {error}", flush=True)


if __name__ == "__main__":
    main()
