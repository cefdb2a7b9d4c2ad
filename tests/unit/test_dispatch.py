from datetime import UTC, datetime, timedelta

import pytest

from queue_server.domain.dispatch import (
    CounterPlan,
    PriorityClass,
    WaitingStep,
    call_reason,
    choose_next,
    distinct_plans,
    line_order,
    reinstate_placement,
    return_placement,
)

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
ORD, GREEN, RET = PriorityClass.ORDINARY, PriorityClass.GREEN, PriorityClass.RETURNING
APPT = PriorityClass.APPOINTMENT


def step(
    step_id: int,
    queue: str = "A",
    minute: float = 0,
    cls: int = ORD,
    reason: str | None = None,
    reserved: int | None = None,
    overdue_after: float = 40,
) -> WaitingStep:
    at = T0 + timedelta(minutes=minute)
    return WaitingStep(
        step_id, queue, cls, at, at, at + timedelta(minutes=overdue_after), reason, reserved
    )


NOW = T0 + timedelta(minutes=30)
FIFO_AB = CounterPlan(1, ("A", "B"), "fifo")
ORDERED_BA = CounterPlan(7, ("B", "A"), "ordered")


@pytest.mark.parametrize(
    ("waiting", "counter", "expected"),
    [
        ([], FIFO_AB, None),
        ([step(1, "C")], FIFO_AB, None),  # not one of its lines
        ([step(1, minute=2), step(2, minute=1)], FIFO_AB, 2),  # FIFO
        ([step(1, "A", 1), step(2, "B", 2)], FIFO_AB, 1),  # fifo across lines
        ([step(1, "A", 1), step(2, "B", 2)], ORDERED_BA, 2),  # ordered: first line first
        ([step(1, "A", 1)], ORDERED_BA, 1),  # ... then the next line
        ([step(1, minute=1), step(2, minute=5, cls=GREEN, reason="green")], FIFO_AB, 2),
        ([step(1, minute=1, cls=GREEN), step(2, minute=5, cls=RET, reason="transfer")], FIFO_AB, 2),
        # An appointment checked in on time: below returning, above green (SPEC §2).
        ([step(1, minute=1, cls=GREEN), step(2, minute=5, cls=APPT)], FIFO_AB, 2),
        ([step(1, minute=5, cls=RET), step(2, minute=1, cls=APPT)], FIFO_AB, 1),
        ([step(1, minute=1, cls=APPT), step(2, minute=2, cls=APPT)], FIFO_AB, 1),
        ([step(1, minute=1, reserved=3), step(2, minute=2)], FIFO_AB, 2),  # kept for counter 3
        ([step(1, minute=1, reserved=1), step(2, minute=0)], FIFO_AB, 2),
        ([step(1, minute=1, reserved=1, cls=RET), step(2, minute=0)], FIFO_AB, 1),
    ],
)
def test_choose_next(
    waiting: list[WaitingStep], counter: CounterPlan, expected: int | None
) -> None:
    chosen = choose_next(waiting, counter, NOW)
    assert (chosen.step_id if chosen else None) == expected


def test_overdue_outranks_every_class_and_the_line_order() -> None:
    late = step(1, "A", minute=0, overdue_after=20)  # overdue at T0+20 < NOW
    returning = step(2, "B", minute=10, cls=RET, reason="transfer")
    chosen = choose_next([returning, late], ORDERED_BA, NOW)
    assert chosen is not None
    assert chosen.step_id == 1
    assert call_reason(chosen, NOW) == "overdue"
    # Not yet overdue a minute earlier: the ordered counter takes its first line.
    earlier = T0 + timedelta(minutes=19)
    chosen_before = choose_next([returning, late], ORDERED_BA, earlier)
    assert chosen_before is not None
    assert chosen_before.step_id == 2


def test_reason_is_carried_when_not_overdue() -> None:
    assert call_reason(step(1, reason="next_step", cls=RET), NOW) == "next_step"
    assert call_reason(step(1), NOW) is None


def test_line_order_classes_then_fifo() -> None:
    line = [
        step(1, minute=1),
        step(2, minute=2, cls=GREEN),
        step(3, minute=3, cls=RET),
        step(4, minute=0),
    ]
    assert [item.step_id for item in line_order(line, NOW)] == [3, 2, 4, 1]


@pytest.mark.parametrize(
    ("line_size", "expected_index"),
    [(0, 0), (1, 1), (2, 2), (3, 3), (5, 3)],
)
def test_reinstated_goes_behind_the_third(line_size: int, expected_index: int) -> None:
    line = [step(index + 1, minute=index) for index in range(line_size)]
    placement = reinstate_placement(line, 3, NOW)
    assert placement.reason == "reinstated"
    back = WaitingStep(
        99,
        "A",
        placement.priority_class,
        placement.sort_at,
        NOW,
        NOW + timedelta(minutes=40),
        placement.reason,
    )
    order = [item.step_id for item in line_order([*line, back], NOW)]
    assert order.index(99) == expected_index


def test_reinstated_behind_a_returning_third_stays_ahead_of_ordinary() -> None:
    line = [
        step(1, minute=5, cls=RET),
        step(2, minute=6, cls=RET),
        step(3, minute=7, cls=RET),
        step(4, minute=0),
    ]
    placement = reinstate_placement(line, 3, NOW)
    back = WaitingStep(
        99, "A", placement.priority_class, placement.sort_at, NOW, NOW + timedelta(hours=1)
    )
    assert [item.step_id for item in line_order([*line, back], NOW)] == [1, 2, 3, 99, 4]


@pytest.mark.parametrize(
    ("minutes_away", "green", "cls", "reason"),
    [
        (10, False, RET, "return"),
        (60, False, RET, "return"),  # the window's last moment still counts
        (61, False, ORD, None),
        (61, True, GREEN, "green"),
    ],
)
def test_return_window(minutes_away: float, green: bool, cls: int, reason: str | None) -> None:
    held_at = T0
    placement = return_placement(
        held_at, timedelta(minutes=60), green, T0 + timedelta(minutes=minutes_away)
    )
    assert (placement.priority_class, placement.reason) == (cls, reason)


def test_distinct_plans_keep_each_call_plan_once_whatever_its_counter() -> None:
    plans = [
        CounterPlan(1, ("A", "B"), "fifo"),
        CounterPlan(2, ("A", "B"), "fifo"),
        CounterPlan(3, ("A", "B"), "ordered"),
        CounterPlan(4, ("B",), "fifo"),
    ]
    assert distinct_plans(plans) == [
        CounterPlan(0, ("A", "B"), "fifo"),
        CounterPlan(0, ("A", "B"), "ordered"),
        CounterPlan(0, ("B",), "fifo"),
    ]
    assert distinct_plans([]) == []
