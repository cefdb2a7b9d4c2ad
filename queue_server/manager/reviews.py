"""差评整改: bad ratings and their follow-up (assign, note, close), due 15 working days after
the rating by the hall calendar (domain/calendar.py: public holidays off, make-up workdays on,
from the `chinese-calendar` library and the hall file). A due date that needs a day the
calendar does not know counts Monday to Friday there (the `calendar` alert tells managers;
services/hours.py).

A rating of 1–2 is a follow-up item from the moment it is given (the step is the item, its
id the item's id); a `review_follow_ups` row holds what managers did with it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from queue_server.domain.calendar import HallCalendar
from queue_server.errors import BadRequest, Conflict, NotFound
from queue_server.manager.models import ReviewFollowUp
from queue_server.models import Step, Ticket
from queue_server.services.hours import hall_calendar, review_due_date, working_days_left
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import business_day, local_iso

BAD_RATING_MAX = 2
REVIEWS_PAGE = 500
STATES = ("open", "assigned", "closed", "overdue")


def _item(
    uow: UnitOfWork,
    step: Step,
    ticket: Ticket,
    follow_up: ReviewFollowUp | None,
    calendar: HallCalendar | None = None,
) -> dict[str, Any]:
    assert step.rated_at is not None
    calendar = calendar or hall_calendar(uow)
    rated_on = business_day(uow.site, step.rated_at)
    due, _ = review_due_date(calendar, rated_on)
    today = business_day(uow.site, uow.now)
    state = follow_up.state if follow_up else "open"
    clerk = uow.hall.config.user(step.clerk_username) if step.clerk_username else None
    return {
        "id": step.id,
        "rating": step.rating,
        "reasons": list(step.rating_reasons or []),
        "rated_at": local_iso(uow.site, step.rated_at),
        "number": ticket.number,
        "ticket_id": ticket.id,
        "business_day": step.business_day.isoformat(),
        "queue": step.queue_code,
        "services": list(step.services),
        "counter": step.counter_number,
        "clerk": step.clerk_username,
        "clerk_name": clerk.name if clerk else None,
        "clerk_no": clerk.clerk_no if clerk else None,
        "called_at": local_iso(uow.site, step.called_at),
        "ended_at": local_iso(uow.site, step.ended_at),
        "state": state,
        "assignee": follow_up.assignee if follow_up else None,
        "note": follow_up.note if follow_up else None,
        "updated_at": local_iso(uow.site, follow_up.updated_at) if follow_up else None,
        "updated_by": follow_up.updated_by if follow_up else None,
        "closed_at": local_iso(uow.site, follow_up.closed_at) if follow_up else None,
        "closed_by": follow_up.closed_by if follow_up else None,
        "due": due.isoformat(),
        "overdue": state != "closed" and today > due,
        "working_days_left": working_days_left(calendar, today, due),
    }


def list_reviews(
    uow: UnitOfWork,
    rating_max: int = BAD_RATING_MAX,
    state: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[dict[str, Any]]:
    """Rated steps with rating ≤ rating_max, newest first, with their follow-up; `state`
    filters open | assigned | closed | overdue; from/to by the business day."""
    if state is not None and state not in STATES:
        raise BadRequest(
            "state 应为 %(choices)s 之一", code="invalid_field", choices="|".join(STATES)
        )
    query = (
        select(Step, Ticket, ReviewFollowUp)
        .join(Ticket, Ticket.id == Step.ticket_id)
        .outerjoin(ReviewFollowUp, ReviewFollowUp.step_id == Step.id)
        .where(
            Step.site_code == uow.site.code,
            Step.rating.is_not(None),
            Step.rating <= rating_max,
        )
        .order_by(Step.rated_at.desc(), Step.id.desc())
        .limit(REVIEWS_PAGE)
    )
    if start is not None:
        query = query.where(Step.business_day >= start)
    if end is not None:
        query = query.where(Step.business_day <= end)
    calendar = hall_calendar(uow)
    items = [
        _item(uow, step, ticket, follow_up, calendar)
        for step, ticket, follow_up in uow.session.execute(query)
    ]
    if state == "overdue":
        return [item for item in items if item["overdue"]]
    if state is not None:
        return [item for item in items if item["state"] == state]
    return items


def _bad_review(uow: UnitOfWork, step_id: int) -> tuple[Step, Ticket, ReviewFollowUp]:
    step = uow.session.get(Step, step_id)
    if (
        step is None
        or step.site_code != uow.site.code
        or step.rating is None
        or step.rating > BAD_RATING_MAX
    ):
        raise NotFound("没有这条差评")
    ticket = uow.session.get(Ticket, step.ticket_id)
    assert ticket is not None
    follow_up = uow.session.get(ReviewFollowUp, step_id, with_for_update=True)
    if follow_up is None:
        follow_up = ReviewFollowUp(
            step_id=step.id,
            site_code=uow.site.code,
            state="open",
            updated_at=uow.now,
            updated_by=uow.actor,
        )
        uow.session.add(follow_up)
    return step, ticket, follow_up


def follow_up(
    uow: UnitOfWork,
    step_id: int,
    action: str,
    *,
    assignee: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """assign (to a staff member), note (what was done), close (optionally with a note),
    reopen. Each change is an event `review` in the log."""
    step, ticket, item = _bad_review(uow, step_id)
    note = note.strip() if note else None  # blanks are no note of what was done
    if action == "assign":
        staff = uow.hall.config.user(assignee) if assignee else None
        if staff is None or staff.site not in (None, uow.site.code):  # the page's picker
            raise BadRequest("没有这个工作人员：%(user)s", code="invalid_field", user=assignee)
        if item.state == "closed":
            raise Conflict("该差评已整改完毕", code="invalid_state")
        item.assignee = assignee
        item.state = "assigned"
    elif action == "note":
        if not note:
            raise BadRequest("note 不能为空", code="invalid_field")
        item.note = note
    elif action == "close":
        if item.state == "closed":
            raise Conflict("该差评已整改完毕", code="invalid_state")
        if note:
            item.note = note
        if not item.note:
            raise BadRequest("关闭前请写明整改情况（note）", code="invalid_field")
        item.state = "closed"
        item.closed_at = uow.now
        item.closed_by = uow.actor
    elif action == "reopen":
        if item.state != "closed":
            raise Conflict("该差评尚未关闭", code="invalid_state")
        item.state = "assigned" if item.assignee else "open"
        item.closed_at = None
        item.closed_by = None
    else:
        raise BadRequest("未知操作：%(action)s", code="invalid_field", action=action)
    item.updated_at = uow.now
    item.updated_by = uow.actor
    uow.session.flush()
    uow.record(
        "review",
        ticket=ticket,
        step=step,
        counter_number=step.counter_number,
        action=action,
        state=item.state,
        assignee=item.assignee,
        note=note,
    )
    return _item(uow, step, ticket, item)
