"""The managers' scheduled jobs (listed in scheduler.JOBS): alerts and daily summaries.

Each picks up only what is due and not yet done — alerts are unique per subject, a day is
summarised once — so running a job again (or in a second process) changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from queue_server.app_context import Yihao
from queue_server.manager import settings
from queue_server.manager.stats import write_daily_summaries
from queue_server.services.alerts import check_alerts
from queue_server.services.hours import calendar_alerts
from queue_server.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def alerts_job(yihao: Yihao, now: datetime) -> None:
    """A ticket past its target wait, a counter paused too long, a calendar that does not
    know the days ahead: one alert each, live on `/manager`."""
    send_alerts(yihao)


def daily_summary_job(yihao: Yihao, now: datetime) -> None:
    """Summarise every finished, quiet business day not yet summarised (at day close, and
    catching up any day a stopped server missed)."""
    write_summaries(yihao)


def send_alerts(yihao: Yihao) -> int:
    """Returns how many alerts were sent."""
    settings.refresh(yihao)
    sent = 0
    for site in yihao.hall.config.sites:
        sent += yihao.run(site, "scheduler", _all_alerts)
    return sent


def _all_alerts(uow: UnitOfWork) -> int:
    return check_alerts(uow) + calendar_alerts(uow)


def write_summaries(yihao: Yihao) -> int:
    """Returns how many days were summarised."""
    settings.refresh(yihao)
    written = 0
    for site in yihao.hall.config.sites:
        days = yihao.run(site, "scheduler", write_daily_summaries)
        if days:
            log.info("daily summaries of %s: %s", site.code, ", ".join(map(str, days)))
        written += len(days)
    return written
