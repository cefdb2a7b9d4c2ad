"""Issue 12, ticket truth (SPEC v2 §2, §4), each case through the HTTP API: an identity that
merges nobody and hands no one else the ticket, expiry, the plan, the hold reason, the
quota, people ahead as the counters will really call them, the place to wait, green."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from queue_server.config import load_hall_file
from queue_server.models import PrintJob, Ticket
from tests.conftest import Staff

Issue = Callable[..., dict[str, Any]]
ClerkAt = Callable[[int], Staff]

ID_CARD = "110105199003070017"  # born 1990
ELDER_ID_CARD = "11010519491231002X"  # born 1949: 70 or more
OTHER_ID_CARD = "110105198001010016"
CREDIT_CODE = "91350100M000100Y43"
PHONE = "13912345678"
REDUCED = {
    "number",
    "queue",
    "services",
    "state",
    "waiting_ahead",
    "est_wait_s",
    "line_open",
    "location",
}


def post_ticket(client: FlaskClient, **body: Any) -> Any:
    return client.post("/api/v1/tickets", json={"service": "employment", **body})


def print_jobs(app: Flask) -> int:
    with app.extensions["yihao"].sessions() as session:
        return int(session.scalar(select(func.count()).select_from(PrintJob)) or 0)


def staff_view(staff: Staff, number: str) -> dict[str, Any]:
    response = staff.get(f"/api/v1/tickets?number={number}")
    assert response.status_code == 200, response.json
    ticket: dict[str, Any] = response.json["ticket"]
    return ticket


# -- 1. knowing a phone or an ID gives no control -----------------------------------------


def test_reused_answer_is_the_reduced_ticket_and_prints_only_when_asked(
    app: Flask, client: FlaskClient
) -> None:
    first = post_ticket(client, phone=PHONE)  # taken on the phone: no paper
    assert first.status_code == 201
    assert {"id", "status_url"} <= set(first.json["ticket"])

    again = post_ticket(client, phone=PHONE, kiosk="K1")
    assert again.status_code == 200
    assert again.json["reused"] is True
    assert set(again.json["ticket"]) == REDUCED
    assert first.json["ticket"]["id"] not in again.get_data(as_text=True)
    assert print_jobs(app) == 0  # nothing prints unless asked

    reprinted = post_ticket(client, phone=PHONE, kiosk="K1", reprint=True)
    assert set(reprinted.json["ticket"]) == REDUCED
    assert print_jobs(app) == 1  # the paper (with its QR) prints at that kiosk


def test_lookup_answers_the_reduced_ticket(client: FlaskClient) -> None:
    ticket = post_ticket(client, visitor_id=ID_CARD).json["ticket"]
    found = client.post(
        "/api/v1/tickets/lookup", json={"number": ticket["number"], "visitor_id": ID_CARD}
    )
    assert found.status_code == 200
    assert set(found.json["ticket"]) == REDUCED
    assert ticket["id"] not in found.get_data(as_text=True)


def test_lookup_failures_are_limited_per_address_and_number(client: FlaskClient) -> None:
    ticket = post_ticket(client, visitor_id=ID_CARD).json["ticket"]
    guesses = [f"1380013{index:04d}" for index in range(12)]
    statuses = [
        client.post(
            "/api/v1/tickets/lookup", json={"number": ticket["number"], "phone": phone}
        ).status_code
        for phone in guesses
    ]
    assert statuses[:10] == [404] * 10
    assert statuses[10:] == [429, 429]
    refused = client.post(
        "/api/v1/tickets/lookup", json={"number": ticket["number"], "visitor_id": ID_CARD}
    )
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_requests"
    other_number = client.post("/api/v1/tickets/lookup", json={"number": "A002", "phone": PHONE})
    assert other_number.status_code == 404  # another number is counted on its own


def test_good_lookups_are_not_counted(client: FlaskClient) -> None:
    ticket = post_ticket(client, visitor_id=ID_CARD).json["ticket"]
    body = {"number": ticket["number"], "visitor_id": ID_CARD}
    statuses = {client.post("/api/v1/tickets/lookup", json=body).status_code for _ in range(12)}
    assert statuses == {200}


# -- 2. identity: the visitor_id first, the phone only without one -------------------------


def test_visitors_sharing_a_phone_each_get_their_own_ticket(client: FlaskClient) -> None:
    enterprise = {"service": "social_insurance", "party": "enterprise", "phone": PHONE}
    first = client.post("/api/v1/tickets", json={**enterprise, "visitor_id": CREDIT_CODE})
    family = post_ticket(client, visitor_id=ID_CARD, phone=PHONE)
    other = post_ticket(client, visitor_id=OTHER_ID_CARD, phone=PHONE)
    assert [first.status_code, family.status_code, other.status_code] == [201, 201, 201]
    numbers = {r.json["ticket"]["number"] for r in (first, family, other)}
    assert numbers == {"B001", "A001", "A002"}


def test_phone_alone_matches_only_tickets_keyed_by_that_phone(client: FlaskClient) -> None:
    keyed_by_id = post_ticket(client, visitor_id=ID_CARD, phone=PHONE)
    phone_only = post_ticket(client, phone=PHONE)
    assert (keyed_by_id.status_code, phone_only.status_code) == (201, 201)
    assert phone_only.json["ticket"]["number"] == "A002"
    again = post_ticket(client, phone="１３９１２３４５６７８")  # full-width digits: ASCII
    assert (again.status_code, again.json["ticket"]["number"]) == (200, "A002")


# -- 4. a missed ticket past its grace is expired and frees the identity -------------------


def test_missed_past_grace_reads_expired_and_frees_the_identity(
    client: FlaskClient, clerk_at: ClerkAt, clock: Any
) -> None:
    ticket = post_ticket(client, phone=PHONE).json["ticket"]
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    clerk.counter(1, "no-show")
    clock.advance(minutes=31)
    assert client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]["state"] == "expired"
    reinstate = client.post(f"/api/v1/tickets/{ticket['id']}/reinstate", json={})
    call = clerk.counter(1, "call", {"number": ticket["number"]})
    assert [reinstate.status_code, call.status_code] == [409, 409]
    assert reinstate.json["error"]["code"] == call.json["error"]["code"] == "invalid_state"
    again = post_ticket(client, phone=PHONE)
    assert (again.status_code, again.json["reused"]) == (201, False)
    assert again.json["ticket"]["number"] == "A002"
    assert client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]["state"] == "expired"


# -- 5. step / steps_total count the plan only --------------------------------------------


def test_hold_return_reinstate_and_transfer_stay_within_the_plan(
    client: FlaskClient, clerk_at: ClerkAt
) -> None:
    ticket = post_ticket(client, phone=PHONE).json["ticket"]
    clerk = clerk_at(1)

    def plan() -> tuple[int, int]:
        view = client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]
        return view["step"], view["steps_total"]

    clerk.counter(1, "call-next")
    clerk.counter(1, "hold", {"reason": "缺材料"})
    client.post(f"/api/v1/tickets/{ticket['id']}/return", json={})
    assert plan() == (1, 1)
    clerk.counter(1, "call-next")
    clerk.counter(1, "no-show")
    client.post(f"/api/v1/tickets/{ticket['id']}/reinstate", json={})
    assert plan() == (1, 1)
    post_ticket(client, service="pickup", phone=PHONE)  # a second business: a plan of two
    assert plan() == (1, 2)
    clerk.counter(1, "call-next")
    clerk.counter(1, "transfer", {"queue": "B"})
    assert plan() == (1, 2)
    clerk.counter(1, "call-next")
    finished = clerk.counter(1, "finish").json["ticket"]
    assert (finished["step"], finished["steps_total"], finished["queue"]) == (2, 2, "D")
    assert len(finished["steps"]) == 5  # staff still see every internal step


# -- 6. the hold reason is told ------------------------------------------------------------


def test_hold_reason_in_the_ticket_and_its_live_event(
    app: Flask, client: FlaskClient, clerk_at: ClerkAt
) -> None:
    ticket = post_ticket(client, phone=PHONE).json["ticket"]
    phone = app.extensions["yihao"].socketio.test_client(
        app, namespace="/ticket", auth={"ticket": ticket["id"]}
    )
    phone.get_received("/ticket")
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    reason = "缺材料：劳动合同原件"
    held = clerk.counter(1, "hold", {"reason": reason}).json["ticket"]
    assert held["hold_reason"] == reason
    assert client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]["hold_reason"] == reason
    events = [m["args"][0] for m in phone.get_received("/ticket") if m["name"] == "ticket"]
    assert events[-1]["state"] == "held"
    assert events[-1]["hold_reason"] == reason
    back = client.post(f"/api/v1/tickets/{ticket['id']}/return", json={}).json["ticket"]
    assert back["hold_reason"] is None  # set only while held


def test_reprint_of_a_held_ticket_tells_the_reason_on_paper(
    app: Flask, client: FlaskClient, clerk_at: ClerkAt
) -> None:
    ticket = post_ticket(client, visitor_id=ID_CARD).json["ticket"]
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    clerk.counter(1, "hold", {"reason": "劳动合同原件"})
    body = {"number": ticket["number"], "visitor_id": ID_CARD, "kiosk": "K1", "reprint": True}
    assert client.post("/api/v1/tickets/lookup", json=body).status_code == 200
    with app.extensions["yihao"].sessions() as session:
        [job] = session.scalars(select(PrintJob)).all()
        assert job.view["hold_reason"] == "劳动合同原件"
        assert job.view["status_url"].endswith(ticket["id"])  # the paper carries it again


def test_paper_says_where_to_wait_and_that_the_line_is_not_open(
    app: Flask, client: FlaskClient
) -> None:
    body = {"service": "hiring_filing", "party": "enterprise", "headcount": 10, "kiosk": "K1"}
    assert client.post("/api/v1/tickets", json=body).status_code == 201
    assert post_ticket(client, visitor_id=ELDER_ID_CARD, kiosk="K1").status_code == 201
    with app.extensions["yihao"].sessions() as session:
        back_office, elder = session.scalars(select(PrintJob).order_by(PrintJob.id)).all()
    assert (back_office.view["location"], back_office.view["wait_text"]) == ("三楼", "窗口暂未开放")
    assert (back_office.view["green"], elder.view["green"]) == (False, True)


# -- 7. an earlier day's ticket reads expired at once --------------------------------------


def test_earlier_days_tickets_read_expired_before_any_job(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    ticket = post_ticket(client, phone=PHONE).json["ticket"]
    clock.advance(days=1)
    assert client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]["state"] == "expired"
    with app.extensions["yihao"].sessions() as session:
        assert session.get(Ticket, ticket["id"]).state == "waiting"  # a read writes nothing


# -- 8. the daily quota applies to an added business ---------------------------------------


def test_quota_applies_to_a_business_added_to_a_visit(make_app: Callable[..., Flask]) -> None:
    hall = load_hall_file("config/demo-hall.yaml").model_dump()
    for service in hall["sites"][0]["services"]:
        if service["code"] == "maternity":
            service["daily_quota"] = 1
    client = make_app(HALL=hall).test_client()
    assert client.post("/api/v1/tickets", json={"service": "maternity"}).status_code == 201
    assert post_ticket(client, phone=PHONE).status_code == 201
    added = client.post("/api/v1/tickets", json={"service": "maternity", "phone": PHONE})
    assert added.status_code == 409
    assert added.json["error"]["code"] == "quota_reached"


# -- 10. a 持件 ticket is released when its clerk signs out --------------------------------


@pytest.mark.parametrize("returns_before_sign_out", [False, True])
def test_kept_ticket_released_to_the_line_at_sign_out(
    client: FlaskClient, clerk_at: ClerkAt, returns_before_sign_out: bool
) -> None:
    ticket = post_ticket(client, phone=PHONE).json["ticket"]
    first = clerk_at(1)
    first.counter(1, "call-next")
    first.counter(1, "hold", {"reason": "复印身份证", "keep_counter": True})
    if returns_before_sign_out:
        client.post(f"/api/v1/tickets/{ticket['id']}/return", json={})
    assert first.counter(1, "sign-out").status_code == 200
    if not returns_before_sign_out:
        client.post(f"/api/v1/tickets/{ticket['id']}/return", json={})
    second = clerk_at(2)
    called = second.counter(2, "call-next").json["ticket"]
    assert called is not None
    assert called["number"] == ticket["number"]


# -- 11. where to wait ---------------------------------------------------------------------


def test_location_of_the_line(client: FlaskClient) -> None:
    back_office = client.post(
        "/api/v1/tickets",
        json={"service": "hiring_filing", "party": "enterprise", "headcount": 10},
    ).json["ticket"]
    assert (back_office["queue"], back_office["location"]) == ("E", "三楼")
    assert post_ticket(client).json["ticket"]["location"] is None


# -- 9. line open, people ahead in the real call order, time in hand -----------------------


def test_line_closed_or_paused_has_no_estimate(client: FlaskClient, clerk_at: ClerkAt) -> None:
    body = {"service": "hiring_filing", "party": "enterprise", "headcount": 10}
    ticket = client.post("/api/v1/tickets", json=body).json["ticket"]
    assert (ticket["line_open"], ticket["est_wait_s"]) == (False, None)
    clerk = clerk_at(10)
    opened = client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]
    assert opened["line_open"] is True
    assert opened["est_wait_s"] == 0
    clerk.counter(10, "pause")
    paused = client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]
    assert (paused["line_open"], paused["est_wait_s"]) == (True, None)


def test_people_ahead_across_every_line_the_counters_serve(
    client: FlaskClient, clerk_at: ClerkAt
) -> None:
    clerk_at(1)
    clerk_at(2)  # counters 1–2: fifo [A, B]
    for _ in range(5):
        client.post("/api/v1/tickets", json={"service": "social_insurance", "party": "enterprise"})
    ticket = post_ticket(client).json["ticket"]
    assert ticket["waiting_ahead"] == 5  # it will be called sixth
    assert ticket["est_wait_s"] > 0


def test_ordered_counter_calls_its_first_line_first(client: FlaskClient, clerk_at: ClerkAt) -> None:
    clerk_at(7)  # counter 7: ordered [B, A]
    for _ in range(3):
        client.post("/api/v1/tickets", json={"service": "social_insurance", "party": "enterprise"})
    ticket = post_ticket(client).json["ticket"]
    assert ticket["waiting_ahead"] == 3
    clerk_at(1)  # fifo [A, B]: the A ticket came last, so still three ahead
    assert client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]["waiting_ahead"] == 3
    enterprise = client.post(
        "/api/v1/tickets", json={"service": "social_insurance", "party": "enterprise"}
    ).json["ticket"]
    assert enterprise["waiting_ahead"] == 3  # counter 7 calls B first: the three before it


def test_estimate_counts_the_time_left_in_hand(client: FlaskClient, clerk_at: ClerkAt) -> None:
    post_ticket(client)
    post_ticket(client)
    for number in (1, 2):
        clerk_at(number).counter(number, "call-next")
    ticket = post_ticket(client).json["ticket"]
    assert ticket["waiting_ahead"] == 0
    # Both counters busy with a 5-minute business just begun: the first of the two to free
    # up calls it, sooner than one whole service time (docs/estimates.md).
    low, high = ticket["est_wait_range_s"]
    assert 120 < ticket["est_wait_s"] < 300
    assert low < ticket["est_wait_s"] < high


# -- 13. green channel ---------------------------------------------------------------------


def test_green_by_age_and_its_mark(client: FlaskClient, login: Callable[[str], Staff]) -> None:
    elder = post_ticket(client, visitor_id=ELDER_ID_CARD).json["ticket"]
    younger = post_ticket(client, visitor_id=ID_CARD).json["ticket"]
    asked = post_ticket(client, priority="green").json["ticket"]
    assert (elder["green"], younger["green"], asked["green"]) == (True, False, True)
    manager = login("manager")
    assert staff_view(manager, elder["number"])["priority"] == "green"
    assert staff_view(manager, younger["number"])["priority"] == "normal"
