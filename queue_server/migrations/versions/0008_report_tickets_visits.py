"""report rows gain `tickets` and `avg_visit_s`: summaries written before are written again

Stats rows count the numbers taken (`tickets`, each ticket once in the row of its first step)
and the time in the hall of the visits that ended done (`visit_count`, `visit_sum_s`), SPEC
§4. Daily and monthly summaries keep their totals as JSON (`RowTotals.to_json()`), so the
schema does not change; but a summary written before this revision lacks the new counts
and would read as "no ticket taken". They are dropped here, like `drop_daily_summaries`
does: the summaries are derived from the steps (which are kept), the `daily_summaries` job
writes them again (every 5 minutes, 31 days a run), and until then a report reads those
days from the steps, with the same numbers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM monthly_summaries")
    op.execute("DELETE FROM daily_summaries")


def downgrade() -> None:
    # The older code reads the summaries written since (it ignores the counts it does not
    # know), so nothing to undo.
    pass
