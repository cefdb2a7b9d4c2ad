"""Statistics are computable from the event log alone: a day with every kind of step is
replayed from GET /api/v1/events and gives the same step facts and the same report rows as
the steps table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from queue_server.manager.stats import (
    COLUMNS,
    GROUPS,
    STEP_ONLY_GROUPS,
    StepFacts,
    _step_facts,
    key_value,
    live_totals,
)
from queue_server.services.event_replay import facts_from_events
from queue_server.services.unit_of_work import UnitOfWork
from tests.conftest import Staff

NUMBERS = COLUMNS[2:]  # every figure of a row (after its key and name)


def busy_day(client: FlaskClient, clerk_at: Callable[[int], Staff], clock: Any) -> None:
    def issue(body: dict[str, Any]) -> dict[str, Any]:
        clock.advance(seconds=37)
        return client.post("/api/v1/tickets", json=body).json["ticket"]

    first = issue({"service": "employment", "phone": "13800138000"})
    issue({"service": "pickup", "phone": "13800138000"})  # a further step of the same visit
    issue({"service": "card_services", "phone": "13800138000"})  # joins the current sitting
    issue({"service": "social_insurance", "party": "enterprise"})
    issue({"service": "hiring_filing", "party": "enterprise", "headcount": 12})
    held = issue({"service": "employment"})
    missed = issue({"service": "medical_insurance"})
    issue({"service": "employment"})  # still waiting at the end
    one, nine, ten = clerk_at(1), clerk_at(9), clerk_at(10)

    def at(clerk: Staff, counter: int, action: str, body: Any = None) -> dict[str, Any]:
        clock.advance(seconds=91)
        response = clerk.counter(counter, action, body)
        assert response.status_code == 200, response.json
        return response.json

    assert at(one, 1, "call-next")["ticket"]["id"] == first["id"]
    at(one, 1, "start")
    at(one, 1, "finish", {"services": ["employment", "card_services", "social_insurance"]})
    clock.advance(seconds=5)
    client.post("/api/v1/counters/1/rating", json={"rating": 2, "reasons": ["等候时间长"]})
    at(one, 1, "call-next")  # the enterprise B001
    at(one, 1, "transfer", {"counter": 10})
    at(ten, 10, "call-next")  # E001 first (it waited longer), then B001
    at(ten, 10, "finish")
    at(ten, 10, "call-next")
    at(ten, 10, "finish")
    at(nine, 9, "call-next")  # the visit's pickup step (next_step)
    at(nine, 9, "finish")
    at(one, 1, "call", {"number": held["number"]})
    at(one, 1, "hold", {"reason": "缺材料", "keep_counter": True})
    at(one, 1, "call", {"number": held["number"]})  # back to the same counter (指呼)
    at(one, 1, "start")
    at(one, 1, "finish")
    at(one, 1, "call", {"number": missed["number"]})
    at(one, 1, "no-show")
    clock.advance(minutes=3)
    client.post(f"/api/v1/tickets/{missed['id']}/reinstate")
    at(one, 1, "call", {"number": missed["number"]})
    at(one, 1, "finish")


def ordered(facts: list[StepFacts]) -> list[StepFacts]:
    return sorted(
        facts,
        key=lambda item: (item.enqueued_at, item.queue_code, item.called_at or item.enqueued_at),
    )


def test_the_event_log_alone_gives_the_same_statistics(
    app: Flask,
    client: FlaskClient,
    clerk_at: Callable[[int], Staff],
    login: Callable[[str], Staff],
    clock: Any,
) -> None:
    busy_day(client, clerk_at, clock)
    manager = login("manager")
    events = manager.get("/api/v1/events?since=0").json["events"]
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.default_site
    replayed = facts_from_events(events, site.zone)

    def from_table(uow: UnitOfWork) -> list[StepFacts]:
        day = uow.now.astimezone(site.zone).date()
        return _step_facts(uow, (day, day))

    table = yihao.read(site, from_table)
    assert len(table) == 10  # 6 visits: their first steps, the next step, a transfer, 2 comebacks
    assert ordered(replayed) == ordered(table)
    # The visits too: 6 numbers taken, 5 visits ended done (one still waits).
    assert sum(step.first_of_visit for step in replayed) == 6
    assert len([step for step in replayed if step.visit_s is not None]) == 5

    for group in GROUPS:
        rows = yihao.read(site, live_totals, group, replayed)
        report = {
            row["key"]: row for row in manager.get(f"/api/v1/stats?group={group}").json["rows"]
        }
        assert set(report) == {key_value(group, key) for key in rows}, group
        for key, totals in rows.items():
            mine = totals.row(key, visits=group not in STEP_ONLY_GROUPS)
            theirs = report[key_value(group, key)]
            assert {name: mine[name] for name in NUMBERS} == {
                name: theirs[name] for name in NUMBERS
            }, (group, key)
