"""Ticket states and which counter or visitor action each state allows (SPEC §2)."""

from __future__ import annotations

from enum import StrEnum


class TicketState(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    HELD = "held"
    MISSED = "missed"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


UNFINISHED = frozenset(
    {
        TicketState.WAITING,
        TicketState.CALLED,
        TicketState.SERVING,
        TicketState.HELD,
        TicketState.MISSED,
    }
)

# Expired at day close: a ticket in hand at a counter is never expired by a job.
EXPIRES_AT_DAY_CLOSE = frozenset({TicketState.WAITING, TicketState.HELD, TicketState.MISSED})


class StepOutcome(StrEnum):
    DONE = "done"
    TRANSFERRED = "transferred"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


ACTION_NEEDS: dict[str, frozenset[TicketState]] = {
    "recall": frozenset({TicketState.CALLED}),
    "start": frozenset({TicketState.CALLED}),
    "finish": frozenset({TicketState.CALLED, TicketState.SERVING}),
    "no_show": frozenset({TicketState.CALLED}),
    "transfer": frozenset({TicketState.CALLED, TicketState.SERVING}),
    "hold": frozenset({TicketState.CALLED, TicketState.SERVING}),
    "return": frozenset({TicketState.HELD}),
    "reinstate": frozenset({TicketState.MISSED}),
    "cancel": frozenset({TicketState.WAITING, TicketState.HELD, TicketState.MISSED}),
}


def allows(action: str, state: str) -> bool:
    return state in ACTION_NEEDS[action]
