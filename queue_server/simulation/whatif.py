"""The managers' what-if (SPEC §10, issue 17): a past day replayed as it was, and again with
changes — comprehensive counters open per hour (or N all day), a counter's lines or strategy,
every counter's strategy, the enterprise back-office threshold — side by side.

Pure apart from its inputs: the day's visits and history are loaded by the caller
(`simulation.replay.day_visits`, `services.estimates.finished_steps`). Both days run through
the same engine as `python run.py simulate`, each visit with the counter time it really took,
so the original column reproduces the recorded day and the changed one differs only by the
changes. No estimator is asked (the what-if is about waits), so a day of 2,000 visitors takes
well under a second.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from queue_server.config import SiteConfig
from queue_server.domain.estimates import FinishedStep, ServiceTimes, configured_service_times
from queue_server.domain.routing import RoutingRule
from queue_server.services.estimates import configured_durations, learn_for_site
from queue_server.simulation.cli import (
    changed_rules,
    comprehensive_lines,
    summary,
)
from queue_server.simulation.engine import CounterSetup, DayResult, Hall, Visit


@dataclass(frozen=True)
class CounterChange:
    number: int
    queues: tuple[str, ...] | None = None
    strategy: str | None = None


@dataclass(frozen=True)
class Changes:
    """What the manager changes; all optional, none at all replays the day unchanged."""

    counters: int | None = None  # comprehensive counters open all day
    counters_by_hour: Mapping[int, int] = field(default_factory=dict)  # hour → comprehensive open
    strategy: str | None = None
    threshold: int | None = None
    counter_changes: Sequence[CounterChange] = ()


def hall_counters(site: SiteConfig) -> list[CounterSetup]:
    return [CounterSetup(c.number, tuple(c.queues), c.strategy) for c in site.counters]


def day_counters(
    site: SiteConfig, served: Mapping[int, tuple[datetime, datetime]]
) -> list[CounterSetup]:
    """The counters as they were on a recorded day: each that served, open in the hours
    from its first call to its last end (`served`: number → (first call, last end))."""
    counters = []
    for counter in site.counters:
        if counter.number not in served:
            continue
        first, last = (moment.astimezone(site.zone) for moment in served[counter.number])
        hours = frozenset(range(first.hour, last.hour + 1))
        counters.append(
            CounterSetup(counter.number, tuple(counter.queues), counter.strategy, hours)
        )
    return counters


def counters_for(
    site: SiteConfig,
    changes: Changes,
    base: Sequence[CounterSetup] | None = None,
) -> list[CounterSetup]:
    """The counters of the changed day, from `base` (the day's as they were; default the
    hall file's, all day). `counters` N: the comprehensive ones (serving only the lines a
    comprehensive business of one person goes to under the hall's own rules, so a changed
    threshold does not make them something else) become N like the hall's first, open all
    day; `counters_by_hour`: hour → how many of them are open that hour (other hours keep N,
    else as many as `base` had open then), the k-th open in the hours whose count is ≥ k.
    Others (special, pickup, back office) stay as they were. Then `strategy` for every
    counter, then each counter change."""
    base = list(base) if base is not None else hall_counters(site)
    lines = set(comprehensive_lines(site.rules()))
    comprehensive = [counter for counter in base if set(counter.queues) <= lines]
    others = [counter for counter in base if not set(counter.queues) <= lines]
    by_hour = dict(changes.counters_by_hour)
    counters = base
    if changes.counters is not None or by_hour:
        counts = {
            hour: by_hour.get(
                hour,
                changes.counters
                if changes.counters is not None
                else sum(1 for counter in comprehensive if counter.open_at(hour)),
            )
            for hour in range(24)
        }
        template = next(
            (
                CounterSetup(c.number, tuple(c.queues), c.strategy)
                for c in site.counters
                if set(c.queues) <= lines
            ),
            CounterSetup(0, tuple(sorted(lines)), "fifo"),
        )
        taken = {counter.number for counter in others}
        numbers = [c.number for c in site.counters if c.number not in taken]
        numbers += range(max([0, *numbers, *taken]) + 1, 200)
        new = []
        for index in range(1, max(counts.values(), default=0) + 1):
            hours = frozenset(hour for hour, count in counts.items() if count >= index)
            new.append(
                replace(
                    template, number=numbers[index - 1], hours=None if len(hours) == 24 else hours
                )
            )
        counters = sorted(new + others, key=lambda counter: counter.number)
    if changes.strategy is not None:
        counters = [replace(counter, strategy=changes.strategy) for counter in counters]
    by_number = {change.number: change for change in changes.counter_changes}
    return [
        replace(
            counter,
            queues=by_number[counter.number].queues or counter.queues,
            strategy=by_number[counter.number].strategy or counter.strategy,
        )
        if counter.number in by_number
        else counter
        for counter in counters
    ]


def waiting_by_hour(site: SiteConfig, result: DayResult) -> list[dict[str, Any]]:
    """Per hour of the day, from the first arrival's to the last call's (or arrival's), the
    mean number of people waiting (steps queued, not yet called) over that hour; a step never
    called waits to the end of the last hour (a changed day that serves fewer people must not
    read as fewer waiting)."""
    if not result.steps:
        return []
    last = max(step.called_at or step.enqueued_at for step in result.steps)
    first = min(step.enqueued_at for step in result.steps).astimezone(site.zone)
    first = first.replace(minute=0, second=0, microsecond=0)
    count = (last - first) // timedelta(hours=1) + 1
    close = first + timedelta(hours=count)
    intervals = [(step.enqueued_at, step.called_at or close) for step in result.steps]
    hours = []
    for index in range(count):
        moment = first + timedelta(hours=index)
        until = moment + timedelta(hours=1)
        seconds = sum(
            max((min(end, until) - max(start, moment)).total_seconds(), 0.0)
            for start, end in intervals
        )
        hours.append({"hour": moment.hour, "waiting": round(seconds / 3600, 1)})
    return hours


def day_report(site: SiteConfig, result: DayResult) -> dict[str, Any]:
    report = summary(site, result)
    report.pop("estimate_error_pct", None)
    lines = [line for line in report["lines"] if line["visitors"]]
    steps = [step for step in result.steps if step.wait_s is not None]
    within = sum(1 for step in steps if step.wait_s is not None and step.wait_s <= step.target_s)
    return {
        "lines": lines,
        "visitors": len(result.first_steps()),
        "within_target_pct": round(100 * within / len(result.steps), 1) if result.steps else None,
        "waiting_by_hour": waiting_by_hour(site, result),
    }


def service_times_for(site: SiteConfig, history: Sequence[FinishedStep]) -> ServiceTimes:
    """For a visit's business without a recorded time: drawn from history, else configured."""
    if history:
        return learn_for_site(site, history)
    return configured_service_times(
        site.zone, site.policy.default_service_s, configured_durations(site)
    )


def replay(
    site: SiteConfig,
    visits: Sequence[Visit],
    times: ServiceTimes,
    changes: Changes | None,
    seed: int = 0,
    base: Sequence[CounterSetup] | None = None,
) -> tuple[dict[str, Any], list[CounterSetup]]:
    """One day: as it was (`changes` None: the `base` counters, default the hall file's all
    day) or changed; its report and its counters."""
    if changes is None:
        rules: Sequence[RoutingRule] = site.rules()
        counters = list(base) if base is not None else hall_counters(site)
    else:
        rules = changed_rules(site, changes.threshold)
        counters = counters_for(site, changes, base)
    result = Hall(site, counters, rules, times, random.Random(seed)).run(visits)
    return day_report(site, result), counters


def counters_view(counters: Sequence[CounterSetup]) -> list[dict[str, Any]]:
    return [
        {
            "number": counter.number,
            "queues": list(counter.queues),
            "strategy": counter.strategy,
            "hours": sorted(counter.hours) if counter.hours is not None else None,
        }
        for counter in counters
    ]
