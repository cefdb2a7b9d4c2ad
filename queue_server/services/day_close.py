"""Day close: the business day's unfinished tickets that nobody is serving expire."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from queue_server.domain.lifecycle import EXPIRES_AT_DAY_CLOSE, Action, StepAction, StepStatus
from queue_server.models import Step, Ticket
from queue_server.services.steps import move_step, move_ticket, today
from queue_server.services.unit_of_work import UnitOfWork

NOT_CALLED = (StepStatus.WAITING.value, StepStatus.PLANNED.value)


def close_day(uow: UnitOfWork, day: date | None = None) -> int:
    """Expire waiting, held and missed tickets of `day` and earlier (default: yesterday and
    earlier). Tickets in hand at a counter are left alone. Running it twice changes nothing."""
    last_day = day if day is not None else today(uow).fromordinal(today(uow).toordinal() - 1)
    tickets = list(
        uow.session.scalars(
            select(Ticket)
            .where(
                Ticket.site_code == uow.site.code,
                Ticket.business_day <= last_day,
                Ticket.state.in_([state.value for state in EXPIRES_AT_DAY_CLOSE]),
            )
            .with_for_update(skip_locked=True)
        )
    )
    for ticket in tickets:
        for step in uow.session.scalars(
            select(Step).where(Step.ticket_id == ticket.id, Step.status.in_(NOT_CALLED))
        ):
            move_step(uow, step, StepAction.EXPIRE)
        from_state = move_ticket(ticket, Action.EXPIRE)
        uow.record(
            "expire",
            ticket=ticket,
            from_state=from_state,
            to_state=ticket.state,
            business_day=ticket.business_day.isoformat(),
        )
        ticket.ended_at = uow.now
    return len(tickets)
