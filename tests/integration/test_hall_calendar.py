"""The hall calendar through the HTTP API with the test clock (SPEC §9): kiosks refuse outside
hours with the next opening (breaks, extended days, per-line hours, holidays, make-up
workdays, 2027 from the hall file), 差评 due dates by the calendar, and the `calendar`
alert for a day nobody knows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from queue_server.config import load_hall_file
from queue_server.manager.jobs import send_alerts
from tests.conftest import FakeClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = {
    "issue_from": "08:30",
    "issue_until": "17:30",
    "weekly": {
        "mon": [["08:30", "12:00"], ["13:30", "17:30"]],
        "sat": [["09:00", "12:00"]],
        "sun": [],
    },
    "extended": [{"date": "2026-11-26", "until": "19:00"}],
    "lines": {"E": {"weekly": {"mon": [["09:00", "11:30"]]}}},
    "open_on_holidays": False,
}
SPRING_2027 = {
    "holidays": [f"2027-02-{day:02d}" for day in range(6, 13)],
    "workdays": ["2027-02-14"],
}


def hall(hours: dict[str, Any] | None = None, **site: Any) -> dict[str, Any]:
    config = load_hall_file("config/demo-hall.yaml").model_dump()
    config["sites"][0].update(hours=HOURS if hours is None else hours, **site)
    return config


def set_clock(clock: FakeClock, local: str) -> None:
    clock.now = datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)


def take(client: FlaskClient, **fields: Any) -> Any:
    return client.post("/api/v1/tickets", json={"service": "employment", **fields})


def refused(response: Any) -> str:
    assert response.status_code == 409, response.json
    assert response.json["error"]["code"] == "hall_closed"
    message: str = response.json["error"]["message"]
    return message


def manager_get(client: FlaskClient, path: str) -> Any:
    login = client.post("/api/v1/auth/login", json={"username": "manager", "password": "demo"})
    headers = {"Authorization": f"Bearer {login.json['token']}"}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def calendar_alerts(client: FlaskClient) -> list[dict[str, Any]]:
    alerts = manager_get(client, "/api/v1/alerts")["alerts"]
    return [alert for alert in alerts if alert["kind"] == "calendar"]


@pytest.fixture
def weekly_hall(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app(HALL=hall()).test_client()


@pytest.mark.parametrize(
    ("moment", "fields", "message"),
    [
        # After closing on a Friday: Saturday morning.
        ("2026-11-20 17:30", {}, "本大厅已停止取号，下次开放：11月21日（周六）09:00"),
        # Sunday (closed all day): Monday.
        ("2026-11-22 10:00", {}, "本大厅今日不开放，下次开放：11月23日（周一）08:30"),
        # Before opening.
        ("2026-11-23 08:00", {}, "本大厅尚未开始取号，下次开放：今天08:30"),
        # The lunch break.
        ("2026-11-23 12:00", {}, "本大厅暂停取号，下次开放：今天13:30"),
        # The extended day closes at 19:00.
        ("2026-11-26 19:00", {}, "本大厅已停止取号，下次开放：11月27日（周五）08:30"),
        # Line E keeps its own Monday hours (09:00–11:30).
        (
            "2026-11-23 11:45",
            {"party": "enterprise", "headcount": 12},
            "后台企业业务（E）已停止取号，下次开放：11月24日（周二）08:30",
        ),
        # 国庆 2026: closed Thu 1 – Wed 7 Oct.
        ("2026-10-01 10:00", {}, "本大厅今日不开放，下次开放：10月8日（周四）08:30"),
        # 春节 2026: closed Sun 15 – Mon 23 Feb; Sat 14 Feb is a make-up workday.
        ("2026-02-14 18:00", {}, "本大厅已停止取号，下次开放：2月24日（周二）08:30"),
        # A plain Saturday afternoon; the make-up Saturday before 国庆 opens at Monday's hours.
        ("2026-10-09 18:00", {}, "本大厅已停止取号，下次开放：10月10日（周六）08:30"),
        ("2026-10-17 14:00", {}, "本大厅已停止取号，下次开放：10月19日（周一）08:30"),
    ],
)
def test_refused_outside_hours_with_the_next_opening(
    weekly_hall: FlaskClient, clock: FakeClock, moment: str, fields: dict[str, Any], message: str
) -> None:
    set_clock(clock, moment)
    assert refused(take(weekly_hall, **fields)) == message


@pytest.mark.parametrize(
    ("moment", "fields"),
    [
        ("2026-11-20 09:00", {}),  # a Friday: the issue_from–issue_until window
        ("2026-11-23 13:30", {}),  # Monday after the break
        ("2026-11-21 11:59", {}),  # Saturday morning
        ("2026-11-26 18:30", {}),  # the extended day
        ("2026-11-23 09:00", {"party": "enterprise", "headcount": 12}),  # E's Monday
        ("2026-11-23 14:00", {}),  # the hall is open while E is closed
        ("2026-10-10 14:00", {}),  # the make-up Saturday keeps Monday's hours
        ("2026-02-28 10:00", {}),  # the make-up Saturday after 春节
    ],
)
def test_issued_within_hours(
    weekly_hall: FlaskClient, clock: FakeClock, moment: str, fields: dict[str, Any]
) -> None:
    set_clock(clock, moment)
    assert take(weekly_hall, **fields).status_code == 201


def test_a_hall_open_on_holidays(make_app: Callable[..., Flask], clock: FakeClock) -> None:
    client = make_app(HALL=hall({**HOURS, "open_on_holidays": True})).test_client()
    set_clock(clock, "2026-10-01 10:00")  # 国庆, a Thursday: Thursday's hours
    assert take(client).status_code == 201


def test_2027_from_the_hall_file(make_app: Callable[..., Flask], clock: FakeClock) -> None:
    client = make_app(HALL=hall(calendar=SPRING_2027)).test_client()
    set_clock(clock, "2027-02-08 10:00")  # 春节 2027, a Monday
    assert refused(take(client)) == "本大厅今日不开放，下次开放：2月13日（周六）09:00"
    set_clock(clock, "2027-02-14 14:00")  # the make-up Sunday, at Monday's hours
    assert take(client).status_code == 201
    set_clock(clock, "2027-03-01 10:00")  # 2027 is entered: known, no alert
    assert take(client).status_code == 201
    assert calendar_alerts(client) == []


def test_a_2027_day_nobody_knows_alerts_managers_and_uses_the_weekly_hours(
    make_app: Callable[..., Flask], clock: FakeClock
) -> None:
    app = make_app(HALL=hall())
    client = app.test_client()
    set_clock(clock, "2027-03-01 10:00")  # a Monday: open by the weekly hours
    assert take(client).status_code == 201
    alerts = calendar_alerts(client)
    assert len(alerts) == 1
    assert "2027年" in alerts[0]["message"]
    assert alerts[0]["detail"] == {"day": "2027-03-01", "year": 2027}
    set_clock(clock, "2027-03-02 10:00")
    assert take(client).status_code == 201
    assert len(calendar_alerts(client)) == 1  # once per year


def test_refused_on_an_unknown_day_the_alert_job_tells_managers(
    make_app: Callable[..., Flask], clock: FakeClock
) -> None:
    app = make_app(HALL=hall())
    client = app.test_client()
    set_clock(clock, "2027-03-06 14:00")  # a Saturday afternoon: closed by the weekly hours
    assert refused(take(client)) == "本大厅已停止取号，下次开放：3月8日（周一）08:30"
    assert calendar_alerts(client) == []  # the refusal is rolled back with its alert
    assert send_alerts(app.extensions["yihao"]) == 1  # the job looks at today and tomorrow
    assert send_alerts(app.extensions["yihao"]) == 0
    assert len(calendar_alerts(client)) == 1


def test_the_demo_hall_never_closes_and_needs_no_calendar(
    client: FlaskClient, clock: FakeClock
) -> None:
    for moment in ("2026-10-01 03:00", "2027-02-10 23:59", "2027-03-06 14:00"):
        set_clock(clock, moment)
        assert take(client).status_code in (200, 201)
    assert calendar_alerts(client) == []


# -- 差评 due dates ----------------------------------------------------------------------
def rate_badly(client: FlaskClient) -> None:
    login = client.post("/api/v1/auth/login", json={"username": "clerk01", "password": "demo"})
    headers = {"Authorization": f"Bearer {login.json['token']}"}
    take(client)
    for action in ("sign-in", "call-next", "finish", "sign-out"):
        response = client.post(f"/api/v1/counters/1/{action}", headers=headers)
        assert response.status_code == 200, response.json
    response = client.post("/api/v1/counters/1/rating", json={"rating": 1, "reasons": ["wait"]})
    assert response.status_code == 201, response.json


@pytest.mark.parametrize(
    ("rated", "due"),
    [
        ("2025-12-31 10:00", "2026-01-22"),  # 元旦 2026, Sun 4 Jan worked
        ("2026-02-10 10:00", "2026-03-09"),  # 春节 2026, Sat 14 and Sat 28 Feb worked
        ("2026-09-25 10:00", "2026-10-22"),  # 中秋 and 国庆 2026, Sat 10 Oct worked
    ],
)
def test_due_dates_by_the_library(
    client: FlaskClient, clock: FakeClock, rated: str, due: str
) -> None:
    set_clock(clock, rated)
    rate_badly(client)
    review = manager_get(client, "/api/v1/reviews")["reviews"][0]
    assert review["due"] == due
    assert calendar_alerts(client) == []


def test_due_date_by_the_hall_files_2027_dates(
    make_app: Callable[..., Flask], clock: FakeClock
) -> None:
    client = make_app(HALL=hall(hours={"open_on_holidays": True}, calendar=SPRING_2027))
    client = client.test_client()
    set_clock(clock, "2027-02-01 10:00")
    rate_badly(client)
    review = manager_get(client, "/api/v1/reviews")["reviews"][0]
    assert review["due"] == "2027-02-26"  # 6–12 Feb off, Sun 14 Feb worked
    assert calendar_alerts(client) == []


def test_due_date_into_an_unknown_year_alerts_and_counts_monday_to_friday(
    client: FlaskClient, clock: FakeClock
) -> None:
    set_clock(clock, "2026-12-20 10:00")
    rate_badly(client)
    review = manager_get(client, "/api/v1/reviews")["reviews"][0]
    assert review["due"] == "2027-01-08"  # 1 Jan 2027 counted as a working day: a fallback
    alerts = calendar_alerts(client)
    assert len(alerts) == 1
    assert alerts[0]["detail"]["day"] == "2027-01-01"
    assert "差评整改期限" in alerts[0]["message"]


# -- the hall screen ------------------------------------------------------------------------
def test_snapshot_shows_todays_hours_and_the_next_opening(
    weekly_hall: FlaskClient, clock: FakeClock
) -> None:
    set_clock(clock, "2026-11-23 10:00")
    hours = weekly_hall.get("/api/v1/display/snapshot").json["hours"]
    assert hours == {
        "today": [["08:30", "12:00"], ["13:30", "17:30"]],
        "open": True,
        "next_opening": None,
        "next_opening_text": None,
    }
    set_clock(clock, "2026-11-23 18:00")
    hours = weekly_hall.get("/api/v1/display/snapshot").json["hours"]
    assert hours["open"] is False
    assert hours["next_opening"] == "2026-11-24T08:30+08:00"
    assert hours["next_opening_text"] == "11月24日（周二）08:30"
