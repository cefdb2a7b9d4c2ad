"""Pure report rules: nearest-rank percentiles, mergeable totals, working-day due dates."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from queue_server.domain.reporting import RowTotals, nearest_rank, whole_seconds


def histogram(*values: int) -> Counter[int]:
    return Counter(values)


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        ((), 50, None),
        ((7,), 0, 7),
        ((7,), 50, 7),
        ((7,), 100, 7),
        ((600, 1320), 50, 600),  # rank ⌈1.0⌉ = 1
        ((600, 1320), 90, 1320),  # rank ⌈1.8⌉ = 2
        ((15, 20, 35, 40, 50), 30, 20),  # Wikipedia's example: rank ⌈1.5⌉ = 2
        ((15, 20, 35, 40, 50), 40, 20),  # rank 2
        ((15, 20, 35, 40, 50), 50, 35),  # rank ⌈2.5⌉ = 3
        ((15, 20, 35, 40, 50), 100, 50),
        ((3, 6, 7, 8, 8, 10, 13, 15, 16, 20), 25, 7),
        ((3, 6, 7, 8, 8, 10, 13, 15, 16, 20), 50, 8),
        ((3, 6, 7, 8, 8, 10, 13, 15, 16, 20), 75, 15),
        ((3, 6, 7, 8, 8, 10, 13, 15, 16, 20), 90, 16),
        ((1,) * 9 + (100,), 90, 1),  # rank 9 of 10
        ((1,) * 9 + (100,), 91, 100),  # rank ⌈9.1⌉ = 10
    ],
)
def test_nearest_rank(values: tuple[int, ...], percent: float, expected: int | None) -> None:
    assert nearest_rank(histogram(*values), percent) == expected


def test_percentile_of_merged_days_equals_percentile_of_all_steps() -> None:
    monday, tuesday = RowTotals(), RowTotals()
    waits_monday = [5, 700, 30, 30, 1800]
    waits_tuesday = [60, 61, 62, 3000]
    for wait in waits_monday:
        monday.add_called(wait, wait <= 900)
    for wait in waits_tuesday:
        tuesday.add_called(wait, wait <= 900)
    both = RowTotals.from_json(monday.to_json())
    both.merge(RowTotals.from_json(tuesday.to_json()))
    everything = sorted(waits_monday + waits_tuesday)  # 5 30 30 60 61 62 700 1800 3000
    row = both.row("x")
    assert row["p50_wait_s"] == everything[4] == 61  # rank ⌈4.5⌉ = 5
    assert row["p90_wait_s"] == everything[8] == 3000  # rank ⌈8.1⌉ = 9
    assert row["max_wait_s"] == 3000
    assert row["avg_wait_s"] == round(sum(everything) / 9, 1)
    assert row["sla_pct"] == round(100 * 7 / 9, 1)


def test_visits_merge_and_are_null_in_step_only_rows() -> None:
    monday, tuesday = RowTotals(), RowTotals()
    monday.add_ticket(930)
    monday.add_ticket(None)  # a visit not done (missed, still waiting…) takes a number too
    tuesday.add_ticket(1140)
    both = RowTotals.from_json(monday.to_json())
    both.merge(RowTotals.from_json(tuesday.to_json()))
    row = both.row("x")
    assert (row["tickets"], row["avg_visit_s"]) == (3, 1035.0)
    counter_row = both.row(1, visits=False)
    assert (counter_row["tickets"], counter_row["avg_visit_s"]) == (None, None)
    # A summary stored before the visit columns existed reads as none taken.
    assert RowTotals.from_json({"issued": 4}).row("old")["tickets"] == 0


def test_empty_row_has_no_averages() -> None:
    assert RowTotals().row("k") == {
        "key": "k",
        "tickets": 0,
        "issued": 0,
        "served": 0,
        "items": 0,
        "no_show": 0,
        "avg_wait_s": None,
        "p50_wait_s": None,
        "p90_wait_s": None,
        "max_wait_s": None,
        "avg_service_s": None,
        "avg_visit_s": None,
        "sla_pct": None,
        "rating_avg": None,
    }


def test_whole_seconds_truncates_and_never_goes_negative() -> None:
    start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert whole_seconds(start + timedelta(seconds=59.9), start) == 59
    assert whole_seconds(start + timedelta(minutes=10), start) == 600
    assert whole_seconds(start, start + timedelta(seconds=3)) == 0
