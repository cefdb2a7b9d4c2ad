"""Pure report rules: exact percentiles over one-second histograms and mergeable row totals.
No database, no Flask. (Working days: domain/calendar.py.)"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

GROUPS = ("service", "queue", "counter", "clerk", "hour", "day")


def whole_seconds(later: datetime, earlier: datetime) -> int:
    """A duration in whole seconds, truncated (a wait of 59.9 s is 59 s); never negative."""
    return max(0, math.floor((later - earlier).total_seconds()))


def nearest_rank(histogram: Mapping[int, int], percent: float) -> int | None:
    """The nearest-rank percentile: the smallest value whose cumulative count reaches
    ⌈percent/100 × N⌉ (rank 1 for percent 0). Exact for any N; None when empty."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(percent / 100 * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: ranks never exceed the total")


def nearest_ranks(histogram: Mapping[int, int], percents: tuple[float, ...]) -> list[int | None]:
    """`nearest_rank` for several percents in one pass over the sorted values."""
    total = sum(histogram.values())
    if total == 0:
        return [None] * len(percents)
    ranks = sorted(
        (max(1, math.ceil(percent / 100 * total)), index) for index, percent in enumerate(percents)
    )
    found: list[int | None] = [None] * len(percents)
    pending = iter(ranks)
    rank, index = next(pending)
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        while seen >= rank:
            found[index] = value
            following = next(pending, None)
            if following is None:
                return found
            rank, index = following
    raise AssertionError("unreachable: ranks never exceed the total")


# The plain counters of a row, added up when rows merge and stored as they are.
COUNTS = (
    "tickets",
    "visit_count",
    "visit_sum_s",
    "issued",
    "served",
    "items",
    "no_show",
    "called",
    "sla_met",
    "service_count",
    "service_sum_s",
    "rating_count",
    "rating_sum",
)


@dataclass
class RowTotals:
    """Everything a report row needs, kept so that two totals add up exactly (days merge
    into months): counts, sums and one-second histograms, never averages.

    Two columns are about visits rather than steps: `tickets` (numbers taken, each ticket
    once) and the time in the hall of the visits that ended `done` (`visit_count`,
    `visit_sum_s`), both counted with the visit's first step."""

    tickets: int = 0
    visit_count: int = 0
    visit_sum_s: int = 0
    issued: int = 0
    served: int = 0
    items: int = 0
    no_show: int = 0
    called: int = 0
    sla_met: int = 0
    waits: Counter[int] = field(default_factory=Counter)
    service_count: int = 0
    service_sum_s: int = 0
    service_times: Counter[int] = field(default_factory=Counter)
    rating_count: int = 0
    rating_sum: int = 0

    def add_ticket(self, visit_s: int | None) -> None:
        """A number taken; `visit_s`: issue → end of the visit, when it ended `done`."""
        self.tickets += 1
        if visit_s is not None:
            self.visit_count += 1
            self.visit_sum_s += visit_s

    def add_issued(self) -> None:
        self.issued += 1

    def add_called(self, wait_s: int, within_target: bool) -> None:
        self.called += 1
        self.waits[wait_s] += 1
        if within_target:
            self.sla_met += 1

    def add_done(self, items: int, service_s: int | None) -> None:
        self.served += 1
        self.items += items
        if service_s is not None:
            self.service_count += 1
            self.service_sum_s += service_s
            self.service_times[service_s] += 1

    def add_rating(self, rating: int) -> None:
        self.rating_count += 1
        self.rating_sum += rating

    def merge(self, other: RowTotals) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.waits.update(other.waits)
        self.service_times.update(other.service_times)

    def row(self, key: Any, *, visits: bool = True) -> dict[str, Any]:
        """The report row; without `visits` (counter and clerk rows, which hold steps called
        there, not visits) `tickets` and `avg_visit_s` are null."""
        wait_sum = sum(value * count for value, count in self.waits.items())
        p50, p90 = nearest_ranks(self.waits, (50, 90))
        return {
            "key": key,
            "tickets": self.tickets if visits else None,
            "issued": self.issued,
            "served": self.served,
            "items": self.items,
            "no_show": self.no_show,
            "avg_wait_s": _mean(wait_sum, self.called, 1),
            "p50_wait_s": p50,
            "p90_wait_s": p90,
            "max_wait_s": max(self.waits) if self.waits else None,
            "avg_service_s": _mean(self.service_sum_s, self.service_count, 1),
            "avg_visit_s": _mean(self.visit_sum_s, self.visit_count, 1) if visits else None,
            "sla_pct": _mean(100 * self.sla_met, self.called, 1),
            "rating_avg": _mean(self.rating_sum, self.rating_count, 2),
        }

    # -- storage (daily summaries) ----------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in COUNTS},
            "waits": _histogram_out(self.waits),
            "service_times": _histogram_out(self.service_times),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RowTotals:
        totals = cls()
        for name in COUNTS:
            setattr(totals, name, int(data.get(name, 0)))
        totals.waits = _histogram_in(data.get("waits", {}))
        totals.service_times = _histogram_in(data.get("service_times", {}))
        return totals


@dataclass
class StoredTotalsSum:
    """Adds up many stored totals (`RowTotals.to_json()`, a year of daily summaries) fast:
    a histogram's keys stay text while adding and become seconds once, at the end — a
    year of one-second histograms is millions of entries, and an int() for each would
    double the time of a long report."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    waits: dict[str, int] = field(default_factory=dict)
    service_times: dict[str, int] = field(default_factory=dict)

    def add(self, data: Mapping[str, Any]) -> None:
        counts = self.counts
        for name in COUNTS:
            counts[name] += data.get(name, 0)
        _add_histogram(self.waits, data.get("waits"))
        _add_histogram(self.service_times, data.get("service_times"))

    def totals(self) -> RowTotals:
        totals = RowTotals()
        for name, value in self.counts.items():
            setattr(totals, name, int(value))
        totals.waits = _histogram_in(self.waits)
        totals.service_times = _histogram_in(self.service_times)
        return totals


def _add_histogram(into: dict[str, int], histogram: Mapping[str, int] | None) -> None:
    if not histogram:
        return
    if not into:
        into.update(histogram)
        return
    get = into.get
    for value, count in histogram.items():
        into[value] = get(value, 0) + count


def _mean(total: float, count: int, digits: int) -> float | None:
    return round(total / count, digits) if count else None


def _histogram_out(histogram: Counter[int]) -> dict[str, int]:
    return {str(value): count for value, count in sorted(histogram.items()) if count}


def _histogram_in(data: Mapping[str, Any]) -> Counter[int]:
    return Counter({int(value): int(count) for value, count in data.items()})
