"""Wait estimates: the counters' next calls simulated forward, in their real call order.

Pure: no Flask, no database; the clock (`now`) and the random generator are passed in.

- `ServiceTimes` holds, per business and per hour of day, how long a counter is taken by one
  step (call → end: the walk from the seats, the service, the recalls of a no-show),
  learned from the hall's finished steps by `learn_service_times`, or the configured
  durations when a hall has no history yet.
- `estimate_wait` takes the counters serving the visitor's line (and every line they
  serve), the tickets in their hands, the waiting steps, and draws the counters' next calls
  a few hundred times, each counter choosing as `dispatch.choose_next` does, until the
  visitor's step is called. The median of the draws is `est_wait_s` (the error measured is
  an absolute one, and the median minimises it; docs/estimates.md), p10–p90 its range.
- `waiting_ahead` is SPEC §4's: over the open counters serving the line, the smallest
  number of steps any one of them would call first on its own.
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from statistics import NormalDist
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.domain.dispatch import (
    CounterPlan,
    WaitingStep,
    base_placement,
    call_rank,
    calls_before,
    can_call,
)

QUANTILE_POINTS = 101  # a distribution is kept as its percentiles 0, 1, …, 100
DEFAULT_SIGMA = 0.5  # spread (log-normal σ) assumed for a configured duration
SERVICE_PRIOR_WEIGHT = 15  # the configured duration counts as this many observed steps
HOUR_PRIOR_WEIGHT = 20  # an hour's own steps count against this many of the business's
SHORTEST_S = 5.0  # shorter occupancies are mistakes (a call undone at once)
LONGEST_S = 3 * 3600.0
DEFAULT_DRAWS = 200
PACE_WINDOW = timedelta(hours=1)
PACE_PRIOR_WEIGHT = 5


@dataclass(frozen=True)
class Quantiles:
    """A distribution of durations (seconds) as its percentiles, drawn by inversion."""

    values: tuple[float, ...]

    @classmethod
    def from_samples(cls, samples: Sequence[float]) -> Quantiles:
        ordered = sorted(samples)
        last = len(ordered) - 1
        values = []
        for index in range(QUANTILE_POINTS):
            position = last * index / (QUANTILE_POINTS - 1)
            below = int(position)
            above = min(below + 1, last)
            share = position - below
            values.append(ordered[below] * (1 - share) + ordered[above] * share)
        return cls(tuple(values))

    @classmethod
    def log_normal(cls, typical_s: float, sigma: float = DEFAULT_SIGMA) -> Quantiles:
        """The log-normal with this median (a configured duration is a typical one, not a
        mean: what a clerk answers when asked), cut at its 0.5th and 99.5th percentiles."""
        normal = NormalDist(math.log(typical_s), sigma)
        points = [min(max(index / 100, 0.005), 0.995) for index in range(QUANTILE_POINTS)]
        return cls(tuple(math.exp(normal.inv_cdf(point)) for point in points))

    def at(self, share: float) -> float:
        position = share * (QUANTILE_POINTS - 1)
        below = min(int(position), QUANTILE_POINTS - 2)
        fraction = position - below
        return self.values[below] + (self.values[below + 1] - self.values[below]) * fraction

    def draw(self, rng: random.Random) -> float:
        return self.at(rng.random())

    def share_below(self, seconds: float) -> float:
        """F(seconds), read off the percentiles."""
        index = bisect_right(self.values, seconds)
        if index == 0:
            return 0.0
        if index >= QUANTILE_POINTS:
            return 1.0
        low, high = self.values[index - 1], self.values[index]
        fraction = (seconds - low) / (high - low) if high > low else 0.0
        return (index - 1 + fraction) / (QUANTILE_POINTS - 1)

    def draw_remaining(self, elapsed_s: float, rng: random.Random, scale: float = 1.0) -> float:
        """Time still to go on a step already `elapsed_s` old: drawn beyond `elapsed_s` (from
        the distribution stretched by `scale`)."""
        floor = self.share_below(elapsed_s / scale)
        if floor >= 0.99:  # already longer than nearly all: nearly done, we cannot say more
            return rng.random() * max(self.at(0.5) * scale * 0.2, 30.0)
        return max(scale * self.at(floor + (1 - floor) * rng.random()) - elapsed_s, 0.0)

    @property
    def mean(self) -> float:
        inner = self.values[1:-1]
        return (sum(inner) + (self.values[0] + self.values[-1]) / 2) / (QUANTILE_POINTS - 1)

    def points(self, count: int) -> list[float]:
        """`count` evenly spread values of the distribution (pseudo-observations)."""
        return [self.at((index + 0.5) / count) for index in range(count)]


@dataclass(frozen=True)
class FinishedStep:
    """What learning needs of one finished step (any outcome after a call)."""

    services: tuple[str, ...]
    called_at: datetime
    started_at: datetime | None
    ended_at: datetime


@dataclass(frozen=True)
class ServiceTimes:
    """How long a counter is taken by one step, per business and hour of day (local)."""

    zone: tzinfo
    by_service: Mapping[str, Quantiles]
    by_hour: Mapping[tuple[str, int], Quantiles]
    fallback: Quantiles
    samples: int = 0
    pace: float = 1.0  # today's recent steps against the learned times (1.2: 20 % slower)

    def table(self, service: str, hour: int) -> Quantiles:
        return self.by_hour.get((service, hour)) or self.by_service.get(service) or self.fallback

    def draw(self, services: Sequence[str], hour: int, rng: random.Random) -> float:
        """A step with several businesses (一窗通办) takes the sum of theirs."""
        if not services:
            return self.pace * self.fallback.draw(rng)
        return self.pace * sum(self.table(service, hour).draw(rng) for service in services)

    def draw_remaining(
        self, services: Sequence[str], hour: int, elapsed_s: float, rng: random.Random
    ) -> float:
        """Time still to go on a step `elapsed_s` into its occupancy of the counter."""
        if len(services) <= 1:
            table = self.table(services[0], hour) if services else self.fallback
            return table.draw_remaining(elapsed_s, rng, self.pace)
        for _ in range(20):  # several businesses: a sum drawn beyond what has elapsed
            total = self.draw(services, hour, rng)
            if total > elapsed_s:
                return total - elapsed_s
        return rng.random() * 30.0

    def mean_s(self, services: Sequence[str], hour: int) -> float:
        if not services:
            return self.pace * self.fallback.mean
        return self.pace * sum(self.table(service, hour).mean for service in services)

    def hour_of(self, moment: datetime) -> int:
        return moment.astimezone(self.zone).hour

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (≈100 KB for a hall), to share a model between processes."""
        return {
            "zone": str(self.zone),
            "by_service": {code: list(table.values) for code, table in self.by_service.items()},
            "by_hour": [
                [code, hour, list(table.values)] for (code, hour), table in self.by_hour.items()
            ],
            "fallback": list(self.fallback.values),
            "samples": self.samples,
            "pace": self.pace,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceTimes:
        return cls(
            zone=ZoneInfo(data["zone"]),
            by_service={
                code: Quantiles(tuple(values)) for code, values in data["by_service"].items()
            },
            by_hour={
                (code, int(hour)): Quantiles(tuple(values))
                for code, hour, values in data["by_hour"]
            },
            fallback=Quantiles(tuple(data["fallback"])),
            samples=int(data["samples"]),
            pace=float(data["pace"]),
        )


# The walk from the seats to the window, which a configured duration (the business at the
# window, as a clerk tells it) leaves out: in the estimator's prior until the hall's own
# steps (call → end) say better. The outside check without history was 16 % short without it.
WALK_PRIOR_S = 30.0


def configured_service_times(
    zone: tzinfo,
    default_s: float,
    per_service_s: Mapping[str, float] | None = None,
    walk_s: float = 0.0,
) -> ServiceTimes:
    """A new hall: the configured durations (plus `walk_s`), log-normal around them."""
    given = per_service_s or {}
    by_service = {code: Quantiles.log_normal(value + walk_s) for code, value in given.items()}
    return ServiceTimes(zone, by_service, {}, Quantiles.log_normal(default_s + walk_s))


def occupancy_s(step: FinishedStep) -> float:
    """The counter's time on the step: from the call (the visitor still walking to the
    window) to its end."""
    return (step.ended_at - step.called_at).total_seconds()


def learn_service_times(
    steps: Iterable[FinishedStep],
    zone: tzinfo,
    default_s: float,
    per_service_s: Mapping[str, float] | None = None,
    now: datetime | None = None,
    walk_s: float = WALK_PRIOR_S,
) -> ServiceTimes:
    """Distributions of counter occupancy per business and per (business, hour), each an
    empirical one pooled with pseudo-observations of the level above (the configured
    duration and the walk for a business, the business for an hour), so a few steps move it
    a little and many steps decide it. Steps with several businesses teach only the
    hall-wide fallback.

    With `now`, also today's pace: the steps ended in the last hour against what the
    distributions expected of them, pooled with `PACE_PRIOR_WEIGHT` steps at the usual pace
    (a slow morning stretches the next hour's estimates, not the afternoon's after a lull)."""
    steps = list(steps)
    configured = configured_service_times(zone, default_s, per_service_s, walk_s)
    by_service_samples: dict[str, list[float]] = defaultdict(list)
    by_hour_samples: dict[tuple[str, int], list[float]] = defaultdict(list)
    everything: list[float] = []
    for step in steps:
        seconds = occupancy_s(step)
        if not SHORTEST_S <= seconds <= LONGEST_S:
            continue
        everything.append(seconds)
        if len(step.services) != 1:
            continue
        service = step.services[0]
        by_service_samples[service].append(seconds)
        by_hour_samples[(service, step.called_at.astimezone(zone).hour)].append(seconds)
    fallback = configured.fallback
    if everything:
        fallback = Quantiles.from_samples(everything + fallback.points(SERVICE_PRIOR_WEIGHT))
    by_service = dict(configured.by_service)
    for service, samples in by_service_samples.items():
        prior = configured.by_service.get(service, fallback)  # else the hall-wide one
        by_service[service] = Quantiles.from_samples(samples + prior.points(SERVICE_PRIOR_WEIGHT))
    by_hour = {}
    for (service, hour), samples in by_hour_samples.items():
        parent = by_service[service]
        by_hour[(service, hour)] = Quantiles.from_samples(
            samples + parent.points(HOUR_PRIOR_WEIGHT)
        )
    learned = ServiceTimes(zone, by_service, by_hour, fallback, samples=len(everything))
    if now is None:
        return learned
    return replace(learned, pace=recent_pace(steps, learned, now))


def recent_pace(steps: Iterable[FinishedStep], times: ServiceTimes, now: datetime) -> float:
    """Σ occupancy ÷ Σ expected over the steps ended within `PACE_WINDOW` before `now`,
    pooled with `PACE_PRIOR_WEIGHT` usual steps, kept within [0.5, 2]."""
    since = now - PACE_WINDOW
    observed = expected = 0.0
    count = 0
    for step in steps:
        if not since < step.ended_at <= now:
            continue
        seconds = occupancy_s(step)
        if not SHORTEST_S <= seconds <= LONGEST_S:
            continue
        observed += seconds
        expected += times.mean_s(step.services, times.hour_of(step.called_at))
        count += 1
    if not count:
        return 1.0
    usual = expected / count * PACE_PRIOR_WEIGHT
    return min(max((observed + usual) / (expected + usual), 0.5), 2.0)


def joining(queue: str, now: datetime, may_wait: timedelta, green: bool = False) -> WaitingStep:
    """The next ticket to join the back of `queue` (not yet issued, id -1): its estimate,
    computed with the line's, is the one to print on a ticket issued before the next
    refresh, so issuing never waits for the estimator."""
    placement = base_placement(green, now)
    return WaitingStep(
        step_id=-1,
        queue=queue,
        priority_class=placement.priority_class,
        sort_at=placement.sort_at,
        enqueued_at=now,
        overdue_at=now + may_wait,
        reason=placement.reason,
    )


def places_ahead(
    target: WaitingStep, waiting: Sequence[WaitingStep], plans: Iterable[CounterPlan], now: datetime
) -> int:
    """How many of `waiting` are called before `target`, as T's `waiting_ahead` counts them
    (SPEC §4): the fewest any one of the open counters' `plans` would call first; with none
    open, the line's own order."""
    plans = list(plans) or [CounterPlan(0, (target.queue,), "fifo")]
    return min(calls_before(target, waiting, plan, now) for plan in plans)


@dataclass(frozen=True)
class InHand:
    """The step a counter is on: its businesses, when it was called and (in the running
    hall) its ticket."""

    services: tuple[str, ...]
    called_at: datetime
    ticket_id: str | None = None


@dataclass(frozen=True)
class CounterNow:
    plan: CounterPlan
    state: str = "open"  # or "paused" (closed counters are left out)
    in_hand: InHand | None = None


@dataclass(frozen=True)
class Estimate:
    line_open: bool
    waiting_ahead: int | None
    est_wait_s: int | None
    range_s: tuple[int, int] | None  # p10, p90
    mean_s: int | None = None


def counter_order(
    waiting: Sequence[WaitingStep], counter: CounterPlan, now: datetime
) -> list[WaitingStep]:
    """The order in which this counter alone would call the steps (as `choose_next`
    chooses at `now`): overdue first, then FIFO by class across its lines (`fifo`), or line
    by line in its list (`ordered`)."""
    eligible = [step for step in waiting if can_call(step, counter)]
    overdue = sorted(
        (step for step in eligible if step.is_overdue(now)), key=lambda step: call_rank(step, now)
    )
    others = [step for step in eligible if not step.is_overdue(now)]
    if counter.strategy == "fifo":
        return overdue + sorted(others, key=lambda step: call_rank(step, now))
    by_line = []
    for queue in counter.queues:
        by_line += sorted(
            (step for step in others if step.queue == queue), key=lambda step: call_rank(step, now)
        )
    return overdue + by_line


def waiting_ahead(
    step_id: int,
    counters: Sequence[CounterNow],
    waiting: Sequence[WaitingStep],
    now: datetime,
) -> int | None:
    """Over the open counters that may call the step, the fewest steps any one of them would
    call before it on its own; None when no open counter may call it."""
    counts = []
    for counter in counters:
        if counter.state != "open":
            continue
        order = counter_order(waiting, counter.plan, now)
        place = next((index for index, step in enumerate(order) if step.step_id == step_id), None)
        if place is not None:
            counts.append(place)
    return min(counts) if counts else None


def _fewest_ahead(
    step_id: int, serving: Sequence[CounterNow], places: Mapping[int, Mapping[int, int]]
) -> int | None:
    counts = [
        places[counter.plan.number][step_id]
        for counter in serving
        if counter.state == "open" and step_id in places[counter.plan.number]
    ]
    return min(counts) if counts else None


@dataclass
class _CounterRun:
    """The fixed part of the forward run for counters that would call alike (same lines,
    strategy and reservations): their own order at `now`, and their steps not yet overdue
    grouped by how long they may wait (each group sorted by enqueue time, so each group's
    first uncalled one is the next to turn overdue). Counters alike share one run, so
    skipping what others have called is done once for all of them."""

    plan: CounterPlan
    order: list[int]  # indices into the steps, in the counter's own order at `now`
    overdue_groups: list[list[int]] = field(default_factory=list)


def _orders(
    counters: Sequence[CounterNow], steps: Sequence[WaitingStep], now: datetime
) -> dict[int, list[WaitingStep]]:
    """Each counter's own order (`counter_order`), sorted once for counters alike: same
    lines and strategy, and no step kept for one of them."""
    kept = {step.reserved_counter for step in steps if step.reserved_counter is not None}
    alike: dict[tuple[tuple[str, ...], str, int | None], list[WaitingStep]] = {}
    orders = {}
    for counter in counters:
        plan = counter.plan
        key = (plan.queues, plan.strategy, plan.number if plan.number in kept else None)
        if key not in alike:
            alike[key] = counter_order(steps, plan, now)
        orders[plan.number] = alike[key]
    return orders


def _prepare(
    counters: Sequence[CounterNow],
    steps: Sequence[WaitingStep],
    orders: Mapping[int, Sequence[WaitingStep]],
    now: datetime,
) -> tuple[list[_CounterRun], list[int]]:
    """The runs, and for each counter the index of its run."""
    index_of = {step.step_id: index for index, step in enumerate(steps)}
    runs: list[_CounterRun] = []
    seen: dict[tuple[tuple[str, ...], str, tuple[int, ...]], int] = {}
    run_of = []
    for counter in counters:
        order = [index_of[step.step_id] for step in orders[counter.plan.number]]
        key = (counter.plan.queues, counter.plan.strategy, tuple(order))
        if key in seen:
            run_of.append(seen[key])
            continue
        groups: dict[timedelta, list[int]] = defaultdict(list)
        for index in order:
            step = steps[index]
            if not step.is_overdue(now):
                groups[step.overdue_at - step.enqueued_at].append(index)
        sorted_groups = [
            sorted(group, key=lambda index: (steps[index].enqueued_at, steps[index].step_id))
            for group in groups.values()
        ]
        seen[key] = len(runs)
        run_of.append(len(runs))
        runs.append(_CounterRun(counter.plan, order, sorted_groups))
    return runs, run_of


def _draw_calls(
    targets: set[int],
    runs: Sequence[_CounterRun],
    run_of: Sequence[int],
    first_free: Sequence[float],
    steps: Sequence[WaitingStep],
    tables: Callable[[int, int], Sequence[Quantiles]],
    pace: float,
    overdue_in: Sequence[float],
    overdue_rank: Sequence[tuple[int, int, datetime, datetime, int]],
    local_s: float,
    rng: random.Random,
) -> dict[int, float]:
    """One draw of the counters' next calls: seconds from `now` until each of `targets`
    (indices into `steps`) is called, until all of them are (missing: never called)."""
    taken = bytearray(len(steps))
    heads = [0] * len(runs)
    group_heads = [[0] * len(run.overdue_groups) for run in runs]
    called: dict[int, float] = {}
    left = len(targets)
    free = [(first_free[number], number) for number in range(len(run_of))]
    heapq.heapify(free)
    uniform = rng.random
    while free:
        at, number = heapq.heappop(free)
        which = run_of[number]
        run = runs[which]
        order = run.order
        head = heads[which]
        size = len(order)
        while head < size and taken[order[head]]:
            head += 1
        heads[which] = head
        chosen = order[head] if head < size else None
        turned = []  # steps that have turned overdue since `now`
        if run.overdue_groups:
            positions = group_heads[which]
            for group_number, group in enumerate(run.overdue_groups):
                position = positions[group_number]
                length = len(group)
                while position < length and taken[group[position]]:
                    position += 1
                positions[group_number] = position
                if position < length and overdue_in[group[position]] <= at:
                    turned.append(group[position])
        if turned:
            # Overdue steps outrank every class, the first enqueued first, across the
            # counter's lines whatever its strategy: `choose_next`'s rule, by its own rank.
            if chosen is not None and overdue_in[chosen] <= at:
                turned.append(chosen)
            chosen = min(turned, key=overdue_rank.__getitem__)
        if chosen is None:
            continue  # nothing left this counter may call: it stays idle
        taken[chosen] = 1
        if chosen in targets:
            called[chosen] = at
            left -= 1
            if not left:
                break
        hour = int((local_s + at) // 3600) % 24
        duration = 0.0
        for table in tables(chosen, hour):
            duration += table.at(uniform())
        heapq.heappush(free, (at + pace * duration, number))
    return called


def estimate_wait(
    step_id: int,
    counters: Sequence[CounterNow],
    waiting: Sequence[WaitingStep],
    services: Mapping[int, Sequence[str]],
    times: ServiceTimes,
    now: datetime,
    rng: random.Random,
    draws: int = DEFAULT_DRAWS,
) -> Estimate:
    """The wait of one waiting step (see `estimate_waits`)."""
    return estimate_waits([step_id], counters, waiting, services, times, now, rng, draws)[step_id]


def estimate_waits(
    step_ids: Iterable[int],
    counters: Sequence[CounterNow],
    waiting: Sequence[WaitingStep],
    services: Mapping[int, Sequence[str]],
    times: ServiceTimes,
    now: datetime,
    rng: random.Random,
    draws: int = DEFAULT_DRAWS,
    phantoms: Collection[int] = (),
) -> dict[int, Estimate]:
    """The waits of waiting steps, from one set of `draws` draws of the counters' next calls
    (a whole line costs about what its last step alone does).

    `counters`: the open and paused counters serving the steps' lines (and any other counter
    serving a line they serve); `waiting`: the waiting steps of every line those counters
    serve; `services`: the businesses of each waiting step. `phantoms`: steps among
    `waiting` that take a counter no time when called (the tickets about to join each line,
    `joining`): each gets its own wait, and nobody else's changes, so one set of draws gives
    every line's joining estimate along with the real steps'."""
    steps = list(waiting)
    index_of = {step.step_id: index for index, step in enumerate(steps)}
    open_counters = [counter for counter in counters if counter.state == "open"]
    estimates: dict[int, Estimate] = {}
    targets: dict[int, int] = {}  # index → step id, of the steps to draw for
    orders = _orders(open_counters, steps, now)
    places = {
        number: {step.step_id: place for place, step in enumerate(order)}
        for number, order in orders.items()
    }
    for step_id in step_ids:
        index = index_of.get(step_id)
        line = steps[index].queue if index is not None else None
        serving = [counter for counter in counters if line in counter.plan.queues]
        if index is None or not serving:
            estimates[step_id] = Estimate(False, None, None, None)
            continue
        ahead = _fewest_ahead(step_id, serving, places)
        estimates[step_id] = Estimate(True, ahead, None, None)
        if ahead is not None:
            targets[index] = step_id
    if not targets:
        return estimates
    runs, run_of = _prepare(open_counters, steps, orders, now)
    step_services = [tuple(services.get(step.step_id, ())) for step in steps]
    cache: dict[tuple[int, int], Sequence[Quantiles]] = {}

    phantom_indices = {index_of[step_id] for step_id in phantoms if step_id in index_of}

    def tables(index: int, hour: int) -> Sequence[Quantiles]:
        found = cache.get((index, hour))
        if found is None:
            if index in phantom_indices:
                found = cache[(index, hour)] = ()
                return found
            codes = step_services[index]
            found = cache[(index, hour)] = (
                [times.table(code, hour) for code in codes] if codes else [times.fallback]
            )
        return found

    overdue_in = [(step.overdue_at - now).total_seconds() for step in steps]
    overdue_rank = [call_rank(step, step.overdue_at) for step in steps]
    local = now.astimezone(times.zone)
    local_s = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    hour = local.hour
    results: dict[int, list[float]] = {index: [] for index in targets}
    wanted = set(targets)
    for _ in range(draws):
        first_free = []
        for counter in open_counters:
            if counter.in_hand is None:
                first_free.append(0.0)
                continue
            elapsed = max((now - counter.in_hand.called_at).total_seconds(), 0.0)
            first_free.append(times.draw_remaining(counter.in_hand.services, hour, elapsed, rng))
        called = _draw_calls(
            wanted,
            runs,
            run_of,
            first_free,
            steps,
            tables,
            times.pace,
            overdue_in,
            overdue_rank,
            local_s,
            rng,
        )
        for index, at in called.items():
            results[index].append(at)
    for index, step_id in targets.items():
        waits = sorted(results[index])
        if not waits:  # kept for a counter that is not open: nobody open will call it
            continue
        estimates[step_id] = replace(
            estimates[step_id],
            est_wait_s=round(_quantile(waits, 0.5)),
            range_s=(round(_quantile(waits, 0.1)), round(_quantile(waits, 0.9))),
            mean_s=round(sum(waits) / len(waits)),
        )
    return estimates


def _quantile(ordered: Sequence[float], share: float) -> float:
    position = (len(ordered) - 1) * share
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
