"""Request and response shapes of /api/v1, declared once: requests are validated with them
and the OpenAPI document is generated from them."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from queue_server.domain.lifecycle import TicketStateName
from queue_server.errors import N_

# The largest integer every database holds (PostgreSQL `integer`; SQLite holds 2**63 - 1):
# a counter number, a seq or an id above it is refused as bad input, never sent to the
# database (SPEC §4: never a 500 for bad input).
MAX_DB_INT = 2**31 - 1
DAILY_QUOTA_MAX = 100_000


def _iso_date(value: Any) -> Any:
    """A date is YYYY-MM-DD: never a number read as seconds since 1970 (`?to=0`)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected a date YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("expected a date YYYY-MM-DD")
    return value


# Lax by itself (a JSON body carries a date as a string), so a strict body need not unstrict
# each date field; `_iso_date` keeps the laxness to YYYY-MM-DD.
IsoDate = Annotated[date, Field(strict=False), BeforeValidator(_iso_date)]


class _Request(BaseModel):
    # Strict: "3" is not a headcount; unknown keys are ignored so clients may send more.
    model_config = ConfigDict(strict=True, extra="ignore")


class IssueTicketIn(_Request):
    service: str | None = Field(
        None, min_length=1, max_length=64, description="required unless `appointment` is given"
    )
    party: Literal["individual", "enterprise"] = "individual"
    headcount: int = Field(1, ge=1)
    visitor_id: str | None = Field(
        None,
        max_length=32,
        description="ID card (individual) or unified social credit code (enterprise)",
    )
    phone: str | None = Field(None, max_length=20)
    priority: Literal["normal", "green"] = "normal"
    kiosk: str | None = Field(None, max_length=32)
    site: str | None = Field(None, max_length=32)
    reprint: bool = Field(
        False, description="with `kiosk`: print the ticket again when an existing one is reused"
    )
    appointment: str | None = Field(
        None, max_length=16, description="a booking's 6-digit code: check in (SPEC §8)"
    )

    @model_validator(mode="after")
    def _service_or_appointment(self) -> IssueTicketIn:
        if self.service is None and self.appointment is None:
            raise ValueError("service is required (or an appointment code)")
        return self


class LoginIn(_Request):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class CallNumberIn(_Request):
    number: str = Field(min_length=2, max_length=16)


class FinishIn(_Request):
    outcome: Literal["done", "cancelled"] = "done"
    services: list[str] | None = Field(None, min_length=1, max_length=20)
    pickup_on: IsoDate | None = Field(
        None,
        description="出件 on a later day: the visit ends done and its pickup waits for this "
        "future working day (SPEC §8)",
    )


class TransferIn(_Request):
    queue: str | None = Field(None, max_length=8)
    counter: int | None = Field(None, ge=1, le=MAX_DB_INT)
    service: str | None = Field(None, max_length=64)
    position: Literal["front", "back"] | None = None


class HoldIn(_Request):
    reason: str = Field(min_length=1, max_length=500)
    keep_counter: bool = False


class PauseIn(_Request):
    reason: str | None = Field(
        None, max_length=100, description="why: 午休, 会议, 临时离开 or the clerk's own words"
    )


class RatingIn(_Request):
    rating: int = Field(ge=1, le=5)
    reasons: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list,
        max_length=10,
        description="for a rating of 1–2: the counter-top screen's words (等候时间长…)",
    )


class EmptyIn(_Request):
    pass


class SiteQuery(_Request):
    site: str | None = None


class NumberQuery(_Request):
    number: str = Field(min_length=2, max_length=16)
    site: str | None = None


class EventsQuery(_Request):
    model_config = ConfigDict(strict=False, extra="ignore")
    since: int = Field(0, ge=0, le=MAX_DB_INT)
    site: str | None = None


# -- responses -------------------------------------------------------------------------


class StepOut(BaseModel):
    position: int
    queue: str
    services: list[str]
    status: str
    outcome: str | None
    reason: str | None
    call_reason: str | None
    enqueued_at: str | None
    called_at: str | None
    started_at: str | None
    ended_at: str | None
    counter: int | None
    clerk_name: str | None
    recalls: int
    hold_reason: str | None
    keep_counter: bool
    rating: int | None


class VisitOfOut(BaseModel):
    number: str
    date: str


class TicketOut(BaseModel):
    """T of SPEC §4. Staff also see party, headcount, priority, masked identity and steps."""

    id: str
    number: str
    queue: str
    queue_name: str
    service: str
    service_name: str
    services: list[str]
    category: str | None
    state: TicketStateName
    step: int
    steps_total: int
    waiting_ahead: int | None
    est_wait_s: int | None
    est_wait_range_s: tuple[int, int] | None = Field(
        description="[p10, p90] of the estimate (SPEC §10); null when est_wait_s is"
    )
    issued_at: str
    status_url: str
    counter: int | None
    reason: str | None
    return_until: str | None
    reinstate_until: str | None
    held_at_counter: int | None = Field(
        None, description="while held to come back to the same counter (keep_counter): that counter"
    )
    location: str | None = Field(
        description="where to wait: the location of the counters serving its line (三楼)"
    )
    line_open: bool | None = Field(
        description="some counter serving its line is open or paused; null once done"
    )
    hold_reason: str | None = Field(description="while held: what to bring back (一次告知)")
    green: bool = Field(description="green channel (绿色通道): the ticket shows the mark")
    pickup_on: str | None = Field(
        None, description="the day the visit's pickup waits for (finish {pickup_on}), YYYY-MM-DD"
    )
    visit_of: VisitOfOut | None = Field(
        None, description="on a pickup ticket: the visit whose pickup it carries"
    )
    party: str | None = None
    headcount: int | None = None
    priority: str | None = None
    visitor_id_masked: str | None = None
    phone_masked: str | None = None
    steps: list[StepOut] | None = None


class TicketEnvelope(BaseModel):
    ticket: TicketOut


class ReducedTicketOut(BaseModel):
    """What knowing an identity shows of a ticket (a reused answer, the kiosk's look-up):
    no `id` and no `status_url` (SPEC §2)."""

    number: str
    queue: str
    services: list[str]
    state: TicketStateName
    waiting_ahead: int | None
    est_wait_s: int | None
    line_open: bool | None
    location: str | None


class ReducedTicketEnvelope(BaseModel):
    ticket: ReducedTicketOut


class MaybeTicketEnvelope(BaseModel):
    ticket: TicketOut | None


class IssueTicketOut(BaseModel):
    ticket: TicketOut | ReducedTicketOut = Field(
        description="T when the ticket is new; the reduced T when it is reused"
    )
    reused: bool


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class HealthOut(BaseModel):
    """`degraded` while the message-queue Redis cannot be reached (null: none configured)."""

    status: Literal["ok", "degraded"]
    database: Literal["ok"]
    message_queue: Literal["ok", "down"] | None


class HealthDownOut(BaseModel):
    """503: the database cannot be reached (the error says why)."""

    status: Literal["down"]
    database: Literal["down"]
    message_queue: Literal["ok", "down"] | None
    error: ErrorBody


class ServiceOut(BaseModel):
    code: str
    name: str
    name_en: str | None = Field(None, description="the English name, when the hall file has one")
    category: str
    parties: list[str]
    target_wait_min: float


class QueueOut(BaseModel):
    code: str
    name: str
    name_en: str | None = Field(
        None, description="/queues: the English name, when the hall file has one"
    )
    waiting: int
    est_wait_s: int | None = Field(description="null while no counter of the line is open")
    longest_wait_s: int


class UserOut(BaseModel):
    username: str
    name: str
    role: Literal["clerk", "manager", "admin"]
    clerk_no: str | None
    counter: int | None = Field(description="the clerk's own counter, if the hall names one")


class LogoutOut(BaseModel):
    logged_out: bool


class LoginOut(BaseModel):
    token: str
    user: UserOut


class CounterOut(BaseModel):
    counter: int
    counter_name: str
    location: str | None
    state: Literal["closed", "open", "paused"]
    clerk_name: str | None
    clerk_no: str | None
    current: str | None
    pause_reason: str | None = Field(None, description="while paused: why (午休, 会议…)")
    queues: list[str] | None = None
    strategy: str | None = None
    clerk: str | None = None
    evaluation_until: str | None = Field(
        None,
        description="screens' snapshot: until when the rating of the step just finished there "
        "is open (null when none is)",
    )


class LineEntryOut(BaseModel):
    number: str
    waited_s: int
    reason: str | None
    reserved_counter: int | None
    services: list[str]
    party: str
    headcount: int


class HeldTicketOut(BaseModel):
    id: str
    number: str
    queue: str
    counter: int | None
    since: str
    reason: str | None
    keep_counter: bool
    return_until: str


class MissedTicketOut(BaseModel):
    id: str
    number: str
    queue: str
    counter: int | None
    since: str
    reinstate_until: str


class CounterDetailOut(BaseModel):
    """What a clerk's terminal shows: the counter, its ticket, the heads of the lines, and the
    held and missed tickets of its lines."""

    seq: int
    counter: CounterOut
    ticket: TicketOut | None
    queues: list[QueueOut]
    lines: dict[str, list[LineEntryOut]]
    held: list[HeldTicketOut]
    missed: list[MissedTicketOut]


class CounterEnvelope(BaseModel):
    counter: CounterOut


class CallOut(BaseModel):
    number: str
    counter: int
    counter_name: str
    location: str | None
    queue: str
    recall: bool
    reason: str | None
    text: str
    speech: str
    at: str
    seq: int | None = None
    state: str | None = None


class HoursTodayOut(BaseModel):
    """Today's opening hours for the hall screen (docs/calendar.md)."""

    today: list[list[str]]  # [["08:30", "12:00"], ["13:30", "17:30"]]
    open: bool
    next_opening: str | None  # ISO 8601, set while closed
    next_opening_text: str | None  # "12月1日（周二）08:30"


class SnapshotOut(BaseModel):
    seq: int
    site: str
    site_name: str
    notice: str
    calls: list[CallOut]
    recent: list[CallOut]
    queues: list[QueueOut]
    counters: list[CounterOut]
    hours: HoursTodayOut


class RatingBody(BaseModel):
    counter: int
    rating: int
    at: str


class RatingOut(BaseModel):
    rating: RatingBody


class LiveQueueOut(BaseModel):
    code: str
    name: str
    waiting: int
    longest_wait_s: int
    target_wait_s: int | None = Field(description="the shortest target of the line's businesses")
    over_target: int = Field(
        0, description="waiting tickets past the target wait of their own first business"
    )
    est_wait_s: int | None = Field(description="null while no counter of the line is open")
    tickets: int = Field(0, description="today: numbers taken into this line (取号)")
    issued: int = Field(0, description="today: steps enqueued in this line (排队人次)")
    served: int = Field(0, description="today: steps done")
    by_hour: list[int] = Field(
        default_factory=list, description="today: steps enqueued per local hour 0–23"
    )


class LiveCounterOut(BaseModel):
    number: int
    name: str
    state: str
    clerk_name: str | None
    current: str | None
    idle_s: int | None
    service_s: int | None = Field(
        None, description="the current visitor's time at the counter so far (start, else call)"
    )
    state_since: str | None


class LiveClerkOut(BaseModel):
    username: str
    name: str
    clerk_no: str | None
    called: int
    served: int
    ratings: int
    rating_avg: float | None


class LiveTodayOut(BaseModel):
    tickets: int
    issued: int
    served: int
    called: int
    p50_wait_s: int | None
    p90_wait_s: int | None
    hour: int = Field(description="the local hour now")


class AlertOut(BaseModel):
    kind: str
    message: str
    queue: str | None = None
    service: str | None = None
    count: int | None = None
    waited_s: int | None = None
    target_wait_s: int | None = None


class LiveStatsOut(BaseModel):
    seq: int
    today: LiveTodayOut
    queues: list[LiveQueueOut]
    counters: list[LiveCounterOut]
    clerks: list[LiveClerkOut]
    alerts: list[AlertOut]


class EventOut(BaseModel):
    seq: int
    at: str
    actor: str
    kind: str
    ticket_id: str | None
    step_id: int | None = None
    counter: int | None
    from_: str | None = Field(alias="from")
    to: str | None
    detail: dict[str, object]


class EventsOut(BaseModel):
    events: list[EventOut]


# -- appointments (预约, SPEC §8) -------------------------------------------------------


Day = IsoDate  # YYYY-MM-DD, never a number (fields below are named `date`)


class SlotsQuery(_Request):
    model_config = ConfigDict(strict=False, extra="ignore")
    service: str = Field(min_length=1, max_length=64)
    date: Day
    site: str | None = None


class AppointmentsQuery(_Request):
    model_config = ConfigDict(strict=False, extra="ignore")
    date: Day | None = Field(None, description="default: today")
    site: str | None = None


class BookIn(_Request):
    service: str = Field(min_length=1, max_length=64)
    party: Literal["individual", "enterprise"] = "individual"
    headcount: int = Field(1, ge=1)
    visitor_id: str = Field(
        min_length=1,
        max_length=32,
        description="ID card (individual) or unified social credit code (enterprise)",
    )
    phone: str | None = Field(None, max_length=20)
    date: Day = Field(description="YYYY-MM-DD")
    start: str = Field(min_length=4, max_length=5, description="the slot's start, HH:MM")
    site: str | None = Field(None, max_length=32)


class SlotOut(BaseModel):
    start: str
    end: str
    capacity: int
    booked: int


class SlotsOut(BaseModel):
    slots: list[SlotOut]


AppointmentState = Literal["booked", "checked_in", "cancelled", "late", "no_show"]


class AppointmentOut(BaseModel):
    """A of SPEC §8."""

    id: str
    code: str
    service: str
    date: str
    start: str
    end: str
    state: AppointmentState


class AppointmentEnvelope(BaseModel):
    appointment: AppointmentOut


class StaffAppointmentOut(AppointmentOut):
    visitor_id_masked: str
    phone_masked: str | None


class AppointmentsOut(BaseModel):
    appointments: list[StaffAppointmentOut]


# -- managers: reports, reviews, alerts, settings --------------------------------------


class RangeQuery(_Request):
    """A report's days (manager/stats.py `parse_range`), and the site for staff of none."""

    model_config = ConfigDict(strict=False, extra="ignore", populate_by_name=True)
    from_: IsoDate | None = Field(None, alias="from", description="first local date, inclusive")
    to: IsoDate | None = Field(
        None,
        description="last local date, inclusive (default: `from`, else today)",
    )
    site: str | None = None


class StatsQuery(RangeQuery):
    group: Literal["service", "queue", "counter", "clerk", "hour", "day"] = "service"
    lang: Literal["zh", "en"] = "zh"


class StatsRowOut(BaseModel):
    key: str | int
    name: str | None = None
    tickets: int | None = Field(
        description="Numbers taken (取号数): each ticket once, in the row of its first step; "
        "null for counter and clerk rows"
    )
    issued: int = Field(
        description="Steps enqueued (排队人次); for counter and clerk rows: steps called there"
    )
    served: int
    items: int
    no_show: int
    avg_wait_s: float | None
    p50_wait_s: int | None
    p90_wait_s: int | None
    max_wait_s: int | None
    avg_service_s: float | None
    avg_visit_s: float | None = Field(
        description="Time in the hall: issue → end of the visit, over the visits that ended "
        "done, in the row of their first step; null for counter and clerk rows"
    )
    sla_pct: float | None
    rating_avg: float | None


class RangeOut(BaseModel):
    """A report's answer: the days it covers (`RangeQuery`, resolved), then what it says."""

    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from")
    to: str


class StatsOut(RangeOut):
    group: str
    rows: list[StatsRowOut]
    total: StatsRowOut


class HeatmapCellOut(BaseModel):
    weekday: int
    hour: int
    arrivals: int
    avg_wait_s: float | None
    p90_wait_s: int | None


class HeatmapOut(RangeOut):
    cells: list[HeatmapCellOut]


class ReviewsQuery(_Request):
    model_config = ConfigDict(strict=False, extra="ignore", populate_by_name=True)
    rating_max: int = Field(2, ge=1, le=5)
    state: Literal["open", "assigned", "closed", "overdue"] | None = None
    from_: IsoDate | None = Field(None, alias="from")
    to: IsoDate | None = None
    site: str | None = None


class ReviewOut(BaseModel):
    id: int
    rating: int
    reasons: list[str]
    rated_at: str
    number: str
    ticket_id: str
    business_day: str
    queue: str
    services: list[str]
    counter: int | None
    clerk: str | None
    clerk_name: str | None
    clerk_no: str | None
    called_at: str | None
    ended_at: str | None
    state: Literal["open", "assigned", "closed"]
    assignee: str | None
    note: str | None
    updated_at: str | None
    updated_by: str | None
    closed_at: str | None
    closed_by: str | None
    due: str
    overdue: bool
    working_days_left: int


class ReviewsOut(BaseModel):
    reviews: list[ReviewOut]


class ReviewEnvelope(BaseModel):
    review: ReviewOut


class ReviewAssignIn(_Request):
    assignee: str = Field(min_length=1, max_length=64)


class ReviewNoteIn(_Request):
    note: str = Field(min_length=1, max_length=2000)


class ReviewCloseIn(_Request):
    note: str | None = Field(None, min_length=1, max_length=2000)


class AlertsQuery(_Request):
    model_config = ConfigDict(strict=False, extra="ignore")
    limit: int = Field(50, ge=1, le=500)
    site: str | None = None


class SentAlertOut(BaseModel):
    id: int
    seq: int | None = None
    kind: str
    message: str
    at: str
    detail: dict[str, object]


class AlertsOut(BaseModel):
    alerts: list[SentAlertOut]


class ServiceSettingIn(_Request):
    FIELD_MESSAGES: ClassVar[dict[str, str]] = {
        "target_wait_min": N_("目标等候时间须为大于 0、不超过 1440 的分钟数"),
        "daily_quota": N_("每日限额须为 0 到 100000 之间的整数（0 表示不限）"),
    }
    target_wait_min: float | None = Field(None, gt=0, le=24 * 60)
    daily_quota: int | None = Field(
        None, ge=0, le=DAILY_QUOTA_MAX, description="0 removes the quota"
    )


class CounterSettingIn(_Request):
    FIELD_MESSAGES: ClassVar[dict[str, str]] = {
        "queues": N_("队列须为 1 到 20 个队列代码的列表"),
        "strategy": N_("叫号策略须为先到先叫（fifo）或按队列顺序（ordered）"),
        "state": N_("窗口状态须为暂停（paused）、开放（open）或关闭（closed）"),
    }
    queues: list[str] | None = Field(None, min_length=1, max_length=20)
    strategy: Literal["fifo", "ordered"] | None = None
    state: Literal["paused", "open", "closed"] | None = Field(
        None, description="paused / resumed / closed (signs the clerk out) by an admin"
    )


class NoticeIn(_Request):
    FIELD_MESSAGES: ClassVar[dict[str, str]] = {
        "notice": N_("公告须为不超过 500 个字符的文字"),
    }
    notice: str = Field(max_length=500)


class ServiceSettingOut(BaseModel):
    code: str
    name: str
    category: str
    target_wait_min: float
    daily_quota: int | None


class CounterSettingOut(BaseModel):
    number: int
    name: str
    queues: list[str]
    strategy: Literal["fifo", "ordered"]
    state: Literal["closed", "open", "paused"]
    clerk: str | None


class SettingChangeOut(BaseModel):
    seq: int
    at: str
    actor: str
    name: str = Field(description="what changed, e.g. service.employment.daily_quota")
    old: Any
    new: Any


class SettingsOut(BaseModel):
    notice: str
    services: list[ServiceSettingOut]
    counters: list[CounterSettingOut]
    changes: list[SettingChangeOut]


# -- visits across days and bookings in reports (manager/visit_stats.py) ------------------
class AppointmentStatsQuery(RangeQuery):
    group: Literal["service", "day"] = "service"
    lang: Literal["zh", "en"] = "zh"


class AppointmentStatsRowOut(BaseModel):
    key: str
    name: str | None = None
    tickets: int = Field(description="numbers taken (取号数) for the business / on the day")
    booked: int = Field(description="bookings of the slots in the range, cancelled ones excluded")
    checked_in: int = Field(description="checked in on time")
    late: int
    no_show: int
    cancelled: int
    share_pct: float | None = Field(description="check-ins (on time or late) ÷ numbers taken")
    on_time_pct: float | None = Field(description="on-time check-ins ÷ check-ins")


class AppointmentStatsOut(RangeOut):
    group: str
    rows: list[AppointmentStatsRowOut]
    total: AppointmentStatsRowOut


class VisitsQuery(RangeQuery):
    """`from`/`to` are days of 受理 (the visit's first day)."""


class VisitPickupOut(BaseModel):
    number: str
    date: str
    state: TicketStateName
    issued_at: str
    ended_at: str | None


class VisitRowOut(BaseModel):
    number: str
    date: str = Field(description="the day of 受理")
    service: str
    issued_at: str
    accepted_at: str | None = Field(description="the end of the visit on the day of 受理")
    pickup_on: str
    pickup: VisitPickupOut | None = Field(
        description="the pickup ticket linked to the visit: the one done, else the last"
    )
    total_s: int | None = Field(description="受理 (issue) → 出件 (pickup ticket done), seconds")


class VisitsTotalOut(BaseModel):
    visits: int
    picked_up: int
    avg_total_s: int | None


class VisitsOut(RangeOut):
    rows: list[VisitRowOut]
    total: VisitsTotalOut


# -- the managers' what-if (SPEC §10; docs/manager.md) ---------------------------------------
class WhatIfCounterIn(_Request):
    number: int = Field(ge=1)
    queues: list[str] | None = Field(None, min_length=1, max_length=20)
    strategy: Literal["fifo", "ordered"] | None = None


class WhatIfIn(_Request):
    model_config = ConfigDict(strict=False, extra="ignore")  # the date comes as a string
    day: IsoDate = Field(alias="date", description="the past business day to replay")
    counters: int | None = Field(None, ge=0, le=99, description="comprehensive counters, all day")
    counters_by_hour: dict[int, int] = Field(
        default_factory=dict,
        description="hour (0–23) → comprehensive counters open that hour; others keep `counters`",
    )
    strategy: Literal["fifo", "ordered"] | None = None
    threshold: int | None = Field(
        None, ge=1, le=1000, description="enterprise back-office headcount"
    )
    counter_changes: list[WhatIfCounterIn] = Field(default_factory=list, max_length=100)
    seed: int = Field(0, ge=0)


class WhatIfLineOut(BaseModel):
    line: str
    visitors: int
    p50_wait_s: int | None
    p90_wait_s: int | None
    within_target_pct: float | None


class WhatIfHourOut(BaseModel):
    hour: int
    waiting: float = Field(description="people waiting, on average over the hour")


class WhatIfDayOut(BaseModel):
    visitors: int
    within_target_pct: float | None
    lines: list[WhatIfLineOut]
    waiting_by_hour: list[WhatIfHourOut]


class WhatIfCounterOut(BaseModel):
    number: int
    queues: list[str]
    strategy: str
    hours: list[int] | None


class WhatIfResultOut(BaseModel):
    original: WhatIfDayOut
    changed: WhatIfDayOut
    counters: list[WhatIfCounterOut]


class WhatIfRunOut(BaseModel):
    id: str
    state: Literal["running", "done", "failed"]
    progress: float
    date: str
    created_at: str
    error: str | None
    result: WhatIfResultOut | None


class WhatIfEnvelope(BaseModel):
    run: WhatIfRunOut
