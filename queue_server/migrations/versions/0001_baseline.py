"""The schema as `Base.metadata.create_all` made it before migrations (the baseline).

Revision ID: 0001
Revises:
Create Date: 2026-11-21 06:51:15

A database that create_all made (tables, no alembic_version) is adopted by this revision:
it creates only the tables and indexes that such a database lacks (one made by older code
may lack a later table or index). On an empty database it creates everything.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from queue_server.migrations import create_index_if_missing, create_table_if_missing

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = "state IN ('waiting', 'called', 'serving', 'held', 'missed')"
OPEN_IDENTITY = f"identity_hash IS NOT NULL AND {UNFINISHED}"
OPEN_PHONE = f"phone_hash IS NOT NULL AND {UNFINISHED}"
WAITING = "status = 'waiting'"


def upgrade() -> None:
    create_table_if_missing(
        "job_runs",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "slot", name=op.f("pk_job_runs")),
    )
    create_table_if_missing(
        "sites",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_sites")),
    )
    create_table_if_missing(
        "daily_summaries",
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("report_group", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "report_group IN ('service', 'queue', 'counter', 'clerk', 'hour', 'day')",
            name=op.f("ck_daily_summaries_report_group"),
        ),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_daily_summaries_site_code_sites")
        ),
        sa.PrimaryKeyConstraint(
            "site_code", "business_day", "report_group", "key", name=op.f("pk_daily_summaries")
        ),
    )
    create_table_if_missing(
        "day_counters",
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_day_counters_site_code_sites")
        ),
        sa.PrimaryKeyConstraint("site_code", "business_day", "key", name=op.f("pk_day_counters")),
    )
    create_table_if_missing(
        "manager_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('wait_target', 'counter_paused', 'printer')",
            name=op.f("ck_manager_alerts_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_manager_alerts_site_code_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manager_alerts")),
    )
    create_index_if_missing(
        "ix_manager_alerts_site_at", "manager_alerts", ["site_code", "at"], unique=False
    )
    create_index_if_missing(
        "uq_manager_alerts_subject", "manager_alerts", ["site_code", "kind", "subject"], unique=True
    )
    create_table_if_missing(
        "site_sequences",
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_site_sequences_site_code_sites")
        ),
        sa.PrimaryKeyConstraint("site_code", "name", name=op.f("pk_site_sequences")),
    )
    create_table_if_missing(
        "site_settings",
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_site_settings_site_code_sites")
        ),
        sa.PrimaryKeyConstraint("site_code", "name", name=op.f("pk_site_settings")),
    )
    create_table_if_missing(
        "tickets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("issue_queue", sa.String(length=8), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=False),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("identity_hash", sa.String(length=64), nullable=True),
        sa.Column("identity_masked", sa.String(length=32), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_masked", sa.String(length=32), nullable=True),
        sa.Column("kiosk", sa.String(length=32), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("party IN ('individual', 'enterprise')", name=op.f("ck_tickets_party")),
        sa.CheckConstraint("priority IN ('normal', 'green')", name=op.f("ck_tickets_priority")),
        sa.CheckConstraint(
            "state IN ('waiting', 'called', 'serving', 'held', 'missed', "
            "'done', 'cancelled', 'expired')",
            name=op.f("ck_tickets_state"),
        ),
        sa.CheckConstraint("headcount >= 1", name=op.f("ck_tickets_headcount")),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_tickets_site_code_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint(
            "site_code",
            "business_day",
            "number",
            name=op.f("uq_tickets_site_code_business_day_number"),
        ),
    )
    create_index_if_missing(
        "uq_tickets_open_identity",
        "tickets",
        ["site_code", "business_day", "identity_hash"],
        unique=True,
        sqlite_where=sa.text(OPEN_IDENTITY),
        postgresql_where=sa.text(OPEN_IDENTITY),
    )
    create_index_if_missing(
        "uq_tickets_open_phone",
        "tickets",
        ["site_code", "business_day", "phone_hash"],
        unique=True,
        sqlite_where=sa.text(OPEN_PHONE),
        postgresql_where=sa.text(OPEN_PHONE),
    )
    create_table_if_missing(
        "print_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=40), nullable=False),
        sa.Column("kiosk", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reprint", sa.Boolean(), nullable=False),
        sa.Column("view", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("printed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'printing', 'printed', 'failed', 'abandoned')",
            name=op.f("ck_print_jobs_state"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_print_jobs_attempts")),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_print_jobs_site_code_sites")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_print_jobs_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_jobs")),
    )
    create_index_if_missing(
        "ix_print_jobs_due",
        "print_jobs",
        ["site_code", "kiosk", "state", "next_try_at"],
        unique=False,
    )
    create_index_if_missing(
        op.f("ix_print_jobs_ticket_id"), "print_jobs", ["ticket_id"], unique=False
    )
    create_table_if_missing(
        "steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.String(length=40), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("queue_code", sa.String(length=8), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority_class", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("reserved_counter", sa.Integer(), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sort_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_reason", sa.String(length=16), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counter_number", sa.Integer(), nullable=True),
        sa.Column("clerk_username", sa.String(length=64), nullable=True),
        sa.Column("recalls", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("keep_counter", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_reasons", sa.JSON(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN "
            "('done', 'transferred', 'held', 'no_show', 'cancelled', 'expired')",
            name=op.f("ck_steps_outcome"),
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'waiting', 'called', 'serving', 'ended')",
            name=op.f("ck_steps_status"),
        ),
        sa.CheckConstraint(
            "rating IS NULL OR (rating BETWEEN 1 AND 5)", name=op.f("ck_steps_rating")
        ),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_steps_site_code_sites")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_steps_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_steps")),
        sa.UniqueConstraint("ticket_id", "position", name=op.f("uq_steps_ticket_id_position")),
    )
    create_index_if_missing(
        "ix_steps_site_enqueued", "steps", ["site_code", "enqueued_at"], unique=False
    )
    create_index_if_missing(op.f("ix_steps_ticket_id"), "steps", ["ticket_id"], unique=False)
    create_index_if_missing(
        "ix_steps_waiting",
        "steps",
        ["site_code", "business_day", "queue_code"],
        unique=False,
        sqlite_where=sa.text(WAITING),
        postgresql_where=sa.text(WAITING),
    )
    create_table_if_missing(
        "counters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clerk_username", sa.String(length=64), nullable=True),
        sa.Column("current_ticket_id", sa.String(length=40), nullable=True),
        sa.Column("idle_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evaluation_step_id", sa.Integer(), nullable=True),
        sa.Column("evaluation_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('closed', 'open', 'paused')", name=op.f("ck_counters_state")),
        sa.CheckConstraint("strategy IN ('fifo', 'ordered')", name=op.f("ck_counters_strategy")),
        sa.ForeignKeyConstraint(
            ["current_ticket_id"],
            ["tickets.id"],
            name=op.f("fk_counters_current_ticket_id_tickets"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_step_id"], ["steps.id"], name=op.f("fk_counters_evaluation_step_id_steps")
        ),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_counters_site_code_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters")),
        sa.UniqueConstraint(
            "site_code", "clerk_username", name=op.f("uq_counters_site_code_clerk_username")
        ),
        sa.UniqueConstraint("site_code", "number", name=op.f("uq_counters_site_code_number")),
    )
    create_table_if_missing(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=40), nullable=True),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("counter_number", sa.Integer(), nullable=True),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_events_site_code_sites")
        ),
        sa.ForeignKeyConstraint(["step_id"], ["steps.id"], name=op.f("fk_events_step_id_steps")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("site_code", "seq", name=op.f("uq_events_site_code_seq")),
    )
    create_index_if_missing(op.f("ix_events_ticket_id"), "events", ["ticket_id"], unique=False)
    create_table_if_missing(
        "review_follow_ups",
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'assigned', 'closed')", name=op.f("ck_review_follow_ups_state")
        ),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_review_follow_ups_site_code_sites")
        ),
        sa.ForeignKeyConstraint(
            ["step_id"], ["steps.id"], name=op.f("fk_review_follow_ups_step_id_steps")
        ),
        sa.PrimaryKeyConstraint("step_id", name=op.f("pk_review_follow_ups")),
    )
    create_index_if_missing(
        op.f("ix_review_follow_ups_site_code"), "review_follow_ups", ["site_code"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_review_follow_ups_site_code"), table_name="review_follow_ups")
    op.drop_table("review_follow_ups")
    op.drop_index(op.f("ix_events_ticket_id"), table_name="events")
    op.drop_table("events")
    op.drop_table("counters")
    op.drop_index(
        "ix_steps_waiting",
        table_name="steps",
        sqlite_where=sa.text(WAITING),
        postgresql_where=sa.text(WAITING),
    )
    op.drop_index(op.f("ix_steps_ticket_id"), table_name="steps")
    op.drop_index("ix_steps_site_enqueued", table_name="steps")
    op.drop_table("steps")
    op.drop_index(op.f("ix_print_jobs_ticket_id"), table_name="print_jobs")
    op.drop_index("ix_print_jobs_due", table_name="print_jobs")
    op.drop_table("print_jobs")
    op.drop_index(
        "uq_tickets_open_phone",
        table_name="tickets",
        sqlite_where=sa.text(OPEN_PHONE),
        postgresql_where=sa.text(OPEN_PHONE),
    )
    op.drop_index(
        "uq_tickets_open_identity",
        table_name="tickets",
        sqlite_where=sa.text(OPEN_IDENTITY),
        postgresql_where=sa.text(OPEN_IDENTITY),
    )
    op.drop_table("tickets")
    op.drop_table("site_settings")
    op.drop_table("site_sequences")
    op.drop_index("uq_manager_alerts_subject", table_name="manager_alerts")
    op.drop_index("ix_manager_alerts_site_at", table_name="manager_alerts")
    op.drop_table("manager_alerts")
    op.drop_table("day_counters")
    op.drop_table("daily_summaries")
    op.drop_table("sites")
    op.drop_table("job_runs")
