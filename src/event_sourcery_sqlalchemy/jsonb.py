"""``JSONB``: a JSON document column, ``JSONB`` on PostgreSQL, JSON text elsewhere."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Dialect, Text
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeDecorator, TypeEngine


class JSONB(TypeDecorator[Any]):
    """A JSON value stored as ``JSONB`` (PostgreSQL) or as ``json.dumps`` text (others)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        if dialect.name in ("mysql", "mariadb"):  # TEXT holds only 64 KiB there
            return dialect.type_descriptor(mysql.LONGTEXT(charset="utf8mb4"))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql" or value is None:
            return value
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql" or value is None or not isinstance(value, str):
            return value
        return json.loads(value)
