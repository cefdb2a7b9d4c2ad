"""Clerks' counter actions: sign in and out, pause, call, recall, start, finish, no-show,
transfer, hold. A clerk acts only at the counter it is signed into; managers at any."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from queue_server.api import StaffAction, operation, staff_action
from queue_server.api.schemas import (
    CallNumberIn,
    CounterEnvelope,
    EmptyIn,
    FinishIn,
    HoldIn,
    MaybeTicketEnvelope,
    PauseIn,
    TicketEnvelope,
    TransferIn,
)
from queue_server.services import counters

ERRORS = (400, 401, 403, 404, 409)


def _act(
    action: StaffAction, n: int, use_case: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """The use case at counter n, by the acting user, in one transaction."""
    return action.yihao.run(
        action.site,
        action.user.username,
        use_case,
        n,
        action.user,
        *args,
        base_url=action.base_url,
        **kwargs,
    )


def _register_bodiless(
    path: str,
    name: str,
    use_case: Callable[..., Any],
    summary: str,
    envelope: str,
    response: type[BaseModel],
) -> None:
    """Actions without a body answer {"counter": ...} or {"ticket": ...}."""

    def view(n: int) -> Any:
        action, _ = staff_action(EmptyIn)
        return {envelope: _act(action, n, use_case)}

    view.__name__ = f"counter_{name}"
    operation(
        "POST",
        f"/counters/{{n}}/{path}",
        summary,
        body=EmptyIn,
        response=response,
        auth="staff",
        tag="counters",
        errors=ERRORS,
    )(view)


for _path, _name, _use_case, _summary, _envelope, _response in (
    (
        "sign-in",
        "sign_in",
        counters.sign_in,
        "Sign into a counter (it opens)",
        "counter",
        CounterEnvelope,
    ),
    (
        "sign-out",
        "sign_out",
        counters.sign_out,
        "Sign out (the counter closes)",
        "counter",
        CounterEnvelope,
    ),
    ("resume", "resume", counters.resume, "Resume service", "counter", CounterEnvelope),
    (
        "recall",
        "recall",
        counters.recall,
        "Call the ticket in hand again (重呼)",
        "ticket",
        TicketEnvelope,
    ),
    ("start", "start", counters.start, "Start serving the called ticket", "ticket", TicketEnvelope),
    (
        "no-show",
        "no_show",
        counters.no_show,
        "The called visitor did not come (过号)",
        "ticket",
        TicketEnvelope,
    ),
):
    _register_bodiless(_path, _name, _use_case, _summary, _envelope, _response)


@operation(
    "POST",
    "/counters/{n}/pause",
    "Pause service (暂停服务), optionally saying why (午休, 会议, 临时离开…)",
    body=PauseIn,
    response=CounterEnvelope,
    auth="staff",
    tag="counters",
    errors=ERRORS,
)
def pause(n: int) -> Any:
    action, body = staff_action(PauseIn)
    return {"counter": _act(action, n, counters.pause, body.reason)}


@operation(
    "POST",
    "/counters/{n}/call-next",
    "Call the next ticket by the counter's strategy",
    body=EmptyIn,
    response=MaybeTicketEnvelope,
    auth="staff",
    tag="counters",
    errors=ERRORS,
)
def call_next(n: int) -> Any:
    action, _ = staff_action(EmptyIn)
    return {"ticket": _act(action, n, counters.call_next)}


@operation(
    "POST",
    "/counters/{n}/call",
    "Call a given number (指呼)",
    body=CallNumberIn,
    response=TicketEnvelope,
    auth="staff",
    tag="counters",
    errors=ERRORS,
)
def call_number(n: int) -> Any:
    action, body = staff_action(CallNumberIn)
    return {"ticket": _act(action, n, counters.call_number, body.number)}


@operation(
    "POST",
    "/counters/{n}/finish",
    "Finish the step (办结); a further step keeps the number",
    body=FinishIn,
    response=TicketEnvelope,
    auth="staff",
    tag="counters",
    errors=ERRORS,
)
def finish(n: int) -> Any:
    action, body = staff_action(FinishIn)
    return {
        "ticket": _act(action, n, counters.finish, outcome=body.outcome, services=body.services)
    }


@operation(
    "POST",
    "/counters/{n}/transfer",
    "Transfer to a line, a counter or a business",
    body=TransferIn,
    response=TicketEnvelope,
    auth="staff",
    tag="counters",
    errors=ERRORS,
)
def transfer(n: int) -> Any:
    action, body = staff_action(TransferIn)
    return {
        "ticket": _act(
            action,
            n,
            counters.transfer,
            queue=body.queue,
            counter_number=body.counter,
            service=body.service,
            position=body.position,
        )
    }


@operation(
    "POST",
    "/counters/{n}/hold",
    "Hold for pre-review or missing materials (挂起)",
    body=HoldIn,
    response=TicketEnvelope,
    auth="staff",
    tag="counters",
    errors=ERRORS,
)
def hold(n: int) -> Any:
    action, body = staff_action(HoldIn)
    return {"ticket": _act(action, n, counters.hold, body.reason, body.keep_counter)}
