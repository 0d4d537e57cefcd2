"""A MariaDB statement above the server's ``max_allowed_packet`` (issue 10.9): the server drops the
connection, and ``BackendUnavailable`` says the packet limit is the likely cause."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from event_sourcery import StreamId
from event_sourcery.exceptions import BackendUnavailable
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from tests.backends.sqlalchemy.support import MARIADB, Posted

LARGEST = 64 * 1024 * 1024
"""The biggest event this test builds; a larger server limit skips it."""


@pytest.mark.parametrize("engine", [MARIADB], indirect=True)
def test_an_event_above_max_allowed_packet_names_the_packet_limit(
    backend: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    limit = int(session.execute(text("SELECT @@max_allowed_packet")).scalar_one())
    session.rollback()
    if limit + 1024 * 1024 > LARGEST:
        pytest.skip(f"max_allowed_packet is {limit} bytes: an event above it needs > 64 MB")

    with pytest.raises(BackendUnavailable) as caught:
        backend.event_store.append(Posted(text="x" * (limit + 1024)), stream_id=StreamId())

    session.connection().invalidate()  # the server closed it after the refused packet
    session.rollback()
    assert "max_allowed_packet" in str(caught.value)
