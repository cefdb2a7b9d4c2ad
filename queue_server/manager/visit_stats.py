"""Two reports beside the step rows of `stats.py` (docs/manager.md):

- `visits_report`: the visits whose pickup waited for a later day (finish {pickup_on}), each
  with its pickup ticket (`tickets.visit_of`) and the total time from 受理 (the visit's
  issue) to 出件 (the end of the pickup ticket that ended done).
- `appointments_report`: per business or per day, the bookings and how they came (on time
  `checked_in`, `late`, `no_show`, `cancelled`), the appointment share of the numbers taken
  and the on-time rate of the check-ins.

Both read tables the event log also carries (`issue`, `finish` with `pickup_on`,
`visit_link`, the `appointment_*` events), with the states as they read now (SPEC §2: a
ticket left waiting on an earlier day reads expired, a booking past its time no_show, before
any job has written it). `services/event_replay.py` rebuilds both from the log alone into
the same `visits_summary` / `appointments_summary`, and a test holds the two equal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select

from queue_server.config import SiteConfig
from queue_server.domain.appointments import BookingState
from queue_server.domain.lifecycle import TicketState
from queue_server.domain.reporting import whole_seconds
from queue_server.errors import BadRequest
from queue_server.manager.stats import key_name, parse_range
from queue_server.models import Appointment, Ticket
from queue_server.services.appointments import state_of
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import local_iso, visible_state

APPOINTMENT_GROUPS = ("service", "day")


@dataclass(frozen=True)
class TicketFacts:
    """What the visits report needs of a ticket, from its row or from the event log."""

    id: str
    number: str
    business_day: date
    service: str
    issued_at: datetime
    state: str  # as it reads now (SPEC §2)
    done_at: datetime | None  # when it ended done (a visit's 受理, a pickup's 出件)
    pickup_on: date | None = None
    visit_of: str | None = None


def visits_report(uow: UnitOfWork, start: date | None, end: date | None) -> dict[str, Any]:
    """The visits accepted in [from, to] whose pickup waited for a later day."""
    first, last = parse_range(uow, start, end)
    visit_ids = select(Ticket.id).where(
        Ticket.site_code == uow.site.code,
        Ticket.pickup_on.is_not(None),
        Ticket.business_day.between(first, last),
    )
    tickets = uow.session.scalars(
        select(Ticket).where(or_(Ticket.id.in_(visit_ids), Ticket.visit_of.in_(visit_ids)))
    )
    return visits_summary(uow.site, first, last, (_ticket_facts(uow, row) for row in tickets))


def _ticket_facts(uow: UnitOfWork, ticket: Ticket) -> TicketFacts:
    state = visible_state(uow, ticket)
    return TicketFacts(
        id=ticket.id,
        number=ticket.number,
        business_day=ticket.business_day,
        service=ticket.service_code,
        issued_at=ticket.issued_at,
        state=state,
        done_at=ticket.ended_at if state == TicketState.DONE else None,
        pickup_on=ticket.pickup_on,
        visit_of=ticket.visit_of,
    )


def visits_summary(
    site: SiteConfig, first: date, last: date, tickets: Iterable[TicketFacts]
) -> dict[str, Any]:
    """The visits report of [first, last] from the facts of the visits and of every ticket
    linked to one (others are left out)."""
    known = list(tickets)
    visits = sorted(
        (
            ticket
            for ticket in known
            if ticket.pickup_on is not None and first <= ticket.business_day <= last
        ),
        key=lambda ticket: (ticket.business_day, ticket.issued_at, ticket.number),
    )
    pickups: dict[str, TicketFacts] = {}
    ids = {visit.id for visit in visits}
    for linked in sorted(known, key=lambda ticket: (ticket.issued_at, ticket.number)):
        if linked.visit_of not in ids:
            continue
        held = pickups.get(linked.visit_of)
        if held is None or held.state != TicketState.DONE:  # the one done, else the last
            pickups[linked.visit_of] = linked
    rows = []
    totals = []
    for visit in visits:
        pickup = pickups.get(visit.id)
        total_s = None
        if pickup is not None and pickup.done_at is not None:
            total_s = whole_seconds(pickup.done_at, visit.issued_at)
            totals.append(total_s)
        assert visit.pickup_on is not None
        rows.append(
            {
                "number": visit.number,
                "date": visit.business_day.isoformat(),
                "service": visit.service,
                "issued_at": local_iso(site, visit.issued_at),
                "accepted_at": local_iso(site, visit.done_at),
                "pickup_on": visit.pickup_on.isoformat(),
                "pickup": None
                if pickup is None
                else {
                    "number": pickup.number,
                    "date": pickup.business_day.isoformat(),
                    "state": pickup.state,
                    "issued_at": local_iso(site, pickup.issued_at),
                    "ended_at": local_iso(site, pickup.done_at),
                },
                "total_s": total_s,
            }
        )
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "rows": rows,
        "total": {
            "visits": len(rows),
            "picked_up": len(totals),
            "avg_total_s": round(sum(totals) / len(totals)) if totals else None,
        },
    }


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def appointments_report(
    uow: UnitOfWork, group: str, start: date | None, end: date | None, lang: str = "zh"
) -> dict[str, Any]:
    """Per business (`service`) or per day (`day`) over [from, to]: `tickets` numbers taken
    for it (by the business asked for); bookings by state now (`no_show` as soon as a slot is
    over, as every time rule); `share_pct` = check-ins (on time or late) ÷ numbers taken;
    `on_time_pct` = on-time check-ins ÷ check-ins (null without any)."""
    check_appointment_group(group)
    first, last = parse_range(uow, start, end)
    tickets = uow.session.execute(
        select(Ticket.service_code, Ticket.business_day).where(
            Ticket.site_code == uow.site.code, Ticket.business_day.between(first, last)
        )
    )
    bookings = (
        (booking.service_code, booking.day, state_of(uow, booking).value)
        for booking in uow.session.scalars(
            select(Appointment).where(
                Appointment.site_code == uow.site.code, Appointment.day.between(first, last)
            )
        )
    )
    report = appointments_summary(group, first, last, tickets, bookings)
    for row in report["rows"]:
        row["name"] = key_name(uow, group, row["key"], lang)
    return report


def check_appointment_group(group: str) -> None:
    if group not in APPOINTMENT_GROUPS:
        raise BadRequest(
            "group 应为 %(choices)s 之一",
            code="invalid_field",
            choices="|".join(APPOINTMENT_GROUPS),
        )


def appointments_summary(
    group: str,
    first: date,
    last: date,
    tickets: Iterable[tuple[str, date]],
    bookings: Iterable[tuple[str, date, str]],
) -> dict[str, Any]:
    """The appointments report of [first, last] from the numbers taken (business asked for,
    business day) and the bookings (business, day, state as it reads now)."""

    def key_of(service: str, day: date) -> str:
        return service if group == "service" else day.isoformat()

    taken: Counter[str] = Counter(
        key_of(service, day) for service, day in tickets if first <= day <= last
    )
    states: dict[str, Counter[str]] = defaultdict(Counter)
    for service, day, state in bookings:
        if first <= day <= last:
            states[key_of(service, day)][state] += 1
    rows = []
    overall: Counter[str] = Counter()
    for key in sorted(set(taken) | set(states)):
        rows.append(_appointment_row(key, taken[key], states[key]))
        overall.update(states[key])
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "group": group,
        "rows": rows,
        "total": _appointment_row("total", sum(taken.values()), overall),
    }


def _appointment_row(key: str, tickets: int, states: Counter[str]) -> dict[str, Any]:
    on_time = states[BookingState.CHECKED_IN.value]
    late = states[BookingState.LATE.value]
    return {
        "key": key,
        "tickets": tickets,
        "booked": sum(states.values()) - states[BookingState.CANCELLED.value],
        "checked_in": on_time,
        "late": late,
        "no_show": states[BookingState.NO_SHOW.value],
        "cancelled": states[BookingState.CANCELLED.value],
        "share_pct": _pct(on_time + late, tickets),
        "on_time_pct": _pct(on_time, on_time + late),
    }
