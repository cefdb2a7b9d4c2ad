"""The clerk's use cases at a counter: sign in, call, recall, start, finish, no-show,
transfer, hold, pause; and the visitor's rating of the step just finished there."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select

from queue_server.config import UserConfig
from queue_server.domain.dispatch import (
    CounterPlan,
    base_placement,
    call_reason,
    next_call,
    returning_placement,
)
from queue_server.domain.events import EvaluationChanged
from queue_server.domain.lifecycle import (
    ENDS_WITH,
    NEW_STEP,
    Action,
    StepAction,
    StepOutcome,
    StepStatus,
    TicketState,
    visit_after,
)
from queue_server.domain.routing import route
from queue_server.errors import BadRequest, Conflict, Forbidden, Named, NotFound, Words
from queue_server.models import Counter, Step, Ticket
from queue_server.services import visits
from queue_server.services.hours import note_bad_review
from queue_server.services.steps import (
    enqueue,
    enqueued,
    get_ticket,
    insert_step_after_current,
    lock_waiting_visit,
    move_step,
    move_ticket,
    require_state,
    service_or_error,
    state_conflict,
    ticket_changed,
    today,
    todays_ticket,
)
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import (
    HallState,
    call_candidates,
    call_views,
    counter_changed,
    counter_payload,
    current_numbers,
    current_step,
    local_iso,
    site_seq,
    ticket_view,
    visit_steps,
)

STAFF_ROLES = ("manager", "admin")


# Built once: on the call path, building a statement cost more than running it.
LOCK_COUNTER = (
    select(Counter)
    .where(Counter.site_code == bindparam("site"), Counter.number == bindparam("number"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def load_counter(uow: UnitOfWork, number: int) -> Counter:
    counter = uow.session.scalars(
        LOCK_COUNTER, {"site": uow.site.code, "number": number}
    ).one_or_none()
    if counter is None:
        raise NotFound("没有%(number)s号窗口", number=number)
    return counter


def acting_counter(uow: UnitOfWork, number: int, user: UserConfig) -> Counter:
    """A clerk acts only at the counter it is signed into; managers at any."""
    counter = load_counter(uow, number)
    if user.role not in STAFF_ROLES and counter.clerk_username != user.username:
        raise Forbidden("您没有登录%(number)s号窗口", number=number)
    return counter


def _counter_changed(
    uow: UnitOfWork, counter: Counter, current_number: str | None = None
) -> dict[str, Any]:
    """Record that the counter changed; returns it as its terminal shows it."""
    changed = counter_changed(uow, counter, current_number)
    uow.happened(changed)
    return dict(changed.view)


def _set_state(uow: UnitOfWork, counter: Counter, state: str, reason: str | None = None) -> None:
    detail: dict[str, Any] = {"reason": reason} if reason else {}
    uow.record(
        "counter_" + state,
        counter_number=counter.number,
        from_state=counter.state,
        to_state=state,
        clerk=counter.clerk_username,
        **detail,
    )
    counter.state = state
    counter.pause_reason = reason
    counter.state_since = uow.now


def sign_in(uow: UnitOfWork, number: int, user: UserConfig) -> dict[str, Any]:
    counter = load_counter(uow, number)
    if not user.may_sign_into(number):  # SPEC §2: who may sign in where
        raise Forbidden("您无权登录%(number)s号窗口", number=number)
    if counter.clerk_username == user.username:
        return counter_payload(uow, counter, _current_number(uow, counter))
    if counter.clerk_username is not None:
        raise Conflict("%(number)s号窗口已有柜员登录", code="counter_occupied", number=number)
    elsewhere = uow.session.scalars(
        select(Counter).where(
            Counter.site_code == uow.site.code, Counter.clerk_username == user.username
        )
    ).one_or_none()
    if elsewhere is not None:
        raise Conflict(
            "您已登录%(number)s号窗口，请先签退", code="counter_occupied", number=elsewhere.number
        )
    counter.clerk_username = user.username
    counter.idle_since = uow.now
    _set_state(uow, counter, "open")
    return _counter_changed(uow, counter)


def sign_out(uow: UnitOfWork, number: int, user: UserConfig) -> dict[str, Any]:
    counter = acting_counter(uow, number, user)
    _require_empty_hands(counter, "签退")
    if counter.state == "closed" and counter.clerk_username is None:
        return counter_payload(uow, counter, None)
    _set_state(uow, counter, "closed")
    counter.clerk_username = None
    counter.idle_since = None
    _release_kept(uow, counter)
    return _counter_changed(uow, counter)


def _release_kept(uow: UnitOfWork, counter: Counter) -> None:
    """持件 tickets kept at a counter whose clerk signs out become callable by every counter
    serving their line (SPEC §2): a held one comes back unreserved, a returned one waiting
    for this counter is no longer kept for it."""
    steps = uow.session.scalars(
        select(Step).where(
            Step.site_code == uow.site.code,
            Step.business_day == today(uow),
            or_(
                (Step.status == StepStatus.ENDED)
                & (Step.outcome == StepOutcome.HELD)
                & Step.keep_counter.is_(True)
                & (Step.counter_number == counter.number),
                (Step.status == StepStatus.WAITING) & (Step.reserved_counter == counter.number),
            ),
        )
    ).all()
    for step in steps:
        ticket = get_ticket(uow, step.ticket_id)
        if ticket.current_step != step.position:
            continue  # an earlier step of a visit that has moved on
        if step.status == StepStatus.WAITING:
            step.reserved_counter = None
        elif ticket.state == TicketState.HELD:
            step.keep_counter = False
        else:
            continue
        uow.record(
            "release_kept",
            ticket=ticket,
            step=step,
            counter_number=counter.number,
            from_state=ticket.state,
            to_state=ticket.state,
        )
        ticket_changed(uow, ticket)


def pause(
    uow: UnitOfWork, number: int, user: UserConfig, reason: str | None = None
) -> dict[str, Any]:
    """Pause service; `reason` (午休, 会议…) is recorded and shown with 暂停服务."""
    counter = acting_counter(uow, number, user)
    if counter.state == "paused":
        return counter_payload(uow, counter, None)
    _require_open(counter)
    _require_empty_hands(counter, "暂停")
    _set_state(uow, counter, "paused", (reason or "").strip() or None)
    return _counter_changed(uow, counter)


def resume(uow: UnitOfWork, number: int, user: UserConfig) -> dict[str, Any]:
    counter = acting_counter(uow, number, user)
    if counter.state == "open":
        return counter_payload(uow, counter, _current_number(uow, counter))
    if counter.state != "paused":
        raise Conflict("%(number)s号窗口未开放", code="counter_not_open", number=number)
    _set_state(uow, counter, "open")
    counter.idle_since = uow.now
    return _counter_changed(uow, counter)


def _require_open(counter: Counter) -> None:
    if counter.state != "open":
        if counter.state == "paused":
            raise Conflict(
                "%(number)s号窗口已暂停服务", code="counter_not_open", number=counter.number
            )
        raise Conflict("%(number)s号窗口未开放", code="counter_not_open", number=counter.number)


def _require_empty_hands(counter: Counter, action: str) -> None:
    if counter.current_ticket_id is not None:
        raise Conflict("请先处理完当前号再%(action)s", code="invalid_state", action=Words(action))


def _current_number(uow: UnitOfWork, counter: Counter) -> str | None:
    if counter.current_ticket_id is None:
        return None
    ticket = uow.session.get(Ticket, counter.current_ticket_id)
    return ticket.number if ticket else None


def _in_hand(uow: UnitOfWork, counter: Counter, action: str) -> tuple[Ticket, Step]:
    ticket = _ticket_in_hand(uow, counter, action)
    return ticket, current_step(uow, ticket)


def _ticket_in_hand(uow: UnitOfWork, counter: Counter, action: str) -> Ticket:
    """The counter's ticket, locked; 409 when its hands are empty."""
    if counter.current_ticket_id is None:
        raise Conflict(
            "%(number)s号窗口当前没有号，不能%(action)s",
            code="invalid_state",
            number=counter.number,
            action=Words(action),
        )
    return get_ticket(uow, counter.current_ticket_id)


def _close_evaluation(uow: UnitOfWork, counter: Counter) -> tuple[EvaluationChanged, ...]:
    """Close the counter's rating buttons if open; what that tells (nothing if closed)."""
    if counter.evaluation_step_id is None:
        return ()
    counter.evaluation_step_id = None
    counter.evaluation_until = None
    return (EvaluationChanged(uow.site.code, counter.number, open=False),)


def _call(
    uow: UnitOfWork,
    counter: Counter,
    ticket: Ticket,
    step: Step,
    reason: str | None,
    user: UserConfig,
    steps: list[Step] | None = None,
) -> dict[str, Any]:
    """`steps`: all the visit's, when the caller loaded them (the view then reads none)."""
    # One move of the visit by the lifecycle table (a call ends no step: no outcome).
    move = visit_after(ticket.state, Action.CALL, step.status, StepAction.CALL)
    from_state, ticket.state, step.status = ticket.state, move.ticket.value, move.step.value
    step.called_at = uow.now
    step.call_reason = reason
    step.counter_number = counter.number
    step.clerk_username = counter.clerk_username or user.username
    counter.current_ticket_id = ticket.id
    counter.idle_since = None
    closed = _close_evaluation(uow, counter)
    uow.session.flush()
    told = call_views(uow, counter, ticket, step, recall=False, steps=steps)
    assert told.counter is not None
    uow.record(
        "call",
        # The call goes out first: the screens announce it while the rest follows.
        told.called,
        *closed,
        told.counter,
        told.ticket,
        ticket=ticket,
        step=step,
        counter_number=counter.number,
        from_state=from_state,
        to_state=ticket.state,
        reason=reason,
        display=told.called.announcement,
        clerk=step.clerk_username,
        queue=step.queue_code,
        services=list(step.services),
    )
    return told.view


def _in_hand_changed(uow: UnitOfWork, counter: Counter, ticket: Ticket) -> dict[str, Any]:
    """Record that the ticket in the counter's hand changed; returns its staff view."""
    return ticket_changed(uow, ticket, counter=counter.number, in_hand=True)


def call_next(uow: UnitOfWork, number: int, user: UserConfig) -> dict[str, Any] | None:
    counter = acting_counter(uow, number, user)
    _require_open(counter)
    _require_empty_hands(counter, "叫号")
    plan = CounterPlan(counter.number, tuple(counter.queues), counter.strategy)
    # The head of each line is enough to choose from; the whole lines only if every one of
    # those is being taken by another counter at this very moment.
    tried: set[int] = set()
    for whole_lines in (False, True):
        waiting = call_candidates(uow, counter, whole_lines=whole_lines, tried=tried)
        while (choice := next_call(waiting, plan, uow.now)) is not None:
            visit = lock_waiting_visit(uow, choice.step.step_id)
            if visit is not None:
                ticket, step, steps = visit
                return _call(uow, counter, ticket, step, choice.reason, user, steps)
            tried.add(choice.step.step_id)
            waiting = [item for item in waiting if item.step_id != choice.step.step_id]
    return None


def call_number(
    uow: UnitOfWork, number: int, user: UserConfig, ticket_number: str
) -> dict[str, Any]:
    """指呼: a waiting ticket of this counter's lines, a held one kept at this counter, or a
    missed one within the grace."""
    counter = acting_counter(uow, number, user)
    _require_open(counter)
    _require_empty_hands(counter, "叫号")
    found = todays_ticket(uow, ticket_number)
    if found is None:
        raise NotFound("今天没有%(number)s号", number=ticket_number)
    ticket = get_ticket(uow, found.id)
    step = current_step(uow, ticket)
    if ticket.state == TicketState.WAITING:
        if step.queue_code not in counter.queues or step.reserved_counter not in (
            None,
            counter.number,
        ):
            raise Conflict(
                "%(number)s号不在本窗口的队列中", code="invalid_state", number=ticket.number
            )
        return _call(uow, counter, ticket, step, "manual", user)
    if (
        ticket.state == TicketState.HELD
        and step.keep_counter
        and step.counter_number == counter.number
    ):
        new_step = insert_step_after_current(uow, ticket, step.queue_code, step.services)
        enqueue(
            uow, new_step, returning_placement("return", uow.now), reserved_counter=counter.number
        )
        return _call(uow, counter, ticket, new_step, "manual", user)
    if ticket.state == TicketState.MISSED and step.queue_code in counter.queues:
        grace = timedelta(minutes=uow.site.policy.no_show_grace_min)
        assert step.ended_at is not None
        if uow.now <= step.ended_at + grace:
            new_step = insert_step_after_current(uow, ticket, step.queue_code, step.services)
            enqueue(uow, new_step, returning_placement("reinstated", uow.now))
            return _call(uow, counter, ticket, new_step, "manual", user)
    raise state_conflict(uow, ticket, "在本窗口叫号")


def recall(uow: UnitOfWork, number: int, user: UserConfig) -> dict[str, Any]:
    counter = acting_counter(uow, number, user)
    ticket, step = _in_hand(uow, counter, "重呼")
    require_state(uow, ticket, "recall", "重呼")
    from_state = move_ticket(ticket, Action.RECALL)
    step.recalls += 1
    told = call_views(uow, counter, ticket, step, recall=True)
    uow.record(
        "recall",
        told.called,
        told.ticket,
        ticket=ticket,
        step=step,
        counter_number=counter.number,
        from_state=from_state,
        to_state=ticket.state,
        recalls=step.recalls,
        display=told.called.announcement,
    )
    return told.view


def start(uow: UnitOfWork, number: int, user: UserConfig) -> dict[str, Any]:
    counter = acting_counter(uow, number, user)
    ticket, step = _in_hand(uow, counter, "开始办理")
    require_state(uow, ticket, "start", "开始办理")
    move_step(uow, step, StepAction.START)
    step.started_at = uow.now
    from_state = move_ticket(ticket, Action.START)
    uow.record(
        "start",
        ticket=ticket,
        step=step,
        counter_number=counter.number,
        from_state=from_state,
        to_state=ticket.state,
    )
    _counter_changed(uow, counter, ticket.number)
    return _in_hand_changed(uow, counter, ticket)


def _release(uow: UnitOfWork, counter: Counter) -> None:
    """The counter's hands are empty (its ticket's change, `_released`, says so too)."""
    counter.current_ticket_id = None
    counter.idle_since = uow.now
    _counter_changed(uow, counter, None)


def _released(uow: UnitOfWork, counter: Counter, ticket: Ticket) -> dict[str, Any]:
    """Record that the ticket changed and left the counter's hand; returns its staff view."""
    return ticket_changed(uow, ticket, counter=counter.number, in_hand=False)


def finish(
    uow: UnitOfWork,
    number: int,
    user: UserConfig,
    outcome: str = "done",
    services: list[str] | None = None,
    pickup_on: date | None = None,
) -> dict[str, Any]:
    counter = acting_counter(uow, number, user)
    ticket = _ticket_in_hand(uow, counter, "办结")
    step, steps = visit_steps(uow, ticket)  # finishing adds no step: the view reuses them
    from_state = require_state(uow, ticket, "finish", "办结")
    if pickup_on is not None:  # 出件 on a later day ends the visit today (services/visits.py)
        visits.check_pickup_on(uow, pickup_on, outcome)
    if services is not None:
        for code in services:
            service_or_error(uow, code)
        step.services = list(dict.fromkeys(services))
    move_step(uow, step, ENDS_WITH[StepOutcome(outcome)])
    planned = [later for later in steps if later.status == NEW_STEP]  # in visit order
    following = next((later for later in planned if later.position > step.position), None)
    if outcome == StepOutcome.DONE and following is not None and pickup_on is None:
        # The next step of the visit keeps the number and goes ahead of ordinary tickets.
        ticket.current_step = following.position
        enqueue(uow, following, returning_placement("next_step", uow.now))
        move_ticket(ticket, Action.NEXT_STEP)
    else:
        for later in planned:
            move_step(uow, later, StepAction.CANCEL)
        move_ticket(
            ticket, Action.FINISH if outcome == StepOutcome.DONE else Action.FINISH_CANCELLED
        )
        ticket.ended_at = uow.now
        ticket.pickup_on = pickup_on
    uow.record(
        "finish",
        ticket=ticket,
        step=step,
        counter_number=counter.number,
        from_state=from_state,
        to_state=ticket.state,
        outcome=outcome,
        services=step.services,
        enqueued=enqueued(following) if ticket.state == TicketState.WAITING and following else None,
        **({"pickup_on": pickup_on.isoformat()} if pickup_on else {}),
    )
    counter.evaluation_step_id = step.id
    counter.evaluation_until = uow.now + timedelta(seconds=uow.site.policy.evaluation_window_s)
    _release(uow, counter)
    until = counter.evaluation_until.astimezone(uow.zone)
    uow.happened(EvaluationChanged(uow.site.code, counter.number, open=True, until=until))
    return ticket_changed(uow, ticket, steps, counter=counter.number, in_hand=False)


def no_show(uow: UnitOfWork, number: int, user: UserConfig) -> dict[str, Any]:
    counter = acting_counter(uow, number, user)
    ticket, step = _in_hand(uow, counter, "过号")
    require_state(uow, ticket, "no_show", "过号")
    move_step(uow, step, StepAction.NO_SHOW)
    from_state = move_ticket(ticket, Action.NO_SHOW)
    uow.record(
        "no_show",
        ticket=ticket,
        step=step,
        counter_number=counter.number,
        from_state=from_state,
        to_state=ticket.state,
    )
    _release(uow, counter)
    return _released(uow, counter, ticket)


def transfer(
    uow: UnitOfWork,
    number: int,
    user: UserConfig,
    *,
    queue: str | None = None,
    counter_number: int | None = None,
    service: str | None = None,
    position: str | None = None,
) -> dict[str, Any]:
    if sum(target is not None for target in (queue, counter_number, service)) != 1:
        raise BadRequest("请指定一个转移目标：queue、counter 或 service 之一", code="invalid_field")
    counter = acting_counter(uow, number, user)
    ticket, step = _in_hand(uow, counter, "转移")
    from_state = require_state(uow, ticket, "transfer", "转移")
    services = list(step.services)
    reserved: int | None = None
    if queue is not None:
        if uow.site.queue(queue) is None:
            raise BadRequest("没有这个队列：%(queue)s", code="invalid_field", queue=queue)
        target_queue = queue
    elif counter_number is not None:
        target = uow.session.scalars(
            select(Counter).where(
                Counter.site_code == uow.site.code, Counter.number == counter_number
            )
        ).one_or_none()
        if target is None:
            raise BadRequest("没有%(number)s号窗口", code="invalid_field", number=counter_number)
        target_queue, reserved = target.queues[0], target.number
    else:
        assert service is not None
        business = service_or_error(uow, service)
        if ticket.party not in business.parties:
            raise BadRequest(
                "%(service)s不能以此身份办理",
                code="party_not_allowed",
                service=Named(business.name, business.name_en),
            )
        routed = route(uow.site.rules(), business.category, ticket.party, ticket.headcount)
        if routed is None:
            raise BadRequest(
                "没有窗口受理%(service)s",
                code="unknown_service",
                service=Named(business.name, business.name_en),
            )
        target_queue, services = routed, [business.code]
    position = position or uow.site.policy.transfer_position
    placement = (
        returning_placement("transfer", uow.now)
        if position == "front"
        else base_placement(ticket.priority == "green", uow.now)
    )
    move_step(uow, step, StepAction.TRANSFER)
    new_step = insert_step_after_current(uow, ticket, target_queue, services)
    enqueue(uow, new_step, placement, reserved_counter=reserved)
    move_ticket(ticket, Action.TRANSFER)
    uow.record(
        "transfer",
        ticket=ticket,
        step=new_step,
        counter_number=counter.number,
        from_state=from_state,
        to_state=ticket.state,
        queue=target_queue,
        to_counter=reserved,
        position=position,
        ended_step=step.id,
        enqueued=enqueued(new_step),
    )
    _release(uow, counter)
    return _released(uow, counter, ticket)


def hold(
    uow: UnitOfWork, number: int, user: UserConfig, reason: str, keep_counter: bool = False
) -> dict[str, Any]:
    counter = acting_counter(uow, number, user)
    ticket, step = _in_hand(uow, counter, "挂起")
    reason = reason.strip()  # told to the visitor (需补齐：…): blanks tell nothing
    if not reason:
        raise BadRequest("请写明需补齐的材料（reason）", code="invalid_field")
    from_state = require_state(uow, ticket, "hold", "挂起")
    move_step(uow, step, StepAction.HOLD)
    step.hold_reason = reason
    step.keep_counter = keep_counter
    move_ticket(ticket, Action.HOLD)
    uow.record(
        "hold",
        ticket=ticket,
        step=step,
        counter_number=counter.number,
        from_state=from_state,
        to_state=ticket.state,
        reason=reason,
        keep_counter=keep_counter,
    )
    _release(uow, counter)
    return _released(uow, counter, ticket)


def rate(uow: UnitOfWork, number: int, rating: int, reasons: list[str]) -> dict[str, Any]:
    """好差评 from the counter-top screen: once, while the evaluation is open."""
    counter = load_counter(uow, number)
    closed = Conflict("评价已结束", code="evaluation_closed")
    if counter.evaluation_step_id is None or counter.evaluation_until is None:
        raise closed
    if uow.now > counter.evaluation_until:
        raise closed
    step = uow.session.get(Step, counter.evaluation_step_id)
    if step is None or step.rating is not None:
        raise closed
    step.rating = rating
    step.rating_reasons = reasons if rating <= 2 else []
    step.rated_at = uow.now
    if rating <= 2:
        note_bad_review(uow)  # 差评: its due date may need a day the calendar does not know
    ticket = uow.session.get(Ticket, step.ticket_id)
    uow.record(
        "rate",
        ticket=ticket,
        step=step,
        counter_number=counter.number,
        rating=rating,
        reasons=step.rating_reasons,
        clerk=step.clerk_username,
    )
    uow.happened(*_close_evaluation(uow, counter))
    return {"counter": counter.number, "rating": rating, "at": local_iso(uow.site, uow.now)}


def counter_detail(uow: UnitOfWork, number: int) -> dict[str, Any]:
    """A counter with its lines and current ticket, for its terminal."""
    counter = uow.session.scalars(
        select(Counter).where(Counter.site_code == uow.site.code, Counter.number == number)
    ).one_or_none()
    if counter is None:
        raise NotFound("没有%(number)s号窗口", number=number)
    payload = counter_payload(uow, counter, _current_number(uow, counter))
    payload.update(
        queues=list(counter.queues), strategy=counter.strategy, clerk=counter.clerk_username
    )
    return payload


def list_counters(uow: UnitOfWork) -> list[dict[str, Any]]:
    state = HallState(uow)
    numbers = current_numbers(uow, state)  # one query, not one per busy counter
    return [
        dict(
            counter_payload(uow, counter, numbers.get(counter.current_ticket_id or "")),
            queues=list(counter.queues),
            strategy=counter.strategy,
            clerk=counter.clerk_username,
        )
        for counter in state.counters
    ]


NEXT_SHOWN = 10


def lines_detail(uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    """Each line's next tickets in call order, for clerks' terminals (指呼)."""
    state = HallState(uow)
    heads = state.line_heads([queue.code for queue in uow.site.queues], NEXT_SHOWN)
    step_ids = [item.step_id for head in heads.values() for item in head]
    rows = (
        uow.session.execute(
            select(Step.id, Step.services, Ticket.number, Ticket.party, Ticket.headcount)
            .join(Ticket, Ticket.id == Step.ticket_id)
            .where(Step.id.in_(step_ids))
        ).all()
        if step_ids
        else []
    )
    details = {row.id: row for row in rows}
    return {
        code: [
            {
                "number": details[item.step_id].number,
                "waited_s": int((uow.now - item.enqueued_at).total_seconds()),
                "reason": call_reason(item, uow.now),
                "reserved_counter": item.reserved_counter,
                "services": details[item.step_id].services,
                "party": details[item.step_id].party,
                "headcount": details[item.step_id].headcount,
            }
            for item in head
        ]
        for code, head in heads.items()
    }


def set_aside(uow: UnitOfWork, queues: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Today's held and missed tickets of these lines, with until when they may come back."""
    held, missed = [], []
    grace = timedelta(minutes=uow.site.policy.no_show_grace_min)
    window = timedelta(minutes=uow.site.policy.return_window_min)
    rows = uow.session.execute(
        select(Ticket, Step)
        .join(Step, (Step.ticket_id == Ticket.id) & (Step.position == Ticket.current_step))
        .where(
            Ticket.site_code == uow.site.code,
            Ticket.business_day == today(uow),
            Ticket.state.in_((TicketState.HELD.value, TicketState.MISSED.value)),
            Step.queue_code.in_(queues),
        )
        .order_by(Step.ended_at)
    ).all()
    for ticket, step in rows:
        assert step.ended_at is not None
        entry = {
            "id": ticket.id,
            "number": ticket.number,
            "queue": step.queue_code,
            "counter": step.counter_number,
            "since": local_iso(uow.site, step.ended_at),
        }
        if ticket.state == TicketState.HELD:
            entry.update(
                reason=step.hold_reason,
                keep_counter=step.keep_counter,
                return_until=local_iso(uow.site, step.ended_at + window),
            )
            held.append(entry)
        elif uow.now <= step.ended_at + grace:
            entry.update(reinstate_until=local_iso(uow.site, step.ended_at + grace))
            missed.append(entry)
    return {"held": held, "missed": missed}


def counter_snapshot(uow: UnitOfWork, number: int) -> dict[str, Any]:
    """What a clerk's terminal shows on connect: the counter, its ticket, its lines."""
    detail = counter_detail(uow, number)
    counter = uow.session.scalars(
        select(Counter).where(Counter.site_code == uow.site.code, Counter.number == number)
    ).one()
    ticket = (
        uow.session.get(Ticket, counter.current_ticket_id) if counter.current_ticket_id else None
    )
    return {
        "seq": site_seq(uow),
        "counter": detail,
        "ticket": ticket_view(uow, ticket, staff=True) if ticket else None,
        "queues": HallState(uow).queue_summaries(),
        "lines": lines_detail(uow),
        **set_aside(uow, list(counter.queues)),
    }
