"""A clerk's own figures for today (今日业绩): a read-only use case over steps, run through
`Yihao.read(site, clerk_figures, username)`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from queue_server.models import Step
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import business_day


def clerk_figures(uow: UnitOfWork, username: str) -> dict[str, Any]:
    """Steps this clerk called today: how many ended done (served), the mean service time of
    those (start, or call when never started, to the end), and the mean of their ratings."""
    rows = uow.session.execute(
        select(Step.outcome, Step.called_at, Step.started_at, Step.ended_at, Step.rating).where(
            Step.site_code == uow.site.code,
            Step.business_day == business_day(uow.site, uow.now),
            Step.clerk_username == username,
            Step.called_at.is_not(None),
        )
    ).all()
    durations: list[float] = []
    ratings: list[int] = []
    outcomes: dict[str, int] = {}
    for outcome, called_at, started_at, ended_at, rating in rows:
        if outcome is not None:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        began = started_at or called_at
        if outcome == "done" and ended_at is not None and began is not None:
            durations.append((ended_at - began).total_seconds())
        if rating is not None:
            ratings.append(rating)
    return {
        "day": business_day(uow.site, uow.now).isoformat(),
        "called": len(rows),
        "served": outcomes.get("done", 0),
        "no_show": outcomes.get("no_show", 0),
        "transferred": outcomes.get("transferred", 0),
        "held": outcomes.get("held", 0),
        "avg_service_s": round(sum(durations) / len(durations)) if durations else None,
        "rating_avg": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "ratings": len(ratings),
    }
