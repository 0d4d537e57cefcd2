"""``GUID``: a UUID column, native on PostgreSQL, ``CHAR(32)`` hex elsewhere."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Uuid
from sqlalchemy.types import TypeDecorator


class GUID(TypeDecorator[UUID]):
    """Stores ``uuid.UUID`` values; reads back ``uuid.UUID``."""

    impl = Uuid
    cache_ok = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(as_uuid=True)
