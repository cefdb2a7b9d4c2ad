"""a phone is the key only of a ticket taken without a visitor_id

SPEC §2 (v2): the identity is the `visitor_id` when one is given, the phone only when none
is. Two visitors with their own ID numbers may share an agent's or a family's phone, so
the one-unfinished-ticket index on the phone now covers only tickets keyed by the phone.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 00:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = "state IN ('waiting', 'called', 'serving', 'held', 'missed')"
COLUMNS = ["site_code", "business_day", "phone_hash"]


def _create(where: str) -> None:
    op.create_index(
        "uq_tickets_open_phone",
        "tickets",
        COLUMNS,
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.drop_index("uq_tickets_open_phone", table_name="tickets")
    _create(f"phone_hash IS NOT NULL AND identity_hash IS NULL AND {UNFINISHED}")


def downgrade() -> None:
    op.drop_index("uq_tickets_open_phone", table_name="tickets")
    _create(f"phone_hash IS NOT NULL AND {UNFINISHED}")
