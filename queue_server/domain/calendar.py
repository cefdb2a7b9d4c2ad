"""The hall calendar (SPEC §9): opening hours per day, public holidays and make-up workdays
(调休), working days. Pure: the day and time are passed in; no Flask, no database.

Which day is a public holiday or a make-up workday comes from the maintained library
`chinese-calendar` for the years it knows, with the hall file's own dates on top (a hall
enters each year's State Council notice when it is published). A day neither knows raises
`CalendarUnknown` rather than being guessed; callers that must still decide ask again with
`assume=True`, which treats such a day by its weekday alone (Monday to Friday working, the
hall's weekly hours) and says so to the managers (services/hours.py).

Rules:
- the hours of a day are its weekday's entry in `weekly`, or the `issue_from`–`issue_until`
  window when the weekday has no entry; an empty list closes that weekday; the gaps between
  intervals (a lunch break) are closed;
- a public holiday closes the hall unless `open_on_holidays` (then the weekday's hours);
- a make-up workday on a Saturday or Sunday keeps Monday's hours;
- an extended day (延时服务) closes at its later `until` (its last interval runs on);
- a line with its own `weekly` entry for a weekday keeps those hours that day (not the
  extended closing time); on other days it keeps the hall's;
- working days (for due dates) are Monday to Friday and the make-up workdays, less the
  public holidays; opening hours play no part in them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Literal

import chinese_calendar

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
END_OF_DAY = 24 * 60
SEARCH_DAYS = 400  # how far `next_opening` looks before deciding the hall never opens


class CalendarUnknown(Exception):
    """Neither the library nor the hall file knows whether `day` is a holiday or a workday."""

    def __init__(self, day: date) -> None:
        super().__init__(f"the hall calendar does not know {day.isoformat()} (year {day.year})")
        self.day = day


class DayKind(enum.Enum):
    WORKDAY = "workday"  # Monday to Friday, not a holiday
    REST = "rest"  # Saturday or Sunday, not a make-up workday
    HOLIDAY = "holiday"  # a public holiday (法定节假日), whatever its weekday
    MAKEUP = "makeup"  # a Saturday or Sunday worked instead (调休上班)

    @property
    def working(self) -> bool:
        return self in (DayKind.WORKDAY, DayKind.MAKEUP)


def minutes_of(clock: str) -> int:
    """'08:30' → 510; '24:00' → 1440. ValueError for anything else."""
    hours, _, minutes = clock.partition(":")
    if not (len(hours) in (1, 2) and len(minutes) == 2 and hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"'{clock}' is not a time of day like 08:30 or 24:00")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > END_OF_DAY:
        raise ValueError(f"'{clock}' is not a time of day like 08:30 or 24:00")
    return value


def seconds_of(moment: time) -> int:
    """Seconds since midnight."""
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def clock_of(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Interval:
    """[opens, closes) in minutes since midnight; closes may be 1440 (24:00)."""

    opens: int
    closes: int

    @classmethod
    def parse(cls, pair: Iterable[str]) -> Interval:
        opens, closes = (minutes_of(value) for value in pair)
        return cls(opens, closes)

    def contains(self, moment: time) -> bool:
        return self.opens * 60 <= seconds_of(moment) < self.closes * 60

    def as_pair(self) -> list[str]:
        return [clock_of(self.opens), clock_of(self.closes)]


DayHours = tuple[Interval, ...]


def check_intervals(intervals: Iterable[Interval]) -> None:
    """Each interval opens before it closes; intervals in order, not overlapping."""
    previous: Interval | None = None
    for interval in intervals:
        if interval.opens >= interval.closes:
            raise ValueError(
                f"{clock_of(interval.opens)}–{clock_of(interval.closes)} closes before it opens"
            )
        if previous is not None and interval.opens < previous.closes:
            raise ValueError(
                f"{clock_of(interval.opens)}–{clock_of(interval.closes)} overlaps or comes "
                f"before {clock_of(previous.opens)}–{clock_of(previous.closes)}: list the "
                "intervals of a day in order, without overlaps"
            )
        previous = interval


# -- the national calendar (the library) ----------------------------------------------------
@cache
def _library_years() -> tuple[int, int]:
    """The years `chinese-calendar` knows (the library's own rule: its first to last year)."""
    days = chinese_calendar.holidays.keys()
    return min(days).year, max(days).year


def library_day_kind(day: date) -> DayKind | None:
    """The day's kind by `chinese-calendar`, None for a year it does not know."""
    first, last = _library_years()
    if not first <= day.year <= last:
        return None
    if day in chinese_calendar.workdays:
        return DayKind.MAKEUP if day.weekday() >= 5 else DayKind.WORKDAY
    if day in chinese_calendar.holidays:
        return DayKind.HOLIDAY
    return DayKind.WORKDAY if day.weekday() < 5 else DayKind.REST


def _by_weekday(day: date) -> DayKind:
    return DayKind.WORKDAY if day.weekday() < 5 else DayKind.REST


# -- the hall's calendar ----------------------------------------------------------------
@dataclass(frozen=True)
class WeekHours:
    """Hours per weekday (0 = Monday … 6 = Sunday); `None` = no entry of its own."""

    days: tuple[DayHours | None, ...] = (None,) * 7

    @classmethod
    def of(cls, weekly: Mapping[Weekday, Iterable[Iterable[str]]]) -> WeekHours:
        days: list[DayHours | None] = [None] * 7
        for name, intervals in weekly.items():
            days[WEEKDAYS.index(name)] = tuple(Interval.parse(pair) for pair in intervals)
        return cls(tuple(days))


@dataclass(frozen=True)
class HallCalendar:
    """One hall's calendar. Build it with `HallCalendar.of(...)` from the hall file's values."""

    window: DayHours = (Interval(0, END_OF_DAY),)  # issue_from–issue_until
    weekly: WeekHours = WeekHours()
    extended: Mapping[date, int] = field(default_factory=dict)  # day → later closing minute
    lines: Mapping[str, WeekHours] = field(default_factory=dict)
    open_on_holidays: bool = False
    holidays: frozenset[date] = frozenset()  # the hall file's own, on top of the library
    workdays: frozenset[date] = frozenset()
    library: bool = True  # False: the hall file's dates only (tests of the fallback)

    @classmethod
    def of(
        cls,
        *,
        issue_from: str = "00:00",
        issue_until: str = "24:00",
        weekly: Mapping[Weekday, Iterable[Iterable[str]]] | None = None,
        extended: Mapping[date, str] | None = None,
        lines: Mapping[str, Mapping[Weekday, Iterable[Iterable[str]]]] | None = None,
        open_on_holidays: bool = False,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        library: bool = True,
    ) -> HallCalendar:
        opens, closes = minutes_of(issue_from), minutes_of(issue_until)
        return cls(
            window=(Interval(opens, closes),) if opens < closes else (),
            weekly=WeekHours.of(weekly or {}),
            extended={day: minutes_of(until) for day, until in (extended or {}).items()},
            lines={code: WeekHours.of(week) for code, week in (lines or {}).items()},
            open_on_holidays=open_on_holidays,
            holidays=frozenset(holidays),
            workdays=frozenset(workdays),
            library=library,
        )

    # -- which kind of day ------------------------------------------------------------------
    def knows_year(self, year: int) -> bool:
        """A year the library knows, or one the hall file has entered dates for (a State
        Council notice lists a whole year's holidays and make-up days at once)."""
        if self.library:
            first, last = _library_years()
            if first <= year <= last:
                return True
        return any(day.year == year for day in self.holidays | self.workdays)

    def day_kind(self, day: date, *, assume: bool = False) -> DayKind:
        """Holiday, make-up workday, workday or rest day: the hall file's own dates first,
        then the library. Unknown: `CalendarUnknown`, or with `assume` the weekday's kind."""
        if day in self.workdays:
            return DayKind.MAKEUP if day.weekday() >= 5 else DayKind.WORKDAY
        if day in self.holidays:
            return DayKind.HOLIDAY
        kind = library_day_kind(day) if self.library else None
        if kind is not None:
            return kind
        if assume or self.knows_year(day.year):
            return _by_weekday(day)
        raise CalendarUnknown(day)

    # -- opening hours ----------------------------------------------------------------------
    def needs_days(self) -> bool:
        """Whether opening hours depend on holidays at all: not for a hall open on holidays
        whose every weekday (and every line's) has the same hours, like the demo hall open
        round the clock."""
        if not self.open_on_holidays:
            return True
        weeks = [None, *self.lines]
        return any(len({self._week_hours(day, line) for day in range(7)}) > 1 for line in weeks)

    def _week_hours(self, weekday: int, line: str | None) -> DayHours:
        own = self.lines.get(line) if line is not None else None
        if own is not None and own.days[weekday] is not None:
            return own.days[weekday] or ()
        hall = self.weekly.days[weekday]
        return self.window if hall is None else hall

    def hours_on(self, day: date, line: str | None = None, *, assume: bool = False) -> DayHours:
        """The intervals the kiosk issues tickets on `day` (for `line`, or the hall's)."""
        if self.needs_days():
            kind = self.day_kind(day, assume=assume)
        else:
            kind = _by_weekday(day)
        if kind is DayKind.HOLIDAY and not self.open_on_holidays:
            return ()
        weekday = 0 if kind is DayKind.MAKEUP else day.weekday()
        hours = self._week_hours(weekday, line)
        own = self.lines.get(line) if line is not None else None
        keeps_own = own is not None and own.days[weekday] is not None
        until = self.extended.get(day)
        if hours and until is not None and not keeps_own and until > hours[-1].closes:
            hours = (*hours[:-1], Interval(hours[-1].opens, until))
        return hours

    def is_open(self, moment: datetime, line: str | None = None, *, assume: bool = False) -> bool:
        """Whether the kiosk issues tickets at `moment` (the hall's local time)."""
        hours = self.hours_on(moment.date(), line, assume=assume)
        return any(interval.contains(moment.time()) for interval in hours)

    def next_opening(
        self, moment: datetime, line: str | None = None, *, assume: bool = False
    ) -> datetime | None:
        """The first opening strictly after `moment` (local time, with its tzinfo), or None
        when the hall does not open within a year."""
        seconds = seconds_of(moment.time())
        day = moment.date()
        for offset in range(SEARCH_DAYS):
            current = day + timedelta(days=offset)
            for interval in self.hours_on(current, line, assume=assume):
                if offset == 0 and interval.opens * 60 <= seconds:
                    continue
                opens_at = datetime.combine(current, time(0), tzinfo=moment.tzinfo)
                return opens_at + timedelta(minutes=interval.opens)
        return None

    # -- working days -----------------------------------------------------------------------
    def is_working_day(self, day: date, *, assume: bool = False) -> bool:
        return self.day_kind(day, assume=assume).working

    def add_working_days(self, start: date, count: int, *, assume: bool = False) -> date:
        """The `count`-th working day after `start` (`start` itself never counts)."""
        day = start
        remaining = count
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day, assume=assume):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date, *, assume: bool = False) -> int:
        """Working days after `start` up to and including `end` (0 when end ≤ start)."""
        days = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day, assume=assume):
                days += 1
        return days


def opening_words(opening: datetime, today: date) -> str:
    """'今天13:30' or '12月1日（周一）08:30', as the kiosk says it."""
    clock = opening.strftime("%H:%M")
    if opening.date() == today:
        return f"今天{clock}"
    return f"{opening.month}月{opening.day}日（{WEEKDAY_NAMES[opening.weekday()]}）{clock}"
