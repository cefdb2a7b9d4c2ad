"""The lifecycle of a ticket and of its steps, as data (SPEC §2): which action takes a ticket
(or a step) from which state to which. Services apply a transition through `ticket_after`
and `step_after`; the states allowed for an action (`ACTION_NEEDS`) are read off the table."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal, NamedTuple


class TicketState(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    HELD = "held"
    MISSED = "missed"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# TicketState's values as a type, for the API's schemas (tests hold the two equal).
TicketStateName = Literal[
    "waiting", "called", "serving", "held", "missed", "done", "cancelled", "expired"
]


class StepStatus(StrEnum):
    PLANNED = "planned"  # a later step of the visit, not yet in a line
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    ENDED = "ended"  # with an outcome


class StepOutcome(StrEnum):
    DONE = "done"
    TRANSFERRED = "transferred"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Action(StrEnum):
    """What a counter, a visitor or the day close does to a ticket (SPEC §2's rows)."""

    CALL = "call"  # call-next, or call {number}
    RECALL = "recall"
    START = "start"
    FINISH = "finish"  # the visit is done
    NEXT_STEP = "next_step"  # finish, and the visit goes on to its next step's line
    FINISH_CANCELLED = "finish_cancelled"  # finish {outcome: cancelled}
    NO_SHOW = "no_show"
    TRANSFER = "transfer"
    HOLD = "hold"
    RETURN = "return"
    REINSTATE = "reinstate"
    CANCEL = "cancel"
    EXPIRE = "expire"  # day close


class StepAction(StrEnum):
    ENQUEUE = "enqueue"  # a planned step joins its line
    CALL = "call"
    START = "start"
    FINISH = "finish"
    CANCEL = "cancel"
    NO_SHOW = "no_show"
    TRANSFER = "transfer"
    HOLD = "hold"
    EXPIRE = "expire"


ISSUED = TicketState.WAITING  # a new ticket's state
NEW_STEP = StepStatus.PLANNED  # a new step's status

_IN_HAND = (TicketState.CALLED, TicketState.SERVING)
_SET_ASIDE = (TicketState.WAITING, TicketState.HELD, TicketState.MISSED)

# (ticket state, action) -> the ticket's new state.
TICKET_TRANSITIONS: dict[tuple[TicketState, Action], TicketState] = {
    (TicketState.WAITING, Action.CALL): TicketState.CALLED,
    (TicketState.HELD, Action.CALL): TicketState.CALLED,  # kept at this counter (持件)
    (TicketState.MISSED, Action.CALL): TicketState.CALLED,  # within the grace
    (TicketState.CALLED, Action.RECALL): TicketState.CALLED,
    (TicketState.CALLED, Action.START): TicketState.SERVING,
    **{(state, Action.FINISH): TicketState.DONE for state in _IN_HAND},
    **{(state, Action.NEXT_STEP): TicketState.WAITING for state in _IN_HAND},
    **{(state, Action.FINISH_CANCELLED): TicketState.CANCELLED for state in _IN_HAND},
    (TicketState.CALLED, Action.NO_SHOW): TicketState.MISSED,
    **{(state, Action.TRANSFER): TicketState.WAITING for state in _IN_HAND},
    **{(state, Action.HOLD): TicketState.HELD for state in _IN_HAND},
    (TicketState.HELD, Action.RETURN): TicketState.WAITING,
    (TicketState.MISSED, Action.REINSTATE): TicketState.WAITING,
    **{(state, Action.CANCEL): TicketState.CANCELLED for state in _SET_ASIDE},
    **{(state, Action.EXPIRE): TicketState.EXPIRED for state in _SET_ASIDE},
}

_STEP_IN_HAND = (StepStatus.CALLED, StepStatus.SERVING)
_STEP_NOT_CALLED = (StepStatus.PLANNED, StepStatus.WAITING)
_ENDED = StepStatus.ENDED

# (step status, action) -> the step's new status and, once ended, its outcome.
STEP_TRANSITIONS: dict[tuple[StepStatus, StepAction], tuple[StepStatus, StepOutcome | None]] = {
    (StepStatus.PLANNED, StepAction.ENQUEUE): (StepStatus.WAITING, None),
    (StepStatus.WAITING, StepAction.CALL): (StepStatus.CALLED, None),
    (StepStatus.CALLED, StepAction.START): (StepStatus.SERVING, None),
    **{(status, StepAction.FINISH): (_ENDED, StepOutcome.DONE) for status in _STEP_IN_HAND},
    **{
        (status, StepAction.TRANSFER): (_ENDED, StepOutcome.TRANSFERRED) for status in _STEP_IN_HAND
    },
    **{(status, StepAction.HOLD): (_ENDED, StepOutcome.HELD) for status in _STEP_IN_HAND},
    (StepStatus.CALLED, StepAction.NO_SHOW): (_ENDED, StepOutcome.NO_SHOW),
    **{
        (status, StepAction.CANCEL): (_ENDED, StepOutcome.CANCELLED)
        for status in (*_STEP_NOT_CALLED, *_STEP_IN_HAND)
    },
    **{(status, StepAction.EXPIRE): (_ENDED, StepOutcome.EXPIRED) for status in _STEP_NOT_CALLED},
}

# The step action that ends a step in hand with each outcome (a clerk's finish {outcome}).
ENDS_WITH: dict[StepOutcome, StepAction] = {
    StepOutcome.DONE: StepAction.FINISH,
    StepOutcome.TRANSFERRED: StepAction.TRANSFER,
    StepOutcome.HELD: StepAction.HOLD,
    StepOutcome.NO_SHOW: StepAction.NO_SHOW,
    StepOutcome.CANCELLED: StepAction.CANCEL,
    StepOutcome.EXPIRED: StepAction.EXPIRE,
}


class LifecycleError(Exception):
    """An action the table does not allow from that state (SPEC §2: 409 invalid_state)."""

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"{action} is not allowed from {state}")
        self.state = state
        self.action = action


def ticket_after(state: str, action: Action) -> TicketState:
    """The ticket's state after `action`, or LifecycleError."""
    try:
        return TICKET_TRANSITIONS[TicketState(state), action]
    except (KeyError, ValueError):
        raise LifecycleError(state, action) from None


def step_after(status: str, action: StepAction) -> tuple[StepStatus, StepOutcome | None]:
    """The step's status (and outcome, once ended) after `action`, or LifecycleError."""
    try:
        return STEP_TRANSITIONS[StepStatus(status), action]
    except (KeyError, ValueError):
        raise LifecycleError(status, action) from None


class VisitMove(NamedTuple):
    """Where one action takes a visit: its ticket, and the step it is at."""

    ticket: TicketState
    step: StepStatus
    outcome: StepOutcome | None


def visit_after(state: str, action: Action, status: str, step_action: StepAction) -> VisitMove:
    """The ticket's state after `action` and its current step's after `step_action`, in one
    move (a call takes both), or LifecycleError."""
    return VisitMove(ticket_after(state, action), *step_after(status, step_action))


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
EXPIRES_AT_DAY_CLOSE = frozenset(
    state for (state, action) in TICKET_TRANSITIONS if action is Action.EXPIRE
)


def _needs(action: Action) -> frozenset[TicketState]:
    return frozenset(state for (state, row_action) in TICKET_TRANSITIONS if row_action is action)


# Which ticket states each action needs, read off the table.
ACTION_NEEDS: dict[str, frozenset[TicketState]] = {
    action.value: _needs(action) for action in Action
}


def allows(action: str, state: str) -> bool:
    return state in ACTION_NEEDS[action]


def state_as_read(
    state: str,
    business_day: date,
    missed_at: datetime | None,
    *,
    today: date,
    now: datetime,
    grace: timedelta,
) -> str:
    """The state a ticket reads at `now` (SPEC §2), whether or not a job has written it: one
    left waiting, held or missed on an earlier day is expired, and so is one missed (at
    `missed_at`) more than `grace` ago. A read writes nothing."""
    if business_day < today and state in EXPIRES_AT_DAY_CLOSE:
        return TicketState.EXPIRED.value
    if state == TicketState.MISSED and missed_at is not None and now > missed_at + grace:
        return TicketState.EXPIRED.value
    return state
