"""A hall day in simulated time, through the real dispatch rules.

A small event loop of its own (a heap of timed events; no threads, no wall clock): visitors
arrive and are routed (`domain.routing.route`) and placed (`domain.dispatch.base_placement`)
as `issue_ticket` does; each open counter calls `domain.dispatch.choose_next` whenever it is
free; a visit's further businesses become further steps with returning priority
(`next_step`), as a finish does. Service times are a visit's recorded ones when it has them
(a replayed day), else drawn from the `ServiceTimes` given, by the hour of the call.

With an `EstimatorRun`, every ticket gets the estimator's answer at issue (and, at the times
asked for, again while it waits), from the hall as it stands then, with the service times
re-learned every `refresh_s` from history plus the day's finished steps, as the scheduled
job would.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from queue_server.config import SiteConfig
from queue_server.domain.dispatch import (
    CounterPlan,
    WaitingStep,
    base_placement,
    choose_next,
    line_order,
    returning_placement,
)
from queue_server.domain.estimates import (
    DEFAULT_DRAWS,
    CounterNow,
    FinishedStep,
    InHand,
    ServiceTimes,
    estimate_wait,
)
from queue_server.domain.routing import RoutingRule, route

# Events at the same moment: steps end (counters free up), then visitors arrive, then
# estimates are read, then the service times are re-learned; counters open on the hour.
END, ARRIVE, PROBE, REFRESH, OPEN = range(5)


@dataclass(frozen=True)
class Visit:
    """One ticket of the day: when it was taken, its businesses, and (for a replayed day)
    the recorded counter time per business: (walk from the seats, service) in seconds."""

    at: datetime
    service: str
    party: str = "individual"
    headcount: int = 1
    green: bool = False
    further: tuple[str, ...] = ()
    recorded: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class CounterSetup:
    number: int
    queues: tuple[str, ...]
    strategy: str = "fifo"
    hours: frozenset[int] | None = None  # the local hours it is open (None: all day)

    @property
    def plan(self) -> CounterPlan:
        return CounterPlan(self.number, self.queues, self.strategy)

    def open_at(self, hour: int) -> bool:
        """Whether it calls in that hour (a step in hand at the close is finished)."""
        return self.hours is None or hour in self.hours


@dataclass
class StepRecord:
    visit: int
    position: int
    queue: str
    services: tuple[str, ...]
    enqueued_at: datetime
    target_s: float
    called_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    counter: int | None = None
    estimate_s: int | None = None  # the estimator's, at issue
    estimate_mean_s: int | None = None
    estimate_range_s: tuple[int, int] | None = None
    old_estimate_s: int | None = None  # people ahead × line's recent mean ÷ open counters
    probes: dict[float, tuple[int | None, int | None, int | None]] = field(default_factory=dict)

    @property
    def wait_s(self) -> float | None:
        if self.called_at is None:
            return None
        return (self.called_at - self.enqueued_at).total_seconds()


@dataclass
class EstimatorRun:
    """How the estimator takes part: what it learns from, how often, how many draws."""

    learn: Callable[[Sequence[FinishedStep], datetime | None], ServiceTimes]
    history: Sequence[FinishedStep] = ()
    refresh_s: float = 600.0
    draws: int = DEFAULT_DRAWS
    seed: int = 0
    old_sample: int = 20  # the old formula's "last 20 service times"
    probes: Mapping[int, Sequence[float]] = field(default_factory=dict)  # visit → seconds after
    timings: list[float] | None = None  # each estimate's computing time (s), when given


@dataclass
class DayResult:
    steps: list[StepRecord]

    def first_steps(self) -> list[StepRecord]:
        return [step for step in self.steps if step.position == 1]


@dataclass
class _Waiting:
    step: WaitingStep
    record: StepRecord


class Hall:
    """The day's state and its event loop."""

    def __init__(
        self,
        site: SiteConfig,
        counters: Sequence[CounterSetup],
        rules: Sequence[RoutingRule],
        times: ServiceTimes,
        rng: random.Random,
        estimator: EstimatorRun | None = None,
    ) -> None:
        self.site = site
        self.counters = sorted(counters, key=lambda counter: counter.number)
        self.rules = rules
        self.times = times
        self.rng = rng
        self.estimator = estimator
        self.events: list[tuple[datetime, int, int, object]] = []
        self.sequence = 0
        self.waiting: dict[int, _Waiting] = {}
        self.in_hand: dict[int, StepRecord | None] = {counter.number: None for counter in counters}
        self.records: list[StepRecord] = []
        self.visits: list[Visit] = []
        self.plans: list[list[tuple[str, tuple[str, ...]]]] = []
        self.finished: list[FinishedStep] = []
        self.finished_by_queue: dict[str, list[StepRecord]] = {}
        self.model = estimator.learn(estimator.history, None) if estimator else None
        self.estimate_rng = random.Random(estimator.seed if estimator else 0)
        self.old_means: dict[str, list[float]] = {}
        if estimator:
            self._seed_old_means(estimator.history)

    # -- the loop -------------------------------------------------------------------------

    def push(self, at: datetime, kind: int, payload: object) -> None:
        self.sequence += 1
        heapq.heappush(self.events, (at, kind, self.sequence, payload))  # type: ignore[arg-type]

    def run(self, visits: Sequence[Visit]) -> DayResult:
        for index, visit in enumerate(visits):
            self.visits.append(visit)
            self.plans.append(self.plan_of(visit))
            self.push(visit.at, ARRIVE, index)
        if self.estimator is not None and visits:
            first = min(visit.at for visit in visits)
            self.push(first + timedelta(seconds=self.estimator.refresh_s), REFRESH, None)
        self._push_openings(visits)
        while self.events:
            at, kind, _, payload = heapq.heappop(self.events)
            if kind == END:
                self._end(at, payload)  # type: ignore[arg-type]
            elif kind == ARRIVE:
                self._arrive(at, payload)  # type: ignore[arg-type]
            elif kind == PROBE:
                self._probe(at, payload)  # type: ignore[arg-type]
            elif kind == REFRESH:
                self._refresh(at)
            elif kind == OPEN:
                self._open(at, payload)  # type: ignore[arg-type]
        return DayResult(self.records)

    def _push_openings(self, visits: Sequence[Visit]) -> None:
        """Counters open only some hours: wake each at the start of each of its hours."""
        if not visits or all(counter.hours is None for counter in self.counters):
            return
        first = min(visit.at for visit in visits).astimezone(self.site.zone)
        midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
        for counter in self.counters:
            for hour in sorted(counter.hours or ()):
                self.push(midnight + timedelta(hours=hour), OPEN, counter.number)

    def _open(self, at: datetime, counter_number: int) -> None:
        if self.in_hand[counter_number] is None:
            counter = next(item for item in self.counters if item.number == counter_number)
            self._call(counter, at)

    def plan_of(self, visit: Visit) -> list[tuple[str, tuple[str, ...]]]:
        """The visit's steps: its first business's line, then each further business joins
        the step of its line or becomes a step of its own (as adding a service does)."""
        steps: list[tuple[str, tuple[str, ...]]] = []
        for code in (visit.service, *visit.further):
            service = self.site.service(code)
            category = service.category if service else "comprehensive"
            queue = route(self.rules, category, visit.party, visit.headcount)
            if queue is None:
                continue
            for index, (line, services) in enumerate(steps):
                if line == queue:
                    if code not in services:
                        steps[index] = (line, (*services, code))
                    break
            else:
                steps.append((queue, (code,)))
        return steps

    def _target_s(self, services: tuple[str, ...]) -> float:
        service = self.site.service(services[0]) if services else None
        return (service.target_wait_min if service else 20) * 60

    def _enqueue(self, visit_index: int, position: int, at: datetime, returning: bool) -> None:
        queue, services = self.plans[visit_index][position - 1]
        visit = self.visits[visit_index]
        placement = (
            returning_placement("next_step", at) if returning else base_placement(visit.green, at)
        )
        target_s = self._target_s(services)
        record = StepRecord(visit_index, position, queue, services, at, target_s)
        self.records.append(record)
        step = WaitingStep(
            step_id=len(self.records),
            queue=queue,
            priority_class=placement.priority_class,
            sort_at=placement.sort_at,
            enqueued_at=at,
            overdue_at=at + timedelta(seconds=target_s * self.site.policy.max_wait_factor),
            reason=placement.reason,
        )
        self.waiting[step.step_id] = _Waiting(step, record)
        if position == 1 and self.estimator is not None:
            self._estimate_at_issue(step, record, at)
            for after in self.estimator.probes.get(visit_index, ()):
                self.push(at + timedelta(seconds=after), PROBE, (step.step_id, after))
        self._wake(queue, at)

    def _arrive(self, at: datetime, visit_index: int) -> None:
        if self.plans[visit_index]:
            self._enqueue(visit_index, 1, at, returning=False)

    def _wake(self, queue: str, at: datetime) -> None:
        for counter in self.counters:
            if queue in counter.queues and self.in_hand[counter.number] is None:
                self._call(counter, at)

    def _call(self, counter: CounterSetup, at: datetime) -> None:
        if counter.hours is not None and not counter.open_at(at.astimezone(self.site.zone).hour):
            return
        queues = counter.queues
        eligible = [item.step for item in self.waiting.values() if item.step.queue in queues]
        chosen = choose_next(eligible, counter.plan, at)
        if chosen is None:
            return
        record = self.waiting.pop(chosen.step_id).record
        record.called_at = at
        record.counter = counter.number
        walk_s, service_s = self._duration(record, at)
        record.started_at = at + timedelta(seconds=walk_s)
        record.ended_at = record.started_at + timedelta(seconds=service_s)
        self.in_hand[counter.number] = record
        self.push(record.ended_at, END, counter.number)

    def _duration(self, record: StepRecord, at: datetime) -> tuple[float, float]:
        recorded = self.visits[record.visit].recorded
        if recorded and all(code in recorded for code in record.services):
            walks, services = zip(*(recorded[code] for code in record.services), strict=True)
            return max(walks), sum(services)
        return 0.0, self.times.draw(record.services, self.times.hour_of(at), self.rng)

    def _end(self, at: datetime, counter_number: int) -> None:
        record = self.in_hand[counter_number]
        assert record is not None
        assert record.called_at is not None
        self.in_hand[counter_number] = None
        self.finished.append(FinishedStep(record.services, record.called_at, record.started_at, at))
        self.finished_by_queue.setdefault(record.queue, []).append(record)
        self._note_old_mean(record.queue, record)
        if record.position < len(self.plans[record.visit]):
            self._enqueue(record.visit, record.position + 1, at, returning=True)
        counter = next(counter for counter in self.counters if counter.number == counter_number)
        if self.in_hand[counter_number] is None:
            self._call(counter, at)

    # -- estimates ------------------------------------------------------------------------

    def _refresh(self, at: datetime) -> None:
        assert self.estimator is not None
        self.model = self.estimator.learn([*self.estimator.history, *self.finished], at)
        if self.waiting or any(self.in_hand.values()) or self._arrivals_pending():
            self.push(at + timedelta(seconds=self.estimator.refresh_s), REFRESH, None)

    def _arrivals_pending(self) -> bool:
        return any(kind in (ARRIVE, END) for _, kind, _, _ in self.events)

    def hall_view(self, queue: str, at: datetime) -> tuple[list[CounterNow], list[WaitingStep]]:
        """What the estimator is given: the counters serving the line and every counter
        sharing a line with them, in hand and waiting, as the hall stands at `at`."""
        lines = {queue}
        chosen: list[CounterSetup] = []
        grew = True
        while grew:
            grew = False
            for counter in self.counters:
                if counter not in chosen and lines.intersection(counter.queues):
                    chosen.append(counter)
                    lines.update(counter.queues)
                    grew = True
        counters = []
        for counter in chosen:
            record = self.in_hand[counter.number]
            in_hand = None
            if record is not None and record.called_at is not None:
                in_hand = InHand(record.services, record.called_at)
            counters.append(CounterNow(counter.plan, "open", in_hand))
        waiting = [item.step for item in self.waiting.values() if item.step.queue in lines]
        return counters, waiting

    def estimate(self, step: WaitingStep, at: datetime) -> tuple[int | None, ...]:
        """(median, mean, people ahead) of the estimator for a waiting step."""
        assert self.estimator is not None
        assert self.model is not None
        started = time.perf_counter()
        counters, waiting = self.hall_view(step.queue, at)
        services = {item.step.step_id: item.record.services for item in self.waiting.values()}
        result = estimate_wait(
            step.step_id,
            counters,
            waiting,
            services,
            self.model,
            at,
            self.estimate_rng,
            draws=self.estimator.draws,
        )
        if self.estimator.timings is not None:
            self.estimator.timings.append(time.perf_counter() - started)
        return result.est_wait_s, result.mean_s, result.waiting_ahead

    def _estimate_at_issue(self, step: WaitingStep, record: StepRecord, at: datetime) -> None:
        median, mean, _ = self.estimate(step, at)
        record.estimate_s, record.estimate_mean_s = median, mean
        record.old_estimate_s = self.old_estimate(step, at)

    def _probe(self, at: datetime, payload: tuple[int, float]) -> None:
        step_id, after = payload
        item = self.waiting.get(step_id)
        if item is None:
            return  # already called
        median, mean, _ = self.estimate(item.step, at)
        item.record.probes[after] = (median, mean, self.old_estimate(item.step, at))

    def old_estimate(self, step: WaitingStep, at: datetime) -> int:
        """The formula this estimator replaces: people ahead in the line × mean of the line's
        last service times (start → end) ÷ open counters serving the line."""
        assert self.estimator is not None
        line = line_order(
            [item.step for item in self.waiting.values() if item.step.queue == step.queue], at
        )
        ahead = next(index for index, other in enumerate(line) if other.step_id == step.step_id)
        recent = self.old_means.get(step.queue, [])[-self.estimator.old_sample :]
        mean = sum(recent) / len(recent) if recent else self.site.policy.default_service_s
        open_counters = sum(1 for counter in self.counters if step.queue in counter.queues)
        return round(ahead * mean / max(open_counters, 1))

    def _seed_old_means(self, history: Sequence[FinishedStep]) -> None:
        """The old formula's sample before the day starts: history's last steps per line
        (history carries no line, so the line of its first business under today's rules)."""
        for finished in sorted(history, key=lambda item: item.ended_at):
            service = self.site.service(finished.services[0]) if finished.services else None
            category = service.category if service else "comprehensive"
            queue = route(self.rules, category, "individual", 1)
            if queue is not None:
                began = finished.started_at or finished.called_at
                self.old_means.setdefault(queue, []).append(
                    (finished.ended_at - began).total_seconds()
                )

    def _note_old_mean(self, queue: str, record: StepRecord) -> None:
        if self.estimator is None or record.ended_at is None:
            return
        began = record.started_at or record.called_at
        assert began is not None
        self.old_means.setdefault(queue, []).append((record.ended_at - began).total_seconds())
