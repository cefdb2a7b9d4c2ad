"""the kiosk's pickup look-up by the visitor's key

A visitor who comes back for a pickup (出件) is matched to their visit by their key
(`services/visits.pending_visit`): the visitor_id's keyed hash, or the phone's when the
visit was taken without one (SPEC §2). `ix_tickets_pickup` (site, pickup day) alone made
that look read every visit of the site with a pickup day up to today: over 100,000 past
visits, 116 ms a pickup ticket on SQLite and 29 ms on PostgreSQL, 1.1 and 1.6 ms with
these (`python -m bench.pickup_lookup`, docs/PERFORMANCE.md).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IDENTITY_KEYED = "pickup_on IS NOT NULL AND identity_hash IS NOT NULL"
PHONE_KEYED = "pickup_on IS NOT NULL AND phone_hash IS NOT NULL AND identity_hash IS NULL"


def upgrade() -> None:
    for name, key, where in (
        ("ix_tickets_pickup_identity", "identity_hash", IDENTITY_KEYED),
        ("ix_tickets_pickup_phone", "phone_hash", PHONE_KEYED),
    ):
        op.create_index(
            name,
            "tickets",
            ["site_code", key, "pickup_on"],
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    op.drop_index("ix_tickets_pickup_phone", table_name="tickets")
    op.drop_index("ix_tickets_pickup_identity", table_name="tickets")
