"""The pure parts of a call, each asked once by the use case: whom to call and why
(`next_call`), the visit's one move (`visit_after`), and the call's words (`call_words`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from queue_server.domain.dispatch import (
    CounterPlan,
    WaitingStep,
    call_reason,
    choose_next,
    next_call,
)
from queue_server.domain.lifecycle import (
    Action,
    LifecycleError,
    StepAction,
    StepOutcome,
    StepStatus,
    TicketState,
    step_after,
    ticket_after,
    visit_after,
)
from queue_server.domain.numbering import call_speech, call_text, call_words

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def waiting(step_id: int, minutes_ago: int, *, overdue: bool = False) -> WaitingStep:
    enqueued = NOW - timedelta(minutes=minutes_ago)
    return WaitingStep(
        step_id=step_id,
        queue="A",
        priority_class=2,
        sort_at=enqueued,
        enqueued_at=enqueued,
        overdue_at=NOW - timedelta(seconds=1) if overdue else NOW + timedelta(hours=1),
        reason="green" if step_id % 2 else None,
    )


@pytest.mark.parametrize(
    "line",
    [
        [],
        [waiting(1, 5)],
        [waiting(1, 5), waiting(2, 9)],
        [waiting(1, 5), waiting(2, 3, overdue=True), waiting(3, 9)],
    ],
)
def test_next_call_is_choose_next_with_its_reason(line: list[WaitingStep]) -> None:
    plan = CounterPlan(5, ("A",))
    chosen = choose_next(line, plan, NOW)
    choice = next_call(line, plan, NOW)
    if chosen is None:
        assert choice is None
    else:
        assert choice is not None
        assert (choice.step, choice.reason) == (chosen, call_reason(chosen, NOW))


@pytest.mark.parametrize(
    ("state", "action", "status", "step_action"),
    [
        (TicketState.WAITING, Action.CALL, StepStatus.WAITING, StepAction.CALL),
        (TicketState.CALLED, Action.START, StepStatus.CALLED, StepAction.START),
        (TicketState.SERVING, Action.FINISH, StepStatus.SERVING, StepAction.FINISH),
        (TicketState.CALLED, Action.NO_SHOW, StepStatus.CALLED, StepAction.NO_SHOW),
    ],
)
def test_visit_after_is_both_tables_at_once(
    state: TicketState, action: Action, status: StepStatus, step_action: StepAction
) -> None:
    move = visit_after(state, action, status, step_action)
    assert (move.ticket, (move.step, move.outcome)) == (
        ticket_after(state, action),
        step_after(status, step_action),
    )


def test_a_call_moves_ticket_and_step_and_ends_nothing() -> None:
    move = visit_after("waiting", Action.CALL, "waiting", StepAction.CALL)
    assert move == (TicketState.CALLED, StepStatus.CALLED, None)
    finished = visit_after("serving", Action.FINISH, "serving", StepAction.FINISH)
    assert finished.outcome is StepOutcome.DONE


@pytest.mark.parametrize(
    ("state", "status"), [("done", "waiting"), ("waiting", "ended"), ("nonsense", "waiting")]
)
def test_visit_after_refuses_what_either_table_refuses(state: str, status: str) -> None:
    with pytest.raises(LifecycleError):
        visit_after(state, Action.CALL, status, StepAction.CALL)


@pytest.mark.parametrize(
    ("number", "counter", "location"), [("A023", 5, None), ("E003", 10, "三楼")]
)
def test_call_words_are_the_text_and_the_speech(
    number: str, counter: int, location: str | None
) -> None:
    assert call_words(number, counter, location) == (
        call_text(number, counter, location),
        call_speech(number, counter, location),
    )
