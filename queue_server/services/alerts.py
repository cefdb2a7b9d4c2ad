"""Alerts for managers: a ticket past its target wait, a counter paused too long.

`check_alerts` picks up only what is due and not yet alerted: each alert has a unique
(site, kind, subject) row, so running it again sends nothing twice. An alert is a hall event
(`AlertRaised`): managers hear of it after the commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from queue_server.domain.events import AlertRaised
from queue_server.manager.models import ManagerAlert
from queue_server.models import Counter, Step, Ticket
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import local_iso, site_seq, waiting_steps

PAUSED_ALERT_MIN = 15
MAX_NEW_PER_RUN = 50  # a sudden backlog alerts for its first 50 tickets, the rest next run


def _already(uow: UnitOfWork, kind: str, subject: str) -> bool:
    found = uow.session.scalar(
        select(ManagerAlert.id).where(
            ManagerAlert.site_code == uow.site.code,
            ManagerAlert.kind == kind,
            ManagerAlert.subject == subject,
        )
    )
    return found is not None


def raise_alert(
    uow: UnitOfWork, kind: str, subject: str, message: str, **detail: Any
) -> dict[str, Any] | None:
    """Store an alert once per subject; managers hear of it after the commit."""
    if _already(uow, kind, subject):
        return None
    alert = ManagerAlert(
        site_code=uow.site.code,
        kind=kind,
        subject=subject,
        message=message,
        at=uow.now,
        detail=detail,
    )
    uow.session.add(alert)
    uow.session.flush()
    payload = {
        "seq": site_seq(uow),
        "id": alert.id,
        "kind": kind,
        "message": message,
        "at": local_iso(uow.site, uow.now),
        **detail,
    }
    uow.happened(AlertRaised(uow.site.code, kind, message, uow.local_now, alert.id, detail))
    return payload


def _minutes(seconds: float) -> int:
    return int(seconds // 60)


def wait_target_alerts(uow: UnitOfWork, limit: int = MAX_NEW_PER_RUN) -> list[dict[str, Any]]:
    """Every waiting step past the target wait of its first business, once."""
    sent: list[dict[str, Any]] = []
    steps = sorted(waiting_steps(uow), key=lambda step: (step.enqueued_at, step.id))
    for step in steps:
        if len(sent) >= limit:
            break
        service = uow.site.service(step.services[0]) if step.services else None
        if service is None or step.enqueued_at is None:
            continue
        target = timedelta(minutes=service.target_wait_min)
        waited = uow.now - step.enqueued_at
        if waited <= target:
            continue
        ticket = uow.session.get(Ticket, step.ticket_id)
        number = ticket.number if ticket else "?"
        queue = uow.site.queue(step.queue_code)
        alert = raise_alert(
            uow,
            "wait_target",
            f"step:{step.id}",
            f"{number}号（{queue.name if queue else step.queue_code}·{service.name}）已等候"
            f"{_minutes(waited.total_seconds())}分钟；该业务目标等候{service.target_wait_min:g}"
            f"分钟，已超出{_minutes((waited - target).total_seconds())}分钟",
            number=number,
            queue=step.queue_code,
            service=service.code,
            waited_s=int(waited.total_seconds()),
            target_wait_s=int(target.total_seconds()),
        )
        if alert:
            sent.append(alert)
    return sent


def paused_counter_alerts(
    uow: UnitOfWork, paused_after_min: float = PAUSED_ALERT_MIN
) -> list[dict[str, Any]]:
    """Every pause longer than `paused_after_min`, once per pause."""
    sent: list[dict[str, Any]] = []
    counters = uow.session.scalars(
        select(Counter)
        .where(Counter.site_code == uow.site.code, Counter.state == "paused")
        .order_by(Counter.number)
    )
    for counter in counters:
        since: datetime | None = counter.state_since
        if since is None or uow.now - since < timedelta(minutes=paused_after_min):
            continue
        clerk = uow.hall.config.user(counter.clerk_username) if counter.clerk_username else None
        paused_s = (uow.now - since).total_seconds()
        alert = raise_alert(
            uow,
            "counter_paused",
            f"counter:{counter.number}:{since.isoformat()}",
            f"{counter.number}号窗口{'（' + clerk.name + '）' if clerk else ''}已暂停服务"
            f"{_minutes(paused_s)}分钟",
            counter=counter.number,
            clerk_name=clerk.name if clerk else None,
            paused_s=int(paused_s),
        )
        if alert:
            sent.append(alert)
    return sent


def check_alerts(uow: UnitOfWork, paused_after_min: float = PAUSED_ALERT_MIN) -> int:
    return len(wait_target_alerts(uow)) + len(paused_counter_alerts(uow, paused_after_min))


def recent_alerts(uow: UnitOfWork, limit: int = 50) -> list[dict[str, Any]]:
    rows = uow.session.scalars(
        select(ManagerAlert)
        .where(ManagerAlert.site_code == uow.site.code)
        .order_by(ManagerAlert.at.desc(), ManagerAlert.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": row.id,
            "kind": row.kind,
            "message": row.message,
            "at": local_iso(uow.site, row.at),
            "detail": row.detail,
        }
        for row in rows
    ]


__all__ = ["Step", "check_alerts", "raise_alert", "recent_alerts"]
