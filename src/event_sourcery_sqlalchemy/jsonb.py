"""``JSONB``: a JSON document column, ``JSONB`` on PostgreSQL, JSON text elsewhere."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Dialect, Text
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeDecorator, TypeEngine

from event_sourcery._core.json_values import exact_json_text


class JSONB(TypeDecorator[Any]):
    """A JSON value stored as ``JSONB`` (PostgreSQL) or as ``json.dumps`` text (others).

    On PostgreSQL the value is sent as JSON text in which floats from 1e16 up are written
    positionally (``100000000000000000000.0``): ``jsonb`` keeps a number's digits, not its
    notation, so ``1e+20`` would come back as an ``int`` (ADR 0011). ``None`` is JSON ``null``
    there, as with SQLAlchemy's own ``JSONB``.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        if dialect.name in ("mysql", "mariadb"):  # TEXT holds only 64 KiB there
            return dialect.type_descriptor(mysql.LONGTEXT(charset="utf8mb4"))
        return dialect.type_descriptor(Text())

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "postgresql":
            return exact_json_text
        return super().bind_processor(dialect)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql" or value is None:
            return value
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql" or value is None or not isinstance(value, str):
            return value
        return json.loads(value)
