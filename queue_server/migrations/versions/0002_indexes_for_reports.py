"""Indexes for reports: a business day's steps by site and day, a summary group's days.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 06:52:45

Declared in queue_server/manager/models.py (ix_steps_site_business_day on steps,
ix_daily_summaries_range)
before migrations came, so a database that create_all made may have them already.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from queue_server.migrations import create_index_if_missing

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_index_if_missing(
        "ix_daily_summaries_range",
        "daily_summaries",
        ["site_code", "report_group", "business_day"],
        unique=False,
    )
    create_index_if_missing(
        "ix_steps_site_business_day", "steps", ["site_code", "business_day"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_steps_site_business_day", table_name="steps")
    op.drop_index("ix_daily_summaries_range", table_name="daily_summaries")
