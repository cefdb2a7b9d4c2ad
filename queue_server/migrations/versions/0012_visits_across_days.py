"""visits across days (受理 today, 出件 later): tickets.pickup_on and tickets.visit_of

SPEC §8: `finish {pickup_on}` records the day a visit's pickup waits for
(`tickets.pickup_on`, with a partial index of the visits that have one, for the kiosk); the
pickup ticket taken on or after that day names the visit it belongs to (`tickets.visit_of`,
the id of the first ticket), so reports keep the link from 受理 to 出件.

Numbered 0012 after 0010_security and 0011_counter_pause_reason.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 01:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("pickup_on", sa.Date(), nullable=True))
    # A plain column, no foreign key: SQLite cannot add a key to `tickets`, and copying the
    # table (batch) would drop a table that steps, events and print jobs refer to.
    op.add_column("tickets", sa.Column("visit_of", sa.String(length=40), nullable=True))
    op.create_index(op.f("ix_tickets_visit_of"), "tickets", ["visit_of"], unique=False)
    op.create_index(
        "ix_tickets_pickup",
        "tickets",
        ["site_code", "pickup_on"],
        unique=False,
        sqlite_where=sa.text("pickup_on IS NOT NULL"),
        postgresql_where=sa.text("pickup_on IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_pickup", table_name="tickets")
    op.drop_index(op.f("ix_tickets_visit_of"), table_name="tickets")
    op.drop_column("tickets", "visit_of")
    op.drop_column("tickets", "pickup_on")
