"""Visits across days (SPEC §8, 统一出证): 受理 today, 出件 on a later working day.

- A clerk's `finish {pickup_on}` ends the visit (`done`) and records the day its pickup
  waits for (`tickets.pickup_on`; T `pickup_on`). It must be a future working day of the
  hall calendar, else 400 `invalid_field`.
- On or after that day, a ticket asked for a business of the `pickup` category (出件领证)
  with the same identity (the `visitor_id`'s keyed hash, or the phone's for a visit keyed by
  a phone only, exactly as the one-number policy matches) is linked to the visit
  (`tickets.visit_of`; T `visit_of: {number, date}`) and waits with returning priority
  (reason `next_step`). A visitor who already holds an unfinished ticket that day gets the
  pickup as a further step of it, and that ticket is the one linked.
- A visit's pickup is open until a linked ticket ends `done`; a linked ticket of an earlier
  day that never got done leaves it open for the next day.
`issue_ticket` calls `pending_visit`, `placement`, `fill` and `link` (lines marked
`[visits]`); `counters.finish` calls `check_pickup_on`. For hall managers:
docs/appointments.md, "Visits across days".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from queue_server.config import ServiceConfig
from queue_server.domain.calendar import CalendarUnknown
from queue_server.domain.dispatch import Placement, returning_placement
from queue_server.domain.identity import Identity
from queue_server.domain.lifecycle import UNFINISHED, TicketState
from queue_server.errors import BadRequest
from queue_server.models import Ticket, tickets_of_visitor
from queue_server.services.hours import calendar_alert, hall_calendar
from queue_server.services.unit_of_work import UnitOfWork

PICKUP_CATEGORY = "pickup"
# A pickup is days or weeks away; a year covers next January's when the calendar of that
# year is not yet published, and keeps a typo (9999) from reaching visitors and alerts.
PICKUP_HORIZON_DAYS = 366


def check_pickup_on(uow: UnitOfWork, day: date, outcome: str) -> None:
    """400 `invalid_field` unless `day` is a future working day of the hall calendar within
    `PICKUP_HORIZON_DAYS` (a year the calendar does not know is taken by its weekday, with
    the managers' `calendar` alert) and the step ends `done`."""
    if outcome != TicketState.DONE:
        raise BadRequest("只有办结的业务才能约定出件日期", code="invalid_field")
    # The calendar is asked last: a day refused by the date alone (today, a past one, one past
    # the horizon) never looks up, nor alerts about, a year the calendar does not know.
    if day <= uow.today:
        _not_a_working_day(day)
    last = uow.today + timedelta(days=PICKUP_HORIZON_DAYS)
    if day > last:
        raise BadRequest(
            "出件日期最迟为一年以内：%(last)s", code="invalid_field", last=last.isoformat()
        )
    calendar = hall_calendar(uow)
    try:
        working = calendar.is_working_day(day)
    except CalendarUnknown as unknown:
        calendar_alert(uow, unknown, "约定出件日期")
        working = calendar.is_working_day(day, assume=True)
    if not working:
        _not_a_working_day(day)


def _not_a_working_day(day: date) -> NoReturn:
    raise BadRequest(
        "出件日期应为今天以后的工作日：%(day)s", code="invalid_field", day=day.isoformat()
    )


def pending_visit(
    uow: UnitOfWork, service: ServiceConfig, identity: Identity | None, phone: Identity | None
) -> Ticket | None:
    """The visitor's visit whose pickup is due today or earlier and not yet collected, when
    a pickup business is asked for (the earliest such visit), else None."""
    if service.category != PICKUP_CATEGORY:
        return None
    match = tickets_of_visitor(identity, phone, uow.hall.secret)
    if match is None:
        return None
    pickup = aliased(Ticket)
    collected = exists().where(
        pickup.visit_of == Ticket.id,
        or_(
            pickup.state == TicketState.DONE.value,
            and_(
                pickup.business_day == uow.today,
                pickup.state.in_([state.value for state in UNFINISHED]),
            ),
        ),
    )
    return uow.session.scalars(
        select(Ticket)
        .where(
            Ticket.site_code == uow.site.code,
            Ticket.pickup_on.is_not(None),
            Ticket.pickup_on <= uow.today,
            Ticket.state == TicketState.DONE.value,
            match,
            ~collected,
        )
        .order_by(Ticket.pickup_on, Ticket.issued_at)
        .limit(1)
    ).one_or_none()


def placement(visit: Ticket | None, now: datetime) -> Placement | None:
    """A pickup ticket of a visit waits as the visit's next step (returning, `next_step`)."""
    return returning_placement("next_step", now) if visit is not None else None


def fill(ticket_row: dict[str, Any], visit: Ticket | None) -> None:
    """A new pickup ticket names the visit it belongs to."""
    if visit is not None:
        ticket_row["visit_of"] = visit.id


def link(uow: UnitOfWork, visit: Ticket | None, ticket: Ticket) -> None:
    """Record that `ticket` carries the pickup of `visit` (a ticket carries one visit's: a
    ticket already linked keeps its link, and the other visit's pickup stays open)."""
    if visit is None:
        return
    if ticket.visit_of is None:
        ticket.visit_of = visit.id
    if ticket.visit_of != visit.id:
        return
    uow.record(
        "visit_link",
        ticket=ticket,
        from_state=ticket.state,
        to_state=ticket.state,
        visit_of=visit.id,
        visit_number=visit.number,
        visit_date=visit.business_day.isoformat(),
    )
