"""Scheduled work as a table of jobs with fixed ids (APScheduler 3, started by run.py only).

With several processes, the one holding the database lease runs the jobs and another takes
over when it dies (the lease runs out). Each job also claims its slot with a unique row, so a
slot runs once even across a takeover; each job picks up only work that is due and not done,
so running it again is harmless.
Correctness never waits for a job: time rules are decided when a request arrives.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from queue_server.app_context import Yihao
from queue_server.manager import jobs as manager_jobs
from queue_server.models import JobRun, SchedulerLease
from queue_server.services.appointments import write_no_shows
from queue_server.services.day_close import close_day
from queue_server.services.estimates import store_service_times
from queue_server.services.printing import abandon_overdue, kiosks_with_work

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    run: Callable[[Yihao, datetime], None]
    trigger: str
    trigger_args: dict[str, object]


LEASE_NAME = "scheduler"


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Lease:
    """The database lease that makes one process of several the scheduler. Wall-clock time
    (not the hall's clock): it is about which process is alive."""

    yihao: Yihao
    ttl: timedelta
    holder: str = field(default_factory=process_name)
    held_until: datetime | None = None

    def renew(self) -> bool:
        now = datetime.now(UTC)
        until = now + self.ttl
        with self.yihao.sessions() as session:
            taken = session.execute(  # type: ignore[attr-defined]
                update(SchedulerLease)
                .where(
                    SchedulerLease.name == LEASE_NAME,
                    or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < now),
                )
                .values(holder=self.holder, expires_at=until)
            ).rowcount
            exists = bool(taken) or session.get(SchedulerLease, LEASE_NAME) is not None
            if not exists:
                session.add(SchedulerLease(name=LEASE_NAME, holder=self.holder, expires_at=until))
            try:
                session.commit()
                held = bool(taken) or not exists
            except IntegrityError:  # another process created it first
                session.rollback()
                held = False
        if held and self.held_until is None:
            log.info("this process (%s) now runs the scheduled jobs", self.holder)
        self.held_until = until if held else None
        return held

    def held(self) -> bool:
        return self.held_until is not None and datetime.now(UTC) < self.held_until


def claim_slot(yihao: Yihao, job_id: str, slot: str) -> bool:
    with yihao.sessions() as session:
        session.add(
            JobRun(
                job_id=job_id,
                slot=slot,
                claimed_at=datetime.now(UTC),
                claimed_by=process_name(),
            )
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    return True


def day_close_job(yihao: Yihao, now: datetime) -> None:
    for site in yihao.hall.config.sites:
        slot = now.astimezone(site.zone).date().isoformat()
        if not claim_slot(yihao, f"day_close:{site.code}", slot):
            continue
        expired = yihao.run(site, "scheduler", close_day)
        log.info("day close of %s for days before %s: %d tickets expired", site.code, slot, expired)


def print_retry_job(yihao: Yihao, now: datetime) -> None:
    """Give up print jobs past their minute (with a manager alert), also those of kiosks no
    process prints for, on the sites that have pending work (one statement finds them). The
    retries themselves are the print worker's (its lanes and its sweep). No slot claim: jobs
    are given up with a conditional UPDATE, so running it twice is harmless."""
    sites = yihao.hall.config.sites
    busy_sites = {site for site, _ in yihao.read(sites[0], kiosks_with_work)}
    for site in sites:
        if site.code in busy_sites:
            yihao.run(site, "scheduler", abandon_overdue)


def service_times_job(yihao: Yihao, now: datetime) -> None:
    """Learn each site's service times for wait estimates and store them, for every process
    to reload (services/estimates.py). No slot claim: the row is overwritten, so running it
    twice is harmless."""
    for site in yihao.hall.config.sites:
        yihao.run(site, "scheduler", store_service_times)
        yihao.hall.estimates.forget_model(site.code)  # this process reloads at once


def appointment_no_show_job(yihao: Yihao, now: datetime) -> None:
    """Bookings never checked in by their slot's end + late_min become `no_show` (reads say
    so already). No slot claim: it writes only bookings still `booked`, so a re-run is
    harmless."""
    for site in yihao.hall.config.sites:
        if site.appointments is not None:
            yihao.run(site, "scheduler", write_no_shows)


JOBS = (
    # Every few minutes rather than once at midnight: a missed midnight (server down) is
    # caught up, and the slot row keeps it to one run per day and site.
    Job("day_close", day_close_job, "cron", {"minute": "*/5"}),
    Job("print_retry", print_retry_job, "interval", {"seconds": 5}),
    Job("appointment_no_show", appointment_no_show_job, "interval", {"seconds": 60}),
    # Managers' jobs (queue_server/manager/jobs.py): idempotent, see there.
    Job("manager_alerts", manager_jobs.alerts_job, "interval", {"seconds": 10}),
    Job("daily_summaries", manager_jobs.daily_summary_job, "cron", {"minute": "*/5"}),
    # Wait estimates' learned service times (four weeks of steps and today's pace).
    Job("service_times", service_times_job, "interval", {"minutes": 5}),
)


def start_scheduler(app: Flask) -> BackgroundScheduler:
    """Every process with a scheduler keeps trying for the lease; only its holder runs jobs."""
    yihao: Yihao = app.extensions["yihao"]
    lease = Lease(yihao, timedelta(seconds=yihao.settings.scheduler_lease_s))
    _renew(lease)
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        _renew,
        "interval",
        args=(lease,),
        seconds=lease.ttl.total_seconds() / 3,
        id="scheduler_lease",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    for job in JOBS:
        scheduler.add_job(
            _runner(job, yihao, lease),
            job.trigger,
            id=job.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            **_trigger_args(job, yihao.settings.clock_scale),
        )
    scheduler.start()
    return scheduler


INTERVAL_UNITS_S = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}


def _trigger_args(job: Job, clock_scale: float) -> dict[str, object]:
    """An interval is hall time: under a rehearsal's clock running N× as fast (tests, the
    bench) an interval job runs N× as often. Cron jobs keep the wall clock's minutes; each
    reads the hall clock when it runs."""
    if job.trigger != "interval" or clock_scale == 1.0:
        return job.trigger_args
    seconds = sum(
        float(str(value)) * INTERVAL_UNITS_S[unit] for unit, value in job.trigger_args.items()
    )
    return {"seconds": seconds / clock_scale}


def _renew(lease: Lease) -> None:
    try:
        lease.renew()
    except Exception:
        lease.held_until = None
        log.exception("could not renew the scheduler lease; jobs wait until it is held again")


def _runner(job: Job, yihao: Yihao, lease: Lease) -> Callable[[], None]:
    def run() -> None:
        if not lease.held():
            return
        try:
            job.run(yihao, yihao.hall.clock())
        except Exception:
            log.exception("scheduled job %s failed; it runs again at its next time", job.id)

    return run
