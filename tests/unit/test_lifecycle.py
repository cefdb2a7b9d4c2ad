"""The lifecycle table against SPEC §2's "Ticket states and counter actions", row by row:
no database, no Flask."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from queue_server.domain.lifecycle import (
    ACTION_NEEDS,
    EXPIRES_AT_DAY_CLOSE,
    ISSUED,
    NEW_STEP,
    TICKET_TRANSITIONS,
    UNFINISHED,
    Action,
    LifecycleError,
    StepAction,
    StepOutcome,
    StepStatus,
    TicketState,
    allows,
    state_as_read,
    step_after,
    ticket_after,
)

WAITING, CALLED, SERVING, HELD, MISSED, DONE, CANCELLED, EXPIRED = TicketState

# SPEC §2, one (state needed, action, result) per row and state.
SPEC_ROWS = [
    # call-next / call {number}: a waiting ticket, a held one kept at this counter, or a
    # missed one within the grace
    (WAITING, Action.CALL, CALLED),
    (HELD, Action.CALL, CALLED),
    (MISSED, Action.CALL, CALLED),
    # recall: still called
    (CALLED, Action.RECALL, CALLED),
    # start
    (CALLED, Action.START, SERVING),
    # finish: the ticket done, or on to its next step's line, or cancelled (outcome)
    (CALLED, Action.FINISH, DONE),
    (SERVING, Action.FINISH, DONE),
    (CALLED, Action.NEXT_STEP, WAITING),
    (SERVING, Action.NEXT_STEP, WAITING),
    (CALLED, Action.FINISH_CANCELLED, CANCELLED),
    (SERVING, Action.FINISH_CANCELLED, CANCELLED),
    # no-show
    (CALLED, Action.NO_SHOW, MISSED),
    # transfer: waiting in the target
    (CALLED, Action.TRANSFER, WAITING),
    (SERVING, Action.TRANSFER, WAITING),
    # hold
    (CALLED, Action.HOLD, HELD),
    (SERVING, Action.HOLD, HELD),
    # return (ticket)
    (HELD, Action.RETURN, WAITING),
    # reinstate (ticket)
    (MISSED, Action.REINSTATE, WAITING),
    # cancel (ticket)
    (WAITING, Action.CANCEL, CANCELLED),
    (HELD, Action.CANCEL, CANCELLED),
    (MISSED, Action.CANCEL, CANCELLED),
    # at midnight every waiting, held and missed ticket becomes expired
    (WAITING, Action.EXPIRE, EXPIRED),
    (HELD, Action.EXPIRE, EXPIRED),
    (MISSED, Action.EXPIRE, EXPIRED),
]


@pytest.mark.parametrize(("state", "action", "result"), SPEC_ROWS)
def test_each_row_of_the_spec_moves_the_ticket(
    state: TicketState, action: Action, result: TicketState
) -> None:
    assert ticket_after(state, action) is result
    assert ticket_after(state.value, action) is result  # as read from the database
    assert allows(action.value, state)


def test_the_table_is_the_spec_and_nothing_more() -> None:
    assert {(state, action): result for state, action, result in SPEC_ROWS} == TICKET_TRANSITIONS


ELSE_INVALID = [
    (state, action)
    for state, action in itertools.product(TicketState, Action)
    if (state, action) not in TICKET_TRANSITIONS
]


@pytest.mark.parametrize(("state", "action"), ELSE_INVALID)
def test_any_other_state_is_invalid(state: TicketState, action: Action) -> None:
    with pytest.raises(LifecycleError) as raised:
        ticket_after(state, action)
    assert (raised.value.state, raised.value.action) == (state, action)
    assert not allows(action.value, state)


def test_an_unknown_state_is_invalid() -> None:
    with pytest.raises(LifecycleError):
        ticket_after("lost", Action.CALL)


@pytest.mark.parametrize(
    ("action", "needs"),
    [
        ("recall", {CALLED}),
        ("start", {CALLED}),
        ("finish", {CALLED, SERVING}),
        ("no_show", {CALLED}),
        ("transfer", {CALLED, SERVING}),
        ("hold", {CALLED, SERVING}),
        ("return", {HELD}),
        ("reinstate", {MISSED}),
        ("cancel", {WAITING, HELD, MISSED}),
    ],
)
def test_action_needs_is_read_off_the_table(action: str, needs: set[TicketState]) -> None:
    assert ACTION_NEEDS[action] == needs


def test_state_groups() -> None:
    assert ISSUED is WAITING
    assert {WAITING, CALLED, SERVING, HELD, MISSED} == UNFINISHED  # "the first five"
    assert {WAITING, HELD, MISSED} == EXPIRES_AT_DAY_CLOSE  # never one being served


# The steps: a planned step joins its line, is called, served, and ends with an outcome.
STEP_ROWS = [
    (StepStatus.PLANNED, StepAction.ENQUEUE, StepStatus.WAITING, None),
    (StepStatus.WAITING, StepAction.CALL, StepStatus.CALLED, None),
    (StepStatus.CALLED, StepAction.START, StepStatus.SERVING, None),
    (StepStatus.CALLED, StepAction.FINISH, StepStatus.ENDED, StepOutcome.DONE),
    (StepStatus.SERVING, StepAction.FINISH, StepStatus.ENDED, StepOutcome.DONE),
    (StepStatus.CALLED, StepAction.CANCEL, StepStatus.ENDED, StepOutcome.CANCELLED),
    (StepStatus.SERVING, StepAction.CANCEL, StepStatus.ENDED, StepOutcome.CANCELLED),
    (StepStatus.CALLED, StepAction.NO_SHOW, StepStatus.ENDED, StepOutcome.NO_SHOW),
    (StepStatus.CALLED, StepAction.TRANSFER, StepStatus.ENDED, StepOutcome.TRANSFERRED),
    (StepStatus.SERVING, StepAction.TRANSFER, StepStatus.ENDED, StepOutcome.TRANSFERRED),
    (StepStatus.CALLED, StepAction.HOLD, StepStatus.ENDED, StepOutcome.HELD),
    (StepStatus.SERVING, StepAction.HOLD, StepStatus.ENDED, StepOutcome.HELD),
    # a cancelled ticket's steps not yet called, and the day close's
    (StepStatus.PLANNED, StepAction.CANCEL, StepStatus.ENDED, StepOutcome.CANCELLED),
    (StepStatus.WAITING, StepAction.CANCEL, StepStatus.ENDED, StepOutcome.CANCELLED),
    (StepStatus.PLANNED, StepAction.EXPIRE, StepStatus.ENDED, StepOutcome.EXPIRED),
    (StepStatus.WAITING, StepAction.EXPIRE, StepStatus.ENDED, StepOutcome.EXPIRED),
]


@pytest.mark.parametrize(("status", "action", "result", "outcome"), STEP_ROWS)
def test_each_step_move(
    status: StepStatus, action: StepAction, result: StepStatus, outcome: StepOutcome | None
) -> None:
    assert step_after(status.value, action) == (result, outcome)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (status, action)
        for status, action in itertools.product(StepStatus, StepAction)
        if (status, action) not in {(row[0], row[1]) for row in STEP_ROWS}
    ],
)
def test_any_other_step_move_is_invalid(status: StepStatus, action: StepAction) -> None:
    with pytest.raises(LifecycleError):
        step_after(status, action)


def test_a_new_step_is_planned() -> None:
    assert NEW_STEP is StepStatus.PLANNED


def test_a_ticket_reads_expired_as_the_spec_says_whether_or_not_a_job_wrote_it() -> None:
    """One rule for the live read (services/views.py) and the events' replay
    (services/event_replay.py): left waiting, held or missed on an earlier day; missed and
    past the grace."""
    today = date(2026, 11, 30)
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    grace = timedelta(minutes=30)

    def reads(state: str, day: date = today, missed_at: datetime | None = None) -> str:
        return state_as_read(state, day, missed_at, today=today, now=now, grace=grace)

    yesterday = today - timedelta(days=1)
    for state in ("waiting", "held", "missed"):
        assert reads(state, yesterday) == "expired"
    for state in ("called", "serving", "done", "cancelled"):
        assert reads(state, yesterday) == state  # in hand or ended: never expired by a read
    assert reads("waiting") == "waiting"
    assert reads("missed", missed_at=now - timedelta(minutes=30)) == "missed"  # the grace's end
    assert reads("missed", missed_at=now - timedelta(minutes=31)) == "expired"
    assert reads("held", missed_at=now - timedelta(hours=3)) == "held"  # only a miss has a grace
