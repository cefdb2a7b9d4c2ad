"""The managers' live board (`GET /api/v1/stats/live`, pushed as `stats` on `/manager`): the
day so far per line, hour, counter and clerk, and wait alerts by each ticket's own business
target (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from tests.conftest import FakeClock, Staff
from tests.integration.test_realtime import connect, flush, received

Issue = Callable[..., dict[str, Any]]


def test_the_day_so_far_per_line_counter_and_clerk(
    client: Any,
    login: Callable[[str], Staff],
    clerk_at: Callable[[int], Staff],
    make_ticket: Issue,
    clock: FakeClock,
) -> None:
    make_ticket("employment")  # 09:00 local: A001
    clock.advance(hours=1)
    make_ticket("employment")  # 10:00: A002, A003
    make_ticket("employment")
    make_ticket("pickup")  # D001, line D
    clerk = clerk_at(1)
    clock.advance(minutes=1)
    assert clerk.counter(1, "call-next").json["ticket"]["number"] == "A001"  # waited 3660 s
    clock.advance(minutes=2)
    assert clerk.counter(1, "finish").status_code == 200
    assert client.post("/api/v1/counters/1/rating", json={"rating": 4}).status_code == 201
    assert clerk.counter(1, "call-next").json["ticket"]["number"] == "A002"  # waited 180 s
    clock.advance(seconds=30)
    assert clerk.counter(1, "start").status_code == 200
    clock.advance(seconds=45)

    manager = login("manager")
    live = manager.get("/api/v1/stats/live").json
    today = live["today"]
    assert (today["tickets"], today["issued"], today["served"], today["called"]) == (4, 4, 1, 2)
    assert (today["p50_wait_s"], today["p90_wait_s"]) == (180, 3660)  # nearest rank
    report = manager.get("/api/v1/stats?group=queue").json["total"]
    assert (report["p50_wait_s"], report["p90_wait_s"]) == (180, 3660)  # as the reports say
    line_a = live["queues"][0]
    assert (line_a["code"], line_a["tickets"], line_a["served"], line_a["waiting"]) == (
        "A",
        3,
        1,
        1,
    )
    assert line_a["by_hour"][9] == 1
    assert line_a["by_hour"][10] == 2
    assert sum(line_a["by_hour"]) == 3
    line_d = next(queue for queue in live["queues"] if queue["code"] == "D")
    assert (line_d["tickets"], line_d["by_hour"][10]) == (1, 1)
    counter_1 = live["counters"][0]
    assert (counter_1["current"], counter_1["service_s"], counter_1["idle_s"]) == ("A002", 45, None)
    assert live["counters"][1]["service_s"] is None
    clerks = {clerk["username"]: clerk for clerk in live["clerks"]}
    assert clerks["clerk01"]["served"] == 1
    assert clerks["clerk01"]["called"] == 2
    assert clerks["clerk01"]["rating_avg"] == 4.0
    assert clerks["clerk01"]["name"] == "张敏"


def test_an_empty_day_has_no_percentiles(login: Callable[[str], Staff]) -> None:
    live = login("manager").get("/api/v1/stats/live").json
    assert live["today"]["tickets"] == 0
    assert live["today"]["p50_wait_s"] is None
    assert live["clerks"] == []
    assert all(sum(queue["by_hour"]) == 0 for queue in live["queues"])


def test_a_line_is_overdue_by_its_tickets_own_business_target(
    login: Callable[[str], Staff], make_ticket: Issue, clock: FakeClock
) -> None:
    """Line A serves 社保卡业务 (target set to 1 minute) and 行政审批 (30 minutes): a
    行政审批 ticket waiting 5 minutes is not late, though the line's shortest target is 1."""
    admin = login("admin")
    changed = admin.post("/api/v1/settings/services/card_services", json={"target_wait_min": 1})
    assert changed.status_code == 200, changed.json
    ticket = make_ticket("admin_approval")
    assert ticket["number"].startswith("A")
    clock.advance(minutes=5)
    live = admin.get("/api/v1/stats/live").json
    line_a = live["queues"][0]
    assert line_a["target_wait_s"] == 60  # the line's shortest target, as before
    assert line_a["over_target"] == 0
    assert live["alerts"] == []

    clock.advance(minutes=26)  # 31 minutes: past 行政审批's own 30
    live = admin.get("/api/v1/stats/live").json
    assert live["queues"][0]["over_target"] == 1
    [alert] = live["alerts"]
    assert (alert["kind"], alert["queue"], alert["service"], alert["count"]) == (
        "wait_target",
        "A",
        "admin_approval",
        1,
    )
    assert (alert["waited_s"], alert["target_wait_s"]) == (31 * 60, 30 * 60)
    assert "行政审批，目标30分钟" in alert["message"]
    assert "已等候31分钟，超出1分钟" in alert["message"]


def test_the_day_so_far_is_pushed_live_on_the_manager_namespace(
    app: Flask, login: Callable[[str], Staff], make_ticket: Issue
) -> None:
    board = connect(app, "/manager", auth={"token": login("manager").token})
    snapshot = dict(received(board, "/manager"))["stats"]
    assert snapshot["today"]["tickets"] == 0
    make_ticket("employment")
    make_ticket("pickup")
    flush(app)
    stats = [payload for name, payload in received(board, "/manager") if name == "stats"][-1]
    assert stats["today"]["tickets"] == 2
    assert [queue["tickets"] for queue in stats["queues"]] == [1, 0, 0, 1, 0]
    assert sum(stats["queues"][0]["by_hour"]) == 1
