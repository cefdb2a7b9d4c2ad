"""Reports against a known day built with the controllable clock: every number below is
worked out by hand from the timeline in `known_day` (SPEC §4 definitions, docs/manager.md)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from queue_server.manager.models import DailySummary
from queue_server.manager.stats import write_daily_summaries
from tests.conftest import FakeClock, Staff

DAY = "2026-11-20"  # a Friday; the clock starts at 09:00 Shanghai time


def at(clock: FakeClock, hhmmss: str) -> None:
    """Move the clock forward to a time of the test day (local)."""
    hours, minutes, seconds = (int(part) for part in hhmmss.split(":"))
    from tests.conftest import START

    target = START.replace(hour=hours - 8, minute=minutes, second=seconds)
    assert target >= clock.now, f"the clock never goes back ({hhmmss})"
    clock.now = target


def ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.json
    return response.json


@pytest.fixture
def known_day(
    clock: FakeClock,
    make_ticket: Callable[..., dict[str, Any]],
    clerk_at: Callable[[int], Staff],
    client: FlaskClient,
) -> dict[str, Any]:
    """The day (S1…S6 are the steps the reports count):
    S1 A001 employment   enq 09:00:00 called 09:10:00 (wait 600) start 09:10:30 done 09:15:30
       (service 300) at counter 1 / clerk01, rated 5
    S2 A002 card_services(+social_insurance at finish) enq 09:01:00 called 09:16:00 (wait 900
       = the 15-min target exactly: within) no start, done 09:20:00 (service 240 from the
       call), 2 items, rated 1 (reason "wait")
    S3 A003 employment   enq 09:03:00 called 09:25:00 (wait 1320 > 1200: missed) no-show
    S4 C001 maternity    enq 09:02:00 called 09:12:00 at counter 8 (wait 600) started
       09:13:00, transferred to line D at 09:14:00
    S5 C001 maternity in line D enq 09:14:00 called 09:30:00 at counter 9 (wait 960 ≤ 1500)
       done 09:35:00 (service 300 from the call)
    S6 A004 employment   enq 10:05:00, still waiting
    Five numbers taken (A001–A004, C001; S5 is C001's second step). Visits done, issue → end:
    A001 09:00:00 → 09:15:30 (930), A002 09:01:00 → 09:20:00 (1140), C001 09:02:00 →
    09:35:00 (1980), counted with their first steps (S1, S2, S4).
    """
    at(clock, "09:00:00")
    first = make_ticket("employment")
    at(clock, "09:01:00")
    second = make_ticket("card_services")
    at(clock, "09:02:00")
    third = make_ticket("maternity")
    at(clock, "09:03:00")
    fourth = make_ticket("employment")
    counter1, counter8, counter9 = clerk_at(1), clerk_at(8), clerk_at(9)
    at(clock, "09:10:00")
    assert ok(counter1.counter(1, "call-next"))["ticket"]["number"] == first["number"]
    at(clock, "09:10:30")
    ok(counter1.counter(1, "start"))
    at(clock, "09:12:00")
    assert ok(counter8.counter(8, "call-next"))["ticket"]["number"] == third["number"]
    at(clock, "09:13:00")
    ok(counter8.counter(8, "start"))
    at(clock, "09:14:00")
    ok(counter8.counter(8, "transfer", {"queue": "D"}))
    at(clock, "09:15:30")
    ok(counter1.counter(1, "finish"))
    at(clock, "09:15:40")
    ok(client.post("/api/v1/counters/1/rating", json={"rating": 5}))
    at(clock, "09:16:00")
    assert ok(counter1.counter(1, "call-next"))["ticket"]["number"] == second["number"]
    at(clock, "09:20:00")
    ok(counter1.counter(1, "finish", {"services": ["card_services", "social_insurance"]}))
    at(clock, "09:20:10")
    ok(client.post("/api/v1/counters/1/rating", json={"rating": 1, "reasons": ["wait"]}))
    at(clock, "09:25:00")
    assert ok(counter1.counter(1, "call-next"))["ticket"]["number"] == fourth["number"]
    at(clock, "09:26:00")
    ok(counter1.counter(1, "no-show"))
    at(clock, "09:30:00")
    assert ok(counter9.counter(9, "call-next"))["ticket"]["number"] == third["number"]
    at(clock, "09:35:00")
    ok(counter9.counter(9, "finish"))
    at(clock, "10:05:00")
    make_ticket("employment")
    return {"second": second}


def row(
    key: Any,
    visits: tuple[int | None, float | None],
    issued: int,
    served: int,
    items: int,
    no_show: int,
    waits: Any,
    service: float | None,
    sla: float | None,
    rating: float | None,
) -> dict[str, Any]:
    avg, p50, p90, top = waits
    tickets, avg_visit = visits
    return {
        "key": key,
        "tickets": tickets,
        "issued": issued,
        "served": served,
        "items": items,
        "no_show": no_show,
        "avg_wait_s": avg,
        "p50_wait_s": p50,
        "p90_wait_s": p90,
        "max_wait_s": top,
        "avg_service_s": service,
        "avg_visit_s": avg_visit,
        "sla_pct": sla,
        "rating_avg": rating,
    }


NO_WAITS = (None, None, None, None)
STEPS_ONLY = (None, None)  # counter and clerk rows: no tickets, no visits
EXPECTED = {
    "service": [
        row("card_services", (1, 1140.0), 1, 1, 2, 0, (900.0, 900, 900, 900), 240.0, 100.0, 1.0),
        # waits 600, 1320: p50 = rank ⌈1⌉ = 600, p90 = rank ⌈1.8⌉ = 2 → 1320
        row("employment", (3, 930.0), 3, 1, 1, 1, (960.0, 600, 1320, 1320), 300.0, 50.0, 5.0),
        row("maternity", (1, 1980.0), 2, 1, 1, 0, (780.0, 600, 960, 960), 300.0, 100.0, None),
    ],
    "queue": [
        # waits 600, 900, 1320: p50 = rank 2 → 900; p90 = rank ⌈2.7⌉ = 3 → 1320
        row("A", (4, 1035.0), 4, 2, 3, 1, (940.0, 900, 1320, 1320), 270.0, 66.7, 3.0),
        row("C", (1, 1980.0), 1, 0, 0, 0, (600.0, 600, 600, 600), None, 100.0, None),
        row("D", (0, None), 1, 1, 1, 0, (960.0, 960, 960, 960), 300.0, 100.0, None),
    ],
    "counter": [
        row(1, STEPS_ONLY, 3, 2, 3, 1, (940.0, 900, 1320, 1320), 270.0, 66.7, 3.0),
        row(8, STEPS_ONLY, 1, 0, 0, 0, (600.0, 600, 600, 600), None, 100.0, None),
        row(9, STEPS_ONLY, 1, 1, 1, 0, (960.0, 960, 960, 960), 300.0, 100.0, None),
    ],
    "clerk": [
        row("clerk01", STEPS_ONLY, 3, 2, 3, 1, (940.0, 900, 1320, 1320), 270.0, 66.7, 3.0),
        row("clerk08", STEPS_ONLY, 1, 0, 0, 0, (600.0, 600, 600, 600), None, 100.0, None),
        row("clerk09", STEPS_ONLY, 1, 1, 1, 0, (960.0, 960, 960, 960), 300.0, 100.0, None),
    ],
    "hour": [
        # waits 600, 600, 900, 960, 1320 (sum 4380): p50 = rank 3 → 900, p90 = rank 5 → 1320
        row(9, (4, 1350.0), 5, 3, 4, 1, (876.0, 900, 1320, 1320), 280.0, 80.0, 3.0),
        row(10, (1, None), 1, 0, 0, 0, NO_WAITS, None, None, None),
    ],
    "day": [row(DAY, (5, 1350.0), 6, 3, 4, 1, (876.0, 900, 1320, 1320), 280.0, 80.0, 3.0)],
}


def without_names(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in item.items() if key != "name"} for item in rows]


@pytest.mark.parametrize("group", list(EXPECTED))
def test_every_group_of_the_known_day(
    known_day: dict[str, Any], login: Callable[[str], Staff], group: str
) -> None:
    manager = login("manager")
    body = ok(manager.get(f"/api/v1/stats?group={group}&from={DAY}&to={DAY}"))
    assert without_names(body["rows"]) == EXPECTED[group]
    assert body["total"] == dict(EXPECTED["day"][0], key="total")


def test_defaults_to_today_and_names_the_rows(
    known_day: dict[str, Any], login: Callable[[str], Staff]
) -> None:
    body = ok(login("admin").get("/api/v1/stats?group=service"))
    assert (body["from"], body["to"]) == (DAY, DAY)
    assert [item["name"] for item in body["rows"]] == ["社保卡业务", "就业登记", "生育保险"]


def test_range_outside_the_day_is_empty_and_inclusive(
    known_day: dict[str, Any], login: Callable[[str], Staff]
) -> None:
    manager = login("manager")
    assert ok(manager.get("/api/v1/stats?group=day&from=2026-11-21&to=2026-11-30"))["rows"] == []
    assert ok(manager.get("/api/v1/stats?group=day&from=2026-11-01&to=2026-11-19"))["rows"] == []
    body = ok(manager.get(f"/api/v1/stats?group=day&from=2026-11-01&to={DAY}"))
    assert without_names(body["rows"]) == EXPECTED["day"]
    body = ok(manager.get(f"/api/v1/stats?group=day&from={DAY}"))
    assert without_names(body["rows"]) == EXPECTED["day"]


def test_csv_export_has_the_same_rows(
    known_day: dict[str, Any], login: Callable[[str], Staff]
) -> None:
    manager = login("manager")
    response = manager.get(f"/api/v1/stats/export.csv?group=queue&from={DAY}&to={DAY}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0][:6] == ["队列", "名称", "取号", "排队人次", "办结数", "办件量"]
    assert lines[0][12] == "平均在厅时长(秒)"
    assert lines[1] == [
        "A",
        "综合·个人",
        "4",
        "4",
        "2",
        "3",
        "1",
        "940.0",
        "900",
        "1320",
        "1320",
        "270.0",
        "1035.0",
        "66.7",
        "3.0",
    ]
    assert lines[2] == [
        "C",
        "专项（生育保险/特殊慢性病）",
        "1",
        "1",
        "0",
        "0",
        "0",
        "600.0",
        "600",
        "600",
        "600",
        "",
        "1980.0",
        "100.0",
        "",
    ]
    assert len(lines) == 4
    by_counter = manager.get(f"/api/v1/stats/export.csv?group=counter&from={DAY}&to={DAY}")
    lines = list(csv.reader(io.StringIO(by_counter.data.decode("utf-8").lstrip("\ufeff"))))
    assert lines[0][:4] == ["窗口", "名称", "取号", "叫号人次"]
    assert lines[1][:4] == ["1", "1号窗口", "", "3"]  # a counter takes no numbers

    english = manager.get(f"/api/v1/stats/export.csv?group=counter&from={DAY}&lang=en")
    lines = list(csv.reader(io.StringIO(english.data.decode("utf-8"))))
    assert lines[0] == [
        "key",
        "name",
        "tickets",
        "issued",
        "served",
        "items",
        "no_show",
        "avg_wait_s",
        "p50_wait_s",
        "p90_wait_s",
        "max_wait_s",
        "avg_service_s",
        "avg_visit_s",
        "sla_pct",
        "rating_avg",
    ]
    assert [line[0] for line in lines[1:]] == ["1", "8", "9"]
    assert lines[1][1] == "Counter 1"


def test_tickets_count_numbers_taken_not_steps(
    make_ticket: Callable[..., dict[str, Any]],
    clerk_at: Callable[[int], Staff],
    login: Callable[[str], Staff],
    clock: FakeClock,
) -> None:
    """Issue 12's reproducer: 13 numbers taken, 17 steps (4 visits moved on to a second line)."""
    for index in range(13):
        make_ticket("employment" if index % 2 else "card_services")
    clerk = clerk_at(1)
    for _ in range(4):
        clock.advance(seconds=60)
        ok(clerk.counter(1, "call-next"))
        ok(clerk.counter(1, "transfer", {"queue": "D"}))
    manager = login("manager")
    day = ok(manager.get("/api/v1/stats?group=day"))
    assert (day["rows"][0]["tickets"], day["rows"][0]["issued"]) == (13, 17)
    assert (day["total"]["tickets"], day["total"]["issued"]) == (13, 17)
    queues = {item["key"]: item for item in ok(manager.get("/api/v1/stats?group=queue"))["rows"]}
    assert (queues["A"]["tickets"], queues["A"]["issued"]) == (13, 13)
    assert (queues["D"]["tickets"], queues["D"]["issued"]) == (0, 4)  # moved there, not taken
    services = ok(manager.get("/api/v1/stats?group=service"))["rows"]
    assert sum(item["tickets"] for item in services) == 13
    assert sum(item["issued"] for item in services) == 17
    counters = ok(manager.get("/api/v1/stats?group=counter"))
    assert [(row["tickets"], row["issued"]) for row in counters["rows"]] == [(None, 4)]
    assert counters["total"]["tickets"] == 13  # the hall's total
    assert day["rows"][0]["avg_visit_s"] is None  # no visit has ended yet
    ok(clerk.counter(1, "call-next"))
    clock.advance(seconds=300)
    ok(clerk.counter(1, "finish"))
    day = ok(manager.get("/api/v1/stats?group=day"))
    assert day["rows"][0]["avg_visit_s"] == 540.0  # issued at 09:00, done 9 minutes later


def test_daily_summaries_give_the_same_numbers(
    known_day: dict[str, Any], login: Callable[[str], Staff], app: Flask, clock: FakeClock
) -> None:
    manager = login("manager")
    extension = app.extensions["yihao"]
    site = extension.hall.config.default_site
    with app.app_context():
        assert extension.run(site, "test", write_daily_summaries) == []  # the day is not over
    clock.advance(days=1)
    with app.app_context():
        assert extension.run(site, "test", write_daily_summaries) == [date(2026, 11, 20)]
        assert extension.run(site, "test", write_daily_summaries) == []  # once only
    with extension.sessions() as session:
        assert session.query(DailySummary).filter_by(report_group="hour").count() == 2
    for group, expected in EXPECTED.items():
        body = ok(manager.get(f"/api/v1/stats?group={group}&from={DAY}&to={DAY}"))
        assert without_names(body["rows"]) == expected, group
    heat = ok(manager.get(f"/api/v1/stats/heatmap?from={DAY}&to={DAY}"))
    assert heat["cells"] == [
        {"weekday": 4, "hour": 9, "arrivals": 5, "avg_wait_s": 876.0, "p90_wait_s": 1320},
        {"weekday": 4, "hour": 10, "arrivals": 1, "avg_wait_s": None, "p90_wait_s": None},
    ]


def test_heatmap_from_the_steps(known_day: dict[str, Any], login: Callable[[str], Staff]) -> None:
    heat = ok(login("manager").get(f"/api/v1/stats/heatmap?from={DAY}&to={DAY}"))
    assert [(cell["weekday"], cell["hour"], cell["arrivals"]) for cell in heat["cells"]] == [
        (4, 9, 5),
        (4, 10, 1),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "group=week",
        "from=2026-02-30",
        "from=yesterday",
        "to=2026-11-1x",
        "from=2026-11-21&to=2026-11-20",
        "from=2000-01-01&to=2026-11-20",
    ],
)
def test_bad_queries_are_400(login: Callable[[str], Staff], query: str) -> None:
    manager = login("manager")
    for path in ("/api/v1/stats", "/api/v1/stats/export.csv"):
        response = manager.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert response.json["error"]["code"] == "invalid_field"


MANAGER_PATHS = [
    "/api/v1/stats",
    "/api/v1/stats/export.csv",
    "/api/v1/stats/heatmap",
    "/api/v1/reviews",
    "/api/v1/alerts",
    "/api/v1/settings",
]


@pytest.mark.parametrize("path", MANAGER_PATHS)
def test_clerks_get_403_and_strangers_401(
    client: FlaskClient, login: Callable[[str], Staff], path: str
) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path).json["error"]["code"] == "unauthenticated"
    response = login("clerk01").get(path)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert login("manager").get(path).status_code == 200
