"""Rebuild the report facts of every step from the event log alone (SPEC §2: statistics
are computable from events alone). Reports read the steps table for speed; this replay is
the proof that the log holds the same facts, and a way to audit or rebuild them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.domain.lifecycle import TicketState
from queue_server.domain.reporting import whole_seconds
from queue_server.manager.stats import StepFacts

ENDING = {"no_show": "no_show", "hold": "held"}


def facts_from_events(events: Iterable[Mapping[str, Any]], zone: ZoneInfo) -> list[StepFacts]:
    """`events` in seq order, as GET /api/v1/events gives them (times in ISO 8601)."""
    steps: dict[int, dict[str, Any]] = {}
    visits: dict[str, tuple[int, datetime]] = {}  # ticket → its first step, issued at

    def put_in_line(info: Mapping[str, Any], at: datetime) -> None:
        steps[int(info["step"])] = {
            "business_day": at.astimezone(zone).date(),
            "queue_code": info["queue"],
            "services": list(info["services"]),
            "counter_number": None,
            "clerk_username": None,
            "enqueued_at": at,
            "called_at": None,
            "started_at": None,
            "ended_at": None,
            "outcome": None,
            "rating": None,
            "first_of_visit": False,
            "visit_s": None,
        }

    def end(step_id: int, at: datetime, outcome: str) -> None:
        if step_id in steps:
            steps[step_id].update(ended_at=at, outcome=outcome)

    for event in events:
        at = datetime.fromisoformat(event["at"])
        detail = event["detail"]
        kind = event["kind"]
        step_id = int(event.get("step_id") or 0)  # 0: an event of no step
        if kind == "transfer":
            end(int(detail["ended_step"]), at, "transferred")
        if kind == "finish":
            end(step_id, at, detail["outcome"])
            steps[step_id]["services"] = list(detail["services"])
            visit = visits.get(event["ticket_id"])
            if event["to"] == TicketState.DONE and visit is not None:  # the visit ended done
                first, issued_at = visit
                steps[first]["visit_s"] = whole_seconds(at, issued_at)
        if detail.get("enqueued"):
            put_in_line(detail["enqueued"], at)
        if kind == "issue":  # a number taken: the ticket's first step
            visits[event["ticket_id"]] = (step_id, at)
            steps[step_id]["first_of_visit"] = True
        if kind == "add_service" and step_id in steps:
            steps[step_id]["services"].append(detail["service"])
        elif kind == "call":
            if step_id not in steps:  # put in line and called at once (指呼 of a held ticket)
                put_in_line({"step": step_id, **detail}, at)
            steps[step_id].update(
                called_at=at, counter_number=event["counter"], clerk_username=detail["clerk"]
            )
        elif kind == "start":
            steps[step_id]["started_at"] = at
        elif kind in ENDING:
            end(step_id, at, ENDING[kind])
        elif kind == "rate" and step_id in steps:
            steps[step_id]["rating"] = detail["rating"]
    return [StepFacts(**facts) for facts in steps.values()]
