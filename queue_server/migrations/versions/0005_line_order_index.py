"""waiting steps indexed in call order

The partial index of waiting steps also holds the columns of the call order (class,
sort_at, enqueued_at; the id comes with every index) and of the overdue guard and the
reservation: counting the people ahead of a new ticket (`HallState.position`) and reading
the head of a line (`HallState.line_head`) then never touch the table rows. With 2,000
waiting in one line, issuing a ticket spent half its database time fetching those rows
(docs/PERFORMANCE.md).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 09:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "status = 'waiting'"
LINE = ["site_code", "business_day", "queue_code"]
CALL_ORDER = ["priority_class", "sort_at", "enqueued_at", "overdue_at", "reserved_counter"]
# Constant in this index, but SQLite answers from the index alone only when every column
# the query names is in it.
STATUS = ["status"]


def _create(name: str, columns: list[str]) -> None:
    op.create_index(
        name,
        "steps",
        columns,
        unique=False,
        sqlite_where=sa.text(WAITING),
        postgresql_where=sa.text(WAITING),
    )


def upgrade() -> None:
    op.drop_index("ix_steps_waiting", table_name="steps")
    _create("ix_steps_waiting", LINE + CALL_ORDER + STATUS)


def downgrade() -> None:
    op.drop_index("ix_steps_waiting", table_name="steps")
    _create("ix_steps_waiting", LINE)
