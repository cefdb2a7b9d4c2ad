"""What managers see live, and the event log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from queue_server.domain.routing import reachable_queues
from queue_server.models import Event
from queue_server.services import day_board
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import (
    HallState,
    counter_payload,
    current_numbers,
    local_iso,
    site_seq,
)

EVENTS_PAGE = 1000


def live_stats(uow: UnitOfWork, state: HallState | None = None) -> dict[str, Any]:
    """The managers' live board (SPEC §4 `stats/live`, pushed as `stats` on `/manager`):
    each line now and today, each counter, each clerk today, the day's totals, and the lines
    where a waiting ticket is past its own business's target wait."""
    state = state or HallState(uow)
    targets = line_targets(uow)
    lines = day_board.line_hours(uow)
    histogram = day_board.wait_histogram(uow)
    over_by_line: dict[str, list[day_board.OverTarget]] = {}
    for group in day_board.overdue_lines(uow):
        if group.over:
            over_by_line.setdefault(group.queue, []).append(group)
    queues = []
    alerts: list[dict[str, Any]] = []
    for summary in state.queue_summaries():
        code = summary["code"]
        day = lines.get(code)
        over = over_by_line.get(code, [])
        queues.append(
            {
                "code": code,
                "name": summary["name"],
                "waiting": summary["waiting"],
                "longest_wait_s": summary["longest_wait_s"],
                "target_wait_s": targets.get(code),
                "over_target": sum(group.over for group in over),
                "est_wait_s": summary["est_wait_s"],
                "tickets": day.tickets if day else 0,
                "issued": day.steps if day else 0,
                "served": day.served if day else 0,
                "by_hour": day.by_hour if day else [0] * day_board.HOURS,
            }
        )
        if over:
            alerts.append(line_alert(uow, code, summary["name"], over))
    began = day_board.in_hand(uow)
    numbers = current_numbers(uow, state)  # one query for the tickets in hand, not one per counter
    counters = []
    for counter in state.counters:
        view = counter_payload(uow, counter, numbers.get(counter.current_ticket_id or ""))
        since = counter.idle_since if counter.state == "open" else None
        counters.append(
            {
                "number": counter.number,
                "name": counter.name,
                "state": counter.state,
                "clerk_name": view["clerk_name"],
                "current": view["current"],
                "idle_s": day_board.seconds_since(uow, since),
                "service_s": day_board.seconds_since(uow, began.get(counter.number))
                if view["current"]
                else None,
                "state_since": local_iso(uow.site, counter.state_since),
            }
        )
    return {
        "seq": site_seq(uow),
        "today": day_board.day_totals(uow, lines, histogram),
        "queues": queues,
        "counters": counters,
        "clerks": clerks_today(uow, state),
        "alerts": alerts,
    }


def line_targets(uow: UnitOfWork) -> dict[str, int]:
    """Each line's shortest target wait (s) over the businesses that can be routed to it:
    the routing walked once per business, not once per line and business."""
    rules = uow.site.rules()
    targets: dict[str, int] = {}
    for service in uow.site.services:
        target_s = int(service.target_wait_min * 60)
        for code in reachable_queues(rules, service.category, service.parties):
            targets[code] = min(targets.get(code, target_s), target_s)
    return targets


def line_alert(
    uow: UnitOfWork, code: str, name: str, over: list[day_board.OverTarget]
) -> dict[str, Any]:
    """A line with tickets past their own business's target: how many, and the one furthest
    past it (its business, its wait, that business's target, by how much)."""

    def target_s(group: day_board.OverTarget) -> int:
        service = uow.site.service(group.service)
        return int(service.target_wait_min * 60) if service else 0

    worst = max(over, key=lambda group: (uow.now - group.oldest).total_seconds() - target_s(group))
    service = uow.site.service(worst.service)
    waited_s = int((uow.now - worst.oldest).total_seconds())
    target = target_s(worst)
    count = sum(group.over for group in over)
    return {
        "kind": "wait_target",
        "queue": code,
        "service": worst.service,
        "count": count,
        "waited_s": waited_s,
        "target_wait_s": target,
        "message": f"{name}：{count}人等候超过所办业务的目标时间；最久的一位"
        f"（{service.name if service else worst.service}，目标{target / 60:g}分钟）"
        f"已等候{waited_s // 60}分钟，超出{(waited_s - target) // 60}分钟",
    }


def clerks_today(uow: UnitOfWork, state: HallState) -> list[dict[str, Any]]:
    """Each clerk who called someone today or is signed in now: served today and the mean of
    today's ratings."""
    day = day_board.clerk_day(uow)
    usernames = set(day) | {c.clerk_username for c in state.counters if c.clerk_username}
    clerks = []
    for username in sorted(usernames):
        user = uow.hall.users.get(username)
        totals = day.get(username, day_board.ClerkDay(0, 0, 0, 0))
        clerks.append(
            {
                "username": username,
                "name": user.name if user else username,
                "clerk_no": user.clerk_no if user else None,
                "called": totals.called,
                "served": totals.served,
                "ratings": totals.ratings,
                "rating_avg": round(totals.rating_sum / totals.ratings, 2)
                if totals.ratings
                else None,
            }
        )
    return clerks


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
