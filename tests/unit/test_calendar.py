"""The hall calendar (SPEC §9): opening hours with breaks, extended days, per-line hours,
holidays and make-up workdays (调休) from chinese-calendar with the hall file's own dates on
top, working days for 差评 due dates, and days that nobody knows. Pure: no DB, no Flask."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from queue_server.config import ConfigError, load_hall_file, parse_hall
from queue_server.domain.calendar import (
    CalendarUnknown,
    DayKind,
    HallCalendar,
    Weekday,
    opening_words,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

WEEKLY: dict[Weekday, list[list[str]]] = {
    "mon": [["08:30", "12:00"], ["13:30", "17:30"]],
    "sat": [["09:00", "12:00"]],
    "sun": [],
}
# SPEC §9's example hall: Monday with a lunch break, Tuesday–Friday the plain window,
# Saturday mornings, closed on Sundays; 延时服务 on New Year's Eve; line E keeps its own
# Monday hours.
HALL = HallCalendar.of(
    issue_from="08:30",
    issue_until="17:30",
    weekly=WEEKLY,
    extended={date(2026, 12, 31): "19:00", date(2026, 11, 26): "19:00"},
    lines={"E": {"mon": [["09:00", "11:30"]]}},
)
# The State Council notice for 春节 2027 as a hall would enter it before the library knows it.
SPRING_2027 = {
    "holidays": [date(2027, 2, day) for day in range(6, 13)],
    "workdays": [date(2027, 2, 14)],
}
HALL_2027 = HallCalendar.of(
    issue_from="08:30",
    issue_until="17:30",
    weekly=WEEKLY,
    **SPRING_2027,
)
ROUND_THE_CLOCK = HallCalendar.of(open_on_holidays=True)  # the demo hall


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


# -- which kind of day: 2026 from the library -------------------------------------------
@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2026, 11, 20), DayKind.WORKDAY),  # a Friday
        (date(2026, 11, 21), DayKind.REST),  # a Saturday
        # 元旦 2026: Thu 1 – Sat 3 Jan off, Sun 4 Jan worked
        (date(2026, 1, 1), DayKind.HOLIDAY),
        (date(2026, 1, 2), DayKind.HOLIDAY),
        (date(2026, 1, 3), DayKind.HOLIDAY),
        (date(2026, 1, 4), DayKind.MAKEUP),
        # 春节 2026: Sun 15 – Mon 23 Feb off, Sat 14 and Sat 28 Feb worked
        (date(2026, 2, 14), DayKind.MAKEUP),
        (date(2026, 2, 15), DayKind.HOLIDAY),
        (date(2026, 2, 17), DayKind.HOLIDAY),  # 初一, a Tuesday
        (date(2026, 2, 23), DayKind.HOLIDAY),  # a Monday
        (date(2026, 2, 24), DayKind.WORKDAY),
        (date(2026, 2, 28), DayKind.MAKEUP),
        # 国庆 2026: Thu 1 – Wed 7 Oct off, Sun 20 Sep and Sat 10 Oct worked
        (date(2026, 9, 20), DayKind.MAKEUP),
        (date(2026, 10, 1), DayKind.HOLIDAY),
        (date(2026, 10, 5), DayKind.HOLIDAY),  # a Monday
        (date(2026, 10, 7), DayKind.HOLIDAY),
        (date(2026, 10, 8), DayKind.WORKDAY),
        (date(2026, 10, 10), DayKind.MAKEUP),
        (date(2026, 10, 11), DayKind.REST),  # an ordinary Sunday
    ],
)
def test_day_kinds_of_2026_from_the_library(day: date, kind: DayKind) -> None:
    assert HALL.day_kind(day) is kind


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2027, 2, 5), DayKind.WORKDAY),
        (date(2027, 2, 6), DayKind.HOLIDAY),  # 春节 from the hall file
        (date(2027, 2, 10), DayKind.HOLIDAY),
        (date(2027, 2, 12), DayKind.HOLIDAY),
        (date(2027, 2, 13), DayKind.REST),
        (date(2027, 2, 14), DayKind.MAKEUP),  # a Sunday worked
        (date(2027, 3, 1), DayKind.WORKDAY),  # a year entered is a year known
    ],
)
def test_day_kinds_of_2027_from_the_hall_file(day: date, kind: DayKind) -> None:
    assert HALL_2027.day_kind(day) is kind


def test_hall_file_dates_win_over_the_library() -> None:
    hall = HallCalendar.of(holidays=[date(2026, 11, 20)], workdays=[date(2026, 10, 8)])
    assert hall.day_kind(date(2026, 11, 20)) is DayKind.HOLIDAY  # a local closing day
    assert hall.day_kind(date(2026, 10, 8)) is DayKind.WORKDAY


@pytest.mark.parametrize("day", [date(2027, 1, 1), date(2027, 3, 1), date(2003, 6, 2)])
def test_a_day_nobody_knows_is_not_guessed(day: date) -> None:
    with pytest.raises(CalendarUnknown) as raised:
        HALL.day_kind(day)
    assert raised.value.day == day
    # Asked to assume, the weekday decides (the documented fallback).
    expected = DayKind.WORKDAY if day.weekday() < 5 else DayKind.REST
    assert HALL.day_kind(day, assume=True) is expected


def test_without_the_library_only_the_hall_file_counts() -> None:
    hall = HallCalendar.of(library=False, holidays=[date(2026, 10, 1)])
    assert hall.day_kind(date(2026, 10, 1)) is DayKind.HOLIDAY
    assert hall.day_kind(date(2026, 10, 10)) is DayKind.REST  # year known by its one date


# -- open or closed -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "line", "is_open"),
    [
        # Monday 23 Nov 2026: 08:30–12:00, 13:30–17:30 (the break closes the kiosk)
        ("2026-11-23 08:29:59", None, False),
        ("2026-11-23 08:30", None, True),
        ("2026-11-23 11:59:59", None, True),
        ("2026-11-23 12:00", None, False),
        ("2026-11-23 13:29", None, False),
        ("2026-11-23 13:30", None, True),
        ("2026-11-23 17:29:59", None, True),
        ("2026-11-23 17:30", None, False),
        # Tuesday: no weekly entry, the issue_from–issue_until window (no break)
        ("2026-11-24 12:30", None, True),
        ("2026-11-24 17:30", None, False),
        # Saturday mornings; Sunday closed
        ("2026-11-21 09:00", None, True),
        ("2026-11-21 12:00", None, False),
        ("2026-11-22 10:00", None, False),
        # 延时服务: Thursday 26 Nov and New Year's Eve until 19:00
        ("2026-11-26 18:59", None, True),
        ("2026-11-26 19:00", None, False),
        ("2026-11-25 18:00", None, False),
        ("2026-12-31 18:30", None, True),
        ("2026-12-31 18:30", "E", True),  # E follows the hall on Thursdays
        # Line E keeps its own Monday hours, the hall's on other days
        ("2026-11-23 08:45", "E", False),
        ("2026-11-23 09:00", "E", True),
        ("2026-11-23 11:30", "E", False),
        ("2026-11-23 14:00", "E", False),
        ("2026-11-24 14:00", "E", True),
        ("2026-11-23 14:00", "A", True),  # a line without hours of its own
        # Holidays close the hall (国庆 Thursday, 春节 Monday)
        ("2026-10-01 10:00", None, False),
        ("2026-02-23 10:00", None, False),
        ("2026-10-01 10:00", "E", False),
        # Make-up workdays keep Monday's hours (and Monday's break)
        ("2026-10-10 10:00", None, True),  # a Saturday
        ("2026-10-10 12:30", None, False),
        ("2026-10-10 14:00", None, True),  # a plain Saturday closes at 12:00
        ("2026-10-17 14:00", None, False),
        ("2026-09-20 09:00", None, True),  # a Sunday
        ("2026-10-10 10:00", "E", True),  # E's Monday hours
        ("2026-10-10 12:00", "E", False),
    ],
)
def test_open_or_closed(moment: str, line: str | None, is_open: bool) -> None:
    assert HALL.is_open(at(moment), line) is is_open


def test_open_on_holidays_keeps_the_weekdays_hours() -> None:
    hall = HallCalendar.of(issue_from="08:30", issue_until="17:30", open_on_holidays=True)
    assert hall.is_open(at("2026-10-01 10:00"))
    assert not hall.is_open(at("2026-10-01 18:00"))


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2027-02-08 10:00", False),  # 春节 2027 (hall file), a Monday
        ("2027-02-13 10:00", True),  # an ordinary Saturday
        ("2027-02-14 12:30", False),  # the make-up Sunday: Monday's hours, Monday's break
        ("2027-02-14 14:00", True),
        ("2027-03-01 10:00", True),
    ],
)
def test_2027_from_the_hall_file(moment: str, is_open: bool) -> None:
    assert HALL_2027.is_open(at(moment)) is is_open


def test_2027_that_nobody_knows() -> None:
    with pytest.raises(CalendarUnknown):
        HALL.is_open(at("2027-03-01 10:00"))
    assert HALL.is_open(at("2027-03-01 10:00"), assume=True)  # the weekly hours
    assert not HALL.is_open(at("2027-03-01 12:30"), assume=True)


@pytest.mark.parametrize("moment", ["2027-03-01 03:00", "2030-02-01 12:00", "2003-01-01 00:00"])
def test_round_the_clock_needs_no_calendar(moment: str) -> None:
    assert not ROUND_THE_CLOCK.needs_days()
    assert ROUND_THE_CLOCK.is_open(at(moment))
    assert ROUND_THE_CLOCK.hours_on(at(moment).date()) == HallCalendar.of().window


def test_halls_whose_days_differ_need_the_calendar() -> None:
    assert HALL.needs_days()
    weekdays_only = HallCalendar.of(weekly={"sun": []}, open_on_holidays=True)
    assert weekdays_only.needs_days()  # a make-up Sunday opens it
    own_line = HallCalendar.of(lines={"E": {"mon": [["09:00", "11:30"]]}}, open_on_holidays=True)
    assert own_line.needs_days()


# -- today's hours and the next opening ---------------------------------------------------
@pytest.mark.parametrize(
    ("day", "line", "pairs"),
    [
        (date(2026, 11, 23), None, [["08:30", "12:00"], ["13:30", "17:30"]]),
        (date(2026, 11, 23), "E", [["09:00", "11:30"]]),
        (date(2026, 11, 24), None, [["08:30", "17:30"]]),
        (date(2026, 11, 22), None, []),
        (date(2026, 12, 31), None, [["08:30", "19:00"]]),
        (date(2026, 10, 10), None, [["08:30", "12:00"], ["13:30", "17:30"]]),
        (date(2026, 10, 2), None, []),
    ],
)
def test_hours_of_a_day(day: date, line: str | None, pairs: list[list[str]]) -> None:
    assert [interval.as_pair() for interval in HALL.hours_on(day, line)] == pairs


@pytest.mark.parametrize(
    ("moment", "line", "opening"),
    [
        ("2026-11-23 07:00", None, "2026-11-23 08:30"),
        ("2026-11-23 12:10", None, "2026-11-23 13:30"),  # after the break
        ("2026-11-23 17:30", None, "2026-11-24 08:30"),
        ("2026-11-27 18:00", None, "2026-11-28 09:00"),  # Friday evening → Saturday morning
        ("2026-11-28 12:00", None, "2026-11-30 08:30"),  # Saturday noon → Monday
        ("2026-09-30 18:00", None, "2026-10-08 08:30"),  # over 国庆
        ("2026-10-09 18:00", None, "2026-10-10 08:30"),  # a make-up Saturday
        ("2026-02-13 18:00", None, "2026-02-14 08:30"),  # before 春节: a make-up Saturday
        ("2026-02-14 18:00", None, "2026-02-24 08:30"),  # over 春节
        ("2026-11-23 12:00", "E", "2026-11-24 08:30"),  # E's Monday is over
        ("2026-11-23 08:40", "E", "2026-11-23 09:00"),
    ],
)
def test_next_opening(moment: str, line: str | None, opening: str) -> None:
    assert HALL.next_opening(at(moment), line) == at(opening)


def test_next_opening_into_a_year_nobody_knows() -> None:
    with pytest.raises(CalendarUnknown) as raised:
        HALL.next_opening(at("2026-12-31 19:00"))
    assert raised.value.day == date(2027, 1, 1)
    assert HALL.next_opening(at("2026-12-31 19:00"), assume=True) == at("2027-01-01 08:30")
    # Before 春节 2027 (hall file): Saturday 13 Feb is an ordinary Saturday, then the make-up
    # Sunday keeps Monday's hours.
    assert HALL_2027.next_opening(at("2027-02-05 18:00")) == at("2027-02-13 09:00")
    assert HALL_2027.next_opening(at("2027-02-13 12:00")) == at("2027-02-14 08:30")


def test_a_hall_that_never_opens() -> None:
    closed = HallCalendar.of(
        weekly={day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    assert closed.next_opening(at("2026-11-23 10:00"), assume=True) is None


@pytest.mark.parametrize(
    ("opening", "today", "words"),
    [
        ("2026-11-23 13:30", date(2026, 11, 23), "今天13:30"),
        ("2026-12-01 08:30", date(2026, 11, 30), "12月1日（周二）08:30"),
        ("2026-11-30 08:30", date(2026, 11, 28), "11月30日（周一）08:30"),
    ],
)
def test_opening_words(opening: str, today: date, words: str) -> None:
    assert opening_words(at(opening), today) == words


# -- working days (差评 due dates) ---------------------------------------------------------
@pytest.mark.parametrize(
    ("rated", "days", "due"),
    [
        # Fri 20 Nov: Mon 23 … Fri 11 Dec is the 15th working day.
        (date(2026, 11, 20), 15, date(2026, 12, 11)),
        # A rating on a Saturday: Monday is the first working day.
        (date(2026, 11, 21), 1, date(2026, 11, 23)),
        (date(2026, 11, 21), 15, date(2026, 12, 11)),
        (date(2026, 11, 20), 0, date(2026, 11, 20)),
        # 元旦 2026: 1–3 Jan off, Sun 4 Jan worked (1st), 5–9 (6th), 12–16 (11th), 19–22.
        (date(2025, 12, 31), 15, date(2026, 1, 22)),
        # 春节 2026: 11–13 Feb (3), Sat 14 (4), 15–23 off, 24–27 (8), Sat 28 (9),
        # 2–6 Mar (14), Mon 9 Mar (15).
        (date(2026, 2, 10), 15, date(2026, 3, 9)),
        # 国庆 2026 (and 中秋 Fri 25 Sep): 28–30 Sep (3), 1–7 Oct off, 8–9 (5),
        # Sat 10 (6), 12–16 (11), 19–22 (15).
        (date(2026, 9, 25), 15, date(2026, 10, 22)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # a make-up Sunday is a working day
    ],
)
def test_due_dates_2026(rated: date, days: int, due: date) -> None:
    assert HALL.add_working_days(rated, days) == due


def test_due_date_across_spring_festival_2027_from_the_hall_file() -> None:
    # Mon 1 Feb: 2–5 (4), 6–12 off, Sat 13 rest, Sun 14 worked (5), 15–19 (10), 22–26 (15).
    assert HALL_2027.add_working_days(date(2027, 2, 1), 15) == date(2027, 2, 26)
    assert HALL_2027.working_days_between(date(2027, 2, 1), date(2027, 2, 26)) == 15


def test_due_date_into_a_year_nobody_knows() -> None:
    with pytest.raises(CalendarUnknown) as raised:
        HALL.add_working_days(date(2026, 12, 20), 15)
    assert raised.value.day == date(2027, 1, 1)
    # The fallback counts Monday to Friday: 21–25 Dec (5), 28–31 (9), Fri 1 Jan (10), 4–8.
    assert HALL.add_working_days(date(2026, 12, 20), 15, assume=True) == date(2027, 1, 8)


def test_working_days_between() -> None:
    assert HALL.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert HALL.working_days_between(date(2026, 10, 10), date(2026, 10, 1)) == 0


# -- the hall file ------------------------------------------------------------------------
def _site(**changes: Any) -> dict[str, Any]:
    hall = load_hall_file("config/demo-hall.yaml").model_dump()
    hall["sites"][0].update(changes)
    return hall


def test_the_demo_hall_is_open_round_the_clock_holidays_included() -> None:
    site = load_hall_file("config/demo-hall.yaml").default_site
    calendar = site.hours.calendar(site.calendar)
    assert site.hours.open_on_holidays
    assert not calendar.needs_days()
    for moment in ("2026-10-01 03:00", "2027-02-10 23:59", "2026-11-22 12:00"):
        assert calendar.is_open(at(moment))


def test_the_section_9_example_is_a_valid_hall_file() -> None:
    hours = {
        "issue_from": "08:30",
        "issue_until": "17:30",
        "weekly": {
            "mon": [["08:30", "12:00"], ["13:30", "17:30"]],
            "sat": [["09:00", "12:00"]],
            "sun": [],
        },
        "extended": [{"date": "2026-12-31", "until": "19:00"}],
        "lines": {"E": {"weekly": {"mon": [["09:00", "11:30"]]}}},
        "open_on_holidays": False,
    }
    site = parse_hall(
        _site(hours=hours, calendar={"holidays": ["2027-02-06"], "workdays": ["2027-02-14"]})
    ).default_site
    calendar = site.hours.calendar(site.calendar)
    assert calendar.is_open(at("2026-12-31 18:30"))
    assert not calendar.is_open(at("2026-11-23 11:45"), "E")
    assert calendar.day_kind(date(2027, 2, 14)) is DayKind.MAKEUP
    # The parsed file survives a round trip (tests build halls from model_dump()).
    assert parse_hall(parse_hall(_site(hours=hours)).model_dump()).default_site.hours == (
        parse_hall(_site(hours=hours)).default_site.hours
    )


@pytest.mark.parametrize(
    ("hours", "calendar", "says"),
    [
        ({"issue_from": "25:00"}, {}, "'25:00' is not a time of day"),
        ({"issue_until": "8.30"}, {}, "'8.30' is not a time of day"),
        ({"issue_from": "17:00", "issue_until": "08:30"}, {}, "must come before issue_until"),
        ({"weekly": {"monday": []}}, {}, "hours.weekly.monday.[key]"),
        ({"weekly": {"mon": [["12:00", "08:30"]]}}, {}, "mon: 12:00–08:30 closes before it opens"),
        (
            {"weekly": {"mon": [["13:30", "17:30"], ["08:30", "12:00"]]}},
            {},
            "mon: 08:30–12:00 overlaps or comes before 13:30–17:30",
        ),
        (
            {"weekly": {"tue": [["08:30", "12:30"], ["12:00", "17:30"]]}},
            {},
            "tue: 12:00–17:30 overlaps",
        ),
        ({"weekly": {"sat": [["09:00"]]}}, {}, "hours.weekly.sat.0"),
        ({"weekly": {"sun": [["09:00", "24:01"]]}}, {}, "'24:01' is not a time of day"),
        ({"lines": {"Z": {"weekly": {"mon": []}}}}, {}, "hours.lines: unknown queue 'Z'"),
        ({"lines": {"E": {"weekly": {"mon": [["11:00", "10:00"]]}}}}, {}, "mon: 11:00–10:00"),
        (
            {"extended": [{"date": "2026-12-31", "until": "19:00"}] * 2},
            {},
            "extended: 2026-12-31 appears twice",
        ),
        ({"extended": [{"date": "2026-12-31", "until": "7pm"}]}, {}, "'7pm' is not a time"),
        ({"open_on_holidays": "sometimes"}, {}, "hours.open_on_holidays"),
        (
            {},
            {"holidays": ["2027-02-14"], "workdays": ["2027-02-14"]},
            "2027-02-14 is listed both as a holiday and a workday",
        ),
        ({}, {"holidays": ["2027-02-30"]}, "calendar.holidays.0"),
    ],
)
def test_hall_file_mistakes_are_named(
    hours: dict[str, Any], calendar: dict[str, Any], says: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_hall(_site(hours=hours, calendar=calendar))
    assert says in str(raised.value)
