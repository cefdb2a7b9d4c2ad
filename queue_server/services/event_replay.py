"""Rebuild the report facts from the event log alone (SPEC §2: statistics are computable
from events alone): every step's (the `/stats` rows), every ticket's of a visit across days
(`/stats/visits`) and the bookings' (`/stats/appointments`). Reports read the tables for
speed; this replay is the proof that the log holds the same facts, and a way to audit or
rebuild them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.config import SiteConfig
from queue_server.domain.appointments import Window, moment, state_at
from queue_server.domain.calendar import minutes_of
from queue_server.domain.lifecycle import TicketState, state_as_read
from queue_server.domain.reporting import whole_seconds
from queue_server.manager.stats import StepFacts
from queue_server.manager.visit_stats import TicketFacts

ENDING = {"no_show": "no_show", "hold": "held"}


def facts_from_events(events: Iterable[Mapping[str, Any]], zone: ZoneInfo) -> list[StepFacts]:
    """`events` in seq order, as GET /api/v1/events gives them (times in ISO 8601)."""
    steps: dict[int, dict[str, Any]] = {}
    visits: dict[str, tuple[int, datetime]] = {}  # ticket → its first step, issued at

    def put_in_line(info: Mapping[str, Any], at: datetime) -> None:
        steps[int(info["step"])] = {
            "business_day": at.astimezone(zone).date(),
            "queue_code": info["queue"],
            "services": list(info["services"]),
            "counter_number": None,
            "clerk_username": None,
            "enqueued_at": at,
            "called_at": None,
            "started_at": None,
            "ended_at": None,
            "outcome": None,
            "rating": None,
            "first_of_visit": False,
            "visit_s": None,
        }

    def end(step_id: int, at: datetime, outcome: str) -> None:
        if step_id in steps:
            steps[step_id].update(ended_at=at, outcome=outcome)

    for event in events:
        at = datetime.fromisoformat(event["at"])
        detail = event["detail"]
        kind = event["kind"]
        step_id = int(event.get("step_id") or 0)  # 0: an event of no step
        if kind == "transfer":
            end(int(detail["ended_step"]), at, "transferred")
        if kind == "finish":
            end(step_id, at, detail["outcome"])
            steps[step_id]["services"] = list(detail["services"])
            visit = visits.get(event["ticket_id"])
            if event["to"] == TicketState.DONE and visit is not None:  # the visit ended done
                first, issued_at = visit
                steps[first]["visit_s"] = whole_seconds(at, issued_at)
        if detail.get("enqueued"):
            put_in_line(detail["enqueued"], at)
        if kind == "issue":  # a number taken: the ticket's first step
            visits[event["ticket_id"]] = (step_id, at)
            steps[step_id]["first_of_visit"] = True
        if kind == "add_service" and step_id in steps:
            steps[step_id]["services"].append(detail["service"])
        elif kind == "call":
            if step_id not in steps:  # put in line and called at once (指呼 of a held ticket)
                put_in_line({"step": step_id, **detail}, at)
            steps[step_id].update(
                called_at=at, counter_number=event["counter"], clerk_username=detail["clerk"]
            )
        elif kind == "start":
            steps[step_id]["started_at"] = at
        elif kind in ENDING:
            end(step_id, at, ENDING[kind])
        elif kind == "rate" and step_id in steps:
            steps[step_id]["rating"] = detail["rating"]
    return [StepFacts(**facts) for facts in steps.values()]


def tickets_from_events(
    events: Iterable[Mapping[str, Any]], site: SiteConfig, now: datetime
) -> list[TicketFacts]:
    """Every ticket's facts for the visits report, each state as it reads at `now` (SPEC
    §2: left waiting, held or missed on an earlier day, or missed past the grace: expired)."""
    zone = site.zone
    tickets: dict[str, TicketFacts] = {}
    missed_at: dict[str, datetime] = {}
    for event in events:
        ticket_id = event.get("ticket_id")
        kind = event["kind"]
        if not ticket_id or kind.startswith("appointment_"):  # a booking's state, not T's
            continue
        at = datetime.fromisoformat(event["at"])
        detail = event["detail"]
        if kind == "issue":
            tickets[ticket_id] = TicketFacts(
                id=ticket_id,
                number=detail["number"],
                business_day=at.astimezone(zone).date(),
                service=detail["service"],
                issued_at=at,
                state=event["to"],
                done_at=None,
            )
            continue
        ticket = tickets.get(ticket_id)
        if ticket is None:
            continue
        if event["to"]:
            ticket = replace(ticket, state=event["to"])
        if event["to"] == TicketState.DONE and event["from"] != TicketState.DONE:
            ticket = replace(ticket, done_at=at)
        if kind == "finish" and detail.get("pickup_on"):
            ticket = replace(ticket, pickup_on=date.fromisoformat(detail["pickup_on"]))
        if kind == "visit_link" and ticket.visit_of is None:
            ticket = replace(ticket, visit_of=detail["visit_of"])
        if event["to"] == TicketState.MISSED:
            missed_at[ticket_id] = at
        tickets[ticket_id] = ticket
    today = now.astimezone(zone).date()
    grace = timedelta(minutes=site.policy.no_show_grace_min)
    return [
        replace(
            ticket,
            state=state_as_read(
                ticket.state,
                ticket.business_day,
                missed_at.get(ticket.id),
                today=today,
                now=now,
                grace=grace,
            ),
        )
        for ticket in tickets.values()
    ]


def bookings_from_events(
    events: Iterable[Mapping[str, Any]], site: SiteConfig, now: datetime
) -> list[tuple[str, date, str]]:
    """(business, day, state as it reads at `now`) of every booking: its last `appointment_*`
    event's state, a no-show once its slot and `late_min` are over (as every time rule)."""
    bookings: dict[str, tuple[str, date, str, str]] = {}
    for event in events:
        if event["kind"].startswith("appointment_"):
            detail = event["detail"]
            bookings[detail["appointment"]] = (
                detail["service"],
                date.fromisoformat(detail["date"]),
                detail["end"],
                event["to"],
            )
    rules = site.appointments
    window = Window(rules.early_min, rules.late_min) if rules else Window(0, 0)
    local_now = now.astimezone(site.zone)
    return [
        (
            service,
            day,
            state_at(state, moment(day, minutes_of(end), site.zone), window, local_now).value,
        )
        for service, day, end, state in bookings.values()
    ]


def issued_from_events(
    events: Iterable[Mapping[str, Any]], zone: ZoneInfo
) -> list[tuple[str, date]]:
    """(business asked for, business day) of every number taken."""
    return [
        (event["detail"]["service"], datetime.fromisoformat(event["at"]).astimezone(zone).date())
        for event in events
        if event["kind"] == "issue"
    ]
