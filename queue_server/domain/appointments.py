"""Bookings (预约, SPEC §8): the slots of a day, a booking's state at a moment, and where an
arrival falls in its check-in window. Pure: the day, the hours and the clock are passed in.

Rules:
- a day's slots run from each opening interval's start, `slot_min` long, as long as a slot
  ends by the interval's close (a lunch break ends the morning's slots);
- a booking still `booked` after its slot's end + `late_min` reads `no_show` at once (a job
  writes it later);
- an arrival before start − `early_min` is too early; up to start + `late_min` it is on
  time (the ticket joins the appointment class); up to the slot's end + `late_min` it is
  late (an ordinary ticket); after that the booking is a no-show;
- three no-shows in 30 days refuse new bookings (`late` does not count).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from queue_server.domain.calendar import Interval, clock_of

NO_SHOW_LIMIT = 3  # no-shows within the window that refuse a new booking (爽约)
NO_SHOW_WINDOW_DAYS = 30
CODE_DIGITS = 6


class BookingState(enum.StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    LATE = "late"
    NO_SHOW = "no_show"


BOOKING_STATES = tuple(state.value for state in BookingState)
# Open bookings hold the visitor's day (one per identity, site and day) and their code.
OPEN_STATES = (BookingState.BOOKED.value, BookingState.CHECKED_IN.value)


class Arrival(enum.Enum):
    TOO_EARLY = "too_early"
    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"  # past the slot's end + late_min: the booking is a no-show


@dataclass(frozen=True)
class Window:
    """The minutes around a slot: how early a visitor may check in, how late still counts."""

    early_min: float
    late_min: float


@dataclass(frozen=True)
class Slot:
    """[start, end) in minutes since midnight."""

    start: int
    end: int

    @property
    def start_clock(self) -> str:
        return clock_of(self.start)

    @property
    def end_clock(self) -> str:
        return clock_of(self.end)


def day_slots(hours: Iterable[Interval], slot_min: int) -> list[Slot]:
    """The slots of a day with these opening intervals."""
    slots = []
    for interval in hours:
        start = interval.opens
        while start + slot_min <= interval.closes:
            slots.append(Slot(start, start + slot_min))
            start += slot_min
    return slots


def moment(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The aware local time `minutes` after the day's midnight (24:00 is the next midnight)."""
    return datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=minutes)


def arrival(start: datetime, end: datetime, window: Window, now: datetime) -> Arrival:
    if now < start - timedelta(minutes=window.early_min):
        return Arrival.TOO_EARLY
    late = timedelta(minutes=window.late_min)
    if now <= start + late:
        return Arrival.ON_TIME
    if now <= end + late:
        return Arrival.LATE
    return Arrival.MISSED


def state_at(stored: str, end: datetime, window: Window, now: datetime) -> BookingState:
    """A booking's state at `now`: one never checked in by its end + late_min is a no-show,
    whether or not the job has written it yet."""
    if stored == BookingState.BOOKED and now > end + timedelta(minutes=window.late_min):
        return BookingState.NO_SHOW
    return BookingState(stored)


def bookable_days(today: date, days_ahead: int) -> list[date]:
    """Today and the next `days_ahead` days."""
    return [today + timedelta(days=offset) for offset in range(days_ahead + 1)]


def is_code(value: str) -> bool:
    return len(value) == CODE_DIGITS and value.isascii() and value.isdigit()


def refused(no_shows: int) -> bool:
    return no_shows >= NO_SHOW_LIMIT
