"""Index event names in subscription order: ``(name, tx_id, id)`` instead of ``name`` alone.

A subscription to one event type reads its events after the cursor as one range of this
index, in order; the index on ``name`` alone served no subscription read (every read is
ordered by ``(tx_id, id)``) and led the PostgreSQL and MariaDB planners to read all of a type's
events on every poll (issue 10.4).

Revision ID: event_sourcery_0004
Revises: event_sourcery_0003
Create Date: 2025-01-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "event_sourcery_0004"
down_revision: str | Sequence[str] | None = "event_sourcery_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS = "event_sourcery_events"


def upgrade() -> None:
    op.create_index(f"ix_name_tx_id_id_{EVENTS}", EVENTS, ["name", "tx_id", "id"])
    op.drop_index(f"ix_{EVENTS}_name", table_name=EVENTS)


def downgrade() -> None:
    op.create_index(f"ix_{EVENTS}_name", EVENTS, ["name"])
    op.drop_index(f"ix_name_tx_id_id_{EVENTS}", table_name=EVENTS)
