"""The hall calendar at work: the kiosk's opening hours (409 `hall_closed`), the working-day
due dates of bad reviews, and the managers' `calendar` alert.

When a decision needs a day that neither the `chinese-calendar` library nor the hall file
knows (a year whose State Council notice has not been entered), the managers get one
`calendar` alert per year and the decision falls back to a documented safe choice instead
of failing (docs/calendar.md):
- opening hours: the hall file's weekly hours for that weekday (no national holiday, no
  make-up workday; the hall file's own dates still count);
- working days: Monday to Friday (and the hall file's own dates).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from queue_server.domain.calendar import (
    CalendarUnknown,
    HallCalendar,
    seconds_of,
)
from queue_server.errors import N_, NP_, Conflict, Named, Words
from queue_server.services.alerts import raise_alert
from queue_server.services.unit_of_work import UnitOfWork

DUE_WORKING_DAYS = 15  # 差评整改: due 15 working days after the rating
LOOK_AHEAD_DAYS = 1  # the alert job checks today's and tomorrow's opening hours

# The weekdays as a message or a report says them (msgctxt "weekday"), Monday first.
WEEKDAYS = (
    NP_("weekday", "周一"),
    NP_("weekday", "周二"),
    NP_("weekday", "周三"),
    NP_("weekday", "周四"),
    NP_("weekday", "周五"),
    NP_("weekday", "周六"),
    NP_("weekday", "周日"),
)


def hall_calendar(uow: UnitOfWork) -> HallCalendar:
    return uow.site.hours.calendar(uow.site.calendar)


def _local(uow: UnitOfWork) -> datetime:
    return uow.now.astimezone(uow.site.zone)


def calendar_alert(uow: UnitOfWork, unknown: CalendarUnknown, need: str) -> bool:
    """One `calendar` alert per site and year (enter that year's holidays in the hall file);
    whether it is new."""
    year = unknown.day.year
    alert = raise_alert(
        uow,
        "calendar",
        f"calendar:{year}",
        f"大厅日历还没有{year}年的节假日和调休安排（{need}需要{unknown.day.isoformat()}）。"
        f"请在大厅配置文件的 calendar 中录入国务院公布的{year}年放假调休日期；"
        "录入前，开放时间按每周时间表、工作日按周一至周五计算。",
        day=unknown.day.isoformat(),
        year=year,
    )
    return alert is not None


def check_open(uow: UnitOfWork, line: str) -> None:
    """409 `hall_closed` outside the hours of `line` (the hall's unless it keeps its own),
    saying when it next opens."""
    calendar = hall_calendar(uow)
    now = _local(uow)
    try:
        is_open = calendar.is_open(now, line)
    except CalendarUnknown as unknown:
        calendar_alert(uow, unknown, "判断今天是否开放")
        is_open = calendar.is_open(now, line, assume=True)
    if is_open:
        return
    own_hours = line in calendar.lines
    queue = uow.site.queue(line)
    who: str = N_("本大厅")
    if own_hours and queue is not None:
        who = Named(f"{queue.name}（{line}）", f"{queue.name_en or queue.name} ({line})")
    state = _closed_state(calendar, now, line)
    try:
        opening = calendar.next_opening(now, line)
    except CalendarUnknown:
        opening = calendar.next_opening(now, line, assume=True)
    if opening is None:
        raise Conflict("%(who)s%(state)s", code="hall_closed", who=who, state=state)
    clock = opening.strftime("%H:%M")
    if opening.date() == now.date():
        raise Conflict(
            "%(who)s%(state)s，下次开放：今天%(time)s",
            code="hall_closed",
            who=who,
            state=state,
            time=clock,
        )
    raise Conflict(
        "%(who)s%(state)s，下次开放：%(month)s月%(day)s日（%(weekday)s）%(time)s",
        code="hall_closed",
        who=who,
        state=state,
        month=opening.month,
        day=opening.day,
        weekday=WEEKDAYS[opening.weekday()],
        time=clock,
    )


def _closed_state(calendar: HallCalendar, now: datetime, line: str) -> Words:
    """Why the kiosk is closed now: the day is closed, not begun, at a break, or over."""
    today = calendar.hours_on(now.date(), line, assume=True)
    started = [interval for interval in today if interval.opens * 60 <= seconds_of(now.time())]
    if not today:
        return N_("今日不开放")
    if not started:
        return N_("尚未开始取号")
    if len(started) < len(today):
        return N_("暂停取号")
    return N_("已停止取号")


def review_due_date(calendar: HallCalendar, rated_on: date) -> tuple[date, CalendarUnknown | None]:
    """The 15th working day after the rating's day (that day not counted); when the calendar
    does not know a day on the way, the Monday-to-Friday due date and what it did not know."""
    try:
        return calendar.add_working_days(rated_on, DUE_WORKING_DAYS), None
    except CalendarUnknown as unknown:
        return calendar.add_working_days(rated_on, DUE_WORKING_DAYS, assume=True), unknown


def working_days_left(calendar: HallCalendar, today: date, due: date) -> int:
    return calendar.working_days_between(today, due, assume=True) if today <= due else 0


def note_bad_review(uow: UnitOfWork) -> date:
    """A bad review is given now: its due date, alerting the managers when it needs a day the
    calendar does not know."""
    due, unknown = review_due_date(hall_calendar(uow), _local(uow).date())
    if unknown is not None:
        calendar_alert(uow, unknown, "计算差评整改期限")
    return due


def calendar_alerts(uow: UnitOfWork) -> int:
    """For the alert job: a `calendar` alert when today's or tomorrow's opening hours, or the
    due date of a bad review given today, need a day the calendar does not know."""
    calendar = hall_calendar(uow)
    today = _local(uow).date()
    sent = 0
    for offset in range(LOOK_AHEAD_DAYS + 1):
        try:
            calendar.hours_on(today + timedelta(days=offset))  # lines need the same days
        except CalendarUnknown as unknown:
            sent += calendar_alert(uow, unknown, "判断开放时间")
    _, unknown_due = review_due_date(calendar, today)
    if unknown_due is not None:
        sent += calendar_alert(uow, unknown_due, "计算差评整改期限")
    return sent
