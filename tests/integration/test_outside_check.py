"""An outside check of the newest work (issues 14, 16, 17), as visitors, clerks, managers and
an attacker would try it: each test here failed before its fix.

- A hall file with several sites: a manager or admin who belongs to one site stays in it
  (the Socket.IO `/manager` namespace already kept them there; the HTTP API let them name
  another with `?site=`), and a bad review is assigned only to staff of its own site.
- Dates are YYYY-MM-DD everywhere: a number (`?to=0`, `"date": "1700000000"`) is not read as
  seconds since 1970 by the booking, visit and what-if endpoints either.
- A counter's lines are listed once each."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from queue_server.config import HallConfig, parse_hall
from tests.conftest import Staff

VISITOR = "11010519491231002X"  # a valid ID card number (check character X)


def ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def expect(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == code


# -- a hall file with two sites -----------------------------------------------------------
@pytest.fixture
def two_sites(demo_hall_data: Any) -> HallConfig:
    """The demo hall plus a second site `north` with its own clerk, manager and admin."""
    data = copy.deepcopy(demo_hall_data)
    north = copy.deepcopy(data["sites"][0])
    north.update(code="north", name="一号人社北区大厅", name_en="Yihao North Hall")
    data["sites"].append(north)
    password = next(u for u in data["users"] if u["username"] == "manager")["password_hash"]
    for username, role, extra in (
        ("north_clerk", "clerk", {"name": "北区柜员", "counter": 1, "counters": [1]}),
        ("north_manager", "manager", {"name": "北区经理"}),
        ("north_admin", "admin", {"name": "北区管理员"}),
    ):
        data["users"].append(
            {
                "username": username,
                "role": role,
                "site": "north",
                "password_hash": password,
                "name": extra.pop("name"),
                **extra,
            }
        )
    return parse_hall(data, source="two-sites")


@pytest.fixture
def hall_client(make_app: Callable[..., Flask], two_sites: HallConfig) -> FlaskClient:
    return make_app(HALL=two_sites).test_client()


def staff(client: FlaskClient, username: str) -> Staff:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": "demo"})
    assert response.status_code == 200, response.get_json()
    return Staff(client, response.get_json()["token"])


MANAGER_READS = [
    "/api/v1/stats/live",
    "/api/v1/stats",
    "/api/v1/stats/export.csv",
    "/api/v1/stats/heatmap",
    "/api/v1/stats/appointments",
    "/api/v1/stats/visits",
    "/api/v1/reviews",
    "/api/v1/alerts",
    "/api/v1/settings",
    "/api/v1/appointments",
    "/api/v1/counters",
    "/api/v1/events?since=0",
]


@pytest.mark.parametrize("path", MANAGER_READS)
def test_a_manager_of_one_site_cannot_read_another(hall_client: FlaskClient, path: str) -> None:
    north = staff(hall_client, "north_manager")
    separator = "&" if "?" in path else "?"
    expect(north.get(f"{path}{separator}site=main"), 403, "forbidden")
    assert north.get(f"{path}{separator}site=north").status_code == 200
    assert north.get(path).status_code == 200  # its own site by default
    # A manager who belongs to no site may still name either.
    anywhere = staff(hall_client, "manager")
    assert anywhere.get(f"{path}{separator}site=north").status_code == 200
    assert anywhere.get(path).status_code == 200


def test_a_manager_of_one_site_cannot_act_in_another(hall_client: FlaskClient) -> None:
    main_clerk = staff(hall_client, "clerk01")
    ok(main_clerk.counter(1, "sign-in"))
    north = staff(hall_client, "north_manager")
    expect(north.post("/api/v1/counters/1/pause?site=main", {}), 403, "forbidden")
    expect(north.post("/api/v1/whatif?site=main", {"date": "2026-11-19"}), 403, "forbidden")
    counters = ok(staff(hall_client, "manager").get("/api/v1/counters"))
    assert next(c for c in counters if c["counter"] == 1)["state"] == "open"


def test_an_admin_of_one_site_cannot_change_another(hall_client: FlaskClient) -> None:
    north = staff(hall_client, "north_admin")
    expect(
        north.post("/api/v1/settings/notice?site=main", {"notice": "北区的公告"}), 403, "forbidden"
    )
    main_notice = ok(staff(hall_client, "manager").get("/api/v1/settings"))["notice"]
    assert main_notice != "北区的公告"
    assert ok(north.post("/api/v1/settings/notice", {"notice": "北区的公告"}))["notice"] == (
        "北区的公告"
    )
    assert ok(staff(hall_client, "manager").get("/api/v1/settings"))["notice"] == main_notice


def test_a_bad_review_is_assigned_only_to_staff_of_its_site(hall_client: FlaskClient) -> None:
    clerk = staff(hall_client, "clerk01")
    ok(clerk.counter(1, "sign-in"))
    ok(hall_client.post("/api/v1/tickets", json={"service": "employment"}))
    ok(clerk.counter(1, "call-next"))
    ok(clerk.counter(1, "finish"))
    ok(hall_client.post("/api/v1/counters/1/rating", json={"rating": 1}))
    manager = staff(hall_client, "manager")
    review_id = ok(manager.get("/api/v1/reviews"))["reviews"][0]["id"]
    refused = manager.post(f"/api/v1/reviews/{review_id}/assign", {"assignee": "north_clerk"})
    expect(refused, 400, "invalid_field")
    assert ok(manager.get("/api/v1/reviews"))["reviews"][0]["assignee"] is None
    assigned = ok(manager.post(f"/api/v1/reviews/{review_id}/assign", {"assignee": "clerk02"}))
    assert assigned["review"]["assignee"] == "clerk02"
    # Staff of no site (the hall's own manager and admin) work everywhere.
    assigned = ok(manager.post(f"/api/v1/reviews/{review_id}/assign", {"assignee": "admin"}))
    assert assigned["review"]["assignee"] == "admin"


# -- dates are YYYY-MM-DD, never seconds since 1970 -----------------------------------------
NUMERIC_DATES = ["0", "1700006400", "20261120"]


@pytest.mark.parametrize("value", NUMERIC_DATES)
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stats/appointments?from={}",
        "/api/v1/stats/appointments?to={}",
        "/api/v1/stats/visits?from={}",
        "/api/v1/stats/visits?to={}",
        "/api/v1/appointments?date={}",
        "/api/v1/stats?from={}",  # (already refused: the reference)
    ],
)
def test_a_number_is_not_a_date_in_the_managers_reports(
    login: Callable[[str], Staff], path: str, value: str
) -> None:
    manager = login("manager")
    expect(manager.get(path.format(value)), 400, "invalid_field")


@pytest.mark.parametrize("value", NUMERIC_DATES)
def test_a_number_is_not_a_date_for_bookings_and_what_ifs(
    client: FlaskClient, login: Callable[[str], Staff], value: str
) -> None:
    slots = client.get(f"/api/v1/appointments/slots?service=social_insurance&date={value}")
    expect(slots, 400, "invalid_field")
    assert "YYYY-MM-DD" in slots.get_json()["error"]["message"]
    booking = {"service": "social_insurance", "visitor_id": VISITOR, "start": "09:00"}
    for date_value in (value, int(value)):
        booked = client.post("/api/v1/appointments", json={**booking, "date": date_value})
        expect(booked, 400, "invalid_field")
        assert "YYYY-MM-DD" in booked.get_json()["error"]["message"]
        whatif = login("manager").post("/api/v1/whatif", {"date": date_value})
        expect(whatif, 400, "invalid_field")
        assert "YYYY-MM-DD" in whatif.get_json()["error"]["message"]


@pytest.mark.parametrize("value", ["0", 0, 1764547200, "1764547200", "2026-11-23T00:00:00"])
def test_a_number_is_not_a_pickup_day(
    clerk_at: Callable[[int], Staff], make_ticket: Callable[..., Any], value: Any
) -> None:
    clerk = clerk_at(1)
    make_ticket()
    ok(clerk.counter(1, "call-next"))
    finished = clerk.counter(1, "finish", {"pickup_on": value})
    expect(finished, 400, "invalid_field")
    assert "YYYY-MM-DD" in finished.get_json()["error"]["message"]
    # the visit is still in hand: nothing was recorded
    assert ok(clerk.counter(1, "finish", {"pickup_on": "2026-11-23"}))["ticket"]["pickup_on"] == (
        "2026-11-23"
    )


# -- alerts carry their figures, so the managers' page can say them in its language ---------
def test_a_paused_counter_alert_names_its_clerk_in_its_figures(
    app: Flask, clerk_at: Callable[[int], Staff], login: Callable[[str], Staff], clock: Any
) -> None:
    from queue_server.services.alerts import check_alerts

    clerk = clerk_at(1)
    ok(clerk.counter(1, "pause", {"reason": "会议"}))
    clock.advance(minutes=16)
    extension = app.extensions["yihao"]
    assert extension.run(extension.hall.config.default_site, "system", check_alerts) == 1
    alerts = ok(login("manager").get("/api/v1/alerts"))["alerts"]
    assert [(alert["kind"], alert["detail"]) for alert in alerts] == [
        ("counter_paused", {"counter": 1, "clerk_name": "张敏", "paused_s": 960})
    ]


# -- what-ifs: a bounded number at once; one lost with its process ends -----------------------
@pytest.fixture
def recorded_day(
    clock: Any, clerk_at: Callable[[int], Staff], make_ticket: Callable[..., Any]
) -> str:
    from tests.integration.test_whatif import record_a_day

    return record_a_day(clock, clerk_at(1), make_ticket)


def test_what_ifs_are_bounded_and_a_lost_one_reads_failed(
    app: Flask, clock: Any, login: Callable[[str], Staff], recorded_day: str
) -> None:
    from queue_server.manager import whatif
    from tests.integration.test_whatif import wait_for

    day = recorded_day
    extension = app.extensions["yihao"]
    site = extension.hall.config.default_site
    # Two runs stored by a process that then died (a restart): never executed.
    lost = [extension.run(site, "manager", whatif.start, {"date": day}) for _ in range(2)]
    manager = login("manager")
    refused = manager.post("/api/v1/whatif", {"date": day})
    expect(refused, 409, "invalid_state")
    assert ok(manager.get(f"/api/v1/whatif/{lost[0]['id']}"))["run"]["state"] == "running"
    clock.advance(minutes=10)
    run = ok(manager.get(f"/api/v1/whatif/{lost[0]['id']}"))["run"]
    assert (run["state"], run["error"], run["result"]) == ("failed", "simulation_lost", None)
    started = manager.post("/api/v1/whatif", {"date": day})
    assert started.status_code == 202, started.get_json()
    assert wait_for(manager, started.get_json()["run"]["id"])["state"] == "done"


@pytest.mark.parametrize(
    ("hours", "lang", "message"),
    [
        ({"25": 3}, "zh", "counters_by_hour：小时须为 0–23，窗口数须为 0–99（25: 3）"),
        ({"9": -1}, "zh", "counters_by_hour：小时须为 0–23，窗口数须为 0–99（9: -1）"),
        ({"9": 100}, "en", "counters_by_hour: hours are 0–23 and counters 0–99 (9: 100)"),
    ],
)
def test_a_what_ifs_hours_out_of_range_are_said_in_words(
    login: Callable[[str], Staff], hours: dict[str, int], lang: str, message: str
) -> None:
    manager = login("manager")
    refused = manager.post(
        f"/api/v1/whatif?lang={lang}", {"date": "2026-11-19", "counters_by_hour": hours}
    )
    expect(refused, 400, "invalid_field")
    assert refused.get_json()["error"]["message"] == message


# -- check-in with the code of a later day's booking ----------------------------------------
def test_a_cancelled_booking_of_a_later_day_is_not_too_early(client: FlaskClient) -> None:
    booking = {"service": "social_insurance", "visitor_id": VISITOR, "start": "10:00"}
    later = ok(client.post("/api/v1/appointments", json={**booking, "date": "2026-11-21"}))
    code, booking_id = later["appointment"]["code"], later["appointment"]["id"]
    expect(client.post("/api/v1/tickets", json={"appointment": code}), 409, "too_early")
    ok(client.post(f"/api/v1/appointments/{booking_id}/cancel", json={}))
    refused = client.post("/api/v1/tickets", json={"appointment": code})
    expect(refused, 409, "invalid_state")  # SPEC §8: a used or cancelled code
    assert "已取消" in refused.get_json()["error"]["message"]


# -- a booking or a ticket of the second site is found by its id ----------------------------
def test_a_booking_and_a_ticket_of_another_site_are_found_by_id(hall_client: FlaskClient) -> None:
    booking = {"service": "social_insurance", "visitor_id": VISITOR, "start": "10:00"}
    north = ok(
        hall_client.post(
            "/api/v1/appointments", json={**booking, "date": "2026-11-21", "site": "north"}
        )
    )["appointment"]
    cancelled = ok(hall_client.post(f"/api/v1/appointments/{north['id']}/cancel", json={}))
    assert cancelled["appointment"]["state"] == "cancelled"
    expect(hall_client.post("/api/v1/appointments/nope/cancel", json={}), 404, "not_found")
    ticket = ok(
        hall_client.post("/api/v1/tickets", json={"service": "employment", "site": "north"})
    )["ticket"]
    assert ok(hall_client.get(f"/api/v1/tickets/{ticket['id']}"))["ticket"]["id"] == ticket["id"]
    expect(hall_client.get("/api/v1/tickets/nope"), 404, "not_found")


def test_staff_of_one_site_reprint_only_its_tickets(hall_client: FlaskClient) -> None:
    """The reprint's site comes from the ticket, and the same rule as `?site=` holds."""
    main = ok(hall_client.post("/api/v1/tickets", json={"service": "employment", "kiosk": "K1"}))
    north = ok(
        hall_client.post(
            "/api/v1/tickets", json={"service": "employment", "kiosk": "K1", "site": "north"}
        )
    )
    clerk = staff(hall_client, "north_clerk")
    expect(clerk.post(f"/api/v1/tickets/{main['ticket']['id']}/reprint", {}), 403, "forbidden")
    reprinted = clerk.post(f"/api/v1/tickets/{north['ticket']['id']}/reprint", {})
    assert reprinted.status_code == 202, reprinted.get_json()
    admin = staff(hall_client, "admin")  # of no site: any
    assert admin.post(f"/api/v1/tickets/{main['ticket']['id']}/reprint", {}).status_code == 202


# -- the paper never says "约 0 分钟" ---------------------------------------------------------
def test_the_paper_says_soon_when_a_counter_is_free(
    app: Flask, client: FlaskClient, clerk_at: Callable[[int], Staff]
) -> None:
    from sqlalchemy import select

    from queue_server.models import PrintJob

    clerk_at(1)  # open, nobody in hand
    taken = ok(client.post("/api/v1/tickets", json={"service": "employment", "kiosk": "K1"}))
    assert (taken["ticket"]["waiting_ahead"], taken["ticket"]["est_wait_s"]) == (0, 0)
    with app.extensions["yihao"].sessions() as session:
        [job] = session.scalars(select(PrintJob)).all()
    assert (job.view["est_wait_min"], job.view["wait_text"]) == (0, "即将轮到")


# -- a rating's reasons are words, not a page of text -----------------------------------------
@pytest.mark.parametrize("reasons", [["等" * 51], [""], ["x"] * 11, "等候时间长"])
def test_a_ratings_reasons_are_bounded(
    client: FlaskClient,
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., Any],
    login: Callable[[str], Staff],
    reasons: Any,
) -> None:
    clerk = clerk_at(1)
    make_ticket()
    ok(clerk.counter(1, "call-next"))
    ok(clerk.counter(1, "finish"))
    refused = client.post("/api/v1/counters/1/rating", json={"rating": 1, "reasons": reasons})
    expect(refused, 400, "invalid_field")
    assert ok(login("manager").get("/api/v1/reviews"))["reviews"] == []  # nothing stored
    rated = client.post("/api/v1/counters/1/rating", json={"rating": 1, "reasons": ["等候时间长"]})
    assert rated.status_code == 201, rated.get_json()


# -- a booking's headcount is bounded as a ticket's ------------------------------------------
@pytest.mark.parametrize("headcount", [10_001, 2**31, 10**12])
def test_a_bookings_headcount_is_bounded_as_a_tickets(
    client: FlaskClient, login: Callable[[str], Staff], headcount: int
) -> None:
    """It was stored as sent (PostgreSQL: 500, integer out of range); the kiosk would then
    have refused the check-in's ticket."""
    booking = {"service": "social_insurance", "visitor_id": VISITOR, "date": "2026-11-21"}
    refused = client.post(
        "/api/v1/appointments", json={**booking, "start": "09:00", "headcount": headcount}
    )
    expect(refused, 400, "invalid_field")
    manager = login("manager")
    assert ok(manager.get("/api/v1/appointments?date=2026-11-21"))["appointments"] == []
    assert ticket_limit(client) == refused.get_json()["error"]["message"]


def ticket_limit(client: FlaskClient) -> str:
    taken = client.post("/api/v1/tickets", json={"service": "employment", "headcount": 10_001})
    expect(taken, 400, "invalid_field")
    return str(taken.get_json()["error"]["message"])


# -- a bad review is closed with a note of what was done, not with blanks --------------------
def test_a_bad_review_is_not_closed_with_a_blank_note(
    client: FlaskClient, clerk_at: Callable[[int], Staff], login: Callable[[str], Staff]
) -> None:
    clerk = clerk_at(1)
    ok(client.post("/api/v1/tickets", json={"service": "employment"}))
    ok(clerk.counter(1, "call-next"))
    ok(clerk.counter(1, "finish"))
    ok(client.post("/api/v1/counters/1/rating", json={"rating": 2}))
    manager = login("manager")
    base = f"/api/v1/reviews/{ok(manager.get('/api/v1/reviews'))['reviews'][0]['id']}"
    expect(manager.post(f"{base}/note", {"note": "  \n\t "}), 400, "invalid_field")
    expect(manager.post(f"{base}/close", {"note": "   "}), 400, "invalid_field")
    review = ok(manager.get("/api/v1/reviews"))["reviews"][0]
    assert (review["state"], review["note"]) == ("open", None)
    closed = ok(manager.post(f"{base}/close", {"note": " 已回访，说明高峰分流 "}))["review"]
    assert (closed["state"], closed["note"]) == ("closed", "已回访，说明高峰分流")


def test_a_hold_needs_a_reason_that_says_something(
    client: FlaskClient, clerk_at: Callable[[int], Staff]
) -> None:
    clerk = clerk_at(1)
    taken = ok(client.post("/api/v1/tickets", json={"service": "employment"}))["ticket"]
    ok(clerk.counter(1, "call-next"))
    expect(clerk.counter(1, "hold", {"reason": " \u3000 "}), 400, "invalid_field")
    assert ok(client.get(f"/api/v1/tickets/{taken['id']}"))["ticket"]["state"] == "called"
    held = ok(clerk.counter(1, "hold", {"reason": " 劳动合同原件 "}))
    assert held["ticket"]["hold_reason"] == "劳动合同原件"


# -- what-if: a changed threshold keeps the hall's comprehensive counters ----------------
def test_a_what_if_with_threshold_one_still_opens_the_counters_asked_for(
    login: Callable[[str], Staff], recorded_day: str
) -> None:
    from tests.integration.test_whatif import wait_for

    manager = login("manager")
    runs = {}
    for threshold in (2, 1):
        body = {"date": recorded_day, "threshold": threshold, "counters": 2}
        started = manager.post("/api/v1/whatif", body)
        assert started.status_code == 202, started.get_json()
        runs[threshold] = wait_for(manager, started.get_json()["run"]["id"])
    for run in runs.values():
        original, changed = (run["result"][day]["lines"][0] for day in ("original", "changed"))
        assert changed["p90_wait_s"] < original["p90_wait_s"]  # two counters instead of one
