"""Hall settings (admin): a service's target wait and daily quota, the hall notice, a counter's
lines, strategy and state. Each change takes effect at the next request (no restart), is an
event in the log, is refused to managers and clerks, and bad input is a 400 (never a 500)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FakeClock, Staff

SERVICE = "/api/v1/settings/services"
COUNTER = "/api/v1/settings/counters"
NOTICE = "/api/v1/settings/notice"


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.json
    return response.json


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json["error"]["code"] == code


def events(staff: Staff, kind: str) -> list[dict[str, Any]]:
    found = ok(staff.get("/api/v1/events?since=0"))["events"]
    return [event for event in found if event["kind"] == kind]


@pytest.fixture
def admin(login: Callable[[str], Staff]) -> Staff:
    return login("admin")


# -- a service's target wait -------------------------------------------------------------
def test_target_wait_takes_effect_at_once_and_is_logged(
    client: FlaskClient, admin: Staff, make_ticket: Callable[..., dict[str, Any]]
) -> None:
    make_ticket("employment")  # A, whose lowest target is 15 min (card_services)
    settings = ok(admin.post(f"{SERVICE}/card_services", {"target_wait_min": 5}))
    card = next(s for s in settings["services"] if s["code"] == "card_services")
    assert card["target_wait_min"] == 5
    assert settings["changes"][0]["name"] == "service.card_services.target_wait_min"

    services = ok(client.get("/api/v1/services"))
    assert next(s for s in services if s["code"] == "card_services")["target_wait_min"] == 5
    live = ok(admin.get("/api/v1/stats/live"))
    assert next(q for q in live["queues"] if q["code"] == "A")["target_wait_s"] == 300

    (event,) = events(admin, "setting")
    assert event["actor"] == "admin"
    assert event["detail"] == {
        "name": "service.card_services.target_wait_min",
        "old": None,
        "new": 5,
    }
    ok(admin.post(f"{SERVICE}/card_services", {"target_wait_min": 12.5}))
    latest = events(admin, "setting")[-1]["detail"]
    assert (latest["old"], latest["new"]) == (5, 12.5)
    changes = ok(admin.get("/api/v1/settings"))["changes"]
    assert [change["new"] for change in changes] == [12.5, 5]  # newest first


def test_a_new_app_on_the_same_database_sees_the_target(
    make_app: Callable[..., Flask], admin: Staff
) -> None:
    ok(admin.post(f"{SERVICE}/pickup", {"target_wait_min": 7}))
    restarted = make_app().test_client()
    services = ok(restarted.get("/api/v1/services"))
    assert next(s for s in services if s["code"] == "pickup")["target_wait_min"] == 7


# -- a service's daily quota ---------------------------------------------------------------
def test_a_quota_set_at_noon_counts_the_morning(
    client: FlaskClient, admin: Staff, make_ticket: Callable[..., dict[str, Any]]
) -> None:
    make_ticket("maternity")
    make_ticket("maternity")
    ok(admin.post(f"{SERVICE}/maternity", {"daily_quota": 2}))
    refused(client.post("/api/v1/tickets", json={"service": "maternity"}), 409, "quota_reached")


def test_daily_quota_takes_effect_at_once_and_zero_removes_it(
    client: FlaskClient, admin: Staff, make_ticket: Callable[..., dict[str, Any]]
) -> None:
    settings = ok(admin.post(f"{SERVICE}/maternity", {"daily_quota": 2}))
    assert next(s for s in settings["services"] if s["code"] == "maternity")["daily_quota"] == 2
    make_ticket("maternity")
    make_ticket("maternity")
    full = client.post("/api/v1/tickets", json={"service": "maternity"})
    refused(full, 409, "quota_reached")
    make_ticket("pickup")  # other businesses are not limited

    settings = ok(admin.post(f"{SERVICE}/maternity", {"daily_quota": 0}))
    assert next(s for s in settings["services"] if s["code"] == "maternity")["daily_quota"] is None
    make_ticket("maternity")

    details = [event["detail"] for event in events(admin, "setting")]
    assert details == [
        {"name": "service.maternity.daily_quota", "old": None, "new": 2},
        {"name": "service.maternity.daily_quota", "old": 2, "new": None},
    ]


# -- the hall notice -----------------------------------------------------------------------
def test_notice_reaches_the_screens_at_once_and_is_logged(
    client: FlaskClient, admin: Staff
) -> None:
    before = ok(client.get("/api/v1/display/snapshot"))["notice"]
    settings = ok(admin.post(NOTICE, {"notice": "今日下午系统升级，社保卡业务暂停办理"}))
    assert settings["notice"] == "今日下午系统升级，社保卡业务暂停办理"
    snapshot = ok(client.get("/api/v1/display/snapshot"))
    assert snapshot["notice"] == "今日下午系统升级，社保卡业务暂停办理"
    (event,) = events(admin, "setting")
    assert event["detail"] == {
        "name": "notice",
        "old": None,
        "new": "今日下午系统升级，社保卡业务暂停办理",
    }
    assert before  # the hall file's notice was there before
    ok(admin.post(NOTICE, {"notice": ""}))  # an empty notice clears it
    assert ok(client.get("/api/v1/display/snapshot"))["notice"] == ""


# -- a counter's lines, strategy and state -------------------------------------------------
def test_counter_lines_take_effect_at_the_next_call(
    admin: Staff,
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., dict[str, Any]],
    clock: FakeClock,
) -> None:
    pickup = make_ticket("pickup")  # line D; counter 8 serves only C
    clerk = clerk_at(8)
    assert ok(clerk.counter(8, "call-next"))["ticket"] is None

    settings = ok(admin.post(f"{COUNTER}/8", {"queues": ["C", "D", "D"]}))
    counter = next(c for c in settings["counters"] if c["number"] == 8)
    assert counter["queues"] == ["C", "D"]  # repeated lines once
    called = ok(clerk.counter(8, "call-next"))["ticket"]
    assert called["number"] == pickup["number"]

    (event,) = events(admin, "setting")
    assert event["detail"] == {"name": "counter.8.queues", "old": None, "new": ["C", "D"]}
    listed = ok(admin.get("/api/v1/counters"))
    assert next(c for c in listed if c["counter"] == 8)["queues"] == ["C", "D"]


def test_counter_lines_survive_a_restart(make_app: Callable[..., Flask], admin: Staff) -> None:
    ok(admin.post(f"{COUNTER}/9", {"queues": ["D", "C"], "strategy": "ordered"}))
    restarted = make_app().test_client()
    login = restarted.post("/api/v1/auth/login", json={"username": "admin", "password": "demo"})
    headers = {"Authorization": f"Bearer {login.json['token']}"}
    counters = ok(restarted.get("/api/v1/settings", headers=headers))["counters"]
    counter = next(c for c in counters if c["number"] == 9)
    assert (counter["queues"], counter["strategy"]) == (["D", "C"], "ordered")


def test_counter_strategy_takes_effect_at_the_next_call(
    admin: Staff,
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., dict[str, Any]],
    clock: FakeClock,
) -> None:
    individual = make_ticket("employment")  # line A, first in
    clock.advance(minutes=1)
    enterprise = make_ticket("employment", party="enterprise")  # line B, later
    clock.advance(minutes=1)
    ok(admin.post(f"{COUNTER}/1", {"queues": ["B", "A"], "strategy": "ordered"}))
    clerk = clerk_at(1)
    # ordered: line B before line A, although the A ticket waited longer
    assert ok(clerk.counter(1, "call-next"))["ticket"]["number"] == enterprise["number"]
    ok(clerk.counter(1, "finish"))

    ok(admin.post(f"{COUNTER}/1", {"strategy": "fifo"}))
    third = make_ticket("employment", party="enterprise")
    assert ok(clerk.counter(1, "call-next"))["ticket"]["number"] == individual["number"]
    ok(clerk.counter(1, "finish"))
    assert ok(clerk.counter(1, "call-next"))["ticket"]["number"] == third["number"]

    names = [(e["detail"]["name"], e["detail"]["new"]) for e in events(admin, "setting")]
    assert names == [
        ("counter.1.queues", ["B", "A"]),
        ("counter.1.strategy", "ordered"),
        ("counter.1.strategy", "fifo"),
    ]


def test_pause_resume_and_close_a_counter(
    admin: Staff,
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., dict[str, Any]],
) -> None:
    clerk = clerk_at(2)
    make_ticket("employment")

    paused = ok(admin.post(f"{COUNTER}/2", {"state": "paused"}))
    assert next(c for c in paused["counters"] if c["number"] == 2)["state"] == "paused"
    refused(clerk.counter(2, "call-next"), 409, "counter_not_open")

    ok(admin.post(f"{COUNTER}/2", {"state": "open"}))
    ok(clerk.counter(2, "call-next"))
    # A ticket in hand: the counter cannot be closed under the clerk.
    refused(admin.post(f"{COUNTER}/2", {"state": "closed"}), 409, "invalid_state")
    ok(clerk.counter(2, "finish"))

    closed = ok(admin.post(f"{COUNTER}/2", {"state": "closed"}))
    counter = next(c for c in closed["counters"] if c["number"] == 2)
    assert (counter["state"], counter["clerk"]) == ("closed", None)
    # A closed counter opens only when a clerk signs in.
    refused(admin.post(f"{COUNTER}/2", {"state": "open"}), 400, "invalid_field")
    refused(admin.post(f"{COUNTER}/2", {"state": "paused"}), 409, "counter_not_open")

    changes = [
        (event["actor"], event["kind"])
        for event in ok(admin.get("/api/v1/events?since=0"))["events"]
        if event["kind"].startswith("counter_") and event["counter"] == 2
    ]
    assert changes == [
        ("clerk02", "counter_open"),
        ("admin", "counter_paused"),
        ("admin", "counter_open"),
        ("admin", "counter_closed"),
    ]


# -- who may ---------------------------------------------------------------------------------
CHANGES = [
    (f"{SERVICE}/employment", {"target_wait_min": 10}),
    (f"{SERVICE}/employment", {"daily_quota": 5}),
    (NOTICE, {"notice": "不该出现"}),
    (f"{COUNTER}/3", {"queues": ["C"]}),
    (f"{COUNTER}/3", {"strategy": "ordered"}),
    (f"{COUNTER}/3", {"state": "paused"}),
]


@pytest.mark.parametrize(("path", "body"), CHANGES)
def test_only_an_admin_may_change_settings(
    client: FlaskClient,
    login: Callable[[str], Staff],
    clerk_at: Callable[[int], Staff],
    path: str,
    body: dict[str, Any],
) -> None:
    clerk = clerk_at(3)
    refused(client.post(path, json=body), 401, "unauthenticated")
    refused(clerk.post(path, body), 403, "forbidden")
    manager = login("manager")
    refused(manager.post(path, body), 403, "forbidden")

    settings = ok(manager.get("/api/v1/settings"))  # managers may read them
    assert settings["changes"] == []
    assert next(c for c in settings["counters"] if c["number"] == 3)["state"] == "open"
    assert events(manager, "setting") == []
    assert ok(login("admin").post(path, body))


# -- bad input -----------------------------------------------------------------------------
BAD = [
    (f"{SERVICE}/employment", {}, 400, "invalid_field"),
    (f"{SERVICE}/employment", {"target_wait_min": 0}, 400, "invalid_field"),
    (f"{SERVICE}/employment", {"target_wait_min": -5}, 400, "invalid_field"),
    (f"{SERVICE}/employment", {"target_wait_min": "20"}, 400, "invalid_field"),
    (f"{SERVICE}/employment", {"target_wait_min": 100000}, 400, "invalid_field"),
    (f"{SERVICE}/employment", {"target_wait_min": None}, 400, "invalid_field"),
    (f"{SERVICE}/employment", {"daily_quota": -1}, 400, "invalid_field"),
    (f"{SERVICE}/employment", {"daily_quota": 2.5}, 400, "invalid_field"),
    (f"{SERVICE}/employment", {"daily_quota": True}, 400, "invalid_field"),
    (f"{SERVICE}/nothing", {"target_wait_min": 10}, 404, "not_found"),
    (NOTICE, {}, 400, "invalid_field"),
    (NOTICE, {"notice": 42}, 400, "invalid_field"),
    (NOTICE, {"notice": None}, 400, "invalid_field"),
    (NOTICE, {"notice": "长" * 501}, 400, "invalid_field"),
    (NOTICE, {"notice": "a\u0000b"}, 400, "invalid_field"),
    (f"{COUNTER}/3", {}, 400, "invalid_field"),
    (f"{COUNTER}/3", {"queues": []}, 400, "invalid_field"),
    (f"{COUNTER}/3", {"queues": ["Z"]}, 400, "invalid_field"),
    (f"{COUNTER}/3", {"queues": "A"}, 400, "invalid_field"),
    (f"{COUNTER}/3", {"queues": [1]}, 400, "invalid_field"),
    (f"{COUNTER}/3", {"strategy": "random"}, 400, "invalid_field"),
    (f"{COUNTER}/3", {"state": "broken"}, 400, "invalid_field"),
    (f"{COUNTER}/99", {"state": "paused"}, 404, "not_found"),
    (f"{COUNTER}/x", {"state": "paused"}, 404, "not_found"),
]


@pytest.mark.parametrize(("path", "body", "status", "code"), BAD)
def test_bad_input_is_refused_and_changes_nothing(
    admin: Staff, path: str, body: dict[str, Any], status: int, code: str
) -> None:
    before = ok(admin.get("/api/v1/settings"))
    refused(admin.post(path, body), status, code)
    assert ok(admin.get("/api/v1/settings")) == before
    assert events(admin, "setting") == []


@pytest.mark.parametrize("path", [f"{SERVICE}/employment", NOTICE, f"{COUNTER}/3"])
@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"notice"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_invalid_json(
    admin: Staff, path: str, raw: bytes
) -> None:
    response = admin.client.post(
        path, data=raw, headers={**admin.headers, "Content-Type": "application/json"}
    )
    refused(response, 400, "invalid_json")


FIELD_MESSAGES = [
    (
        f"{SERVICE}/employment",
        {"target_wait_min": -5},
        "目标等候时间须为大于 0、不超过 1440 的分钟数",
        "The target wait must be a number of minutes above 0 and at most 1440",
    ),
    (
        f"{SERVICE}/employment",
        {"target_wait_min": "20"},
        "目标等候时间须为大于 0、不超过 1440 的分钟数",
        "The target wait must be a number of minutes above 0 and at most 1440",
    ),
    (
        f"{SERVICE}/employment",
        {"daily_quota": -1},
        "每日限额须为 0 到 100000 之间的整数（0 表示不限）",
        "The daily quota must be a whole number from 0 to 100000 (0: no quota)",
    ),
    (
        f"{COUNTER}/3",
        {"strategy": "random"},
        "叫号策略须为先到先叫（fifo）或按队列顺序（ordered）",
        "The calling strategy must be first come, first called (fifo) or by line order (ordered)",
    ),
    (
        f"{COUNTER}/3",
        {"queues": []},
        "队列须为 1 到 20 个队列代码的列表",
        "Lines must be a list of 1 to 20 line codes",
    ),
    (
        f"{COUNTER}/3",
        {"state": "broken"},
        "窗口状态须为暂停（paused）、开放（open）或关闭（closed）",
        "The counter state must be paused, open or closed",
    ),
    (
        NOTICE,
        {"notice": "长" * 501},
        "公告须为不超过 500 个字符的文字",
        "The notice must be text of at most 500 characters",
    ),
]


@pytest.mark.parametrize(("path", "body", "chinese", "english"), FIELD_MESSAGES)
def test_bad_settings_say_what_is_wrong_per_field_in_the_page_language(
    admin: Staff, path: str, body: dict[str, Any], chinese: str, english: str
) -> None:
    """Not pydantic's English ("target_wait_min: Input should be greater than 0"): the
    field's own message, in the SPEC's error shape, Chinese or (?lang=en) English."""
    response = admin.post(path, body)
    assert response.status_code == 400
    assert response.json == {"error": {"code": "invalid_field", "message": chinese}}
    response = admin.post(path + "?lang=en", body)
    assert response.status_code == 400
    assert response.json == {"error": {"code": "invalid_field", "message": english}}
