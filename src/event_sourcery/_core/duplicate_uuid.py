"""Recognising the unique-index violation of an event uuid among a database's integrity errors.

An event uuid stored twice (in this or another stream) is not a lost race: retrying cannot
succeed, so the backends' error boundaries raise ``DuplicateEventUuid`` for it and keep
``ConcurrentStreamWriteError`` for version and stream collisions. The message is what tells
them apart, whatever the index is called (it differs between migrations and databases).
"""

from __future__ import annotations

import re

from event_sourcery._core.schema_errors import first_line
from event_sourcery.exceptions import DuplicateEventUuid

_HEX = "[0-9a-fA-F]"
_UUID = rf"(?:{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}|{_HEX}{{32}})"
_DUPLICATE_UUID = re.compile(
    # PostgreSQL: the detail names the key's columns: "(uuid)" alone, not the stream's triple
    r"Key \(uuid\)=\("
    # SQLite: one column named; the streams' constraint lists three
    r"|UNIQUE constraint failed: [^\s,]+\.uuid\s*$"
    # MariaDB/MySQL: the stream key's entry joins uuid, category and tenant with '-'
    rf"|Duplicate entry '{_UUID}' for key '[^']*uuid[^']*'"
)


def duplicate_event_uuid(driver_error: object) -> bool:
    """Whether ``driver_error`` (the DB-API error) is the unique violation of an event uuid."""
    return bool(_DUPLICATE_UUID.search(str(driver_error)))


def raise_if_duplicate_uuid(error: Exception, driver_error: object) -> None:
    """Raise ``DuplicateEventUuid`` (from ``error``) when ``driver_error`` is that violation."""
    if duplicate_event_uuid(driver_error):
        raise DuplicateEventUuid(
            f"An event with this uuid is already stored (in this or another stream): "
            f"{first_line(driver_error)}"
        ) from error
