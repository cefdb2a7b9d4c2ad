"""Pure report rules: nearest-rank percentiles, mergeable totals, working-day due dates."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from queue_server.domain.reporting import RowTotals, WorkCalendar, nearest_rank, whole_seconds


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


def test_empty_row_has_no_averages() -> None:
    assert RowTotals().row("k") == {
        "key": "k",
        "issued": 0,
        "served": 0,
        "items": 0,
        "no_show": 0,
        "avg_wait_s": None,
        "p50_wait_s": None,
        "p90_wait_s": None,
        "max_wait_s": None,
        "avg_service_s": None,
        "sla_pct": None,
        "rating_avg": None,
    }


def test_whole_seconds_truncates_and_never_goes_negative() -> None:
    start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert whole_seconds(start + timedelta(seconds=59.9), start) == 59
    assert whole_seconds(start + timedelta(minutes=10), start) == 600
    assert whole_seconds(start, start + timedelta(seconds=3)) == 0


# -- the hall calendar: 2026 National Day (1–7 Oct off; Sun 20 Sep, Sat 10 Oct worked) --
NATIONAL_DAY = WorkCalendar.of(
    holidays=[date(2026, 10, day) for day in range(1, 8)],
    workdays=[date(2026, 9, 20), date(2026, 10, 10)],  # a Sunday and a Saturday
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 20), True),  # Friday
        (date(2026, 11, 21), False),  # Saturday
        (date(2026, 11, 22), False),  # Sunday
        (date(2026, 10, 1), False),  # holiday on a Thursday
        (date(2026, 10, 5), False),  # holiday on a Monday
        (date(2026, 10, 10), True),  # make-up workday on a Saturday
        (date(2026, 9, 20), True),  # make-up workday on a Sunday
        (date(2026, 10, 11), False),  # an ordinary Sunday
    ],
)
def test_working_days(day: date, working: bool) -> None:
    assert NATIONAL_DAY.is_working_day(day) is working


@pytest.mark.parametrize(
    ("rated", "days", "due"),
    [
        # Fri 20 Nov: Mon 23 … Fri 11 Dec is the 15th working day.
        (date(2026, 11, 20), 15, date(2026, 12, 11)),
        # A rating on a Saturday: Monday is the first working day.
        (date(2026, 11, 21), 1, date(2026, 11, 23)),
        (date(2026, 11, 21), 15, date(2026, 12, 11)),
        (date(2026, 11, 20), 0, date(2026, 11, 20)),
    ],
)
def test_due_dates_without_holidays(rated: date, days: int, due: date) -> None:
    assert WorkCalendar().add_working_days(rated, days) == due


def test_due_date_across_national_day() -> None:
    # Rated Fri 25 Sep. Working days: 28, 29, 30 Sep (3), 1–7 Oct off, 8, 9 (5),
    # Sat 10 Oct make-up (6), 12–16 (11), 19, 20, 21, 22 (15).
    assert NATIONAL_DAY.add_working_days(date(2026, 9, 25), 15) == date(2026, 10, 22)
    # Without the calendar it would be Fri 16 Oct.
    assert WorkCalendar().add_working_days(date(2026, 9, 25), 15) == date(2026, 10, 16)


def test_due_date_counts_a_make_up_sunday() -> None:
    # Rated Sat 19 Sep: Sun 20 Sep is a make-up workday, so it is the first.
    assert NATIONAL_DAY.add_working_days(date(2026, 9, 19), 1) == date(2026, 9, 20)


def test_working_days_between() -> None:
    assert NATIONAL_DAY.working_days_between(date(2026, 9, 25), date(2026, 10, 22)) == 15
    assert NATIONAL_DAY.working_days_between(date(2026, 10, 22), date(2026, 10, 22)) == 0
    assert NATIONAL_DAY.working_days_between(date(2026, 10, 23), date(2026, 10, 22)) == 0
