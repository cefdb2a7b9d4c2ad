"""Reports over a date range (SPEC §4 `GET /api/v1/stats`), their CSV, the weekday × hour
heatmap, and the daily summaries written after a business day is over.

Rows are computed over steps (one service episode each), all from columns the event log
also carries, so they can be rebuilt from events alone:
- a step belongs to its business day; `hour` is the local hour it was enqueued;
- `tickets` = numbers taken (取号数): each ticket once, in the row of its first step; null
  for `counter` and `clerk` rows;
- `avg_visit_s` = issue → end of the visit (time in the hall), over the visits that ended
  `done`, in the row of the visit's first step; null for `counter` and `clerk` rows;
- `issued` = steps enqueued (排队人次; for `counter` and `clerk` rows: steps called there);
- wait = called − enqueued in whole seconds (held time is never inside a step: a return
  makes a new step); only called steps have a wait;
- `served` = steps done; `items` = the businesses of done steps (办件量);
- service time = ended − started (− called when start was skipped), of done steps;
- `sla_pct` = share of called steps whose wait ≤ the target wait of the step's first service;
- percentiles by nearest rank over one-second histograms (exact).
Closed days are read from `daily_summaries` (same totals, written once the day is quiet),
other days from the steps themselves: both give the same numbers to the second.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, delete, exists, select

from queue_server.domain.lifecycle import TicketState
from queue_server.domain.reporting import GROUPS, RowTotals, StoredTotalsSum, whole_seconds
from queue_server.errors import NP_, BadRequest
from queue_server.manager.models import DailySummary, MonthlySummary
from queue_server.models import Step, Ticket
from queue_server.services.hours import WEEKDAYS
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import business_day
from queue_server.translations import translations

MAX_RANGE_DAYS = 3700
# Report labels: Chinese msgids, in the report's language from the one catalogue.
# A day is summarised once nothing of it can change any more: no step in hand, and the
# last finish's rating window over (SPEC: at most 2 minutes).
SUMMARY_QUIET_S = 600
# Groups in which every step counts in exactly one of a few rows (counter and clerk rows hold
# called steps only; day rows are many).
FEW_ROW_GROUPS = ("service", "queue", "hour")
# Groups whose rows hold the steps called there: no visit columns (`tickets`, `avg_visit_s`).
STEP_ONLY_GROUPS = ("counter", "clerk")

COLUMNS = (
    "key",
    "name",
    "tickets",
    "issued",
    "served",
    "items",
    "no_show",
    "avg_wait_s",
    "p50_wait_s",
    "p90_wait_s",
    "max_wait_s",
    "avg_service_s",
    "avg_visit_s",
    "sla_pct",
    "rating_avg",
)
HEADERS_ZH = {
    "key": NP_("report column", "分组"),
    "name": NP_("report column", "名称"),
    "tickets": NP_("report column", "取号"),
    "issued": NP_("report column", "排队人次"),
    "served": NP_("report column", "办结数"),
    "items": NP_("report column", "办件量"),
    "no_show": NP_("report column", "过号数"),
    "avg_wait_s": NP_("report column", "平均等候(秒)"),
    "p50_wait_s": NP_("report column", "等候中位数(秒)"),
    "p90_wait_s": NP_("report column", "90%等候(秒)"),
    "max_wait_s": NP_("report column", "最长等候(秒)"),
    "avg_service_s": NP_("report column", "平均办理时长(秒)"),
    "avg_visit_s": NP_("report column", "平均在厅时长(秒)"),
    "sla_pct": NP_("report column", "等候达标率(%)"),
    "rating_avg": NP_("report column", "平均评价"),
}
GROUP_WORDS_ZH = {
    "service": NP_("report column", "业务"),
    "queue": NP_("report column", "队列"),
    "counter": NP_("report column", "窗口"),
    "clerk": NP_("report column", "柜员"),
    "hour": NP_("report column", "时段"),
    "day": NP_("report column", "日期"),
}


@dataclass(frozen=True)
class StepFacts:
    """The columns of a step a report reads."""

    business_day: date
    queue_code: str
    services: list[str]
    counter_number: int | None
    clerk_username: str | None
    enqueued_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    outcome: str | None
    rating: int | None
    first_of_visit: bool  # the ticket's first step: the ticket counts in this step's rows
    visit_s: int | None  # on a first step: issue → end of the visit, when it ended done


def parse_range(uow: UnitOfWork, start: date | None, end: date | None) -> tuple[date, date]:
    today = business_day(uow.site, uow.now)
    first = start or end or today
    last = end or start or today
    if first > last:
        raise BadRequest("from 不能晚于 to", code="invalid_field")
    if (last - first).days > MAX_RANGE_DAYS:
        raise BadRequest("日期范围不能超过 %(days)s 天", code="invalid_field", days=MAX_RANGE_DAYS)
    return first, last


def check_group(group: str) -> str:
    if group not in GROUPS:
        raise BadRequest(
            "group 应为 %(choices)s 之一", code="invalid_field", choices="|".join(GROUPS)
        )
    return group


# -- the rows ----------------------------------------------------------------------------
def step_keys(uow: UnitOfWork, group: str, step: StepFacts) -> str | None:
    """The row a step counts in, as text (None: not in this grouping)."""
    if group == "service":
        return step.services[0] if step.services else ""
    if group == "queue":
        return step.queue_code
    if group == "counter":
        return str(step.counter_number) if step.called_at and step.counter_number else None
    if group == "clerk":
        return step.clerk_username if step.called_at and step.clerk_username else None
    if group == "hour":
        return f"{step.enqueued_at.astimezone(uow.site.zone).hour:02d}"
    return step.business_day.isoformat()


def add_step(uow: UnitOfWork, totals: RowTotals, group: str, step: StepFacts) -> None:
    """Count one step in a row (counter and clerk rows hold only steps called there)."""
    if group in STEP_ONLY_GROUPS:
        if step.called_at is None:
            return
    elif step.first_of_visit:
        totals.add_ticket(step.visit_s)
    totals.add_issued()
    if step.called_at is not None:
        wait_s = whole_seconds(step.called_at, step.enqueued_at)
        service = uow.site.service(step.services[0]) if step.services else None
        target_s = service.target_wait_min * 60 if service else None
        totals.add_called(wait_s, target_s is not None and wait_s <= target_s)
    if step.outcome == "no_show":
        totals.no_show += 1
    if step.outcome == "done":
        began = step.started_at or step.called_at
        service_s = (
            whole_seconds(step.ended_at, began) if step.ended_at and began is not None else None
        )
        totals.add_done(len(step.services), service_s)
    if step.rating is not None:
        totals.add_rating(step.rating)


def _step_facts(uow: UnitOfWork, days: list[date] | tuple[date, date]) -> list[StepFacts]:
    # The ticket joins its first step only (position 1: later steps are inserted after it).
    first = and_(Ticket.id == Step.ticket_id, Step.position == 1)
    query = select(
        Step.business_day,
        Step.queue_code,
        Step.services,
        Step.counter_number,
        Step.clerk_username,
        Step.enqueued_at,
        Step.called_at,
        Step.started_at,
        Step.ended_at,
        Step.outcome,
        Step.rating,
        Ticket.state,
        Ticket.issued_at,
        Ticket.ended_at,
    ).outerjoin(Ticket, first)
    query = query.where(Step.site_code == uow.site.code, Step.enqueued_at.is_not(None))
    if isinstance(days, tuple):
        query = query.where(Step.business_day.between(days[0], days[1]))
    else:
        query = query.where(Step.business_day.in_(days))
    return [_facts(cast(tuple[Any, ...], row)) for row in uow.session.execute(query)]


def _facts(row: tuple[Any, ...]) -> StepFacts:
    """A step's columns, then its ticket's state, issue and end (joined on a first step)."""
    step, visit = row[:11], row[11:]
    day, queue, services, counter, clerk, enqueued, called, started, ended, outcome, rating = step
    state, issued_at, visit_ended_at = visit
    visit_s = (
        whole_seconds(visit_ended_at, issued_at)
        if state == TicketState.DONE and visit_ended_at is not None
        else None
    )
    return StepFacts(
        day, queue, services, counter, clerk, enqueued, called, started, ended, outcome, rating,
        first_of_visit=state is not None,
        visit_s=visit_s,
    )  # fmt: skip


def live_totals(uow: UnitOfWork, group: str, steps: list[StepFacts]) -> dict[str, RowTotals]:
    rows: dict[str, RowTotals] = defaultdict(RowTotals)
    for step in steps:
        key = step_keys(uow, group, step)
        if key is not None:
            add_step(uow, rows[key], group, step)
    return dict(rows)


def _summarised_days(uow: UnitOfWork, first: date, last: date) -> set[date]:
    return set(
        uow.session.scalars(
            select(DailySummary.business_day).where(
                DailySummary.site_code == uow.site.code,
                DailySummary.report_group == "day",
                DailySummary.business_day.between(first, last),
            )
        )
    )


def month_of(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class RangePlan:
    """Where each day of a range is read from: a monthly roll-up (whole months inside the
    range), its daily summary, or its steps (today, and days not yet summarised)."""

    months: list[date]
    summarised: list[date]
    open_days: list[date]


def plan_range(uow: UnitOfWork, first: date, last: date, *, months: bool = True) -> RangePlan:
    rolled: set[date] = set()
    if months:
        rolled = {
            month
            for month in uow.session.scalars(
                select(MonthlySummary.month).where(
                    MonthlySummary.site_code == uow.site.code,
                    MonthlySummary.report_group == "all",
                    MonthlySummary.month.between(month_of(first), last),
                )
            )
            if month >= first and month_end(month) <= last
        }
    summarised = _summarised_days(uow, first, last)
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    rest = [day for day in days if month_of(day) not in rolled]
    open_days = [day for day in rest if day not in summarised]
    return RangePlan(
        months=sorted(rolled),
        summarised=[day for day in rest if day in summarised],
        open_days=open_days,
    )


StepsRead = dict[date, list[StepFacts]]


def _open_steps(
    uow: UnitOfWork, plan: RangePlan, first: date, last: date, read: StepsRead | None = None
) -> list[StepFacts]:
    """The steps of the days no summary covers; `read` keeps them by day for the next look
    (a report's rows and its total)."""
    if read is None:
        read = {}
    missing = [day for day in plan.open_days if day not in read]
    if missing:
        span = (first, last) if len(missing) == (last - first).days + 1 else missing
        for day in missing:
            read[day] = []
        for step in _step_facts(uow, span):
            read[step.business_day].append(step)
    return [step for day in plan.open_days for step in read[day]]


def range_totals(
    uow: UnitOfWork,
    group: str,
    first: date,
    last: date,
    *,
    merged: bool = False,
    read: StepsRead | None = None,
) -> dict[str, RowTotals]:
    """Totals per key over [first, last] (or, `merged`, the one total under key ''):
    monthly roll-ups for whole finished months, daily summaries for the other closed days,
    steps for the rest. All add up exactly (counts, sums, one-second histograms)."""
    plan = plan_range(uow, first, last, months=merged or group != "day")
    stored: dict[str, StoredTotalsSum] = defaultdict(StoredTotalsSum)
    if plan.months:
        for key, data in uow.session.execute(
            select(MonthlySummary.key, MonthlySummary.totals).where(
                MonthlySummary.site_code == uow.site.code,
                MonthlySummary.report_group == ("all" if merged else group),
                MonthlySummary.month.in_(plan.months),
            )
        ):
            stored["" if merged else key].add(data)
    if plan.summarised:
        for key, data in uow.session.execute(
            select(DailySummary.key, DailySummary.totals).where(
                DailySummary.site_code == uow.site.code,
                DailySummary.report_group == ("day" if merged else group),
                DailySummary.business_day.in_(plan.summarised),
            )
        ):
            stored["" if merged else key].add(data)
    rows: dict[str, RowTotals] = defaultdict(RowTotals)
    for key, sums in stored.items():
        rows[key] = sums.totals()
    steps = _open_steps(uow, plan, first, last, read)
    if steps:
        for key, totals in live_totals(uow, "day" if merged else group, steps).items():
            rows["" if merged else key].merge(totals)
    return dict(rows)


def _sort_key(group: str, key: str) -> tuple[int, str]:
    if group == "counter":
        return (int(key), "")
    return (0, key)


def key_value(group: str, key: str) -> Any:
    return int(key) if group in ("counter", "hour") else key


def key_name(uow: UnitOfWork, group: str, key: str, lang: str = "zh") -> str:
    site = uow.site
    catalogue = translations(lang)
    if group == "service":
        service = site.service(key)
        return _local(service.name, service.name_en, lang) if service else key
    if group == "queue":
        queue = site.queue(key)
        return _local(queue.name, queue.name_en, lang) if queue else key
    if group == "counter":
        return catalogue.pgettext("report", "%(number)s号窗口") % {"number": key}
    if group == "clerk":
        user = uow.hall.config.user(key)
        if user is None:
            return key
        return f"{user.name}（{user.clerk_no}）" if user.clerk_no else user.name
    if group == "hour":
        hour = int(key)
        return f"{hour:02d}:00–{hour + 1:02d}:00"
    weekday = WEEKDAYS[date.fromisoformat(key).weekday()]
    return catalogue.pgettext("weekday", weekday)


def _local(name: str, name_en: str | None, lang: str) -> str:
    return name_en if lang == "en" and name_en else name


def report(
    uow: UnitOfWork,
    group: str,
    start: date | None = None,
    end: date | None = None,
    lang: str = "zh",
) -> dict[str, Any]:
    """`{"rows": [...], "total": {...}, "from", "to", "group"}`; rows sorted by key, only
    keys that have steps in the range."""
    check_group(group)
    first, last = parse_range(uow, start, end)
    read: StepsRead = {}
    totals = range_totals(uow, group, first, last, read=read)
    rows = []
    overall = RowTotals()
    for key in sorted(totals, key=lambda item: _sort_key(group, item)):
        row = totals[key].row(key_value(group, key), visits=group not in STEP_ONLY_GROUPS)
        row["name"] = key_name(uow, group, key, lang)
        rows.append(row)
    # Every step is in exactly one row of these few-row groups, so the rows add up to the
    # total; counter and clerk rows hold only called steps, and a year has 250 days: the
    # total is then read on its own (from the months' `all` rows where it can).
    for row_totals in (
        totals
        if group in FEW_ROW_GROUPS
        else range_totals(uow, group, first, last, merged=True, read=read)
    ).values():
        overall.merge(row_totals)
    total = overall.row("total")
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "group": group,
        "rows": rows,
        "total": total,
    }


def report_csv(rows: list[dict[str, Any]], group: str, lang: str = "zh") -> str:
    """The rows as CSV: Chinese headers (with a BOM, so Excel reads UTF-8) or English ones."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if lang == "en":
        writer.writerow(COLUMNS)
    else:
        headers = dict(HEADERS_ZH, key=GROUP_WORDS_ZH.get(group, HEADERS_ZH["key"]))
        if group in STEP_ONLY_GROUPS:
            headers["issued"] = NP_("report column", "叫号人次")
        writer.writerow([headers[column] for column in COLUMNS])
    for row in rows:
        writer.writerow(["" if row.get(column) is None else row[column] for column in COLUMNS])
    text = buffer.getvalue()
    return text if lang == "en" else "\ufeff" + text


# -- heatmap -----------------------------------------------------------------------------
def heatmap(uow: UnitOfWork, start: date | None = None, end: date | None = None) -> dict[str, Any]:
    """Arrivals (steps enqueued) and waits by local weekday (0 = Monday) × hour."""
    first, last = parse_range(uow, start, end)
    plan = plan_range(uow, first, last)
    stored: dict[tuple[int, int], StoredTotalsSum] = defaultdict(StoredTotalsSum)
    if plan.months:
        for key, data in uow.session.execute(
            select(MonthlySummary.key, MonthlySummary.totals).where(
                MonthlySummary.site_code == uow.site.code,
                MonthlySummary.report_group == "weekday_hour",
                MonthlySummary.month.in_(plan.months),
            )
        ):
            weekday, hour = key.split(":")
            stored[(int(weekday), int(hour))].add(data)
    if plan.summarised:
        for day, key, data in uow.session.execute(
            select(DailySummary.business_day, DailySummary.key, DailySummary.totals).where(
                DailySummary.site_code == uow.site.code,
                DailySummary.report_group == "hour",
                DailySummary.business_day.in_(plan.summarised),
            )
        ):
            stored[(day.weekday(), int(key))].add(data)
    cells: dict[tuple[int, int], RowTotals] = defaultdict(RowTotals)
    for cell, sums in stored.items():
        cells[cell] = sums.totals()
    for step in _open_steps(uow, plan, first, last):
        local = step.enqueued_at.astimezone(uow.site.zone)
        add_step(uow, cells[(step.business_day.weekday(), local.hour)], "hour", step)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "cells": [
            {
                "weekday": weekday,
                "hour": hour,
                "arrivals": totals.issued,
                "avg_wait_s": totals.row(None)["avg_wait_s"],
                "p90_wait_s": totals.row(None)["p90_wait_s"],
            }
            for (weekday, hour), totals in sorted(cells.items())
        ],
    }


# -- daily summaries ---------------------------------------------------------------------
def days_to_summarise(uow: UnitOfWork, limit: int = 31) -> list[date]:
    """Business days before today with steps and no summary yet, that are quiet: no step in
    hand and the last finish more than SUMMARY_QUIET_S ago."""
    today = business_day(uow.site, uow.now)
    summarised = select(DailySummary.business_day).where(
        DailySummary.site_code == uow.site.code,
        DailySummary.report_group == "day",
        DailySummary.business_day == Step.business_day,
    )
    candidates = list(
        uow.session.scalars(
            select(Step.business_day)
            .where(
                Step.site_code == uow.site.code,
                Step.business_day < today,
                ~exists(summarised),
            )
            .group_by(Step.business_day)
            .order_by(Step.business_day)
            .limit(limit)
        )
    )
    quiet_after = uow.now - timedelta(seconds=SUMMARY_QUIET_S)
    due = []
    for day in candidates:
        busy = uow.session.scalar(
            select(Step.id)
            .where(
                Step.site_code == uow.site.code,
                Step.business_day == day,
                (Step.status.in_(("called", "serving"))) | (Step.ended_at > quiet_after),
            )
            .limit(1)
        )
        if busy is None:
            due.append(day)
    return due


def write_daily_summaries(uow: UnitOfWork, days: list[date] | None = None) -> list[date]:
    """Summarise each due day once (every group, one row per key); a day already summarised
    is skipped, so running this again changes nothing."""
    written = []
    for day in days if days is not None else days_to_summarise(uow):
        if day in _summarised_days(uow, day, day):
            continue
        steps = _step_facts(uow, [day])
        for group in GROUPS:
            for key, totals in live_totals(uow, group, steps).items():
                uow.session.add(
                    DailySummary(
                        site_code=uow.site.code,
                        business_day=day,
                        report_group=group,
                        key=key,
                        totals=totals.to_json(),
                        written_at=uow.now,
                    )
                )
        if not steps:
            # The day marker: a day with no steps is summarised too.
            uow.session.add(
                DailySummary(
                    site_code=uow.site.code,
                    business_day=day,
                    report_group="day",
                    key=day.isoformat(),
                    totals=RowTotals().to_json(),
                    written_at=uow.now,
                )
            )
        uow.session.flush()
        written.append(day)
    write_monthly_summaries(uow)
    return written


# Where a month's rows come from: the daily summaries of this group.
MONTH_SOURCES = {group: group for group in GROUPS if group != "day"} | {
    "all": "day",
    "weekday_hour": "hour",
}


def write_monthly_summaries(uow: UnitOfWork) -> list[date]:
    """Add up each finished month whose every day with steps is summarised, once (the
    `all` row marks it done, so running this again changes nothing)."""
    this_month = month_of(business_day(uow.site, uow.now))
    rolled = set(
        uow.session.scalars(
            select(MonthlySummary.month).where(
                MonthlySummary.site_code == uow.site.code, MonthlySummary.report_group == "all"
            )
        )
    )
    summarised_days = uow.session.scalars(
        select(DailySummary.business_day)
        .where(
            DailySummary.site_code == uow.site.code,
            DailySummary.report_group == "day",
            DailySummary.business_day < this_month,
        )
        .distinct()
    )
    written = []
    for month in sorted({month_of(day) for day in summarised_days} - rolled):
        last = month_end(month)
        with_steps = set(
            uow.session.scalars(
                select(Step.business_day)
                .where(Step.site_code == uow.site.code, Step.business_day.between(month, last))
                .distinct()
            )
        )
        if not with_steps <= _summarised_days(uow, month, last):
            continue  # a day of it is not summarised yet
        for group, source in MONTH_SOURCES.items():
            sums: dict[str, StoredTotalsSum] = defaultdict(StoredTotalsSum)
            for day, key, data in uow.session.execute(
                select(DailySummary.business_day, DailySummary.key, DailySummary.totals).where(
                    DailySummary.site_code == uow.site.code,
                    DailySummary.report_group == source,
                    DailySummary.business_day.between(month, last),
                )
            ):
                if group == "all":
                    key = ""
                elif group == "weekday_hour":
                    key = f"{day.weekday()}:{int(key)}"
                sums[key].add(data)
            if group == "all" and not sums:
                sums[""] = StoredTotalsSum()  # the marker of a month without steps
            for key, stored in sums.items():
                uow.session.add(
                    MonthlySummary(
                        site_code=uow.site.code,
                        month=month,
                        report_group=group,
                        key=key,
                        totals=stored.totals().to_json(),
                        written_at=uow.now,
                    )
                )
        uow.session.flush()
        written.append(month)
    return written


def drop_daily_summaries(uow: UnitOfWork, first: date, last: date) -> int:
    """Forget summaries, and the months they were added up into (they are rebuilt from the
    steps by the next run)."""
    uow.session.execute(
        delete(MonthlySummary).where(
            MonthlySummary.site_code == uow.site.code,
            MonthlySummary.month.between(month_of(first), last),
        )
    )
    result = uow.session.execute(
        delete(DailySummary).where(
            DailySummary.site_code == uow.site.code,
            DailySummary.business_day.between(first, last),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
