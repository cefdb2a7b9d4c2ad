"""Scheduled work as a table of jobs with fixed ids (APScheduler 3, started by run.py only).

Each job first claims its slot with a unique row, so with several processes a slot runs
once; each job picks up only work that is due and not done, so running it again is harmless.
Correctness never waits for a job: time rules are decided when a request arrives.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.exc import IntegrityError

from queue_server import jobs_manager
from queue_server.app_context import Yihao
from queue_server.models import JobRun
from queue_server.services.day_close import close_day
from queue_server.services.printing import abandon_overdue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    run: Callable[[Yihao, datetime], None]
    trigger: str
    trigger_args: dict[str, object]


def claim_slot(yihao: Yihao, job_id: str, slot: str) -> bool:
    with yihao.sessions() as session:
        session.add(
            JobRun(
                job_id=job_id,
                slot=slot,
                claimed_at=datetime.now(UTC),
                claimed_by=f"{socket.gethostname()}:{os.getpid()}",
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
    """Give up print jobs past their minute (with a manager alert), and wake this process's
    print worker for jobs queued by other processes or before a restart. No slot claim:
    jobs are claimed one by one with a conditional UPDATE, so running it twice is harmless."""
    for site in yihao.hall.config.sites:
        yihao.run(site, "scheduler", abandon_overdue)
    worker = yihao.extras.get("print_worker")
    if worker is not None:
        worker.wake()


JOBS = (
    # Every few minutes rather than once at midnight: a missed midnight (server down) is
    # caught up, and the slot row keeps it to one run per day and site.
    Job("day_close", day_close_job, "cron", {"minute": "*/5"}),
    Job("print_retry", print_retry_job, "interval", {"seconds": 5}),
    # Managers' jobs (queue_server/jobs_manager.py): idempotent, see there.
    Job("manager_alerts", jobs_manager.alerts_job, "interval", {"seconds": 10}),
    Job("daily_summaries", jobs_manager.daily_summary_job, "cron", {"minute": "*/5"}),
)


def start_scheduler(app: Flask) -> BackgroundScheduler:
    yihao: Yihao = app.extensions["yihao"]
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in JOBS:
        scheduler.add_job(
            _runner(job, yihao),
            job.trigger,
            id=job.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            **job.trigger_args,
        )
    scheduler.start()
    return scheduler


def _runner(job: Job, yihao: Yihao) -> Callable[[], None]:
    def run() -> None:
        try:
            job.run(yihao, yihao.hall.clock())
        except Exception:
            log.exception("scheduled job %s failed; it runs again at its next time", job.id)

    return run
