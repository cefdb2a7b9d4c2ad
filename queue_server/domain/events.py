"""What happened in the hall: the facts a use case records in its unit of work.

They say nothing of who hears of them. After the commit the screens, terminals, phones and
managers get them as Socket.IO messages (`realtime/routes.py` says which namespace, room,
name and payload each becomes, SPEC §5), and the print worker learns of new print jobs.
A rolled-back transaction drops them. Times are the hall's local time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from queue_server.domain.numbering import call_speech, call_text


@dataclass(frozen=True)
class TicketCalled:
    """A ticket was called to a counter (`recall`: called again)."""

    site: str
    number: str
    counter: int
    counter_name: str
    location: str | None
    queue: str
    reason: str | None
    recall: bool
    at: datetime

    @cached_property
    def announcement(self) -> dict[str, Any]:
        """The call as the screens show and speak it: no ticket id, no personal data.
        Built once, for the event log and the screens alike."""
        return {
            "number": self.number,
            "counter": self.counter,
            "counter_name": self.counter_name,
            "location": self.location,
            "queue": self.queue,
            "recall": self.recall,
            "reason": self.reason,
            "text": call_text(self.number, self.counter, self.location),
            "speech": call_speech(self.number, self.counter, self.location),
            "at": self.at.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class CounterChanged:
    """A counter opened, paused, closed, changed clerk, or took or let go of a ticket."""

    site: str
    counter: int
    counter_name: str
    location: str | None
    state: str
    clerk_name: str | None
    clerk_no: str | None
    current: str | None  # the number of the ticket in hand

    def view(self) -> dict[str, Any]:
        return {
            "counter": self.counter,
            "counter_name": self.counter_name,
            "location": self.location,
            "state": self.state,
            "clerk_name": self.clerk_name,
            "clerk_no": self.clerk_no,
            "current": self.current,
        }


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
