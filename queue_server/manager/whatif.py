"""The managers' what-if (SPEC §10, issue 17): use cases, no web code.

`start(uow, request)` checks the request against the hall and the day and stores a run
(`whatif_runs`, state `running`); `execute(...)` — called off the request path by the process
that took the request — replays the day unchanged and changed (`simulation.whatif.replay`),
writing its progress and then its result to the row, each in a short transaction of its own;
`view(uow, run_id)` is what a poll answers, from any process.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from queue_server.config import SiteConfig
from queue_server.errors import BadRequest, Conflict, NotFound
from queue_server.models import Site, Step, Ticket, WhatIfRun
from queue_server.services.estimates import HISTORY_DAYS, Offload, finished_steps, run_here
from queue_server.simulation.replay import day_visits
from queue_server.simulation.whatif import (
    Changes,
    CounterChange,
    counters_view,
    day_counters,
    replay,
    service_times_for,
)

if TYPE_CHECKING:
    from queue_server.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
# A run takes seconds; one still `running` after this was lost with its process (a restart,
# a crash): it reads as failed, decided when it is read, and no longer counts as running.
STALE_AFTER = timedelta(minutes=10)
# Runs of a site at once: each is seconds of CPU, so a flood of them (a stuck button, a
# script with a manager's token) would starve the tickets and screens of the same process.
MAX_RUNNING = 2


def changes_of(request: dict[str, Any]) -> Changes:
    return Changes(
        counters=request.get("counters"),
        counters_by_hour={
            int(hour): int(count) for hour, count in (request.get("counters_by_hour") or {}).items()
        },
        strategy=request.get("strategy"),
        threshold=request.get("threshold"),
        counter_changes=tuple(
            CounterChange(
                int(change["number"]),
                tuple(change["queues"]) if change.get("queues") else None,
                change.get("strategy"),
            )
            for change in request.get("counter_changes") or ()
        ),
    )


def check(site: SiteConfig, request: dict[str, Any]) -> None:
    """What the hall file alone can refuse: unknown counters or lines, hours out of range."""
    for hour, count in (request.get("counters_by_hour") or {}).items():
        if not 0 <= int(hour) <= 23 or not 0 <= int(count) <= 99:
            raise BadRequest(
                "counters_by_hour：小时须为 0–23，窗口数须为 0–99（%(hour)s: %(count)s）",
                code="invalid_field",
                hour=str(hour),
                count=str(count),
            )
    numbers = {counter.number for counter in site.counters}
    lines = {queue.code for queue in site.queues}
    for change in request.get("counter_changes") or ():
        if change["number"] not in numbers:
            raise BadRequest("没有%(number)s号窗口", code="invalid_field", number=change["number"])
        unknown = [code for code in change.get("queues") or () if code not in lines]
        if unknown:
            raise BadRequest("没有这个队列：%(queue)s", code="invalid_field", queue=unknown[0])


def start(uow: UnitOfWork, request: dict[str, Any]) -> dict[str, Any]:
    """Store a what-if run for a past day that has tickets; its view (state `running`)."""
    check(uow.site, request)
    day = date.fromisoformat(request["date"])
    if day >= uow.today:
        raise BadRequest("只能推演已经过去的日子", code="invalid_field")
    tickets = uow.session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.site_code == uow.site.code, Ticket.business_day == day)
    )
    if not tickets:
        raise BadRequest("那天没有号票", code="invalid_field")
    # Two managers' starts at once must not both pass the count: on PostgreSQL the site's
    # row is locked until commit (SQLite's BEGIN IMMEDIATE already serialises writers).
    uow.session.execute(select(Site.code).where(Site.code == uow.site.code).with_for_update())
    running = uow.session.scalar(
        select(func.count())
        .select_from(WhatIfRun)
        .where(
            WhatIfRun.site_code == uow.site.code,
            WhatIfRun.state == "running",
            WhatIfRun.created_at > uow.now - STALE_AFTER,
        )
    )
    if (running or 0) >= MAX_RUNNING:
        raise Conflict(
            "已有%(count)s个推演正在运行，请等它们完成后再试", code="invalid_state", count=running
        )
    run = WhatIfRun(
        id=secrets.token_urlsafe(12),
        site_code=uow.site.code,
        created_at=uow.now,
        created_by=uow.actor,
        state="running",
        progress=0.0,
        request=request,
    )
    uow.session.add(run)
    uow.session.flush()
    return run_view(uow.site, run, uow.now)


def view(uow: UnitOfWork, run_id: str) -> dict[str, Any]:
    run = uow.session.get(WhatIfRun, run_id)
    if run is None or run.site_code != uow.site.code:
        raise NotFound("没有这次推演")
    return run_view(uow.site, run, uow.now)


def run_view(site: SiteConfig, run: WhatIfRun, now: datetime) -> dict[str, Any]:
    lost = run.state == "running" and run.created_at <= now - STALE_AFTER
    return {
        "id": run.id,
        "state": "failed" if lost else run.state,
        "progress": round(run.progress, 2),
        "date": run.request["date"],
        "created_at": run.created_at.astimezone(site.zone).isoformat(timespec="seconds"),
        "error": "simulation_lost" if lost else run.error,
        "result": run.result,
    }


def execute(
    sessions: sessionmaker[Session],
    site: SiteConfig,
    run_id: str,
    offload: Offload | None = None,
) -> None:
    """Run a stored what-if: load the day and its history, simulate both days (through
    `offload(replay, *args)`, a process of its own under gevent, so the CPU work never holds
    the server's loop or its GIL), and store the result. Any failure ends the run as
    `failed`."""
    try:
        with sessions() as session:
            run = session.get(WhatIfRun, run_id)
            if run is None:
                return
            request = dict(run.request)
            day = date.fromisoformat(request["date"])
            visits = day_visits(session, site, day)
            base = day_counters(site, served_by_counter(session, site, day))
            before = datetime.combine(day, datetime.min.time(), site.zone)
            history = [
                step
                for step in finished_steps(
                    session, site.code, day - timedelta(days=HISTORY_DAYS), day
                )
                if step.ended_at < before
            ]
        changes = changes_of(request)
        seed = int(request.get("seed") or 0)
        times = service_times_for(site, history)
        _write(sessions, run_id, progress=0.1)
        run_cpu = offload or run_here
        original, _ = run_cpu(replay, site, visits, times, None, seed, base)
        _write(sessions, run_id, progress=0.5)
        changed, counters = run_cpu(replay, site, visits, times, changes, seed, base)
        result = {"original": original, "changed": changed, "counters": counters_view(counters)}
        _write(sessions, run_id, state="done", progress=1.0, result=result)
    except Exception:
        log.exception("what-if %s failed", run_id)
        _write(sessions, run_id, state="failed", error="simulation_failed")


def served_by_counter(
    session: Session, site: SiteConfig, day: date
) -> dict[int, tuple[datetime, datetime]]:
    """Each counter that served on the day: its first call and its last end."""
    rows = session.execute(
        select(Step.counter_number, func.min(Step.called_at), func.max(Step.ended_at))
        .where(
            Step.site_code == site.code,
            Step.business_day == day,
            Step.counter_number.is_not(None),
            Step.called_at.is_not(None),
        )
        .group_by(Step.counter_number)
    ).all()
    return {
        number: (first, last or first)
        for number, first, last in rows
        if number is not None and first is not None
    }


def _write(sessions: sessionmaker[Session], run_id: str, **values: Any) -> None:
    with sessions() as session:
        session.execute(update(WhatIfRun).where(WhatIfRun.id == run_id).values(**values))
        session.commit()
