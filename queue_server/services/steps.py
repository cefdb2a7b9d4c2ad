"""Shared moves on a visit's steps and tickets, used by the ticket and counter use cases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from queue_server.config import DEFAULT_TARGET_WAIT_MIN, ServiceConfig
from queue_server.domain.dispatch import Placement
from queue_server.domain.events import TicketChanged
from queue_server.domain.lifecycle import (
    NEW_STEP,
    Action,
    StepAction,
    StepStatus,
    TicketState,
    allows,
    step_after,
    ticket_after,
)
from queue_server.errors import NP_, BadRequest, Conflict, Named, NotFound, Words
from queue_server.models import DayCounter, Step, Ticket
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import (
    steps_of,
    ticket_view,
    visible_state,
    visit_steps,
)


def today(uow: UnitOfWork) -> date:
    return uow.today


def effective_state(uow: UnitOfWork, ticket: Ticket) -> str:
    """A ticket left waiting, held or missed from an earlier day is expired, and so is a
    missed one past its grace, whether or not a job has written it (views.visible_state)."""
    return visible_state(uow, ticket)


def _next_value_statement(dialect: str) -> Any:
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    return (
        insert(DayCounter)
        .values(site_code=bindparam("site"), business_day=bindparam("day"), key=bindparam("key"))
        .values(value=1)
        .on_conflict_do_update(
            index_elements=["site_code", "business_day", "key"],
            set_={"value": DayCounter.value + 1},
        )
        .returning(DayCounter.value)
    )


# Built once per dialect: building the upsert costs more than running it.
NEXT_VALUE = {dialect: _next_value_statement(dialect) for dialect in ("sqlite", "postgresql")}


def next_day_value(uow: UnitOfWork, key: str) -> int:
    """Increment a per-(site, day, key) counter row in this transaction and return it."""
    connection = uow.session.connection()
    return int(
        connection.execute(
            NEXT_VALUE[connection.dialect.name],
            {"site": uow.site.code, "day": today(uow), "key": key},
        ).scalar_one()
    )


# Built once: on the call path, building a statement cost more than running it.
LOCK_TICKET = (
    select(Ticket)
    .where(Ticket.id == bindparam("ticket"), Ticket.site_code == bindparam("site"))
    .with_for_update()
    .execution_options(populate_existing=True)
)

# The ticket of a step a counter chose, found and locked in one statement (SKIP LOCKED: the
# rows of the subquery are not locked, only the ticket's).
LOCK_TICKET_OF_STEP = (
    select(Ticket)
    .where(
        Ticket.id == select(Step.ticket_id).where(Step.id == bindparam("step")).scalar_subquery(),
        Ticket.site_code == bindparam("site"),
    )
    .with_for_update(skip_locked=True)
    .execution_options(populate_existing=True)
)


def lock_ticket(uow: UnitOfWork, ticket_id: str) -> Ticket | None:
    """The ticket row is the lock of a visit: every change to it or its steps takes it first.
    (SQLite ignores FOR UPDATE; BEGIN IMMEDIATE already serialises writers there.)"""
    return uow.session.scalars(
        LOCK_TICKET, {"ticket": ticket_id, "site": uow.site.code}
    ).one_or_none()


def lock_waiting_visit(uow: UnitOfWork, step_id: int) -> tuple[Ticket, Step, list[Step]] | None:
    """The visit of a waiting step a counter chose to call, its ticket locked, with that step
    and all the visit's steps; None when another counter holds it at this very moment (skip
    it rather than wait: SKIP LOCKED), or it is no longer today's waiting step."""
    ticket = uow.session.scalars(
        LOCK_TICKET_OF_STEP, {"step": step_id, "site": uow.site.code}
    ).one_or_none()
    if ticket is None or ticket.state != TicketState.WAITING or ticket.business_day != uow.today:
        return None
    step, steps = visit_steps(uow, ticket)
    if step.id != step_id or step.status != StepStatus.WAITING:
        return None
    return ticket, step, steps


def todays_ticket(uow: UnitOfWork, number: str) -> Ticket | None:
    """Today's ticket of this site with that number (A023 or a023)."""
    return uow.session.scalars(
        select(Ticket).where(
            Ticket.site_code == uow.site.code,
            Ticket.business_day == today(uow),
            Ticket.number == number.strip().upper(),
        )
    ).one_or_none()


def get_ticket(uow: UnitOfWork, ticket_id: str, *, lock: bool = True) -> Ticket:
    ticket = lock_ticket(uow, ticket_id) if lock else uow.session.get(Ticket, ticket_id)
    if ticket is None or ticket.site_code != uow.site.code:
        raise NotFound("没有这张号票")
    return ticket


def overdue_at(uow: UnitOfWork, services: list[str]) -> timedelta:
    """How long a step may wait before it outranks every class: factor × its first
    business's target."""
    service = uow.site.service(services[0]) if services else None
    target_min = service.target_wait_min if service else DEFAULT_TARGET_WAIT_MIN
    return timedelta(minutes=target_min * uow.site.policy.max_wait_factor)


def enqueue(
    uow: UnitOfWork, step: Step, placement: Placement, reserved_counter: int | None = None
) -> None:
    move_step(uow, step, StepAction.ENQUEUE)
    step.enqueued_at = uow.now
    step.sort_at = placement.sort_at
    step.priority_class = placement.priority_class
    step.reason = placement.reason
    step.reserved_counter = reserved_counter
    step.overdue_at = uow.now + overdue_at(uow, step.services)


def insert_step_after_current(
    uow: UnitOfWork, ticket: Ticket, queue: str, services: list[str]
) -> Step:
    """Transfer, return and reinstate add a step right after the current one; the planned
    steps of the visit move one place down."""
    later = [step for step in steps_of(uow, ticket) if step.position > ticket.current_step]
    for step in sorted(later, key=lambda item: item.position, reverse=True):
        step.position += 1
        uow.session.flush()
    step = Step(
        ticket_id=ticket.id,
        site_code=ticket.site_code,
        business_day=ticket.business_day,
        position=ticket.current_step + 1,
        queue_code=queue,
        services=list(services),
        status=NEW_STEP.value,
        recalls=0,
        keep_counter=False,
    )
    uow.session.add(step)
    ticket.current_step = step.position
    uow.session.flush()
    return step


def enqueued(step: Step) -> dict[str, object]:
    """What an event says of a step it put in a line, so the log alone can rebuild it."""
    return {"step": step.id, "queue": step.queue_code, "services": list(step.services)}


def move_ticket(ticket: Ticket, action: Action) -> str:
    """Move the ticket by the lifecycle table (LifecycleError if the table has no such move);
    returns its state before."""
    before = ticket.state
    ticket.state = ticket_after(before, action).value
    return before


def move_step(uow: UnitOfWork, step: Step, action: StepAction) -> None:
    """Move the step by the lifecycle table; a step that ends gets its outcome and end time."""
    status, outcome = step_after(step.status, action)
    step.status = status.value
    if outcome is not None:
        step.outcome = outcome.value
        step.ended_at = uow.now


def state_conflict(uow: UnitOfWork, ticket: Ticket, words: str) -> Conflict:
    """409 invalid_state, saying in words what the ticket is now and what cannot be done."""
    state = effective_state(uow, ticket)
    return Conflict(
        "号票%(number)s当前为%(state)s，不能%(action)s",
        number=ticket.number,
        state=STATE_WORDS.get(state, state),
        action=Words(words),
    )


def require_state(uow: UnitOfWork, ticket: Ticket, action: str, words: str) -> str:
    """The ticket's state now, if the action (lifecycle.ACTION_NEEDS) allows it."""
    state = effective_state(uow, ticket)
    if not allows(action, state):
        raise state_conflict(uow, ticket, words)
    return state


def ticket_changed(
    uow: UnitOfWork,
    ticket: Ticket,
    steps: list[Step] | None = None,
    *,
    counter: int | None = None,
    in_hand: bool = False,
) -> dict[str, Any]:
    """Record that the visitor's ticket changed (at `counter`, if one just had it in hand);
    returns the staff view, the use case's answer."""
    view = ticket_view(uow, ticket, staff=True, steps=steps)
    uow.happened(TicketChanged(uow.site.code, ticket.id, view, counter, in_hand))
    return view


def service_or_error(uow: UnitOfWork, code: str) -> ServiceConfig:
    service = uow.site.service(code)
    if service is None:
        raise BadRequest("没有这项业务：%(service)s", code="unknown_service", service=code)
    return service


def check_party(uow: UnitOfWork, service: ServiceConfig, party: str, headcount: int) -> None:
    """Who may come for the business, and how many: a ticket's rule, and a booking's (a
    booking becomes a ticket)."""
    if party not in service.parties:
        raise BadRequest(
            "%(service)s不能以此身份办理",
            code="party_not_allowed",
            service=Named(service.name, service.name_en),
        )
    if headcount > uow.site.policy.max_headcount:
        raise BadRequest(
            "人数不能超过%(max)s", code="invalid_field", max=uow.site.policy.max_headcount
        )


STATE_WORDS: dict[str, Words] = {
    TicketState.WAITING: NP_("ticket state", "等候中"),
    TicketState.CALLED: NP_("ticket state", "已叫号"),
    TicketState.SERVING: NP_("ticket state", "办理中"),
    TicketState.HELD: NP_("ticket state", "挂起"),
    TicketState.MISSED: NP_("ticket state", "过号"),
    TicketState.DONE: NP_("ticket state", "已办结"),
    TicketState.CANCELLED: NP_("ticket state", "已取消"),
    TicketState.EXPIRED: NP_("ticket state", "已过期"),
}
