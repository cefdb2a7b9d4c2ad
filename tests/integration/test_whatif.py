"""The managers' what-if endpoints (SPEC §10, issue 17): a day recorded through the API,
replayed as it was and with changes off the request path; bad input is a 400 in the SPEC's
error shape."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from queue_server.manager.whatif import MAX_RUNNING, STALE_AFTER
from queue_server.models import WhatIfRun
from queue_server.simulation.whatif import Changes, counters_for
from tests.conftest import FakeClock, Staff
from tests.integration.test_i18n import form_login


def record_a_day(clock: FakeClock, clerk: Staff, make_ticket: Callable[..., Any]) -> str:
    """Twelve visitors 25 s apart; one counter calls the first at once and serves each for
    four minutes: the k-th (from 0) is called at 240k s and waits 215k s."""
    day = clock.now.date().isoformat()
    start = clock.now
    arrivals = [start + timedelta(seconds=25 * index) for index in range(12)]
    calls = [start + timedelta(seconds=240 * index) for index in range(12)]
    moments = sorted([(at, 0, "issue") for at in arrivals] + [(at, 1, "call") for at in calls])
    for at, _, what in moments:
        clock.now = at
        if what == "issue":
            make_ticket("social_insurance")
        else:
            if at > start:
                clerk.counter(1, "finish")
            clerk.counter(1, "call-next")
    clock.advance(minutes=4)
    clerk.counter(1, "finish")
    clock.advance(days=1)
    return day


def wait_for(manager: Staff, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = manager.get(f"/api/v1/whatif/{run_id}")
        assert response.status_code == 200, response.json
        run: dict[str, Any] = response.json["run"]
        if run["state"] != "running":
            return run
        time.sleep(0.05)
    raise AssertionError("the what-if did not finish")


def test_a_what_if_with_one_more_counter(
    clock: FakeClock,
    clerk_at: Callable[[int], Staff],
    login: Callable[[str], Staff],
    make_ticket: Callable[..., Any],
) -> None:
    day = record_a_day(clock, clerk_at(1), make_ticket)
    manager = login("manager")
    response = manager.post("/api/v1/whatif", json={"date": day, "counters": 2})
    assert response.status_code == 202, response.json
    started = response.json["run"]
    assert (started["state"], started["date"], started["result"]) == ("running", day, None)
    run = wait_for(manager, started["id"])
    assert (run["state"], run["progress"], run["error"]) == ("done", 1.0, None)
    original, changed = run["result"]["original"], run["result"]["changed"]
    assert original["visitors"] == changed["visitors"] == 12
    line_before = {line["line"]: line for line in original["lines"]}["A"]
    line_after = {line["line"]: line for line in changed["lines"]}["A"]
    # As recorded (the replay reproduces the day): waits 215k s; p50 and p90 by nearest rank.
    assert line_before["p50_wait_s"] == pytest.approx(215 * 5, rel=0.1)
    assert line_before["p90_wait_s"] == pytest.approx(215 * 10, rel=0.1)
    assert line_after["p90_wait_s"] < line_before["p90_wait_s"] / 1.5
    assert changed["within_target_pct"] >= original["within_target_pct"]
    hours = [hour["hour"] for hour in original["waiting_by_hour"]]
    assert hours == sorted(hours)
    assert max(hour["waiting"] for hour in original["waiting_by_hour"]) > max(
        hour["waiting"] for hour in changed["waiting_by_hour"]
    )
    comprehensive = [c for c in run["result"]["counters"] if set(c["queues"]) <= {"A", "B"}]
    assert [c["number"] for c in comprehensive] == [1, 2]


def test_counters_per_hour(
    clock: FakeClock,
    clerk_at: Callable[[int], Staff],
    login: Callable[[str], Staff],
    make_ticket: Callable[..., Any],
) -> None:
    day = record_a_day(clock, clerk_at(1), make_ticket)
    manager = login("manager")
    hour = (clock.now - timedelta(days=1)).astimezone(ZoneInfo("Asia/Shanghai")).hour
    assert hour == 9  # the hall's hour of the recorded day (the UTC one changed nothing)
    response = manager.post(
        "/api/v1/whatif", json={"date": day, "counters_by_hour": {str(hour): 0}}
    )
    assert response.status_code == 202, response.json
    run = wait_for(manager, response.json["run"]["id"])
    assert run["state"] == "done"
    # The day's one counter served only from 9 to 10: closed then, nobody is called all day,
    # and the twelve who came 25 s apart from 09:00 wait out the hour (not only to 09:04:35):
    # Σ (3600 − 25k) s over k = 0…11 = 41,550 s, 11.5 people on average.
    original, changed = run["result"]["original"], run["result"]["changed"]
    line = {line["line"]: line for line in changed["lines"]}["A"]
    assert (line["visitors"], line["p50_wait_s"], changed["within_target_pct"]) == (12, None, 0)
    assert changed["waiting_by_hour"] == [{"hour": 9, "waiting": 11.5}]
    assert original["waiting_by_hour"][0]["waiting"] < 11.5


def test_counters_open_per_hour_are_the_first_ones(demo_hall: Any) -> None:
    site = demo_hall.sites[0]
    counters = counters_for(site, Changes(counters=2, counters_by_hour={9: 4}))
    comprehensive = [c for c in counters if set(c.queues) <= {"A", "B"}]
    assert [c.number for c in comprehensive] == [1, 2, 3, 4]
    assert 9 in comprehensive[3].hours
    assert 10 not in comprehensive[3].hours
    assert comprehensive[1].hours is None  # open all day


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"date": "yesterday"},
        {"date": "2026-11-19", "counters": -1},
        {"date": "2026-11-19", "strategy": "random"},
        {"date": "2026-11-19", "counters_by_hour": {"25": 3}},
        {"date": "2026-11-19", "counter_changes": [{"number": 99}]},
        {"date": "2026-11-19", "counter_changes": [{"number": 1, "queues": ["Z"]}]},
        {"date": "2026-11-19"},  # a day without tickets
        {"date": "2099-01-01"},  # not a past day
    ],
)
def test_bad_input_is_a_400(login: Callable[[str], Staff], body: dict[str, Any]) -> None:
    response = login("manager").post("/api/v1/whatif", json=body)
    assert response.status_code == 400, response.json
    assert set(response.json) == {"error"}
    assert response.json["error"]["code"] == "invalid_field"
    assert response.json["error"]["message"]


def test_who_may_run_one(
    client: Any, clerk_at: Callable[[int], Staff], login: Callable[[str], Staff]
) -> None:
    assert client.post("/api/v1/whatif", json={"date": "2026-11-19"}).status_code == 401
    assert clerk_at(1).post("/api/v1/whatif", json={"date": "2026-11-19"}).status_code == 403
    missing = login("manager").get("/api/v1/whatif/nothing")
    assert (missing.status_code, missing.json["error"]["code"]) == (404, "not_found")


def test_the_page_offers_the_halls_yesterday(client: Any, clock: FakeClock) -> None:
    """07:30 on the 20th in Shanghai is still the 19th in UTC: the what-if's first choice is
    the hall's yesterday (the 19th), not the day before UTC's date."""
    clock.now = datetime(2026, 11, 19, 23, 30, tzinfo=UTC)
    form_login(client, "manager")
    html = client.get("/manager").get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="manager-config">(.*?)</script>', html)
    assert found, html
    assert json.loads(found.group(1))["yesterday"] == "2026-11-19"


def left_running(app: Flask, clock: FakeClock, day: str, ago: timedelta) -> str:
    """A run stored as `running` `ago` before now whose process is gone (no one executes
    it): as a restart or a crash leaves it."""
    extension = app.extensions["yihao"]
    run_id = f"left-{int(ago.total_seconds())}"
    with extension.sessions() as session:
        session.add(
            WhatIfRun(
                id=run_id,
                site_code=extension.hall.config.sites[0].code,
                created_at=clock.now - ago,
                created_by="manager",
                state="running",
                progress=0.1,
                request={"date": day},
            )
        )
        session.commit()
    return run_id


def test_at_most_two_runs_at_once_and_a_lost_one_reads_failed(
    app: Flask,
    clock: FakeClock,
    clerk_at: Callable[[int], Staff],
    login: Callable[[str], Staff],
    make_ticket: Callable[..., Any],
) -> None:
    day = record_a_day(clock, clerk_at(1), make_ticket)
    manager = login("manager")
    lost = left_running(app, clock, day, STALE_AFTER + timedelta(seconds=1))
    run = manager.get(f"/api/v1/whatif/{lost}").json["run"]
    assert (run["state"], run["error"], run["result"]) == ("failed", "simulation_lost", None)
    for index in range(MAX_RUNNING):  # fresh ones still running; the lost one no longer counts
        left_running(app, clock, day, timedelta(seconds=index + 1))
    refused = manager.post("/api/v1/whatif", json={"date": day})
    assert refused.status_code == 409, refused.json
    assert set(refused.json) == {"error"}
    assert refused.json["error"]["code"] == "invalid_state"
    assert refused.json["error"]["message"]
    clock.advance(minutes=11)  # both lost in turn: a new run may start, and finishes
    started = manager.post("/api/v1/whatif", json={"date": day})
    assert started.status_code == 202, started.json
    assert wait_for(manager, started.json["run"]["id"])["state"] == "done"


def test_starts_at_the_same_instant_pass_the_limit_no_more_than_it_allows(
    app: Flask,
    clock: FakeClock,
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., Any],
) -> None:
    """Six managers' starts at one instant: the count of running runs and the new run's
    insert are one step (the site's row locked on PostgreSQL), so exactly MAX_RUNNING
    start and the rest are refused."""
    from queue_server.errors import Conflict
    from queue_server.manager import whatif

    day = record_a_day(clock, clerk_at(1), make_ticket)
    extension = app.extensions["yihao"]
    site = extension.hall.config.sites[0]
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def start() -> None:
        barrier.wait()
        try:
            extension.run(site, "manager", whatif.start, {"date": day})
            outcomes.append("started")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["refused"] * (6 - MAX_RUNNING) + ["started"] * MAX_RUNNING
