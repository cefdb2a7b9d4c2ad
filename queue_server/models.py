"""Tables. Rules that the schema can hold live in the schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from queue_server.db import Base, UTCDateTime
from queue_server.domain.appointments import BOOKING_STATES, OPEN_STATES
from queue_server.domain.dispatch import PriorityClass
from queue_server.domain.identity import Identity
from queue_server.domain.lifecycle import UNFINISHED, StepOutcome, StepStatus, TicketState

# The lifecycle's states, from the domain (migration 0001 spells the same; a test checks).
TICKET_STATES = tuple(state.value for state in TicketState)
STEP_STATUSES = tuple(status.value for status in StepStatus)
STEP_OUTCOMES = tuple(outcome.value for outcome in StepOutcome)
UNFINISHED_STATES = tuple(state.value for state in TicketState if state in UNFINISHED)
COUNTER_STATES = ("closed", "open", "paused")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


_UNFINISHED_SQL = _in("state", UNFINISHED_STATES)
_PHONE_KEYED_SQL = "phone_hash IS NOT NULL AND identity_hash IS NULL"


class Site(Base):
    __tablename__ = "sites"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class SiteSequence(Base):
    """Per-site counters updated inside the transaction: `event` gives each event its seq."""

    __tablename__ = "site_sequences"
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class DayCounter(Base):
    """Per-(site, key, business day) counters: ticket numbers per line, issues per business."""

    __tablename__ = "day_counters"
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Counter(Base):
    __tablename__ = "counters"
    __table_args__ = (
        UniqueConstraint("site_code", "number"),
        UniqueConstraint("site_code", "clerk_username"),
        CheckConstraint(_in("state", COUNTER_STATES), name="state"),
        CheckConstraint("strategy IN ('fifo', 'ordered')", name="strategy"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(100))
    queues: Mapped[list[str]] = mapped_column(JSON)
    strategy: Mapped[str] = mapped_column(String(16), default="fifo")
    state: Mapped[str] = mapped_column(String(16), default="closed")
    state_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clerk_username: Mapped[str | None] = mapped_column(String(64))
    current_ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"))
    idle_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evaluation_step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id"))
    evaluation_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(100))  # while paused: 午休, 会议…


class Ticket(Base):
    """One visit: one number from the first step to the last (一号到底)."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("site_code", "business_day", "number"),
        CheckConstraint(_in("state", TICKET_STATES), name="state"),
        CheckConstraint("party IN ('individual', 'enterprise')", name="party"),
        CheckConstraint("priority IN ('normal', 'green')", name="priority"),
        CheckConstraint("headcount >= 1", name="headcount"),
        # One unfinished ticket per person per site per business day.
        Index(
            "uq_tickets_open_identity",
            "site_code",
            "business_day",
            "identity_hash",
            unique=True,
            sqlite_where=text(f"identity_hash IS NOT NULL AND {_UNFINISHED_SQL}"),
            postgresql_where=text(f"identity_hash IS NOT NULL AND {_UNFINISHED_SQL}"),
        ),
        Index(
            "uq_tickets_open_phone",
            "site_code",
            "business_day",
            "phone_hash",
            unique=True,
            # A phone is the key only of a ticket taken without a visitor_id (SPEC §2).
            sqlite_where=text(f"{_PHONE_KEYED_SQL} AND {_UNFINISHED_SQL}"),
            postgresql_where=text(f"{_PHONE_KEYED_SQL} AND {_UNFINISHED_SQL}"),
        ),
        # Visits whose pickup waits for a later day (出件), found by the kiosk (migration 0012).
        Index(
            "ix_tickets_pickup",
            "site_code",
            "pickup_on",
            sqlite_where=text("pickup_on IS NOT NULL"),
            postgresql_where=text("pickup_on IS NOT NULL"),
        ),
        # A visitor's visits waiting for their pickup, by their key (migration 0014).
        Index(
            "ix_tickets_pickup_identity",
            "site_code",
            "identity_hash",
            "pickup_on",
            sqlite_where=text("pickup_on IS NOT NULL AND identity_hash IS NOT NULL"),
            postgresql_where=text("pickup_on IS NOT NULL AND identity_hash IS NOT NULL"),
        ),
        Index(
            "ix_tickets_pickup_phone",
            "site_code",
            "phone_hash",
            "pickup_on",
            sqlite_where=text(f"pickup_on IS NOT NULL AND {_PHONE_KEYED_SQL}"),
            postgresql_where=text(f"pickup_on IS NOT NULL AND {_PHONE_KEYED_SQL}"),
        ),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    business_day: Mapped[date] = mapped_column(Date)
    issue_queue: Mapped[str] = mapped_column(String(8))
    number: Mapped[str] = mapped_column(String(16))
    service_code: Mapped[str] = mapped_column(String(64))
    party: Mapped[str] = mapped_column(String(16))
    headcount: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    state: Mapped[str] = mapped_column(String(16))
    current_step: Mapped[int] = mapped_column(Integer, default=1)
    identity_hash: Mapped[str | None] = mapped_column(String(64))
    identity_masked: Mapped[str | None] = mapped_column(String(32))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    kiosk: Mapped[str | None] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Visits across days (SPEC §8): the day this visit's pickup waits for (finish
    # {pickup_on}), and on a later ticket the id of the visit whose pickup it is (T
    # `visit_of`; no foreign key: SQLite cannot add one to a table that others refer to).
    pickup_on: Mapped[date | None] = mapped_column(Date)
    visit_of: Mapped[str | None] = mapped_column(String(40), index=True)


def tickets_of_visitor(
    identity: Identity | None, phone: Identity | None, secret: bytes
) -> ColumnElement[bool] | None:
    """Which tickets are the visitor's, as the one-number policy matches them (SPEC §2): by
    the visitor_id when one is given; by the phone only when none is, and then only tickets
    keyed by that phone (a shared agent's or family's phone never merges visitors). None
    without either."""
    if identity is not None:
        return Ticket.identity_hash == identity.keyed_hash(secret)
    if phone is not None:
        return and_(Ticket.identity_hash.is_(None), Ticket.phone_hash == phone.keyed_hash(secret))
    return None


class Step(Base):
    """One service episode of a visit in one line, at one counter."""

    __tablename__ = "steps"
    __table_args__ = (
        UniqueConstraint("ticket_id", "position"),
        CheckConstraint(_in("status", STEP_STATUSES), name="status"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', STEP_OUTCOMES)}", name="outcome"),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating"),
        # The waiting steps of a line in call order, with what the overdue guard and a
        # reservation read: position counts and line heads are index-only (migration 0005).
        Index(
            "ix_steps_waiting",
            "site_code",
            "business_day",
            "queue_code",
            "priority_class",
            "sort_at",
            "enqueued_at",
            "overdue_at",
            "reserved_counter",
            "status",  # constant here, but SQLite reads only indexed columns from an index
            sqlite_where=text(f"status = '{StepStatus.WAITING.value}'"),
            postgresql_where=text(f"status = '{StepStatus.WAITING.value}'"),
        ),
        Index("ix_steps_site_enqueued", "site_code", "enqueued_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    business_day: Mapped[date] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer)
    queue_code: Mapped[str] = mapped_column(String(8))
    services: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    priority_class: Mapped[int] = mapped_column(Integer, default=PriorityClass.ORDINARY.value)
    reason: Mapped[str | None] = mapped_column(String(16))
    reserved_counter: Mapped[int | None] = mapped_column(Integer)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sort_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    call_reason: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counter_number: Mapped[int | None] = mapped_column(Integer)
    clerk_username: Mapped[str | None] = mapped_column(String(64))
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16))
    hold_reason: Mapped[str | None] = mapped_column(Text)
    keep_counter: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Written into the SQL text, not bound: only a literal lets SQLite (and PostgreSQL's generic
# plans) use the partial index of waiting steps; with `status = ?` they scan the whole day.
STEP_IS_WAITING = Step.status == literal_column(f"'{StepStatus.WAITING.value}'")


class Event(Base):
    """Append-only log of every state change; `seq` order is commit order per site."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("site_code", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id"))
    counter_number: Mapped[int | None] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


_OPEN_BOOKING_SQL = _in("state", OPEN_STATES)


class Appointment(Base):
    """A booking (预约) of a slot: a business at a site, a day and a start time (SPEC §8).
    The identity is kept as a keyed hash and a masked form, like a ticket's."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(_in("state", BOOKING_STATES), name="state"),
        CheckConstraint("party IN ('individual', 'enterprise')", name="party"),
        CheckConstraint("headcount >= 1", name="headcount"),
        CheckConstraint("start_min >= 0 AND end_min > start_min AND end_min <= 1440", name="slot"),
        # One open booking per identity per site and day.
        Index(
            "uq_appointments_open_identity",
            "site_code",
            "day",
            "identity_hash",
            unique=True,
            sqlite_where=text(_OPEN_BOOKING_SQL),
            postgresql_where=text(_OPEN_BOOKING_SQL),
        ),
        # A code names one open booking of its site and day.
        Index(
            "uq_appointments_open_code",
            "site_code",
            "day",
            "code",
            unique=True,
            sqlite_where=text(_OPEN_BOOKING_SQL),
            postgresql_where=text(_OPEN_BOOKING_SQL),
        ),
        Index("ix_appointments_identity", "site_code", "identity_hash", "day"),
        Index("ix_appointments_day", "site_code", "day", "start_min"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    day: Mapped[date] = mapped_column(Date)
    start_min: Mapped[int] = mapped_column(Integer)
    end_min: Mapped[int] = mapped_column(Integer)
    service_code: Mapped[str] = mapped_column(String(64))
    party: Mapped[str] = mapped_column(String(16))
    headcount: Mapped[int] = mapped_column(Integer, default=1)
    code: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    identity_hash: Mapped[str] = mapped_column(String(64))
    identity_masked: Mapped[str] = mapped_column(String(32))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AppointmentSlot(Base):
    """The places taken in one slot of a business: the row a booking updates in its own
    transaction (and a cancellation gives back), so a slot never takes more than its
    capacity however many book at once."""

    __tablename__ = "appointment_slots"
    __table_args__ = (CheckConstraint("booked >= 0", name="booked"),)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    service_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    start_min: Mapped[int] = mapped_column(Integer, primary_key=True)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class JobRun(Base):
    """A scheduled job's claim on its slot: the first process to insert it runs the job, so a
    job runs once across processes (APScheduler 3 cannot share a job store)."""

    __tablename__ = "job_runs"
    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[str] = mapped_column(String(64), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(128))


class EstimateModel(Base):
    """A site's learned service times for wait estimates (`ServiceTimes.to_dict()`), written
    by the scheduled job (one process) and read by every process at most once a minute."""

    __tablename__ = "estimate_models"
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    model: Mapped[dict[str, Any]] = mapped_column(JSON)


WHATIF_STATES = ("running", "done", "failed")


class WhatIfRun(Base):
    """A manager's what-if (a past day replayed with changes), run off the request path by
    the process that took it; any process answers its progress and result."""

    __tablename__ = "whatif_runs"
    __table_args__ = (CheckConstraint(_in("state", WHATIF_STATES), name="state"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="running")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(200))


PRINT_JOB_STATES = ("queued", "printing", "printed", "failed", "abandoned")
PENDING_PRINT_STATES = ("queued", "printing", "failed")  # still to print (or to give up)
PENDING_JOBS_SQL = _in("state", PENDING_PRINT_STATES)


class PrintJob(Base):
    """One ticket to put on a kiosk's paper, inserted in the ticket's own transaction.

    `queued` and `failed` jobs are due at `next_try_at`; a worker (or the kiosk's print agent)
    claims one by moving it to `printing`, then it ends `printed`, goes back to `failed` for
    another try, or is `abandoned` when the retry window has passed (printed only on request
    then). `view` is what the paper says, fixed when the job was queued.
    """

    __tablename__ = "print_jobs"
    __table_args__ = (
        CheckConstraint(_in("state", PRINT_JOB_STATES), name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_print_jobs_due", "site_code", "kiosk", "state", "next_try_at"),
        # The few jobs still to print, across every site, for the workers' sweep
        # (services/printing.kiosks_with_work; migration 0015).
        Index(
            "ix_print_jobs_pending",
            "state",
            "next_try_at",
            sqlite_where=text(PENDING_JOBS_SQL),
            postgresql_where=text(PENDING_JOBS_SQL),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_code: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    kiosk: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reprint: Mapped[bool] = mapped_column(Boolean, default=False)
    view: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


from queue_server.manager import models as manager_models  # noqa: E402, F401  (managers' tables, for create_all)


class SchedulerLease(Base):
    """Which process runs the scheduled jobs: the holder renews it; when the holder dies and
    the lease runs out, another process takes it over."""

    __tablename__ = "scheduler_leases"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RevokedLogin(Base):
    """A login ended by its logout: every token issued for it (the API's, or the tokens a
    page got for its browser session) is refused from then on, by every process. Kept until
    the tokens would have expired anyway."""

    __tablename__ = "revoked_logins"
    login_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
