"""counters gain `pause_reason`: why a paused counter is paused (午休, 会议, 临时离开…)

Shown with 暂停服务 on the clerk's terminal and in the `counter` payload of the screens; the
`counter_paused` event's detail records it too. Null while the counter is not paused.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("counters") as batch:
        batch.add_column(sa.Column("pause_reason", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("counters") as batch:
        batch.drop_column("pause_reason")
