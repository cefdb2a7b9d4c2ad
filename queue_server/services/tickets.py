"""The visitor's use cases: take a number (once: 一号到底), return, reinstate, cancel."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select

from queue_server.config import ServiceConfig
from queue_server.domain.dispatch import (
    base_placement,
    reinstate_placement,
    return_placement,
)
from queue_server.domain.identity import (
    Identity,
    IdentityError,
    ascii_form,
    parse_credit_code,
    parse_id_card,
    parse_phone,
    parse_visitor_id,
)
from queue_server.domain.lifecycle import (
    ISSUED,
    NEW_STEP,
    UNFINISHED,
    Action,
    StepAction,
    StepStatus,
    TicketState,
)
from queue_server.domain.numbering import format_number
from queue_server.domain.routing import route
from queue_server.errors import N_, BadRequest, Conflict, Named, NotFound
from queue_server.models import Step, Ticket, tickets_of_visitor
from queue_server.services import appointments, visits
from queue_server.services.hours import check_open
from queue_server.services.printing import queue_print_job
from queue_server.services.steps import (
    check_party,
    enqueue,
    enqueued,
    get_ticket,
    insert_step_after_current,
    move_step,
    move_ticket,
    next_day_value,
    require_state,
    service_or_error,
    ticket_changed,
    today,
    todays_ticket,
)
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import (
    HallState,
    current_step,
    reduced_ticket,
    steps_of,
    ticket_view,
    visible_state,
    visit_services,
)


@dataclass(frozen=True)
class IssueRequest:
    service: str
    party: str = "individual"
    headcount: int = 1
    visitor_id: str | None = None
    phone: str | None = None
    priority: str = "normal"
    kiosk: str | None = None
    reprint: bool = False  # a reused ticket is printed again only when asked
    appointment: str | None = None  # a booking's check-in code (SPEC §8)


@dataclass(frozen=True)
class IssueResult:
    ticket: dict[str, Any]
    reused: bool
    ticket_id: str
    kiosk: str | None


# A new ticket and its first step are written by Core INSERTs (issue_ticket says why).
INSERT_TICKET = insert(Ticket)
INSERT_STEP = insert(Step).returning(Step.id)
STEP_COLUMNS = tuple(column.key for column in Step.__table__.columns if column.key != "id")


def _step_row(step: Step) -> dict[str, Any]:
    """The attributes set on a new Step (unset ones keep their column defaults)."""
    return {key: step.__dict__[key] for key in STEP_COLUMNS if key in step.__dict__}


def issue_ticket(uow: UnitOfWork, request: IssueRequest) -> IssueResult:
    site = uow.site
    # [appointments] check-in by code or booked identity (services/appointments.py)
    check_in, request = appointments.check_in(uow, request)
    service = service_or_error(uow, request.service)
    check_party(uow, service, request.party, request.headcount)
    if request.kiosk is not None and site.kiosk(request.kiosk) is None:
        raise BadRequest("没有这台取号机：%(kiosk)s", code="invalid_field", kiosk=request.kiosk)
    identity, phone = _identities(uow, request)
    priority = "green" if request.priority == "green" or _green_by_age(uow, identity) else "normal"
    queue = route(site.rules(), service.category, request.party, request.headcount)
    if queue is None:
        raise BadRequest(
            "没有窗口受理%(service)s",
            code="unknown_service",
            service=Named(service.name, service.name_en),
        )
    _check_hours(uow, queue)
    pickup_of = visits.pending_visit(uow, service, identity, phone)  # [visits] 出件 of a visit

    existing = _open_ticket_of(uow, identity, phone)
    existing = existing or appointments.booked_ticket(uow, check_in)  # [appointments]
    if existing is not None and visible_state(uow, existing) == TicketState.EXPIRED:
        _expire_missed(uow, existing)  # past its grace it no longer holds the identity
        existing = None
    if existing is not None:
        _add_service_to_visit(uow, existing, service, queue)
        appointments.settle(uow, check_in, existing, new=False)  # [appointments]
        visits.link(uow, pickup_of, existing)  # [visits] the pickup as a further step
        if request.kiosk is not None and request.reprint:
            queue_print_job(uow, existing, request.kiosk, reprint=True)
        # Knowing an identity never hands over the ticket: no id, no status_url (SPEC §2).
        return IssueResult(
            reduced_ticket(ticket_view(uow, existing)),
            reused=True,
            ticket_id=existing.id,
            kiosk=request.kiosk,
        )

    _count_quota(uow, service)
    queue_config = site.queue(queue)
    assert queue_config is not None
    number = format_number(queue_config.prefix, next_day_value(uow, f"number:{queue}"))
    ticket_row = dict(
        id=secrets.token_urlsafe(16),
        site_code=site.code,
        business_day=today(uow),
        issue_queue=queue,
        number=number,
        service_code=service.code,
        party=request.party,
        headcount=request.headcount,
        priority=priority,
        state=ISSUED.value,
        current_step=1,
        identity_hash=identity.keyed_hash(uow.hall.secret) if identity else None,
        identity_masked=identity.masked() if identity else None,
        phone_hash=phone.keyed_hash(uow.hall.secret) if phone else None,
        phone_masked=phone.masked() if phone else None,
        kiosk=request.kiosk,
        issued_at=uow.now,
    )
    appointments.fill_identity(ticket_row, check_in)  # [appointments]
    visits.fill(ticket_row, pickup_of)  # [visits]
    step = Step(
        ticket_id=ticket_row["id"],
        site_code=site.code,
        business_day=ticket_row["business_day"],
        position=1,
        queue_code=queue,
        services=[service.code],
        status=NEW_STEP.value,
        recalls=0,
        keep_counter=False,
    )
    placement = appointments.placement(check_in, uow.now)  # [appointments]
    placement = visits.placement(pickup_of, uow.now) or placement  # [visits] returning
    enqueue(uow, step, placement or base_placement(priority == "green", uow.now))
    # Two Core INSERTs rather than the ORM's flush of two new objects: this is the hottest
    # write of the hall (docs/PERFORMANCE.md). The objects stay transient, for the view.
    connection = uow.session.connection()
    connection.execute(INSERT_TICKET, ticket_row)
    step.id = connection.execute(INSERT_STEP, _step_row(step)).scalar_one()
    ticket = Ticket(**ticket_row)
    uow.record(
        "issue",
        enqueued=enqueued(step),
        ticket=ticket,
        step=step,
        to_state=ticket.state,
        number=number,
        queue=queue,
        service=service.code,
        priority=priority,
        kiosk=request.kiosk,
    )
    appointments.settle(uow, check_in, ticket, new=True)  # [appointments]
    visits.link(uow, pickup_of, ticket)  # [visits]
    view = ticket_changed(uow, ticket, steps=[step])
    if request.kiosk is not None:
        # Same transaction: a committed ticket always has its job, a rolled-back one never prints.
        queue_print_job(uow, ticket, request.kiosk, view=view)
    return IssueResult(view, reused=False, ticket_id=ticket.id, kiosk=request.kiosk)


def _count_quota(uow: UnitOfWork, service: ServiceConfig) -> None:
    """409 quota_reached once the business's daily quota is taken, for a new ticket and for
    a business added to a visit alike. Counted for every business, quota or not, so a quota
    set at noon counts the morning too (a refusal rolls the count back)."""
    taken = next_day_value(uow, f"quota:{service.code}")
    if service.daily_quota is not None and taken > service.daily_quota:
        raise Conflict(
            "今日%(service)s号源已满，请明日再来",
            code="quota_reached",
            service=Named(service.name, service.name_en),
        )


GREEN_FROM_AGE = 70


def _green_by_age(uow: UnitOfWork, identity: Identity | None) -> bool:
    """A visitor whose ID card shows 70 years or more gets the green channel unasked."""
    if identity is None or identity.kind != "id_card":
        return False
    born = date(int(identity.value[6:10]), int(identity.value[10:12]), int(identity.value[12:14]))
    day = today(uow)
    age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return age >= GREEN_FROM_AGE


def _expire_missed(uow: UnitOfWork, ticket: Ticket) -> None:
    """Write the expiry of a missed ticket past its grace, which reads expired already."""
    locked = get_ticket(uow, ticket.id)
    from_state = move_ticket(locked, Action.EXPIRE)
    locked.ended_at = uow.now
    uow.record("expire", ticket=locked, from_state=from_state, to_state=locked.state)
    ticket_changed(uow, locked)


def _identities(uow: UnitOfWork, request: IssueRequest) -> tuple[Identity | None, Identity | None]:
    try:
        identity = (
            parse_visitor_id(request.visitor_id, request.party, today(uow))
            if request.visitor_id
            else None
        )
        phone = parse_phone(request.phone) if request.phone else None
    except IdentityError as error:
        raise BadRequest(error.message, code=error.code) from None
    return identity, phone


def _check_hours(uow: UnitOfWork, line: str) -> None:
    check_open(uow, line)  # 409 hall_closed outside the line's hours (the hall calendar)


def _open_ticket_of(
    uow: UnitOfWork, identity: Identity | None, phone: Identity | None
) -> Ticket | None:
    """The visitor's unfinished ticket of today, matched as `models.tickets_of_visitor` says
    (the visitor_id, else a phone-keyed ticket's phone: SPEC §2)."""
    match = tickets_of_visitor(identity, phone, uow.hall.secret)
    if match is None:
        return None
    ticket = uow.session.scalars(
        select(Ticket)
        .where(
            Ticket.site_code == uow.site.code,
            Ticket.business_day == today(uow),
            Ticket.state.in_([state.value for state in UNFINISHED]),
            match,
        )
        .order_by(Ticket.issued_at)
        .limit(1)
    ).one_or_none()
    return get_ticket(uow, ticket.id) if ticket else None


def _add_service_to_visit(
    uow: UnitOfWork, ticket: Ticket, service: ServiceConfig, queue: str
) -> None:
    """一窗通办: a business of the current step's line joins that sitting; one of another
    line becomes a further step of the same visit."""
    steps = steps_of(uow, ticket)
    if service.code in visit_services(steps):
        return
    _count_quota(uow, service)  # an added business takes a place of its quota too
    current = next(step for step in steps if step.position == ticket.current_step)
    planned = next(
        (step for step in steps if step.status == NEW_STEP and step.queue_code == queue), None
    )
    if current.queue_code == queue:  # also a held or missed step: its return copies them
        current.services = [*current.services, service.code]
        target = current
    elif planned is not None:
        planned.services = [*planned.services, service.code]
        target = planned
    else:
        target = Step(
            ticket_id=ticket.id,
            site_code=ticket.site_code,
            business_day=ticket.business_day,
            position=max(step.position for step in steps) + 1,
            queue_code=queue,
            services=[service.code],
            status=NEW_STEP.value,
            recalls=0,
            keep_counter=False,
        )
        uow.session.add(target)
    uow.session.flush()
    uow.record(
        "add_service",
        ticket=ticket,
        step=target,
        from_state=ticket.state,
        to_state=ticket.state,
        service=service.code,
        step_position=target.position,
    )
    ticket_changed(uow, ticket)


def find_ticket(uow: UnitOfWork, ticket_id: str) -> dict[str, Any]:
    ticket = get_ticket(uow, ticket_id, lock=False)
    return ticket_view(uow, ticket)


def find_by_number(uow: UnitOfWork, number: str) -> dict[str, Any]:
    ticket = todays_ticket(uow, number)
    if ticket is None:
        raise NotFound("今天没有%(number)s号", number=number)
    return ticket_view(uow, ticket, staff=True)


def cancel_ticket(uow: UnitOfWork, ticket_id: str) -> dict[str, Any]:
    ticket = get_ticket(uow, ticket_id)
    state = require_state(uow, ticket, "cancel", "取消")
    for step in steps_of(uow, ticket):
        if step.status in (StepStatus.WAITING, StepStatus.PLANNED):
            move_step(uow, step, StepAction.CANCEL)
    move_ticket(ticket, Action.CANCEL)
    ticket.ended_at = uow.now
    uow.record("cancel", ticket=ticket, from_state=state, to_state=ticket.state)
    return ticket_changed(uow, ticket)


def return_ticket(uow: UnitOfWork, ticket_id: str) -> dict[str, Any]:
    """Back from a hold (补齐材料回来): ahead of ordinary tickets within the window."""
    ticket = get_ticket(uow, ticket_id)
    require_state(uow, ticket, "return", "返回排队")
    held = current_step(uow, ticket)
    assert held.ended_at is not None
    window = timedelta(minutes=uow.site.policy.return_window_min)
    placement = return_placement(held.ended_at, window, ticket.priority == "green", uow.now)
    step = insert_step_after_current(uow, ticket, held.queue_code, held.services)
    enqueue(
        uow, step, placement, reserved_counter=held.counter_number if held.keep_counter else None
    )
    from_state = move_ticket(ticket, Action.RETURN)
    uow.record(
        "return",
        enqueued=enqueued(step),
        ticket=ticket,
        step=step,
        from_state=from_state,
        to_state=ticket.state,
        reason=placement.reason,
        reserved_counter=step.reserved_counter,
    )
    return ticket_changed(uow, ticket)


def reinstate_ticket(uow: UnitOfWork, ticket_id: str) -> dict[str, Any]:
    """A missed visitor who comes back within the grace goes behind the next few (过号重排)."""
    ticket = get_ticket(uow, ticket_id)
    require_state(uow, ticket, "reinstate", "过号重排")
    missed = current_step(uow, ticket)
    assert missed.ended_at is not None
    grace = timedelta(minutes=uow.site.policy.no_show_grace_min)
    if uow.now > missed.ended_at + grace:
        raise Conflict(
            "过号已超过%(minutes)g分钟，不能重排，请到咨询台",
            code="invalid_state",
            minutes=uow.site.policy.no_show_grace_min,
        )
    line = HallState(uow).line(missed.queue_code)
    placement = reinstate_placement(line, uow.site.policy.reinstate_after, uow.now)
    step = insert_step_after_current(uow, ticket, missed.queue_code, missed.services)
    enqueue(uow, step, placement)
    from_state = move_ticket(ticket, Action.REINSTATE)
    uow.record(
        "reinstate",
        ticket=ticket,
        step=step,
        from_state=from_state,
        to_state=ticket.state,
        enqueued=enqueued(step),
    )
    return ticket_changed(uow, ticket)


def site_of_ticket(uow: UnitOfWork, ticket_id: str) -> str | None:
    """The code of the site a ticket belongs to, whichever site `uow` is for (one look by
    primary key, not one per site: a city's deployment hosts hundreds)."""
    return uow.session.scalar(select(Ticket.site_code).where(Ticket.id == ticket_id))


# -- the kiosk's look-up (我已有号) ------------------------------------------------------


def lookup_ticket(
    uow: UnitOfWork,
    number: str,
    visitor_id: str | None,
    phone: str | None,
    *,
    kiosk: str | None = None,
    reprint: bool = False,
) -> dict[str, Any]:
    """A returning visitor's ticket by its number and the identity given at issue (the
    number alone is never a key). Wrong number and wrong identity answer alike."""
    if not visitor_id and not phone:
        raise BadRequest("请输入取号时登记的身份证号、信用代码或手机号", code="invalid_field")
    if kiosk is not None and uow.site.kiosk(kiosk) is None:
        raise BadRequest("没有这台取号机：%(kiosk)s", code="invalid_field", kiosk=kiosk)
    try:
        identity = _any_visitor_id(visitor_id, uow) if visitor_id else None
        phone_identity = parse_phone(phone) if phone else None
    except IdentityError as error:
        raise BadRequest(error.message, code=error.code) from None
    not_found = NotFound("没有找到这张号票，请核对号码和取号时登记的证件号或手机号")
    ticket = todays_ticket(uow, number)
    if ticket is None:
        raise not_found
    secret = uow.hall.secret
    if identity is not None and ticket.identity_hash != identity.keyed_hash(secret):
        raise not_found
    if phone_identity is not None and ticket.phone_hash != phone_identity.keyed_hash(secret):
        raise not_found
    if reprint:
        if kiosk is None:
            raise BadRequest("补打需要指明取号机 kiosk", code="invalid_field")
        if visible_state(uow, ticket) in UNFINISHED:
            queue_print_job(uow, get_ticket(uow, ticket.id, lock=False), kiosk, reprint=True)
    return reduced_ticket(ticket_view(uow, ticket))


def _any_visitor_id(raw: str, uow: UnitOfWork) -> Identity:
    """An ID-card number or a credit code: the shape tells which (both are 18 characters)."""
    value = ascii_form(raw, "invalid_visitor_id", N_("证件号只能包含数字和字母")).upper()
    if not (value[:17].isdigit() and (value[17:].isdigit() or value[17:] == "X")):
        return parse_credit_code(value)
    try:
        return parse_id_card(value, today(uow))
    except IdentityError as id_card_error:
        try:
            return parse_credit_code(value)  # a credit code may be all digits too
        except IdentityError:
            raise id_card_error from None
