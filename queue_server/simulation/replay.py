"""A recorded day as the simulator's visits: each ticket as it was taken, its businesses,
and the counter time each business really took."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server.config import SiteConfig
from queue_server.models import Step, Ticket
from queue_server.simulation.engine import Visit


def day_visits(session: Session, site: SiteConfig, business_day: date) -> list[Visit]:
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.site_code == site.code, Ticket.business_day == business_day)
        .order_by(Ticket.issued_at, Ticket.number)
    ).all()
    steps: dict[str, list[Step]] = {}
    for step in session.scalars(
        select(Step)
        .where(Step.site_code == site.code, Step.business_day == business_day)
        .order_by(Step.ticket_id, Step.position)
    ):
        steps.setdefault(step.ticket_id, []).append(step)
    visits = []
    for ticket in tickets:
        services: list[str] = [ticket.service_code]
        recorded: dict[str, tuple[float, float]] = {}
        for step in steps.get(ticket.id, []):
            for code in step.services:
                if code not in services:
                    services.append(code)
            if step.called_at is None or step.ended_at is None or not step.services:
                continue
            began = step.started_at or step.called_at
            walk = (began - step.called_at).total_seconds()
            service = (step.ended_at - began).total_seconds() / len(step.services)
            for code in step.services:
                # A business served more than once (a hold, a transfer): its last episode
                # that ended done, else its last one.
                if step.outcome == "done" or code not in recorded:
                    recorded[code] = (walk, service)
        visits.append(
            Visit(
                at=ticket.issued_at,
                service=ticket.service_code,
                party=ticket.party,
                headcount=ticket.headcount,
                green=ticket.priority == "green",
                further=tuple(services[1:]),
                recorded=recorded,
            )
        )
    return visits
