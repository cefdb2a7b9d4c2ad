"""The managers' live board beyond the line counts: the day so far (numbers taken, served and
waiting per line with arrivals by hour, p50/p90 wait, each clerk's served count and rating),
each counter's current service time, and which waiting tickets are past their own business's
target wait.

Everything is an aggregate over today's steps, a few rows each, so the board stays cheap
though the publisher recomputes it a few times a second in a burst:
- `line_hours`: per (line, local hour of enqueueing) steps, numbers taken, served;
- `clerk_day`: per clerk, steps called, served, ratings;
- `wait_histogram`: waits of today's called steps in whole seconds (one row per distinct
  second), for exact nearest-rank p50/p90 as the reports compute them;
- `overdue_lines`: waiting steps per (line, first business), with how many are past that
  business's target and the oldest one;
- `in_hand`: the steps called or being served now (one per busy counter).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal, select

from queue_server.domain.lifecycle import StepOutcome, StepStatus
from queue_server.domain.reporting import nearest_ranks
from queue_server.models import STEP_IS_WAITING, Step
from queue_server.services.unit_of_work import UnitOfWork

HOURS = 24


def _today(uow: UnitOfWork) -> ColumnElement[bool]:
    return and_(Step.site_code == uow.site.code, Step.business_day == uow.today)


def hour_starts(uow: UnitOfWork) -> list[datetime]:
    """The start of each local hour of today (1 … 23), as aware times."""
    midnight = datetime.combine(uow.today, datetime.min.time(), tzinfo=uow.zone)
    return [midnight + timedelta(hours=hour) for hour in range(1, HOURS)]


def _hour_of(uow: UnitOfWork) -> ColumnElement[int]:
    """The local hour a step was enqueued (0–23), portable and exact in any time zone: a CASE
    over today's hour starts, up to the hour now (no step is enqueued later)."""
    starts = [start for start in hour_starts(uow) if start <= uow.now]
    if not starts:
        return literal(0, Integer)
    return case(
        *[(Step.enqueued_at < start, hour) for hour, start in enumerate(starts)],
        else_=len(starts),
    )


def _wait_seconds(uow: UnitOfWork) -> ColumnElement[int]:
    """called − enqueued in whole seconds (truncated), in the database's own date arithmetic."""
    if uow.session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", Step.called_at - Step.enqueued_at)), Integer)
    # julianday is exact to well under a millisecond at today's dates: a thousandth of a
    # second is added so that 60.000 s, stored as 59.99999…, is not truncated to 59.
    days = func.julianday(Step.called_at) - func.julianday(Step.enqueued_at)
    return cast(days * 86400 + 0.001, Integer)


def _flag(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


@dataclass(frozen=True)
class LineDay:
    tickets: int
    steps: int
    served: int
    by_hour: list[int]  # steps enqueued per local hour (arrivals)


def line_hours(uow: UnitOfWork) -> dict[str, LineDay]:
    hour = _hour_of(uow)
    rows = uow.session.execute(
        select(
            Step.queue_code,
            hour,
            func.count(),
            _flag(Step.position == 1),
            _flag(Step.outcome == StepOutcome.DONE.value),
        )
        .where(_today(uow), Step.enqueued_at.is_not(None))
        .group_by(Step.queue_code, hour)
    ).all()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    hours: dict[str, list[int]] = defaultdict(lambda: [0] * HOURS)
    for queue, at_hour, steps, tickets, served in rows:
        total = totals[queue]
        total[0] += int(tickets or 0)
        total[1] += int(steps)
        total[2] += int(served or 0)
        hours[queue][int(at_hour)] += int(steps)
    return {
        queue: LineDay(tickets, steps, served, hours[queue])
        for queue, (tickets, steps, served) in totals.items()
    }


@dataclass(frozen=True)
class ClerkDay:
    called: int
    served: int
    ratings: int
    rating_sum: int


def clerk_day(uow: UnitOfWork) -> dict[str, ClerkDay]:
    rows = uow.session.execute(
        select(
            Step.clerk_username,
            func.count(),
            _flag(Step.outcome == StepOutcome.DONE.value),
            func.count(Step.rating),
            func.coalesce(func.sum(Step.rating), 0),
        )
        .where(_today(uow), Step.called_at.is_not(None), Step.clerk_username.is_not(None))
        .group_by(Step.clerk_username)
    ).all()
    return {
        username: ClerkDay(int(called), int(served or 0), int(ratings), int(rating_sum))
        for username, called, served, ratings, rating_sum in rows
    }


def wait_histogram(uow: UnitOfWork) -> Counter[int]:
    wait = _wait_seconds(uow)
    rows = uow.session.execute(
        select(wait, func.count())
        .where(_today(uow), Step.called_at.is_not(None), Step.enqueued_at.is_not(None))
        .group_by(wait)
    ).all()
    return Counter({max(0, int(seconds)): int(count) for seconds, count in rows})


@dataclass(frozen=True)
class OverTarget:
    """Waiting steps of one line and one first business: how many, how many past that
    business's target, and when the oldest was enqueued."""

    queue: str
    service: str
    waiting: int
    over: int
    oldest: datetime


def overdue_lines(uow: UnitOfWork) -> list[OverTarget]:
    first_service = Step.services[0].as_string()
    deadlines = [
        (
            and_(
                first_service == service.code,
                Step.enqueued_at < uow.now - timedelta(minutes=service.target_wait_min),
            ),
            1,
        )
        for service in uow.site.services
    ]
    over = func.sum(case(*deadlines, else_=0)) if deadlines else func.sum(0)
    rows = uow.session.execute(
        select(Step.queue_code, first_service, func.count(), over, func.min(Step.enqueued_at))
        .where(_today(uow), STEP_IS_WAITING)
        .group_by(Step.queue_code, first_service)
    ).all()
    return [
        OverTarget(queue, service or "", int(count), int(past or 0), oldest)
        for queue, service, count, past, oldest in rows
        if oldest is not None
    ]


def in_hand(uow: UnitOfWork) -> dict[int, datetime]:
    """When each busy counter's current step began: started, else called."""
    rows = uow.session.execute(
        select(Step.counter_number, Step.called_at, Step.started_at).where(
            _today(uow),
            Step.status.in_((StepStatus.CALLED.value, StepStatus.SERVING.value)),
            Step.counter_number.is_not(None),
        )
    ).all()
    return {
        number: started or called
        for number, called, started in rows
        if called is not None and number is not None
    }


def day_totals(
    uow: UnitOfWork, lines: dict[str, LineDay], histogram: Counter[int]
) -> dict[str, Any]:
    p50, p90 = nearest_ranks(histogram, (50, 90))
    return {
        "tickets": sum(line.tickets for line in lines.values()),
        "issued": sum(line.steps for line in lines.values()),
        "served": sum(line.served for line in lines.values()),
        "called": sum(histogram.values()),
        "p50_wait_s": p50,
        "p90_wait_s": p90,
        "hour": uow.local_now.hour,
    }


def seconds_since(uow: UnitOfWork, moment: datetime | None) -> int | None:
    return max(0, int((uow.now - moment).total_seconds())) if moment is not None else None
