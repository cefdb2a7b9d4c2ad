"""Bookings (预约, SPEC §8): the slots of a day, book, cancel, the managers' list, the
no-show job, and the check-in that `issue_ticket` asks for (by code or by the booked
identity). Rules: `domain/appointments.py`; for hall managers: docs/appointments.md."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from queue_server.config import AppointmentsConfig, ServiceConfig, SiteConfig
from queue_server.domain.appointments import (
    NO_SHOW_WINDOW_DAYS,
    OPEN_STATES,
    Arrival,
    BookingState,
    Slot,
    Window,
    arrival,
    bookable_days,
    day_slots,
    is_code,
    moment,
    refused,
    state_at,
)
from queue_server.domain.calendar import CalendarUnknown, DayHours, minutes_of
from queue_server.domain.dispatch import Placement, PriorityClass, appointment_placement
from queue_server.domain.identity import Identity, IdentityError, parse_phone, parse_visitor_id
from queue_server.domain.lifecycle import UNFINISHED, StepStatus, TicketState
from queue_server.domain.routing import route
from queue_server.errors import NP_, BadRequest, Conflict, Named, NotFound, Words
from queue_server.models import Appointment, AppointmentSlot, Ticket
from queue_server.services.hours import WEEKDAYS, calendar_alert, hall_calendar
from queue_server.services.steps import (
    check_party,
    get_ticket,
    service_or_error,
    ticket_changed,
)
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import current_step

if TYPE_CHECKING:
    from queue_server.services.tickets import IssueRequest


@dataclass(frozen=True)
class BookRequest:
    service: str
    visitor_id: str
    date: date
    start: str
    party: str = "individual"
    headcount: int = 1
    phone: str | None = None


def _rules(site: SiteConfig) -> AppointmentsConfig | None:
    return site.appointments


def _bookable(uow: UnitOfWork, code: str) -> tuple[ServiceConfig, AppointmentsConfig, int]:
    """The business, the hall's booking rules and its places per slot; 400 `not_bookable`
    for a business without bookings."""
    service = service_or_error(uow, code)
    rules = _rules(uow.site)
    capacity = rules.capacity.get(service.code) if rules else None
    if rules is None or capacity is None:
        raise BadRequest(
            "%(service)s不接受预约",
            code="not_bookable",
            service=Named(service.name, service.name_en),
        )
    return service, rules, capacity


def _window(rules: AppointmentsConfig) -> Window:
    return Window(rules.early_min, rules.late_min)


def _line(uow: UnitOfWork, service: ServiceConfig, party: str, headcount: int) -> str | None:
    return route(uow.site.rules(), service.category, party, headcount)


def _hours(uow: UnitOfWork, day: date, line: str | None, *, alert: bool) -> DayHours:
    """The day's opening hours of the line; a day the calendar does not know is taken by its
    weekday (with the managers' `calendar` alert when this is a write)."""
    calendar = hall_calendar(uow)
    try:
        return calendar.hours_on(day, line)
    except CalendarUnknown as unknown:
        if alert:
            calendar_alert(uow, unknown, "开放预约")
        return calendar.hours_on(day, line, assume=True)


def _offered(uow: UnitOfWork, day: date, slots: list[Slot]) -> list[Slot]:
    """The slots still offered: today's only those not begun."""
    if day != uow.today:
        return slots
    now = uow.local_now
    minutes = now.hour * 60 + now.minute + (1 if now.second or now.microsecond else 0)
    return [slot for slot in slots if slot.start >= minutes]


def _check_day(uow: UnitOfWork, rules: AppointmentsConfig, day: date) -> None:
    if day not in bookable_days(uow.today, rules.days_ahead):
        raise BadRequest(
            "只能预约今天起%(days)s天内的日期",
            code="invalid_field",
            days=rules.days_ahead,
        )


def _end(booking: Appointment, zone: Any) -> datetime:
    return moment(booking.day, booking.end_min, zone)


def _start(booking: Appointment, zone: Any) -> datetime:
    return moment(booking.day, booking.start_min, zone)


def state_of(uow: UnitOfWork, booking: Appointment) -> BookingState:
    """The booking's state now (a no-show as soon as its time is over)."""
    rules = _rules(uow.site)
    window = _window(rules) if rules else Window(0, 0)
    return state_at(booking.state, _end(booking, uow.zone), window, uow.local_now)


def appointment_view(
    uow: UnitOfWork, booking: Appointment, *, staff: bool = False
) -> dict[str, Any]:
    """A of SPEC §8; staff also see the masked identity."""
    slot = _slot_of(booking)
    view: dict[str, Any] = {
        "id": booking.id,
        "code": booking.code,
        "service": booking.service_code,
        "date": booking.day.isoformat(),
        "start": slot.start_clock,
        "end": slot.end_clock,
        "state": state_of(uow, booking).value,
    }
    if staff:
        view["visitor_id_masked"] = booking.identity_masked
        view["phone_masked"] = booking.phone_masked
    return view


# -- slots ------------------------------------------------------------------------------
def slots(uow: UnitOfWork, service_code: str, day: date) -> dict[str, Any]:
    """The day's slots of a business with their places taken (a closed day has none)."""
    service, rules, capacity = _bookable(uow, service_code)
    _check_day(uow, rules, day)
    hours = _hours(uow, day, _line(uow, service, "individual", 1), alert=False)
    offered = _offered(uow, day, day_slots(hours, rules.slot_min))
    rows = uow.session.execute(
        select(AppointmentSlot.start_min, AppointmentSlot.booked).where(
            AppointmentSlot.site_code == uow.site.code,
            AppointmentSlot.day == day,
            AppointmentSlot.service_code == service.code,
        )
    )
    taken = {start: places for start, places in rows}
    return {
        "slots": [
            {
                "start": slot.start_clock,
                "end": slot.end_clock,
                "capacity": capacity,
                "booked": taken.get(slot.start, 0),
            }
            for slot in offered
        ]
    }


def booking_page(uow: UnitOfWork) -> dict[str, Any]:
    """What /book needs for its first paint: the bookable businesses and days."""
    rules = _rules(uow.site)
    if rules is None:
        return {"services": [], "days": []}
    return {
        "services": [code for code in rules.capacity if uow.site.service(code) is not None],
        "days": [day.isoformat() for day in bookable_days(uow.today, rules.days_ahead)],
    }


# -- book and cancel --------------------------------------------------------------------
def _identity(uow: UnitOfWork, visitor_id: str | None, phone: str | None, party: str) -> Any:
    try:
        identity = parse_visitor_id(visitor_id, party, uow.today) if visitor_id else None
        phone_identity = parse_phone(phone) if phone else None
    except IdentityError as error:
        raise BadRequest(error.message, code=error.code) from None
    return identity, phone_identity


def _slot_statement(dialect: str) -> Any:
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    return (
        insert(AppointmentSlot)
        .values(
            site_code=bindparam("site"),
            day=bindparam("day"),
            service_code=bindparam("service"),
            start_min=bindparam("start"),
            booked=1,
        )
        .on_conflict_do_update(
            index_elements=["site_code", "day", "service_code", "start_min"],
            set_={"booked": AppointmentSlot.booked + 1},
        )
        .returning(AppointmentSlot.booked)
    )


# Built once per dialect; the row is locked by this update until the commit, so bookings of
# one slot take their places one after another (PostgreSQL row lock; SQLite BEGIN IMMEDIATE).
TAKE_PLACE = {dialect: _slot_statement(dialect) for dialect in ("sqlite", "postgresql")}


def _take_place(uow: UnitOfWork, service: str, day: date, start: int) -> int:
    connection = uow.session.connection()
    params = {"site": uow.site.code, "day": day, "service": service, "start": start}
    return int(connection.execute(TAKE_PLACE[connection.dialect.name], params).scalar_one())


def _give_back_place(uow: UnitOfWork, booking: Appointment) -> None:
    row = uow.session.get(
        AppointmentSlot, (booking.site_code, booking.day, booking.service_code, booking.start_min)
    )
    if row is not None and row.booked > 0:
        row.booked -= 1


def _bookings_of(uow: UnitOfWork, identity_hash: str, since: date) -> list[Appointment]:
    return list(
        uow.session.scalars(
            select(Appointment).where(
                Appointment.site_code == uow.site.code,
                Appointment.identity_hash == identity_hash,
                Appointment.day >= since,
            )
        )
    )


def _new_code(uow: UnitOfWork, day: date) -> str:
    """Six digits that no open booking of the site and day has."""
    taken = set(
        uow.session.scalars(
            select(Appointment.code).where(
                Appointment.site_code == uow.site.code,
                Appointment.day == day,
                Appointment.state.in_(OPEN_STATES),
            )
        )
    )
    while True:
        code = f"{secrets.randbelow(10**6):06d}"
        if code not in taken:
            return code


def book(uow: UnitOfWork, request: BookRequest) -> dict[str, Any]:
    service, rules, capacity = _bookable(uow, request.service)
    check_party(uow, service, request.party, request.headcount)
    identity, phone = _identity(uow, request.visitor_id, request.phone, request.party)
    assert identity is not None  # the schema requires visitor_id
    _check_day(uow, rules, request.date)
    try:
        start = minutes_of(request.start)
    except ValueError:
        start = -1
    line = _line(uow, service, request.party, request.headcount)
    hours = _hours(uow, request.date, line, alert=True)
    slots_of_day = _offered(uow, request.date, day_slots(hours, rules.slot_min))
    slot = next((slot for slot in slots_of_day if slot.start == start), None)
    if slot is None:
        if not hours:
            raise BadRequest("%(date)s不开放预约", code="invalid_field", date=request.date)
        raise BadRequest(
            "%(date)s没有%(start)s开始的预约时段",
            code="invalid_field",
            date=request.date,
            start=request.start,
        )

    secret = uow.hall.secret
    identity_hash = identity.keyed_hash(secret)
    window_start = uow.today - timedelta(days=NO_SHOW_WINDOW_DAYS)
    earlier = _bookings_of(uow, identity_hash, window_start)
    no_shows = [b for b in earlier if b.day < uow.today + timedelta(days=1)]
    if refused(sum(state_of(uow, b) is BookingState.NO_SHOW for b in no_shows)):
        raise Conflict(
            "近%(days)s天内爽约已达%(count)s次，暂不能预约，请直接到大厅取号",
            code="booking_refused",
            days=NO_SHOW_WINDOW_DAYS,
            count=3,
        )
    for booking in earlier:
        if booking.day != request.date or booking.state not in OPEN_STATES:
            continue
        if state_of(uow, booking) is BookingState.NO_SHOW:
            _write_no_show(uow, booking)  # frees the day for a later slot
            continue
        raise Conflict(
            "您在%(date)s已有预约（%(start)s），每人每天只能预约一次",
            code="already_booked",
            date=booking.day,
            start=_slot_of(booking).start_clock,
        )

    if _take_place(uow, service.code, request.date, slot.start) > capacity:
        raise Conflict(
            "%(date)s %(start)s的预约已满，请选择其他时段",
            code="slot_full",
            date=request.date,
            start=slot.start_clock,
        )
    booking = Appointment(
        id=secrets.token_urlsafe(16),
        site_code=uow.site.code,
        day=request.date,
        start_min=slot.start,
        end_min=slot.end,
        service_code=service.code,
        party=request.party,
        headcount=request.headcount,
        code=_new_code(uow, request.date),
        state=BookingState.BOOKED.value,
        identity_hash=identity_hash,
        identity_masked=identity.masked(),
        phone_hash=phone.keyed_hash(secret) if phone else None,
        phone_masked=phone.masked() if phone else None,
        booked_at=uow.now,
    )
    uow.session.add(booking)
    uow.session.flush()
    _record(uow, booking, "appointment_book", None)
    return {"appointment": appointment_view(uow, booking)}


def _slot_of(booking: Appointment) -> Slot:
    return Slot(booking.start_min, booking.end_min)


def _record(
    uow: UnitOfWork,
    booking: Appointment,
    kind: str,
    before: str | None,
    ticket: Ticket | None = None,
) -> None:
    slot = _slot_of(booking)
    uow.record(
        kind,
        ticket=ticket,
        from_state=before,
        to_state=booking.state,
        appointment=booking.id,
        service=booking.service_code,
        date=booking.day.isoformat(),
        start=slot.start_clock,
        end=slot.end_clock,
    )


def _get(uow: UnitOfWork, appointment_id: str) -> Appointment:
    booking = uow.session.get(Appointment, appointment_id)
    if booking is None or booking.site_code != uow.site.code:
        raise NotFound("没有这个预约")
    return booking


def site_of_appointment(uow: UnitOfWork, appointment_id: str) -> str | None:
    """The code of the site a booking belongs to, whichever site `uow` is for (one look by
    primary key, not one per site; as `tickets.site_of_ticket`)."""
    return uow.session.scalar(select(Appointment.site_code).where(Appointment.id == appointment_id))


def cancel(uow: UnitOfWork, appointment_id: str) -> dict[str, Any]:
    """Until the slot starts, a booked appointment may be cancelled; its place is freed."""
    booking = _get(uow, appointment_id)
    state = state_of(uow, booking)
    if state is not BookingState.BOOKED or uow.local_now >= _start(booking, uow.zone):
        raise Conflict("预约当前为%(state)s，不能取消", state=STATE_WORDS[state])
    booking.state = BookingState.CANCELLED.value
    booking.changed_at = uow.now
    _give_back_place(uow, booking)
    uow.session.flush()
    _record(uow, booking, "appointment_cancel", state.value)
    return {"appointment": appointment_view(uow, booking)}


def day_list(uow: UnitOfWork, day: date | None) -> dict[str, Any]:
    """The managers' list of a day's bookings (default today), by slot."""
    bookings = uow.session.scalars(
        select(Appointment)
        .where(Appointment.site_code == uow.site.code, Appointment.day == (day or uow.today))
        .order_by(Appointment.start_min, Appointment.service_code, Appointment.booked_at)
    )
    return {"appointments": [appointment_view(uow, booking, staff=True) for booking in bookings]}


# -- no-shows ---------------------------------------------------------------------------
def _write_no_show(uow: UnitOfWork, booking: Appointment) -> None:
    rules = _rules(uow.site)
    late = timedelta(minutes=rules.late_min if rules else 0)
    booking.state = BookingState.NO_SHOW.value
    booking.changed_at = _end(booking, uow.zone) + late
    uow.session.flush()
    _record(uow, booking, "appointment_no_show", BookingState.BOOKED.value)


def write_no_shows(uow: UnitOfWork) -> int:
    """The scheduler's job: bookings never checked in by their slot's end + late_min become
    `no_show` (a read already says so). Only due ones still `booked`: a re-run writes nothing."""
    due = [
        booking
        for booking in uow.session.scalars(
            select(Appointment).where(
                Appointment.site_code == uow.site.code,
                Appointment.state == BookingState.BOOKED.value,
                Appointment.day <= uow.today,
            )
        )
        if state_of(uow, booking) is BookingState.NO_SHOW
    ]
    for booking in due:
        _write_no_show(uow, booking)
    return len(due)


# -- check-in (called by services/tickets.py issue_ticket) -------------------------------
@dataclass(frozen=True)
class CheckIn:
    """A booking that a ticket request checks in: on time (appointment class) or late."""

    booking: Appointment
    on_time: bool


def check_in(uow: UnitOfWork, request: IssueRequest) -> tuple[CheckIn | None, IssueRequest]:
    """The booking a ticket request checks in, if any, and the request to issue: by code
    (the booked business, party and headcount), or by the booked `visitor_id` on the booked
    day for the booked business. 404 unknown code, 409 `invalid_state` used or cancelled,
    409 `too_early` (saying when)."""
    rules = _rules(uow.site)
    code = request.appointment
    if code is not None:
        booking = _by_code(uow, code)
        request = replace(
            request,
            service=booking.service_code,
            party=booking.party,
            headcount=booking.headcount,
        )
    elif request.visitor_id and rules is not None and request.service in rules.capacity:
        found = _by_identity(uow, request)
        if found is None:
            return None, request
        booking = found
    else:
        return None, request
    assert rules is not None
    start, end = _start(booking, uow.zone), _end(booking, uow.zone)
    arrived = arrival(start, end, _window(rules), uow.local_now)
    if arrived is Arrival.TOO_EARLY:
        opens = start - timedelta(minutes=rules.early_min)
        raise Conflict(
            "预约时段为%(month)s月%(day)s日（%(weekday)s）%(start)s–%(end)s，请于%(time)s后签到",
            code="too_early",
            month=booking.day.month,
            day=booking.day.day,
            weekday=WEEKDAYS[booking.day.weekday()],
            start=_slot_of(booking).start_clock,
            end=_slot_of(booking).end_clock,
            time=opens.strftime("%H:%M"),
        )
    if arrived is Arrival.MISSED:
        if code is not None:
            raise Conflict("预约当前为%(state)s，不能签到", state=STATE_WORDS[BookingState.NO_SHOW])
        return None, request
    return CheckIn(booking, on_time=arrived is Arrival.ON_TIME), request


def _by_code(uow: UnitOfWork, code: str) -> Appointment:
    value = code.strip()
    found = list(
        uow.session.scalars(
            select(Appointment)
            .where(
                Appointment.site_code == uow.site.code,
                Appointment.code == value,
                Appointment.day >= uow.today,
            )
            .order_by(Appointment.day, Appointment.booked_at.desc())
        )
        if is_code(value)
        else ()
    )
    if not found:
        raise NotFound("没有这个预约码，请核对")
    # Today's booking with the code, else a later day's: too early while it is still booked
    # (its window says when); used or cancelled on either day: 409 `invalid_state`.
    candidates = [booking for booking in found if booking.day == uow.today] or found
    booking = next((b for b in candidates if b.state in OPEN_STATES), candidates[0])
    state = state_of(uow, booking)
    if state is not BookingState.BOOKED:
        raise Conflict("预约当前为%(state)s，不能签到", state=STATE_WORDS[state])
    return booking


def _by_identity(uow: UnitOfWork, request: IssueRequest) -> Appointment | None:
    try:
        identity: Identity = parse_visitor_id(request.visitor_id or "", request.party, uow.today)
    except IdentityError:
        return None  # issue_ticket answers the bad identity
    booking = uow.session.scalars(
        select(Appointment).where(
            Appointment.site_code == uow.site.code,
            Appointment.day == uow.today,
            Appointment.identity_hash == identity.keyed_hash(uow.hall.secret),
            Appointment.service_code == request.service,
            Appointment.state == BookingState.BOOKED.value,
        )
    ).first()
    return booking


def booked_ticket(uow: UnitOfWork, checked: CheckIn | None) -> Ticket | None:
    """The visitor's unfinished ticket of today, found by the booking's identity (a check-in
    by code gives no identity of its own)."""
    if checked is None:
        return None
    ticket = uow.session.scalars(
        select(Ticket).where(
            Ticket.site_code == uow.site.code,
            Ticket.business_day == uow.today,
            Ticket.identity_hash == checked.booking.identity_hash,
            Ticket.state.in_([state.value for state in UNFINISHED]),
        )
    ).first()
    return get_ticket(uow, ticket.id) if ticket else None


def placement(checked: CheckIn | None, now: datetime) -> Placement | None:
    """A booking checked in on time: the appointment class (reason `appointment`)."""
    return appointment_placement(now) if checked is not None and checked.on_time else None


def fill_identity(ticket_row: dict[str, Any], checked: CheckIn | None) -> None:
    """A ticket checked in by code keeps the booking's identity (one number per visitor)."""
    if checked is None:
        return
    booking = checked.booking
    if ticket_row.get("identity_hash") is None:
        ticket_row["identity_hash"] = booking.identity_hash
        ticket_row["identity_masked"] = booking.identity_masked
    if ticket_row.get("phone_hash") is None and booking.phone_hash is not None:
        ticket_row["phone_hash"] = booking.phone_hash
        ticket_row["phone_masked"] = booking.phone_masked


def settle(uow: UnitOfWork, checked: CheckIn | None, ticket: Ticket, *, new: bool) -> None:
    """The booking is `checked_in` (on time) or `late`, with its ticket. A visitor who already
    held a ticket keeps it, its waiting step raised to the appointment class when on time."""
    if checked is None:
        return
    booking = checked.booking
    before = booking.state
    booking.state = (BookingState.CHECKED_IN if checked.on_time else BookingState.LATE).value
    booking.ticket_id = ticket.id
    booking.changed_at = uow.now
    uow.session.flush()
    _record(uow, booking, "appointment_check_in", before, ticket)
    if new or not checked.on_time or ticket.state != TicketState.WAITING:
        return
    step = current_step(uow, ticket)
    if step.status == StepStatus.WAITING and step.priority_class > PriorityClass.APPOINTMENT:
        raised = appointment_placement(uow.now)
        step.priority_class = raised.priority_class
        step.sort_at = raised.sort_at
        step.reason = raised.reason
        uow.session.flush()
        ticket_changed(uow, ticket)


STATE_WORDS: dict[BookingState, Words] = {
    BookingState.BOOKED: NP_("appointment state", "已预约"),
    BookingState.CHECKED_IN: NP_("appointment state", "已签到"),
    BookingState.CANCELLED: NP_("appointment state", "已取消"),
    BookingState.LATE: NP_("appointment state", "迟到签到"),
    BookingState.NO_SHOW: NP_("appointment state", "爽约"),
}
