"""the `calendar` manager alert

Managers are told when the hall calendar does not know a day that an opening decision or a
bad review's due date needs (SPEC §9; services/hours.py): the alert kinds' check constraint
lets `calendar` in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("wait_target", "counter_paused", "printer")
AFTER = (*BEFORE, "calendar")


def _kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("manager_alerts") as batch:
        batch.drop_constraint(op.f("ck_manager_alerts_kind"), type_="check")
        batch.create_check_constraint("kind", f"kind IN {kinds!r}")


def upgrade() -> None:
    _kinds(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM manager_alerts WHERE kind = 'calendar'")
    _kinds(BEFORE)
