"""Keep the order keys of deleted events (ADR 0006).

* ``event_sourcery_events_deleted (id, tx_id)``, indexed on ``tx_id``: ``delete_stream``
  copies the (id, order key) of the events it deletes there, so that resuming a subscription
  from a deleted event's position is exact and the MariaDB sequencer never numbers new events
  below a deleted one.

Revision ID: event_sourcery_0003
Revises: event_sourcery_0002
Create Date: 2025-01-03 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "event_sourcery_0003"
down_revision: str | Sequence[str] | None = "event_sourcery_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELETED = "event_sourcery_events_deleted"


def upgrade() -> None:
    op.create_table(
        DELETED,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("tx_id", sa.BigInteger(), nullable=True),
    )
    op.create_index(f"ix_tx_id_{DELETED}", DELETED, ["tx_id"])


def downgrade() -> None:
    op.drop_index(f"ix_tx_id_{DELETED}", table_name=DELETED)
    op.drop_table(DELETED)
