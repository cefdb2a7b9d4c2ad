"""revoked logins, and the `message_queue` manager alert

A logout revokes its login on every process: `revoked_logins` holds the logins ended before
their tokens expire (services/auth.py). Managers are told when the message-queue Redis
cannot be reached: the alert kinds' check constraint lets `message_queue` in.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("wait_target", "counter_paused", "printer", "calendar")
AFTER = (*BEFORE, "message_queue")


def _kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("manager_alerts") as batch:
        batch.drop_constraint(op.f("ck_manager_alerts_kind"), type_="check")
        batch.create_check_constraint("kind", f"kind IN {kinds!r}")


def upgrade() -> None:
    op.create_table(
        "revoked_logins",
        sa.Column("login_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("login_id", name=op.f("pk_revoked_logins")),
    )
    op.create_index(
        op.f("ix_revoked_logins_expires_at"), "revoked_logins", ["expires_at"], unique=False
    )
    _kinds(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM manager_alerts WHERE kind = 'message_queue'")
    _kinds(BEFORE)
    op.drop_index(op.f("ix_revoked_logins_expires_at"), table_name="revoked_logins")
    op.drop_table("revoked_logins")
