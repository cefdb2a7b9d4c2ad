"""estimate models and what-if runs: each site's learned service times, shared between processes

The scheduled job `service_times` learns a site's service-time distributions from its
finished steps (SPEC §10) and stores them here; every process reloads its copy when it is
older than a minute (docs/estimates.md). One row per site, overwritten by each run.

`whatif_runs` holds the managers' what-if runs (a past day replayed with changes): the
process that took one runs it off the request path and writes its progress and result here,
so whichever process a poll reaches can answer it (docs/manager.md).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "estimate_models",
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_estimate_models_site_code_sites")
        ),
        sa.PrimaryKeyConstraint("site_code", name=op.f("pk_estimate_models")),
    )
    op.create_table(
        "whatif_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "state IN ('running', 'done', 'failed')", name=op.f("ck_whatif_runs_state")
        ),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_whatif_runs_site_code_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatif_runs")),
    )


def downgrade() -> None:
    op.drop_table("whatif_runs")
    op.drop_table("estimate_models")
