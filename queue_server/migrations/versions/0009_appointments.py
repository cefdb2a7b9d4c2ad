"""appointments (预约): bookings, their slots' places, and the appointment call class

SPEC §8: `appointments` (a booking: slot, business, keyed hash and masked identity, a
6-digit code; one open booking per identity per site and day, one open booking per code)
and `appointment_slots` (the places taken per slot, updated in the booking's transaction).
SPEC §2: the call classes become returning 0, appointment 1, green 2, ordinary 3, so the
waiting steps' green (1) and ordinary (2) classes move down by one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 00:33:31
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_slots",
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=False),
        sa.Column("start_min", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint("booked >= 0", name=op.f("ck_appointment_slots_booked")),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_appointment_slots_site_code_sites")
        ),
        sa.PrimaryKeyConstraint(
            "site_code", "day", "service_code", "start_min", name=op.f("pk_appointment_slots")
        ),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_min", sa.Integer(), nullable=False),
        sa.Column("end_min", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=False),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("identity_hash", sa.String(length=64), nullable=False),
        sa.Column("identity_masked", sa.String(length=32), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_masked", sa.String(length=32), nullable=True),
        sa.Column("ticket_id", sa.String(length=40), nullable=True),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "party IN ('individual', 'enterprise')", name=op.f("ck_appointments_party")
        ),
        sa.CheckConstraint(
            "state IN ('booked', 'checked_in', 'cancelled', 'late', 'no_show')",
            name=op.f("ck_appointments_state"),
        ),
        sa.CheckConstraint("headcount >= 1", name=op.f("ck_appointments_headcount")),
        sa.CheckConstraint(
            "start_min >= 0 AND end_min > start_min AND end_min <= 1440",
            name=op.f("ck_appointments_slot"),
        ),
        sa.ForeignKeyConstraint(
            ["site_code"], ["sites.code"], name=op.f("fk_appointments_site_code_sites")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_appointments_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointments_day", ["site_code", "day", "start_min"], unique=False
        )
        batch_op.create_index(
            "ix_appointments_identity", ["site_code", "identity_hash", "day"], unique=False
        )
        batch_op.create_index(
            "uq_appointments_open_code",
            ["site_code", "day", "code"],
            unique=True,
            sqlite_where=sa.text("state IN ('booked', 'checked_in')"),
            postgresql_where=sa.text("state IN ('booked', 'checked_in')"),
        )
        batch_op.create_index(
            "uq_appointments_open_identity",
            ["site_code", "day", "identity_hash"],
            unique=True,
            sqlite_where=sa.text("state IN ('booked', 'checked_in')"),
            postgresql_where=sa.text("state IN ('booked', 'checked_in')"),
        )

    op.execute("UPDATE steps SET priority_class = priority_class + 1 WHERE priority_class >= 1")


def downgrade() -> None:
    # Appointment steps (1) join the green channel's class (1 again), ordinary goes back to 2.
    op.execute("UPDATE steps SET priority_class = priority_class - 1 WHERE priority_class >= 2")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_appointments_open_identity",
            sqlite_where=sa.text("state IN ('booked', 'checked_in')"),
            postgresql_where=sa.text("state IN ('booked', 'checked_in')"),
        )
        batch_op.drop_index(
            "uq_appointments_open_code",
            sqlite_where=sa.text("state IN ('booked', 'checked_in')"),
            postgresql_where=sa.text("state IN ('booked', 'checked_in')"),
        )
        batch_op.drop_index("ix_appointments_identity")
        batch_op.drop_index("ix_appointments_day")

    op.drop_table("appointments")
    op.drop_table("appointment_slots")
