"""Wait estimates in the running hall: the learned service times, shared between processes,
and the estimates of every waiting step, recomputed when the hall changes.

- `service_times(uow)` learns a site's distributions (the last `HISTORY_DAYS` days, today
  included, and today's pace); `finished_steps` is its query, shared with the simulator's
  replay of a day. The learning itself is pure: `domain.estimates.learn_service_times`.
- `store_service_times(uow)` is the scheduled job's use case: it writes the learned model to
  `estimate_models` (jobs run in one process only); `EstimateCache.model` reloads a process's
  copy when it is older than `MODEL_MAX_AGE_S`, the configured durations until the first run.
- `EstimateCache.refresh(uow)` runs the estimator over the whole site (every waiting step,
  and per line the ticket about to join it, ordinary and green) and keeps the `Board` with
  the event seq it reflects. The publisher calls it after commits, coalesced (at most once
  per `publish_interval_s` per site); T only reads the board (`EstimateCache.board`), so a
  request never waits for a simulation. A ticket issued since the last run takes its line's
  joining estimate, which is exactly its own.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from queue_server.config import DEFAULT_TARGET_WAIT_MIN, SiteConfig
from queue_server.domain.dispatch import CounterPlan, WaitingStep, distinct_plans
from queue_server.domain.estimates import (
    WALK_PRIOR_S,
    CounterNow,
    Estimate,
    FinishedStep,
    InHand,
    ServiceTimes,
    configured_service_times,
    estimate_waits,
    joining,
    learn_service_times,
    places_ahead,
)
from queue_server.models import (
    STEP_IS_WAITING,
    Counter,
    EstimateModel,
    SiteSequence,
    Step,
    Ticket,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from queue_server.services.unit_of_work import UnitOfWork

HISTORY_DAYS = 28  # four weeks: every weekday four times, recent enough to follow the hall


MODEL_MAX_AGE_S = 60.0  # a process reloads the stored model when its copy is older
BOARD_MAX_AGE_S = 30.0  # estimates are recomputed this often even when nothing changed
BOARD_DRAWS = 100  # draws per board: the simulator's error was the same with 20 (estimates.md)
BOARD_MIN_DRAWS = 30
BOARD_WORK = 20_000  # calls drawn per board at most: long lines get fewer draws (≥ 30)
PHANTOM_IDS = 2**62  # step ids of the tickets about to join each line (never a real id)
SLOWDOWN = 3  # a board that took t to make is remade at most every SLOWDOWN × t
Offload = Callable[..., Any]  # offload(function, *args, **kwargs) → function's result


def run_here(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The `Offload` that runs the call in the caller's own thread."""
    return function(*args, **kwargs)


def configured_durations(site: SiteConfig) -> dict[str, float]:
    """The typical counter time the hall file gives per business (`service_s`), if any."""
    return {service.code: service.service_s for service in site.services if service.service_s}


def finished_steps(
    session: Session, site_code: str, since: date, until: date
) -> list[FinishedStep]:
    """Steps called and ended (any outcome) on business days `since` ≤ day ≤ `until`."""
    rows = session.execute(
        select(Step.services, Step.called_at, Step.started_at, Step.ended_at).where(
            Step.site_code == site_code,
            Step.business_day >= since,  # the (site, day) index: never the whole history
            Step.business_day <= until,
            Step.called_at.is_not(None),
            Step.ended_at.is_not(None),
        )
    ).all()
    return [
        FinishedStep(tuple(services or ()), called_at, started_at, ended_at)
        for services, called_at, started_at, ended_at in rows
        if called_at is not None and ended_at is not None  # the query's own condition
    ]


def learn_for_site(
    site: SiteConfig, steps: Sequence[FinishedStep], now: datetime | None = None
) -> ServiceTimes:
    """The pure learning with the site's zone and configured durations."""
    return learn_service_times(
        steps, site.zone, site.policy.default_service_s, configured_durations(site), now=now
    )


def service_times(uow: UnitOfWork, days: int = HISTORY_DAYS) -> ServiceTimes:
    """The site's service-time distributions now: its last `days` days of finished steps
    and today's pace. Costs a query of a few thousand rows a day: run it from the scheduled
    refresh (or on a miss of the cache), never per request."""
    today = uow.now.astimezone(uow.site.zone).date()
    steps = finished_steps(uow.session, uow.site.code, today - timedelta(days=days), today)
    return learn_for_site(uow.site, steps, uow.now)


def configured_for_site(site: SiteConfig) -> ServiceTimes:
    """A hall before the job's first run: its configured durations."""
    return configured_service_times(
        site.zone, site.policy.default_service_s, configured_durations(site), WALK_PRIOR_S
    )


def store_service_times(uow: UnitOfWork) -> ServiceTimes:
    """The scheduled job's use case: learn the site's service times and store them (one row
    per site, overwritten: running it twice is harmless)."""
    times = service_times(uow)
    row = uow.session.get(EstimateModel, uow.site.code)
    if row is None:
        row = EstimateModel(site_code=uow.site.code)
        uow.session.add(row)
    row.computed_at = uow.now
    row.model = times.to_dict()
    uow.session.flush()
    return times


def stored_service_times(session: Session, site: SiteConfig) -> ServiceTimes | None:
    row = session.get(EstimateModel, site.code)
    return ServiceTimes.from_dict(row.model) if row is not None else None


@dataclass(frozen=True)
class Board:
    """The estimates of one site as of event `seq`: per waiting step, and per line for the
    ticket about to join it (`(line, green)`)."""

    seq: int
    computed_at: datetime  # the hall clock's
    made_at: float  # time.monotonic(), for its age
    steps: Mapping[int, Estimate]
    joining: Mapping[tuple[str, bool], Estimate]
    cost_s: float = 0.0  # how long the estimator ran
    # For steps the run did not see: how many were ahead of each line's joiner (T's
    # `waiting_ahead` then), the tickets the counters had in hand, and per line the mean
    # seconds one more step ahead adds (the mean counter time ÷ the line's open counters).
    joining_ahead: Mapping[tuple[str, bool], int] = field(default_factory=dict)
    in_hand: frozenset[str] = frozenset()
    step_s: Mapping[str, float] = field(default_factory=dict)

    @property
    def age_s(self) -> float:
        return time.monotonic() - self.made_at

    def hall_age_s(self, now: datetime) -> float:
        """Its age by the hall clock (waits change with the hall's time; a rehearsal's clock
        may run faster than the wall clock)."""
        return abs((now - self.computed_at).total_seconds())

    def of_step(
        self,
        step_id: int,
        queue: str,
        green: bool,
        waiting_ahead: int,
        called_since: int,
        free_now: int = 0,
    ) -> Estimate | None:
        """A step's estimate; one not yet in the board (issued, moved or returned since the
        run) is the line's joining one, behind the steps the run did not see either (a burst
        of tickets faster than the boards), each adding the line's `step_s`. Those are, with
        no query: the steps ahead of it now (`waiting_ahead`, T's count) and those its
        line's counters took since the run (`called_since`, still at a counter), less those
        that were ahead of the joiner in the run.

        A step with fewer ahead of it than its line has open counters free now (`free_now`)
        is called at once, as a fresh run would say, whatever the board (made before those
        counters finished) said."""
        estimate = self.steps.get(step_id) or self._joining(
            queue, green, waiting_ahead, called_since
        )
        if estimate is not None and estimate.est_wait_s is not None and waiting_ahead < free_now:
            return replace(estimate, est_wait_s=0, range_s=(0, 0), mean_s=0)
        return estimate

    def _joining(
        self, queue: str, green: bool, waiting_ahead: int, called_since: int
    ) -> Estimate | None:
        joining = self.joining.get((queue, green))
        newer_ahead = waiting_ahead + called_since - self.joining_ahead.get((queue, green), 0)
        if joining is None or newer_ahead <= 0 or joining.est_wait_s is None:
            return joining
        extra = round(newer_ahead * self.step_s.get(queue, 0.0))
        low, high = joining.range_s or (joining.est_wait_s, joining.est_wait_s)
        return replace(
            joining,
            est_wait_s=joining.est_wait_s + extra,
            range_s=(low + extra, high + extra),
            mean_s=None if joining.mean_s is None else joining.mean_s + extra,
        )


EVENT_SEQ = select(SiteSequence.value).where(
    SiteSequence.site_code == bindparam("site"), SiteSequence.name == "event"
)
EVENT_SEQS = select(SiteSequence.site_code, SiteSequence.value).where(SiteSequence.name == "event")


def event_seqs(uow: UnitOfWork) -> dict[str, int]:
    """Every site's event seq in one statement (whatever the unit of work's own site): the
    publisher's tick asks which boards are stale without a read per site."""
    return {code: value or 0 for code, value in uow.session.connection().execute(EVENT_SEQS)}


# Every counter's number, lines, strategy, state and ticket in hand (services/views.py's
# HallState reads them too); the live ones are those the estimator runs with.
COUNTER_STATES = select(
    Counter.number, Counter.queues, Counter.strategy, Counter.state, Counter.current_ticket_id
).where(Counter.site_code == bindparam("site"))
LIVE_COUNTERS = COUNTER_STATES.where(Counter.state.in_(("open", "paused")))
IN_HAND = (
    select(Ticket.id, Step.services, Step.called_at)
    .join(Step, (Step.ticket_id == Ticket.id) & (Step.position == Ticket.current_step))
    .where(Ticket.state.in_(("called", "serving")))
)
# A waiting step as the call order sees it (services/views.py reads the lines with these too).
WAITING_COLUMNS = (
    Step.id,
    Step.queue_code,
    Step.priority_class,
    Step.sort_at,
    Step.enqueued_at,
    Step.overdue_at,
    Step.reason,
    Step.reserved_counter,
)
# Today's waiting steps of a site (`site`, `day`); the estimator also reads their businesses.
SITE_WAITING_STEPS = select(*WAITING_COLUMNS).where(
    Step.site_code == bindparam("site"), Step.business_day == bindparam("day"), STEP_IS_WAITING
)
WAITING = SITE_WAITING_STEPS.add_columns(Step.services)


def waiting_step(row: Any) -> WaitingStep:
    """A row of WAITING_COLUMNS as the dispatch rule takes it."""
    return WaitingStep(
        step_id=row.id,
        queue=row.queue_code,
        priority_class=row.priority_class,
        sort_at=row.sort_at,
        enqueued_at=row.enqueued_at,
        overdue_at=row.overdue_at,
        reason=row.reason,
        reserved_counter=row.reserved_counter,
    )


def hall_now(
    uow: UnitOfWork,
) -> tuple[list[CounterNow], list[WaitingStep], dict[int, tuple[str, ...]]]:
    """What the estimator is given: the open and paused counters with the step in hand, and
    today's waiting steps of the lines they serve, with their businesses."""
    uow.session.flush()  # Core statements do not autoflush
    connection = uow.session.connection()
    rows = list(connection.execute(LIVE_COUNTERS, {"site": uow.site.code}))
    ids = [row.current_ticket_id for row in rows if row.current_ticket_id]
    in_hand: dict[str, InHand] = {}
    if ids:
        for ticket_id, codes, called_at in connection.execute(IN_HAND.where(Ticket.id.in_(ids))):
            if called_at is not None:
                in_hand[ticket_id] = InHand(tuple(codes or ()), called_at, ticket_id)
    counters = [
        CounterNow(
            CounterPlan(row.number, tuple(row.queues), row.strategy),
            row.state,
            in_hand.get(row.current_ticket_id or ""),
        )
        for row in rows
    ]
    waiting: list[WaitingStep] = []
    services: dict[int, tuple[str, ...]] = {}
    lines = sorted({code for counter in counters for code in counter.plan.queues})
    if not lines:  # no counter open or paused: nothing to estimate, no line to read
        return counters, waiting, services
    steps = connection.execute(
        WAITING.where(Step.queue_code.in_(lines)), {"site": uow.site.code, "day": uow.today}
    )
    for row in steps:
        waiting.append(waiting_step(row))
        services[row.id] = tuple(row.services or ())
    return counters, waiting, services


def board_draws(waiting: int) -> int:
    """100 draws, fewer on very long lines (the cost is draws × calls): the median of 30
    draws is as good for a wait of 200 people, whose spread is narrow anyway."""
    return max(BOARD_MIN_DRAWS, min(BOARD_DRAWS, BOARD_WORK // max(waiting, 1)))


def compute_board(
    uow: UnitOfWork,
    times: ServiceTimes,
    seq: int,
    offload: Offload | None = None,
) -> Board:
    """Every waiting step's estimate and each served line's joining ones (ordinary and
    green), from one run of the estimator: the joiners are phantoms (`estimate_waits`), so
    they change nobody's wait. The reads happen here; the run itself through `offload`
    (`offload(estimate_waits, *args, **kwargs)`: a process of its own under gevent) when
    given."""
    counters, waiting, services = hall_now(uow)
    served = sorted({code for counter in counters for code in counter.plan.queues})
    # A joiner not yet issued has no business: it waits as a step without one does.
    may_wait = timedelta(minutes=DEFAULT_TARGET_WAIT_MIN * uow.site.policy.max_wait_factor)
    phantom_of: dict[int, tuple[str, bool]] = {}
    phantoms: list[WaitingStep] = []
    for index, (queue, green) in enumerate((q, g) for q in served for g in (False, True)):
        joiner = joining(queue, uow.now, may_wait, green)
        step_id = PHANTOM_IDS + index  # after every real step in call order's last tie-break
        phantoms.append(replace(joiner, step_id=step_id))
        phantom_of[step_id] = (queue, green)
    now = uow.now
    run = offload or run_here
    started = time.monotonic()
    estimates: dict[int, Estimate] = run(
        estimate_waits,
        [*(step.step_id for step in waiting), *phantom_of],
        counters,
        [*waiting, *phantoms],
        services,
        times,
        now,
        random.Random(seq),  # the same hall and seq, the same figures
        board_draws(len(waiting)),
        phantoms=phantom_of,
    )
    joiners = {
        (queue.code, green): Estimate(False, None, None, None)
        for queue in uow.site.queues
        for green in (False, True)
    }
    for step_id, key in phantom_of.items():
        joiners[key] = estimates.pop(step_id)
    step_s = {}
    joining_ahead = {}
    for queue in served:
        serving = [
            counter.plan
            for counter in counters
            if counter.state == "open" and queue in counter.plan.queues
        ]
        if serving:
            step_s[queue] = times.fallback.mean * times.pace / len(serving)
        distinct = distinct_plans(serving)
        for phantom in phantoms:
            if phantom.queue == queue:
                key = phantom_of[phantom.step_id]
                joining_ahead[key] = places_ahead(phantom, waiting, distinct, now)
    return Board(
        seq,
        now,
        time.monotonic(),
        estimates,
        joiners,
        time.monotonic() - started,
        joining_ahead,
        frozenset(
            counter.in_hand.ticket_id
            for counter in counters
            if counter.in_hand is not None and counter.in_hand.ticket_id is not None
        ),
        step_s,
    )


def _still_fresh(kept: Board, seq: int, now: datetime) -> bool:
    """The board of the hall's current seq and under `BOARD_MAX_AGE_S` old by the hall
    clock, or a costly one not to be remade at once."""
    return (kept.seq == seq and kept.hall_age_s(now) < BOARD_MAX_AGE_S) or (
        kept.age_s < SLOWDOWN * kept.cost_s
    )


class EstimateCache:
    """This process's copy of each site's learned model and of its latest board.

    `background` is set when this process refreshes boards off the request path (the
    publisher's loop): T then reads whatever board there is. Without it (tests, scripts) a
    reader whose board is behind the event seq computes it on the spot, once per seq."""

    def __init__(self) -> None:
        self.background = False
        self.offload: Offload | None = None  # where the estimator runs (set by the publisher)
        self.runs = 0  # estimator runs in this process (a test counts them)
        self._lock = threading.Lock()
        self._models: dict[str, tuple[float, ServiceTimes]] = {}
        self._boards: dict[str, Board] = {}

    def model(self, uow: UnitOfWork) -> ServiceTimes:
        """The site's model: the stored one, reloaded when this copy is over a minute old."""
        kept = self._models.get(uow.site.code)
        now = uow.now.timestamp()  # the hall clock's: a rehearsal's clock may run faster
        if kept is not None and 0 <= now - kept[0] < MODEL_MAX_AGE_S:
            return kept[1]
        times = stored_service_times(uow.session, uow.site) or configured_for_site(uow.site)
        self._models[uow.site.code] = (now, times)
        return times

    def board_of(self, site_code: str) -> Board | None:
        """The latest board kept for the site, if any (no computing)."""
        return self._boards.get(site_code)

    def forget_model(self, site_code: str) -> None:
        self._models.pop(site_code, None)

    def refresh(self, uow: UnitOfWork) -> Board:
        """The site's board, recomputed when the hall changed since (another event seq) or
        it is older than `BOARD_MAX_AGE_S`: for the publisher's loop, not for requests."""
        return self._board(uow, lambda kept, seq: _still_fresh(kept, seq, uow.now))

    def is_fresh(self, site_code: str, seq: int, now: datetime) -> bool:
        """Whether `refresh` would keep the site's board at event `seq` (no database)."""
        kept = self._boards.get(site_code)
        return kept is not None and _still_fresh(kept, seq, now)

    def board(self, uow: UnitOfWork) -> Board:
        """What T reads. In the background mode, the latest board whatever its seq (the loop
        brings it up to date within a fraction of a second; a process's very first ticket
        has it made at once). Otherwise the board of this seq and this moment, made on the
        spot if need be (tests, scripts)."""
        kept = self._boards.get(uow.site.code)
        if kept is not None and self.background:
            return kept
        return self._board(uow, lambda kept, seq: kept.seq == seq and kept.computed_at == uow.now)

    def _board(self, uow: UnitOfWork, still_good: Callable[[Board, int], bool]) -> Board:
        seq = uow.session.connection().scalar(EVENT_SEQ, {"site": uow.site.code}) or 0
        kept = self._boards.get(uow.site.code)
        if kept is not None and still_good(kept, seq):
            return kept
        with self._lock:
            kept = self._boards.get(uow.site.code)
            if kept is not None and still_good(kept, seq):
                return kept  # another thread made it meanwhile
            board = compute_board(uow, self.model(uow), seq, offload=self.offload)
            self.runs += 1
            self._boards[uow.site.code] = board
        return board
