"""Which live message each hall event becomes (SPEC §5): namespace, room, name, payload.

The one place that knows the channels. Use cases record `domain.events`; after the commit
the publisher sends `messages(event, seq)` in the order the events happened (a call first).
Every payload carries `seq`, the seq of the last event it reflects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from queue_server.domain.events import (
    AlertRaised,
    CounterChanged,
    EvaluationChanged,
    NoticeChanged,
    TicketCalled,
    TicketChanged,
)
from queue_server.protocol import (
    COUNTER_NAMESPACE,
    DISPLAY_NAMESPACE,
    EVENT_ALERT,
    EVENT_CALL,
    EVENT_COUNTER,
    EVENT_EVALUATE,
    EVENT_NOTICE,
    EVENT_TICKET,
    MANAGER_NAMESPACE,
    TICKET_NAMESPACE,
)
from queue_server.services.views import public_ticket


class Outgoing(NamedTuple):
    namespace: str
    name: str
    payload: dict[str, Any]
    room: str


def counter_room(site: str, counter: int) -> str:
    """A clerk's terminal at one counter."""
    return f"{site}:{counter}"


def _called(event: TicketCalled, seq: int | None) -> Iterator[Outgoing]:
    yield Outgoing(DISPLAY_NAMESPACE, EVENT_CALL, {**event.announcement, "seq": seq}, event.site)


def _counter(event: CounterChanged, seq: int | None) -> Iterator[Outgoing]:
    yield Outgoing(DISPLAY_NAMESPACE, EVENT_COUNTER, {**event.view, "seq": seq}, event.site)
    room = counter_room(event.site, event.counter)
    yield Outgoing(COUNTER_NAMESPACE, EVENT_COUNTER, {**event.view, "seq": seq}, room)


def _ticket(event: TicketChanged, seq: int | None) -> Iterator[Outgoing]:
    yield Outgoing(
        TICKET_NAMESPACE, EVENT_TICKET, {**public_ticket(event.view), "seq": seq}, event.ticket_id
    )
    if event.counter is not None:
        payload = {
            "counter": event.counter,
            "ticket": event.view if event.in_hand else None,
            "seq": seq,
        }
        yield Outgoing(
            COUNTER_NAMESPACE, EVENT_TICKET, payload, counter_room(event.site, event.counter)
        )


def _evaluation(event: EvaluationChanged, seq: int | None) -> Iterator[Outgoing]:
    payload: dict[str, Any] = {"counter": event.counter, "open": event.open}
    if event.open:
        payload["until"] = event.until.isoformat(timespec="seconds") if event.until else None
    payload["seq"] = seq
    yield Outgoing(DISPLAY_NAMESPACE, EVENT_EVALUATE, payload, event.site)


def _alert(event: AlertRaised, seq: int | None) -> Iterator[Outgoing]:
    payload: dict[str, Any] = {"seq": seq}
    if event.id is not None:
        payload["id"] = event.id
    payload.update(
        kind=event.kind, message=event.message, at=event.at.isoformat(timespec="seconds")
    )
    payload.update(event.detail)
    yield Outgoing(MANAGER_NAMESPACE, EVENT_ALERT, payload, event.site)


def _notice(event: NoticeChanged, seq: int | None) -> Iterator[Outgoing]:
    yield Outgoing(DISPLAY_NAMESPACE, EVENT_NOTICE, {"seq": seq, "text": event.text}, event.site)


# Event type -> its messages. An event without a route (a print job queued) has no live
# message; its subscribers hear of it after the commit (Yihao.subscribe).
ROUTES: dict[type, Callable[[Any, int | None], Iterator[Outgoing]]] = {
    TicketCalled: _called,
    CounterChanged: _counter,
    TicketChanged: _ticket,
    EvaluationChanged: _evaluation,
    AlertRaised: _alert,
    NoticeChanged: _notice,
}


def messages(event: object, seq: int | None) -> Iterator[Outgoing]:
    route = ROUTES.get(type(event))
    if route is not None:
        yield from route(event, seq)
