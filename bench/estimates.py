"""Accuracy of the wait estimate on simulated hall days (`python -m bench --only estimates`).

Each day is a hall with a known truth: arrivals, and per visit a walk from the seats
(log-normal, median 30 s), a service time (log-normal per business, slower before 10:00,
with a day-to-day factor) or, for 4 % of callers, a no-show the clerk gives up on after
1–2 minutes. Ten earlier days of the same hall are simulated first: the estimator learns
from their finished steps (and from the day's own, re-learned every 10 minutes as the
scheduled job would), the old formula reads their last service times.

The day then runs through `queue_server.simulation` (the real `choose_next`); every ticket
gets the estimator's answer at issue, and again halfway through its wait, when the metric
uses the wait still left. Metric (SPEC §10): Σ|estimate − actual| ÷ Σ actual.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from queue_server.config import DEFAULT_HALL_FILE, SiteConfig, load_hall_file
from queue_server.domain.estimates import (
    FinishedStep,
    Quantiles,
    ServiceTimes,
    configured_service_times,
    learn_service_times,
)
from queue_server.simulation.engine import CounterSetup, DayResult, EstimatorRun, Hall, Visit

ZONE = ZoneInfo("Asia/Shanghai")
HISTORY_DAYS = 10

# Median service time (s) per business, and the mix of businesses per party.
MEDIAN_S = {
    "employment": 200.0,
    "social_insurance": 230.0,
    "medical_insurance": 210.0,
    "admin_approval": 380.0,
    "card_services": 150.0,
    "hiring_filing": 330.0,
    "maternity": 300.0,
    "chronic_disease": 360.0,
    "pickup": 90.0,
}
INDIVIDUAL_MIX = {
    "employment": 20,
    "social_insurance": 30,
    "medical_insurance": 25,
    "card_services": 15,
    "admin_approval": 10,
}
ENTERPRISE_MIX = {"hiring_filing": 30, "social_insurance": 40, "employment": 30}


@dataclass(frozen=True)
class Truth:
    """How the hall really behaves (the estimator never sees these numbers)."""

    sigma: float = 0.55
    scale: float = 1.0  # all medians × this
    morning_factor: float = 1.15  # before 10:00
    day_sigma: float = 0.05  # day-to-day factor
    walk_median_s: float = 30.0
    no_show: float = 0.04
    medians: dict[str, float] = field(default_factory=lambda: dict(MEDIAN_S))

    def durations(
        self, codes: Sequence[str], at: datetime, day_factor: float, rng: random.Random
    ) -> dict[str, tuple[float, float]]:
        recorded = {}
        hour_factor = self.morning_factor if at.astimezone(ZONE).hour < 10 else 1.0
        for code in codes:
            if rng.random() < self.no_show:
                recorded[code] = (0.0, rng.uniform(60, 120))
                continue
            walk = rng.lognormvariate(math.log(self.walk_median_s), 0.5)
            median = self.medians.get(code, 240.0) * self.scale * hour_factor * day_factor
            recorded[code] = (walk, rng.lognormvariate(math.log(median), self.sigma))
        return recorded


@dataclass(frozen=True)
class DayShape:
    """Arrivals: (from hour, to hour, visitors per hour) pieces, or tickets at given times."""

    name: str
    counters: tuple[CounterSetup, ...]
    rates: tuple[tuple[float, float, float], ...] = ()
    bursts: tuple[tuple[float, int], ...] = ()  # (hour, tickets at once)
    every_s: tuple[float, float, float] | None = None  # (from hour, to hour, seconds apart)
    enterprise: float = 0.12
    green: float = 0.03
    special: float = 0.0  # share going to the special line (C)
    pickup: float = 0.0  # share going to pickup (D)
    truth: Truth = Truth()
    history: bool = True
    history_shape: DayShape | None = None  # the earlier days, when not like this one
    today_truth: Truth | None = None  # a day unlike the earlier ones

    def arrivals(self, day: date, rng: random.Random) -> list[tuple[datetime, str, str, int, bool]]:
        start = datetime.combine(day, clock(0), ZONE)
        times: list[float] = []
        for begin, end, per_hour in self.rates:
            moment = begin * 3600
            while True:
                moment += rng.expovariate(per_hour / 3600)
                if moment >= end * 3600:
                    break
                times.append(moment)
        for hour, count in self.bursts:
            times += [hour * 3600] * count
        if self.every_s is not None:
            begin, end, apart = self.every_s
            moment = begin * 3600
            while moment < end * 3600:
                times.append(moment)
                moment += apart
        visits = []
        for moment in sorted(times):
            at = start + timedelta(seconds=moment)
            draw = rng.random()
            if draw < self.special:
                party, code = "individual", rng.choice(["maternity", "chronic_disease"])
            elif draw < self.special + self.pickup:
                party, code = "individual", "pickup"
            elif rng.random() < self.enterprise:
                party, code = "enterprise", _pick(ENTERPRISE_MIX, rng)
            else:
                party, code = "individual", _pick(INDIVIDUAL_MIX, rng)
            headcount = rng.randint(1, 5) if party == "enterprise" else 1
            visits.append((at, code, party, headcount, rng.random() < self.green))
        return visits


def _pick(mix: dict[str, int], rng: random.Random) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def comprehensive(count: int) -> tuple[CounterSetup, ...]:
    return tuple(CounterSetup(number, ("A", "B"), "fifo") for number in range(1, count + 1))


def demo_counters() -> tuple[CounterSetup, ...]:
    return (
        *comprehensive(6),
        CounterSetup(7, ("B", "A"), "ordered"),
        CounterSetup(8, ("C",)),
        CounterSetup(9, ("D",)),
        CounterSetup(10, ("E",)),
    )


WUHUA_RATES = (  # ≈1,800 visitors: peaks 9–11 and 14–16
    (8.5, 9.0, 180),
    (9.0, 11.0, 300),
    (11.0, 12.0, 200),
    (12.0, 13.5, 90),
    (13.5, 14.0, 200),
    (14.0, 16.0, 290),
    (16.0, 17.0, 140),
)
SLOW = Truth(scale=1.5)
TWO = comprehensive(2)
FIVE_MIN = Truth(sigma=0.5, medians={code: 300.0 for code in MEDIAN_S}, morning_factor=1.0)

DAYS = (
    DayShape("五华-like, 17 windows, ≈1,800 visitors", comprehensive(17), rates=WUHUA_RATES),
    DayShape(
        "demo hall, 10 counters (7 ordered [B, A]), ≈700 visitors",
        demo_counters(),
        rates=((8.5, 11.0, 110), (11.0, 14.0, 50), (14.0, 16.5, 100)),
        enterprise=0.2,
        special=0.08,
        pickup=0.1,
    ),
    DayShape(
        "2 counters, 20 tickets at once, no history",
        TWO,
        bursts=((10.0, 20),),
        truth=FIVE_MIN,
        history=False,
        green=0.0,
    ),
    DayShape(
        "2 counters, 20 at once after a slower morning",
        TWO,
        rates=((8.5, 11.5, 18),),
        bursts=((14.0, 20),),
        truth=FIVE_MIN,
        today_truth=Truth(sigma=0.5, medians={code: 450.0 for code in MEDIAN_S}),
        green=0.0,
    ),
    DayShape(
        "2 counters, a ticket every 90 s",
        TWO,
        every_s=(9.0, 10.5, 90.0),
        truth=FIVE_MIN,
        green=0.0,
    ),
)


def demo_site() -> SiteConfig:
    return load_hall_file(DEFAULT_HALL_FILE).default_site


def make_visits(shape: DayShape, truth: Truth, day: date, seed: int) -> list[Visit]:
    rng = random.Random(seed)
    day_factor = rng.lognormvariate(0, truth.day_sigma)
    visits = []
    for at, code, party, headcount, green in shape.arrivals(day, rng):
        recorded = truth.durations([code], at, day_factor, rng)
        visits.append(Visit(at, code, party, headcount, green, (), recorded))
    return visits


def _before_noon(truth: Truth, visit: Visit) -> bool:
    return visit.at.astimezone(ZONE).hour < 12


def learner(
    site: SiteConfig,
) -> Callable[[Sequence[FinishedStep], datetime | None], ServiceTimes]:
    def learn(steps: Sequence[FinishedStep], now: datetime | None) -> ServiceTimes:
        return learn_service_times(steps, ZONE, site.policy.default_service_s, now=now)

    return learn


def oracle(shape: DayShape) -> Callable[[Sequence[FinishedStep], datetime | None], ServiceTimes]:
    """An estimator that knows the truth's distributions (not the day's draws): the floor no
    learning can beat, given only who is waiting and who is at a counter."""
    rng = random.Random(0)
    by_hour = {}
    for code in MEDIAN_S:
        for hour in range(24):
            truth = shape.today_truth if shape.today_truth and hour < 12 else shape.truth
            at = datetime.combine(date(2026, 12, 1), clock(hour), ZONE)
            samples = [
                sum(truth.durations([code], at, rng.lognormvariate(0, truth.day_sigma), rng)[code])
                for _ in range(4000)
            ]
            by_hour[(code, hour)] = Quantiles.from_samples(samples)
    times = ServiceTimes(ZONE, {}, by_hour, Quantiles.log_normal(300))

    def learn(steps: Sequence[FinishedStep], now: datetime | None) -> ServiceTimes:
        return times

    return learn


def run_day(
    site: SiteConfig,
    shape: DayShape,
    visits: Sequence[Visit],
    estimator: EstimatorRun | None,
    seed: int,
) -> DayResult:
    times = configured_service_times(ZONE, site.policy.default_service_s)
    hall = Hall(site, shape.counters, site.rules(), times, random.Random(seed), estimator)
    return hall.run(visits)


@dataclass
class Accuracy:
    name: str
    tickets: int
    mean_wait_s: float
    p90_wait_s: float
    at_issue: float
    at_issue_mean: float
    at_issue_old: float
    halfway: float
    halfway_old: float
    bias_issue_s: float
    bias_halfway_s: float
    estimate_ms_p50: float
    estimate_ms_p99: float
    seconds: float


def error(pairs: Sequence[tuple[float, float]]) -> float:
    actual = sum(real for _, real in pairs)
    return 100 * sum(abs(guess - real) for guess, real in pairs) / actual if actual else 0.0


def bias(pairs: Sequence[tuple[float, float]]) -> float:
    return statistics.fmean(guess - real for guess, real in pairs) if pairs else 0.0


def measure_day(
    shape: DayShape, seed: int = 1, draws: int = 200, knowing: bool = False
) -> Accuracy:
    started = time.perf_counter()
    site = demo_site()
    day = date(2026, 12, 1) + timedelta(days=HISTORY_DAYS)
    history: list[FinishedStep] = []
    if shape.history:
        past_shape = shape.history_shape or shape
        for offset in range(HISTORY_DAYS):
            past_day = day - timedelta(days=HISTORY_DAYS - offset)
            past = make_visits(past_shape, shape.truth, past_day, seed * 1000 + offset)
            result = run_day(site, shape, past, None, seed * 1000 + offset)
            history += [
                FinishedStep(step.services, step.called_at, step.started_at, step.ended_at)
                for step in result.steps
                if step.called_at and step.ended_at
            ]
    today_truth = shape.today_truth or shape.truth
    visits = make_visits(shape, shape.truth, day, seed)
    if shape.today_truth is not None:  # the morning unlike the earlier days
        slower = make_visits(shape, today_truth, day, seed)
        visits = [
            slow if _before_noon(today_truth, slow) else usual
            for slow, usual in zip(slower, visits, strict=True)
        ]
    # First the day as it happens, to know each ticket's wait; then again, the same, with the
    # estimator asked at issue and halfway through each wait.
    plain = run_day(site, shape, visits, None, seed).first_steps()
    probes = {step.visit: (step.wait_s / 2,) for step in plain if step.wait_s}
    runs: list[float] = []
    estimator = EstimatorRun(
        learn=oracle(shape) if knowing else learner(site),
        history=history,
        draws=draws,
        seed=seed,
        probes=probes,
        timings=runs,
    )
    result = run_day(site, shape, visits, estimator, seed).first_steps()
    assert [step.wait_s for step in result] == [step.wait_s for step in plain]
    waits = [step.wait_s or 0.0 for step in result]
    issue = [(float(step.estimate_s or 0), step.wait_s or 0.0) for step in result]
    issue_mean = [(float(step.estimate_mean_s or 0), step.wait_s or 0.0) for step in result]
    issue_old = [(float(step.old_estimate_s or 0), step.wait_s or 0.0) for step in result]
    halfway, halfway_old = [], []
    for step in result:
        for after, (median, _, old) in step.probes.items():
            left = (step.wait_s or 0.0) - after
            halfway.append((float(median or 0), left))
            halfway_old.append((float(old or 0), left))
    runs.sort()
    return Accuracy(
        name=shape.name,
        tickets=len(result),
        mean_wait_s=statistics.fmean(waits) if waits else 0.0,
        p90_wait_s=sorted(waits)[int(0.9 * (len(waits) - 1))] if waits else 0.0,
        at_issue=error(issue),
        at_issue_mean=error(issue_mean),
        at_issue_old=error(issue_old),
        halfway=error(halfway),
        halfway_old=error(halfway_old),
        bias_issue_s=bias(issue),
        bias_halfway_s=bias(halfway),
        estimate_ms_p50=runs[len(runs) // 2] * 1000 if runs else 0.0,
        estimate_ms_p99=runs[int(0.99 * (len(runs) - 1))] * 1000 if runs else 0.0,
        seconds=time.perf_counter() - started,
    )


@dataclass
class DayFigures:
    """One kind of day over several seeds: the estimator, and the floor (the same
    estimator knowing the true distributions)."""

    runs: list[Accuracy]
    floor: list[Accuracy]


def measure(
    days: Sequence[DayShape] = DAYS, seeds: int = 3, draws: int = 100, big_seeds: int = 1
) -> list[DayFigures]:
    """Each kind of day with `seeds` seeds (the 17-window day, the first, with `big_seeds`),
    and the floor for the small days."""
    figures = []
    for shape in days:
        count = big_seeds if len(shape.counters) > 10 else seeds
        runs = [measure_day(shape, seed, draws) for seed in range(1, count + 1)]
        floor = (
            [measure_day(shape, seed, draws, knowing=True) for seed in range(1, count + 1)]
            if len(shape.counters) <= 10
            else []
        )
        figures.append(DayFigures(runs, floor))
    return figures


def _spread(values: Sequence[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.1f} %"
    return f"{statistics.fmean(values):.1f} % (worst {max(values):.1f} %)"


def cells(figures: Sequence[DayFigures]) -> dict[str, str]:
    """Rows: per kind of day, the error at issue and halfway (mean over its seeds and the
    worst day), beside the old formula's and the floor's."""
    table = {}
    for day in figures:
        runs = day.runs
        label = f"estimates: {runs[0].name} ×{len(runs)} days"
        table[f"{label}: tickets, mean / p90 wait"] = (
            f"{statistics.fmean(run.tickets for run in runs):.0f}, "
            f"{statistics.fmean(run.mean_wait_s for run in runs) / 60:.1f} / "
            f"{statistics.fmean(run.p90_wait_s for run in runs) / 60:.1f} min"
        )
        for moment, new, old, floor in (
            ("at issue", "at_issue", "at_issue_old", "at_issue"),
            ("halfway", "halfway", "halfway_old", "halfway"),
        ):
            text = (
                f"{_spread([getattr(run, new) for run in runs])}; "
                f"old {_spread([getattr(run, old) for run in runs])}"
            )
            if day.floor:
                text += f"; floor {_spread([getattr(run, floor) for run in day.floor])}"
            table[f"{label}: error {moment}"] = text
        table[f"{label}: one estimate, ms p50 / p99"] = (
            f"{statistics.fmean(run.estimate_ms_p50 for run in runs):.1f} / "
            f"{max(run.estimate_ms_p99 for run in runs):.1f}"
        )
    return table


def print_green_shares(shares: Sequence[float] = (0.0, 0.03, 0.15), seeds: int = 3) -> None:
    """How much of the error comes from green-channel tickets overtaking (not modelled): the
    demo-hall day with its visits unchanged but for the share of green tickets, learned and
    floor, mean of `seeds` days (docs/estimates.md, "Not modelled").

        python -c 'from bench.estimates import print_green_shares; print_green_shares()'
    """
    demo = DAYS[1]
    for share in shares:
        shape = replace(demo, green=share)
        for knowing in (False, True):
            runs = [measure_day(shape, seed, 100, knowing=knowing) for seed in range(1, seeds + 1)]
            print(
                f"green {share:.0%} {'floor' if knowing else 'learned'}: "
                f"at issue {statistics.fmean(run.at_issue for run in runs):.1f} %, "
                f"halfway {statistics.fmean(run.halfway for run in runs):.1f} %, "
                f"bias at issue {statistics.fmean(run.bias_issue_s for run in runs):+.0f} s",
                flush=True,
            )
