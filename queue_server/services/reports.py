"""What managers see live, and the event log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from queue_server.domain.routing import reachable_queues
from queue_server.models import Event
from queue_server.services.counters import list_counters
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import HallState, local_iso, site_seq

EVENTS_PAGE = 1000


def live_stats(uow: UnitOfWork, state: HallState | None = None) -> dict[str, Any]:
    state = state or HallState(uow)
    queues = []
    alerts: list[dict[str, Any]] = []
    rules = uow.site.rules()
    for summary in state.queue_summaries():
        targets = [
            service.target_wait_min * 60
            for service in uow.site.services
            if summary["code"] in reachable_queues(rules, service.category, service.parties)
        ]
        target_wait_s = int(min(targets)) if targets else None
        queues.append(
            {
                "code": summary["code"],
                "name": summary["name"],
                "waiting": summary["waiting"],
                "longest_wait_s": summary["longest_wait_s"],
                "target_wait_s": target_wait_s,
                "est_wait_s": summary["est_wait_s"],
            }
        )
        if target_wait_s and summary["longest_wait_s"] > target_wait_s:
            alerts.append(
                {
                    "kind": "wait_target",
                    "queue": summary["code"],
                    "message": f"{summary['name']}最长已等候{summary['longest_wait_s'] // 60}分钟，"
                    f"超过目标{target_wait_s // 60}分钟",
                }
            )
    counters = []
    for counter, row in zip(state.counters, list_counters(uow), strict=True):
        since = counter.idle_since if counter.state == "open" else None
        counters.append(
            {
                "number": counter.number,
                "name": counter.name,
                "state": counter.state,
                "clerk_name": row["clerk_name"],
                "current": row["current"],
                "idle_s": int((uow.now - since).total_seconds()) if since else None,
                "state_since": local_iso(uow.site, counter.state_since),
            }
        )
    return {"seq": site_seq(uow), "queues": queues, "counters": counters, "alerts": alerts}


def events_since(uow: UnitOfWork, since: int) -> list[dict[str, Any]]:
    rows = uow.session.scalars(
        select(Event)
        .where(Event.site_code == uow.site.code, Event.seq > since)
        .order_by(Event.seq)
        .limit(EVENTS_PAGE)
    )
    return [
        {
            "seq": event.seq,
            "at": local_iso(uow.site, event.at),
            "actor": event.actor,
            "kind": event.kind,
            "ticket_id": event.ticket_id,
            "step_id": event.step_id,
            "counter": event.counter_number,
            "from": event.from_state,
            "to": event.to_state,
            "detail": event.detail,
        }
        for event in rows
    ]
