"""Two reports beside the step rows of `stats.py` (docs/manager.md):

- `visits_report`: the visits whose pickup waited for a later day (finish {pickup_on}), each
  with its pickup ticket (`tickets.visit_of`) and the total time from 受理 (the visit's
  issue) to 出件 (the end of the pickup ticket that ended done).
- `appointments_report`: per business or per day, the bookings and how they came (on time
  `checked_in`, `late`, `no_show`, `cancelled`), the appointment share of the numbers taken
  and the on-time rate of the check-ins.

Both read tables the event log also carries (`finish` has `pickup_on`, `visit_link` the
link; bookings are their own table); the step rows and their replay are unchanged.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select

from queue_server.domain.appointments import BookingState
from queue_server.domain.lifecycle import TicketState
from queue_server.domain.reporting import whole_seconds
from queue_server.errors import BadRequest
from queue_server.manager.stats import key_name, parse_range
from queue_server.models import Appointment, Ticket
from queue_server.services.appointments import state_of
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import local_iso

APPOINTMENT_GROUPS = ("service", "day")


def visits_report(uow: UnitOfWork, start: date | None, end: date | None) -> dict[str, Any]:
    """The visits accepted in [from, to] whose pickup waited for a later day."""
    first, last = parse_range(uow, start, end)
    visits = list(
        uow.session.scalars(
            select(Ticket)
            .where(
                Ticket.site_code == uow.site.code,
                Ticket.pickup_on.is_not(None),
                Ticket.business_day.between(first, last),
            )
            .order_by(Ticket.business_day, Ticket.issued_at)
        )
    )
    pickups: dict[str, Ticket] = {}
    if visits:
        for linked in uow.session.scalars(
            select(Ticket)
            .where(Ticket.visit_of.in_([visit.id for visit in visits]))
            .order_by(Ticket.issued_at)
        ):
            assert linked.visit_of is not None
            held = pickups.get(linked.visit_of)
            if held is None or held.state != TicketState.DONE:  # the one done, else the last
                pickups[linked.visit_of] = linked
    rows = []
    totals = []
    for visit in visits:
        pickup = pickups.get(visit.id)
        total_s = None
        if pickup is not None and pickup.state == TicketState.DONE and pickup.ended_at:
            total_s = whole_seconds(pickup.ended_at, visit.issued_at)
            totals.append(total_s)
        assert visit.pickup_on is not None
        rows.append(
            {
                "number": visit.number,
                "date": visit.business_day.isoformat(),
                "service": visit.service_code,
                "issued_at": local_iso(uow.site, visit.issued_at),
                "accepted_at": local_iso(uow.site, visit.ended_at),
                "pickup_on": visit.pickup_on.isoformat(),
                "pickup": None
                if pickup is None
                else {
                    "number": pickup.number,
                    "date": pickup.business_day.isoformat(),
                    "state": pickup.state,
                    "issued_at": local_iso(uow.site, pickup.issued_at),
                    "ended_at": local_iso(uow.site, pickup.ended_at),
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
    if group not in APPOINTMENT_GROUPS:
        raise BadRequest(
            "group 应为 %(choices)s 之一",
            code="invalid_field",
            choices="|".join(APPOINTMENT_GROUPS),
        )
    first, last = parse_range(uow, start, end)
    key_column = Ticket.service_code if group == "service" else Ticket.business_day
    tickets: dict[str, int] = {
        str(key): count
        for key, count in uow.session.execute(
            select(key_column, func.count())
            .where(Ticket.site_code == uow.site.code, Ticket.business_day.between(first, last))
            .group_by(key_column)
        )
    }
    states: dict[str, Counter[str]] = defaultdict(Counter)
    for booking in uow.session.scalars(
        select(Appointment).where(
            Appointment.site_code == uow.site.code, Appointment.day.between(first, last)
        )
    ):
        key = booking.service_code if group == "service" else booking.day.isoformat()
        states[key][state_of(uow, booking).value] += 1
    rows = []
    overall: Counter[str] = Counter()
    for key in sorted(set(tickets) | set(states)):
        row = _appointment_row(key, tickets.get(key, 0), states[key])
        overall.update(states[key])
        row["name"] = key_name(uow, group, key, lang)
        rows.append(row)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "group": group,
        "rows": rows,
        "total": _appointment_row("total", sum(tickets.values()), overall),
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
