"""the print workers' sweep of pending jobs

Every process's print worker looks for jobs it was not told of (queued by another process,
retries falling due, claims of a worker that died) every few seconds. It asked each of its
printers' kiosks in turn, two statements each: with a city's 200 sites on one deployment
that was 80 statements a second per process with nothing to print, a quarter of the
servers' samples in the city bench (docs/PERFORMANCE.md). Now one statement asks the whole
deployment (`services/printing.kiosks_with_work`), through this index of the few pending
jobs.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "state IN ('queued', 'printing', 'failed')"


def upgrade() -> None:
    op.create_index(
        "ix_print_jobs_pending",
        "print_jobs",
        ["state", "next_try_at"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_print_jobs_pending", table_name="print_jobs")
