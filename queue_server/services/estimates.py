"""The hall's service times for wait estimates: learned from its finished steps.

`service_times(uow)` is the read use case (the last `HISTORY_DAYS` days, today included, and
today's pace); `finished_steps` is its query, shared with the simulator's replay of a day.
The learning itself is pure: `domain.estimates.learn_service_times`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server.config import SiteConfig
from queue_server.domain.estimates import FinishedStep, ServiceTimes, learn_service_times
from queue_server.models import Step
from queue_server.services.unit_of_work import UnitOfWork

HISTORY_DAYS = 28  # four weeks: every weekday four times, recent enough to follow the hall


def configured_durations(site: SiteConfig) -> dict[str, float]:
    """The typical counter time the hall file gives per business (`service_s`), if any."""
    return {service.code: service.service_s for service in site.services if service.service_s}


def finished_steps(
    session: Session, site_code: str, since: date, until: date
) -> list[FinishedStep]:
    """Steps called and ended (any outcome) on business days `since` ≤ day ≤ `until`."""
    rows = session.execute(
        select(Step.services, Step.called_at, Step.started_at, Step.ended_at).where(
            Step.site_code == site_code,
            Step.business_day >= since,  # the (site, day) index: never the whole history
            Step.business_day <= until,
            Step.called_at.is_not(None),
            Step.ended_at.is_not(None),
        )
    ).all()
    return [
        FinishedStep(tuple(services or ()), called_at, started_at, ended_at)
        for services, called_at, started_at, ended_at in rows
        if called_at is not None and ended_at is not None  # the query's own condition
    ]


def learn_for_site(
    site: SiteConfig, steps: Sequence[FinishedStep], now: datetime | None = None
) -> ServiceTimes:
    """The pure learning with the site's zone and configured durations."""
    return learn_service_times(
        steps, site.zone, site.policy.default_service_s, configured_durations(site), now=now
    )


def service_times(uow: UnitOfWork, days: int = HISTORY_DAYS) -> ServiceTimes:
    """The site's service-time distributions now: its last `days` days of finished steps
    and today's pace. Costs a query of a few thousand rows a day: run it from the scheduled
    refresh (or on a miss of the cache), never per request."""
    today = uow.now.astimezone(uow.site.zone).date()
    steps = finished_steps(uow.session, uow.site.code, today - timedelta(days=days), today)
    return learn_for_site(uow.site, steps, uow.now)
