"""Monthly summaries: the daily summaries of a finished month added up (fast year reports).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 07:12:57

Written by the daily_summaries job once every day of a finished month is summarised; an
empty table is correct (the job fills it at its next run), so no data step.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monthly_summaries",
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("report_group", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "report_group IN ('service', 'queue', 'counter', 'clerk', 'hour', 'day', 'all',"
            " 'weekday_hour')",
            name=op.f("ck_monthly_summaries_report_group"),
        ),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_monthly_summaries_site_code_sites")
        ),
        sa.PrimaryKeyConstraint(
            "site_code", "month", "report_group", "key", name=op.f("pk_monthly_summaries")
        ),
    )
    with op.batch_alter_table("monthly_summaries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_monthly_summaries_range", ["site_code", "report_group", "month"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("monthly_summaries", schema=None) as batch_op:
        batch_op.drop_index("ix_monthly_summaries_range")

    op.drop_table("monthly_summaries")
