"""Taking a number: routing, the one-number policy, quotas, hours and every bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from queue_server.config import load_hall_file

ID_CARD = "11010519491231002X"
CREDIT_CODE = "91350100M000100Y43"


@pytest.mark.parametrize(
    ("body", "number", "queue"),
    [
        ({"service": "employment"}, "A001", "A"),
        ({"service": "social_insurance", "party": "enterprise"}, "B001", "B"),
        ({"service": "hiring_filing", "party": "enterprise", "headcount": 9}, "B001", "B"),
        ({"service": "hiring_filing", "party": "enterprise", "headcount": 10}, "E001", "E"),
        ({"service": "maternity"}, "C001", "C"),
        ({"service": "chronic_disease", "priority": "green"}, "C001", "C"),
        ({"service": "pickup", "party": "enterprise", "headcount": 30}, "D001", "D"),
    ],
)
def test_demo_hall_routing(
    client: FlaskClient, body: dict[str, Any], number: str, queue: str
) -> None:
    response = client.post("/api/v1/tickets", json=body)
    assert response.status_code == 201
    assert response.json["reused"] is False
    ticket = response.json["ticket"]
    assert (ticket["number"], ticket["queue"], ticket["state"]) == (number, queue, "waiting")
    assert ticket["step"] == 1
    assert ticket["steps_total"] == 1
    assert ticket["status_url"] == f"http://localhost/t/{ticket['id']}"
    assert len(ticket["id"]) >= 16
    assert ticket["issued_at"].endswith("+08:00")


def test_numbers_run_per_line_and_people_ahead(make_ticket: Callable[..., dict[str, Any]]) -> None:
    first = make_ticket("employment")
    second = make_ticket("card_services")
    other_line = make_ticket("maternity")
    assert [first["number"], second["number"], other_line["number"]] == ["A001", "A002", "C001"]
    assert second["waiting_ahead"] == 1
    # SPEC v2: no counter of the line open, so no estimate ("窗口暂未开放", never 0 minutes)
    assert (second["est_wait_s"], second["line_open"]) == (None, False)
    assert other_line["waiting_ahead"] == 0


def test_get_ticket_and_public_fields(
    client: FlaskClient, make_ticket: Callable[..., dict[str, Any]]
) -> None:
    ticket = make_ticket("employment", visitor_id=ID_CARD, phone="13800138000")
    response = client.get(f"/api/v1/tickets/{ticket['id']}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert response.json["ticket"]["number"] == "A001"
    assert ID_CARD not in body
    assert "13800138000" not in body
    assert "visitor_id_masked" not in response.json["ticket"]  # staff only


def test_unknown_ticket_is_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/tickets/no-such-ticket-id-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("visitor", "again"),
    [
        ({"visitor_id": ID_CARD}, {"visitor_id": ID_CARD.lower()}),
        ({"phone": "13800138000"}, {"phone": "138 0013 8000"}),
        ({"phone": "13800138000"}, {"phone": "１３８００１３８０００"}),
        # full-width digits and letters, as a Chinese IME types them, are the same identity
        ({"visitor_id": ID_CARD}, {"visitor_id": "１１０１０５１９４９１２３１００２Ｘ"}),
    ],
)
def test_one_number_per_visitor(
    client: FlaskClient, visitor: dict[str, str], again: dict[str, str]
) -> None:
    first = client.post("/api/v1/tickets", json={"service": "employment", **visitor})
    second = client.post("/api/v1/tickets", json={"service": "employment", **again})
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json["reused"] is True
    # SPEC v2: the reused answer is the reduced T, without the id that gives control
    assert "id" not in second.json["ticket"]
    assert "status_url" not in second.json["ticket"]
    assert second.json["ticket"]["number"] == "A001"
    assert second.json["ticket"]["state"] == "waiting"
    assert client.get("/api/v1/queues").json[0]["waiting"] == 1


def test_same_line_business_joins_the_sitting_other_line_becomes_a_step(
    client: FlaskClient,
) -> None:
    first = client.post("/api/v1/tickets", json={"service": "employment", "phone": "13800138000"})
    same_line = client.post(
        "/api/v1/tickets", json={"service": "medical_insurance", "phone": "13800138000"}
    )
    other_line = client.post("/api/v1/tickets", json={"service": "pickup", "phone": "13800138000"})
    assert same_line.json["ticket"]["services"] == ["employment", "medical_insurance"]
    # SPEC v2: a reused answer is the reduced T; the visitor's own page shows the plan
    ticket = client.get(f"/api/v1/tickets/{first.json['ticket']['id']}").json["ticket"]
    assert other_line.json["ticket"]["services"] == ["employment", "medical_insurance", "pickup"]
    assert ticket["services"] == ["employment", "medical_insurance", "pickup"]
    assert (ticket["step"], ticket["steps_total"], ticket["queue"]) == (1, 2, "A")


def test_enterprise_identity_is_the_credit_code(client: FlaskClient) -> None:
    body = {
        "service": "hiring_filing",
        "party": "enterprise",
        "headcount": 3,
        "visitor_id": CREDIT_CODE,
    }
    assert client.post("/api/v1/tickets", json=body).status_code == 201
    assert client.post("/api/v1/tickets", json=body).status_code == 200


def test_a_finished_visit_frees_the_identity(
    client: FlaskClient, clerk_at: Callable[..., Any]
) -> None:
    clerk = clerk_at(1)
    first = client.post("/api/v1/tickets", json={"service": "employment", "phone": "13800138000"})
    clerk.counter(1, "call-next")
    clerk.counter(1, "finish")
    again = client.post("/api/v1/tickets", json={"service": "employment", "phone": "13800138000"})
    assert again.status_code == 201
    assert again.json["ticket"]["id"] != first.json["ticket"]["id"]
    assert again.json["ticket"]["number"] == "A002"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"service": "no_such_business"}, "unknown_service"),
        ({"service": "hiring_filing", "party": "individual"}, "party_not_allowed"),
        ({"service": "chronic_disease", "party": "enterprise"}, "party_not_allowed"),
        ({"service": "employment", "visitor_id": "110105194912310021"}, "invalid_visitor_id"),
        (
            {"service": "employment", "party": "enterprise", "visitor_id": ID_CARD},
            "invalid_visitor_id",
        ),
        ({"service": "employment", "phone": "12345"}, "invalid_phone"),
        # other non-ASCII digits are refused, not read as digits nor a 500
        ({"service": "employment", "visitor_id": "1101051949123100²X"}, "invalid_visitor_id"),
        ({"service": "employment", "visitor_id": "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X"}, "invalid_visitor_id"),
        ({"service": "employment", "phone": "1380013800٠"}, "invalid_phone"),
        ({}, "invalid_field"),
        ({"service": 12}, "invalid_field"),
        ({"service": "employment", "headcount": "3"}, "invalid_field"),
        ({"service": "employment", "headcount": 0}, "invalid_field"),
        ({"service": "employment", "headcount": 1.5}, "invalid_field"),
        ({"service": "employment", "headcount": True}, "invalid_field"),
        ({"service": "employment", "party": "company"}, "invalid_field"),
        ({"service": "employment", "priority": "vip"}, "invalid_field"),
        ({"service": "employment", "visitor_id": 123}, "invalid_field"),
        ({"service": "employment", "kiosk": "K99"}, "invalid_field"),
        ({"service": "employment", "site": "nowhere"}, "invalid_field"),
        ({"service": "employment", "headcount": 10**12}, "invalid_field"),
    ],
)
def test_bad_tickets_are_400(client: FlaskClient, body: dict[str, Any], code: str) -> None:
    response = client.post("/api/v1/tickets", json=body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert client.get("/api/v1/queues").json[0]["waiting"] == 0  # nothing was issued


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("[1, 2]", "application/json"),
        ('"employment"', "application/json"),
        ("null", "application/json"),
        ("{not json", "application/json"),
        ('{"service": "employment"}', "text/plain"),  # D7: a cross-site form's type, never 415
        ('{"service": "employment"}', "application/x-www-form-urlencoded"),
        (b"\xff\xfe{", "application/json"),
    ],
)
def test_bodies_that_are_not_json_objects(
    client: FlaskClient, data: Any, content_type: str
) -> None:
    response = client.post("/api/v1/tickets", data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"
    assert client.get("/api/v1/queues").json[0]["waiting"] == 0  # nothing was issued


def test_too_large_body_is_413(client: FlaskClient) -> None:
    response = client.post("/api/v1/tickets", data="x" * 100_000, content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_unknown_path_and_method(client: FlaskClient) -> None:
    assert client.get("/api/v1/nothing").json["error"]["code"] == "not_found"
    response = client.delete("/api/v1/tickets")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


def _hall_with(**site_changes: Any) -> dict[str, Any]:
    hall = load_hall_file("config/demo-hall.yaml").model_dump()
    hall["sites"][0].update(site_changes)
    return hall


def test_hall_closed_after_issue_until(make_app: Callable[..., Any], clock: Any) -> None:
    app = make_app(HALL=_hall_with(hours={"issue_from": "08:30", "issue_until": "17:00"}))
    client = app.test_client()
    assert (
        client.post("/api/v1/tickets", json={"service": "employment"}).status_code == 201
    )  # 09:00
    clock.advance(hours=8)  # 17:00
    response = client.post("/api/v1/tickets", json={"service": "employment"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "hall_closed"
    # The hall calendar says when it opens again (every day 08:30–17:00: tomorrow).
    assert response.json["error"]["message"] == "本大厅已停止取号，下次开放：11月21日（周六）08:30"


def test_quota_reached(make_app: Callable[..., Any]) -> None:
    hall = _hall_with()
    for service in hall["sites"][0]["services"]:
        if service["code"] == "maternity":
            service["daily_quota"] = 2
    client = make_app(HALL=hall).test_client()
    statuses = [
        client.post("/api/v1/tickets", json={"service": "maternity"}).status_code for _ in range(3)
    ]
    assert statuses == [201, 201, 409]
    response = client.post("/api/v1/tickets", json={"service": "maternity"})
    assert response.json["error"]["code"] == "quota_reached"
    assert client.post("/api/v1/tickets", json={"service": "employment"}).status_code == 201


def test_numbering_starts_again_each_business_day(
    client: FlaskClient, clock: Any, make_ticket: Callable[..., dict[str, Any]]
) -> None:
    make_ticket()
    make_ticket()
    clock.advance(hours=16)  # past midnight in Shanghai
    assert make_ticket()["number"] == "A001"


def test_services_and_queues(client: FlaskClient) -> None:
    services = client.get("/api/v1/services").json
    assert {service["code"] for service in services} >= {"employment", "hiring_filing", "pickup"}
    hiring = next(service for service in services if service["code"] == "hiring_filing")
    assert hiring["parties"] == ["enterprise"]
    assert [queue["code"] for queue in client.get("/api/v1/queues").json] == [
        "A",
        "B",
        "C",
        "D",
        "E",
    ]


def test_healthz_and_openapi(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok", "database": "ok", "message_queue": None}
    document = client.get("/api/v1/openapi.json").json
    paths = document["paths"]
    for path in (
        "/api/v1/tickets",
        "/api/v1/tickets/{ticket_id}/return",
        "/api/v1/counters/{n}/call-next",
        "/api/v1/counters/{n}/transfer",
        "/api/v1/stats/live",
        "/api/v1/display/snapshot",
    ):
        assert path in paths
    issue = paths["/api/v1/tickets"]["post"]
    assert issue["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "IssueTicketIn"
    )
    assert "TicketOut" in document["components"]["schemas"]
