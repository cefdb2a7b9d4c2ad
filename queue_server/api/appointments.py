"""Bookings (预约, SPEC §8): the slots of a day, book, cancel, the managers' list, and the
managers' reports of bookings and of visits across days."""

from __future__ import annotations

from typing import Any

from queue_server.api import (
    current_user,
    operation,
    parse_body,
    parse_query,
    public_site,
    staff_site,
)
from queue_server.api.schemas import (
    AppointmentEnvelope,
    AppointmentsOut,
    AppointmentsQuery,
    AppointmentStatsOut,
    AppointmentStatsQuery,
    BookIn,
    EmptyIn,
    SlotsOut,
    SlotsQuery,
    VisitsOut,
    VisitsQuery,
)
from queue_server.app_context import yihao
from queue_server.config import SiteConfig
from queue_server.errors import NotFound
from queue_server.manager import visit_stats
from queue_server.services import appointments


@operation(
    "GET",
    "/appointments/slots",
    "A business's booking slots of a day, with the places taken",
    query=SlotsQuery,
    response=SlotsOut,
    tag="appointments",
    errors=(400,),
)
def slots() -> Any:
    query = parse_query(SlotsQuery)
    site = public_site(query.site)
    return yihao().read(site, appointments.slots, query.service, query.date)


@operation(
    "POST",
    "/appointments",
    "Book a slot (one open booking per visitor per day)",
    body=BookIn,
    response=AppointmentEnvelope,
    status=201,
    tag="appointments",
    errors=(400, 409),
)
def book() -> Any:
    body = parse_body(BookIn)
    site = public_site(body.site)
    request_ = appointments.BookRequest(
        service=body.service,
        visitor_id=body.visitor_id,
        date=body.date,
        start=body.start,
        party=body.party,
        headcount=body.headcount,
        phone=body.phone,
    )
    return yihao().run(site, "visitor", appointments.book, request_), 201


def _appointment_site(appointment_id: str) -> SiteConfig:
    site = yihao().site_holding(appointments.site_of_appointment, appointment_id)
    if site is None:
        raise NotFound("没有这个预约")
    return site


@operation(
    "POST",
    "/appointments/{appointment_id}/cancel",
    "Cancel a booking (until its slot starts)",
    body=EmptyIn,
    response=AppointmentEnvelope,
    tag="appointments",
    errors=(404, 409),
)
def cancel(appointment_id: str) -> Any:
    parse_body(EmptyIn)
    site = _appointment_site(appointment_id)
    return yihao().run(site, "visitor", appointments.cancel, appointment_id)


@operation(
    "GET",
    "/appointments",
    "Managers: a day's bookings by slot, with the masked identity",
    query=AppointmentsQuery,
    response=AppointmentsOut,
    auth="manager",
    tag="appointments",
    errors=(400,),
)
def day_list() -> Any:
    user = current_user("manager", "admin")
    site = staff_site(user)
    query = parse_query(AppointmentsQuery)
    return yihao().read(site, appointments.day_list, query.date)


# -- reports (manager/visit_stats.py; docs/manager.md) ------------------------------------
@operation(
    "GET",
    "/stats/appointments",
    "Managers: bookings per business or day, their share of the numbers taken, on-time rate",
    query=AppointmentStatsQuery,
    response=AppointmentStatsOut,
    auth="manager",
    tag="manager",
    errors=(400, 401, 403),
)
def appointments_report() -> Any:
    user = current_user("manager", "admin")
    query = parse_query(AppointmentStatsQuery)
    return yihao().read(
        staff_site(user),
        visit_stats.appointments_report,
        query.group,
        query.from_,
        query.to,
        query.lang,
    )


@operation(
    "GET",
    "/stats/visits",
    "Managers: visits whose pickup waited for a later day, with the time from 受理 to 出件",
    query=VisitsQuery,
    response=VisitsOut,
    auth="manager",
    tag="manager",
    errors=(400, 401, 403),
)
def visits_report() -> Any:
    user = current_user("manager", "admin")
    query = parse_query(VisitsQuery)
    return yihao().read(staff_site(user), visit_stats.visits_report, query.from_, query.to)
