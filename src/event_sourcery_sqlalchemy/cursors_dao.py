"""``SqlAlchemyCursorsDao``: projector cursors in the caller's session (SPEC §15)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from event_sourcery._core.stream_id import StreamId
from event_sourcery.read_model import CursorsDao
from event_sourcery_sqlalchemy.errors import mapped_table
from event_sourcery_sqlalchemy.models.base import BaseProjectorCursor


class SqlAlchemyCursorsDao(CursorsDao):
    """Cursors in the ``projector_cursor_model`` table; the caller commits."""

    def __init__(self, session: Session, projector_cursor_model: type[BaseProjectorCursor]) -> None:
        self._session = session
        self._table: Table = mapped_table(projector_cursor_model)

    def _match(self, name: str, stream_id: StreamId) -> list[Any]:
        table = self._table
        category = table.c.category
        return [
            table.c.name == name,
            table.c.stream_id == stream_id,
            category.is_(None) if stream_id.category is None else category == stream_id.category,
        ]

    def _current(self, name: str, stream_id: StreamId) -> int | None:
        connection = self._session.connection()
        value = connection.execute(
            select(self._table.c.version).where(*self._match(name, stream_id))
        ).scalar()
        return None if value is None else int(value)

    def increment(self, name: str, stream_id: StreamId, version: int) -> None:
        connection = self._session.connection()
        if version == 1:
            current = self._current(name, stream_id)
            if current is not None:
                raise self.AheadOfStream(current)
            self.put_at(name, stream_id, 1)
            return
        moved = connection.execute(
            update(self._table)
            .where(*self._match(name, stream_id), self._table.c.version == version - 1)
            .values(version=version)
        )
        if moved.rowcount == 1:
            return
        current = self._current(name, stream_id)
        if current is None:
            raise self.StreamNotTracked()
        if current < version:
            raise self.BehindStream(current)
        raise self.AheadOfStream(current)

    def put_at(self, name: str, stream_id: StreamId, version: int) -> None:
        self._session.connection().execute(
            insert(self._table).values(
                name=name, stream_id=stream_id, category=stream_id.category, version=version
            )
        )

    def move_to(self, name: str, stream_id: StreamId, version: int) -> None:
        self._session.connection().execute(
            update(self._table).where(*self._match(name, stream_id)).values(version=version)
        )
