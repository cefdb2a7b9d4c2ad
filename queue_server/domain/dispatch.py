"""Call order: who a counter calls next, and where a ticket stands in its line.

Classes, highest first: returning (transfer to the front, return within the
window, next step of a visit, reinstated), appointment (a booking checked in on
time, SPEC §8), green channel, ordinary; FIFO by
`sort_at` inside a class. A step past `max_wait_factor` × its target wait is
overdue and outranks every class, across all the counter's lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum


class PriorityClass(IntEnum):
    RETURNING = 0
    APPOINTMENT = 1  # a booking checked in within its window (预约)
    GREEN = 2  # green channel (elderly, disabled, pregnant)
    ORDINARY = 3


@dataclass(frozen=True)
class WaitingStep:
    step_id: int
    queue: str
    priority_class: int
    sort_at: datetime
    enqueued_at: datetime
    overdue_at: datetime
    reason: str | None = None
    reserved_counter: int | None = None

    def is_overdue(self, now: datetime) -> bool:
        return now >= self.overdue_at


@dataclass(frozen=True)
class CounterPlan:
    number: int
    queues: tuple[str, ...]
    strategy: str = "fifo"


def distinct_plans(plans: Iterable[CounterPlan]) -> list[CounterPlan]:
    """Each call plan once, whichever counters have it: who is ahead under a plan does not
    depend on the counter's number."""
    kinds = sorted({(plan.queues, plan.strategy) for plan in plans})
    return [CounterPlan(0, queues, strategy) for queues, strategy in kinds]


def call_rank(step: WaitingStep, now: datetime) -> tuple[int, int, datetime, datetime, int]:
    if step.is_overdue(now):
        return (0, 0, step.enqueued_at, step.enqueued_at, step.step_id)
    return (1, step.priority_class, step.sort_at, step.enqueued_at, step.step_id)


def line_order(waiting: Sequence[WaitingStep], now: datetime) -> list[WaitingStep]:
    """The order in which a line's waiting steps will be called."""
    return sorted(waiting, key=lambda step: call_rank(step, now))


def can_call(step: WaitingStep, counter: CounterPlan) -> bool:
    return step.queue in counter.queues and step.reserved_counter in (None, counter.number)


def choose_next(
    waiting: Sequence[WaitingStep], counter: CounterPlan, now: datetime
) -> WaitingStep | None:
    eligible = [step for step in waiting if can_call(step, counter)]
    if not eligible:
        return None
    overdue = [step for step in eligible if step.is_overdue(now)]
    if overdue or counter.strategy == "fifo":
        return min(overdue or eligible, key=lambda step: call_rank(step, now))
    for queue in counter.queues:
        in_queue = [step for step in eligible if step.queue == queue]
        if in_queue:
            return min(in_queue, key=lambda step: call_rank(step, now))
    return None


def call_reason(step: WaitingStep, now: datetime) -> str | None:
    if step.is_overdue(now):
        return "overdue"
    return step.reason


@dataclass(frozen=True)
class Choice:
    step: WaitingStep
    reason: str | None  # call_reason: why it is called now


def next_call(waiting: Sequence[WaitingStep], counter: CounterPlan, now: datetime) -> Choice | None:
    """Whom the counter calls next (`choose_next`), and why (`call_reason`)."""
    chosen = choose_next(waiting, counter, now)
    return None if chosen is None else Choice(chosen, call_reason(chosen, now))


@dataclass(frozen=True)
class Placement:
    priority_class: int
    sort_at: datetime
    reason: str | None


def base_placement(green: bool, now: datetime) -> Placement:
    if green:
        return Placement(PriorityClass.GREEN, now, "green")
    return Placement(PriorityClass.ORDINARY, now, None)


def appointment_placement(now: datetime) -> Placement:
    """A booking checked in on time (预约): ahead of green and ordinary tickets."""
    return Placement(PriorityClass.APPOINTMENT, now, "appointment")


def returning_placement(reason: str, now: datetime) -> Placement:
    return Placement(PriorityClass.RETURNING, now, reason)


def return_placement(held_at: datetime, window: timedelta, green: bool, now: datetime) -> Placement:
    """Back from a hold: ahead of ordinary tickets within the window, else at the back."""
    if now <= held_at + window:
        return returning_placement("return", now)
    return base_placement(green, now)


def reinstate_placement(line: Sequence[WaitingStep], after: int, now: datetime) -> Placement:
    """A missed ticket comes back behind the `after`-th ticket of its line's current order."""
    ordered = [step for step in line_order(line, now) if not step.is_overdue(now)]
    if len(ordered) < after:
        return Placement(PriorityClass.ORDINARY, now, "reinstated")
    anchor = ordered[after - 1]
    sort_at = anchor.sort_at + timedelta(microseconds=1)
    if len(ordered) > after:
        following = ordered[after]
        if following.priority_class == anchor.priority_class:
            sort_at = min(sort_at, anchor.sort_at + (following.sort_at - anchor.sort_at) / 2)
    return Placement(anchor.priority_class, sort_at, "reinstated")


def calls_before(
    target: WaitingStep, waiting: Sequence[WaitingStep], counter: CounterPlan, now: datetime
) -> int:
    """How many of `waiting` this counter, calling on its own across all its lines, would
    call before `target` (as `choose_next` would, one call after another). Reservations are
    not modelled: a step kept for another counter is rare and counted like any other."""
    mine = call_rank(target, now)
    target_overdue = target.is_overdue(now)
    count = 0
    for step in waiting:
        if step.step_id == target.step_id or step.queue not in counter.queues:
            continue
        if target_overdue:
            count += step.is_overdue(now) and call_rank(step, now) < mine
        elif step.is_overdue(now):
            count += 1
        elif counter.strategy == "fifo" or step.queue == target.queue:
            count += call_rank(step, now) < mine
        else:
            count += counter.queues.index(step.queue) < counter.queues.index(target.queue)
    return count
