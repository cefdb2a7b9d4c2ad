"""What happened in the hall: the facts a use case records in its unit of work.

They say nothing of who hears of them. After the commit the screens, terminals, phones and
managers get them as Socket.IO messages (`realtime/routes.py` says which namespace, room,
name and payload each becomes, SPEC §5), and the print worker learns of new print jobs.
A rolled-back transaction drops them. Times are the hall's local time. They are plain
data: a payload an event carries was built once, by the use case that recorded it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TicketCalled:
    """A ticket was called to a counter, or called again. `announcement` is the call as the
    screens show and speak it (SPEC §5 `call`: number, counter, its name and location, line,
    recall, reason, text, speech, at): no ticket id, no personal data. Built once by the use
    case's read model, for the event log and the screens alike."""

    site: str
    announcement: Mapping[str, Any]


@dataclass(frozen=True)
class CounterChanged:
    """A counter opened, paused, closed, changed clerk, or took or let go of a ticket.
    `view`: the counter as its screens and terminal show it (SPEC §5 `counter`)."""

    site: str
    counter: int
    view: Mapping[str, Any]


@dataclass(frozen=True)
class TicketChanged:
    """A visitor's ticket changed (state, line, step, services). `counter`: the counter
    where it was just in hand, and `in_hand` whether that counter still holds it."""

    site: str
    ticket_id: str
    view: Mapping[str, Any]  # the staff view of the ticket (T of SPEC §4, with its steps)
    counter: int | None = None
    in_hand: bool = False


@dataclass(frozen=True)
class EvaluationChanged:
    """The rating buttons of a counter opened (until when) or closed."""

    site: str
    counter: int
    open: bool
    until: datetime | None = None


@dataclass(frozen=True)
class AlertRaised:
    """Something managers must hear of (SPEC §5 alert kinds)."""

    site: str
    kind: str
    message: str
    at: datetime
    id: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NoticeChanged:
    """The hall notice shown on the screens changed."""

    site: str
    text: str


@dataclass(frozen=True)
class PrintJobQueued:
    """A ticket waits for a kiosk's paper."""

    site: str
    kiosk: str
    job_id: int


HallEvent = (
    TicketCalled
    | CounterChanged
    | TicketChanged
    | EvaluationChanged
    | AlertRaised
    | NoticeChanged
    | PrintJobQueued
)
