"""Every /api/v1 answer is what `GET /api/v1/openapi.json` documents for its path, method and
status: real requests through every endpoint, the successes and the errors, each body
validated against the document's schema (JSON Schema 2020-12, as OpenAPI 3.1 says). The
document's objects are read as closed here: a field an answer has and the document lacks is
drift, and so is a status the document does not list for that operation."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

from queue_server.manager.jobs import send_alerts
from tests.conftest import FakeClock
from tests.integration.test_tickets_api import ID_CARD

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def closed(schema: Any) -> Any:
    """The schema with every object that lists its properties closed to others."""
    if isinstance(schema, dict):
        schema = {key: closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    return schema


class DocumentedApi:
    """A test client that checks each /api/v1 answer against the OpenAPI document and
    remembers which (method, path, status) it has seen."""

    def __init__(self, client: FlaskClient, document: dict[str, Any]) -> None:
        self.client = client
        self.document = document
        self.components = closed(copy.deepcopy(document["components"]))
        self.seen: set[tuple[str, str, int]] = set()
        self.drift: list[str] = []  # every answer unlike its documentation, reported at the end
        # Paths without parameters first: /tickets/lookup is not /tickets/{ticket_id}.
        templates = sorted(document["paths"], key=lambda path: (path.count("{"), path))
        self.routes = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"), template)
            for template in templates
        ]

    def template_of(self, method: str, path: str) -> str:
        for pattern, template in self.routes:
            if pattern.match(path) and method in self.document["paths"][template]:
                return template
        raise AssertionError(f"{method.upper()} {path} is not in the OpenAPI document")

    def call(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        data: bytes | str | None = None,
    ) -> TestResponse:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if data is None:
            response = self.client.open(url, method=method, headers=headers, json=json_body)
        else:
            response = self.client.open(url, method=method, headers=headers, data=data)
        self.check(method.lower(), url, response)
        return response

    def check(self, method: str, url: str, response: TestResponse) -> None:
        template = self.template_of(method, urlsplit(url).path)
        self.seen.add((method, template, response.status_code))
        where = f"{method.upper()} {template} → {response.status_code}"
        responses = self.document["paths"][template][method]["responses"]
        documented = responses.get(str(response.status_code))
        if documented is None:
            self.drift.append(f"{where}: status not documented ({response.data[:200]!r})")
            return
        content = documented.get("content", {})
        if response.mimetype not in content:
            self.drift.append(f"{where}: {response.mimetype} not documented")
        elif response.mimetype == "application/json":
            schema = {
                "$schema": SCHEMA_DIALECT,
                "components": self.components,
                **content[response.mimetype]["schema"],
            }
            body = json.loads(response.data)
            problems = [
                f"{'/'.join(str(part) for part in error.absolute_path) or '(body)'}: "
                f"{error.message}"
                for error in Draft202012Validator(schema).iter_errors(body)
            ]
            self.drift.extend(f"{where}: {problem}" for problem in problems)

    def get(self, url: str, token: str | None = None) -> TestResponse:
        return self.call("GET", url, token=token)

    def post(
        self, url: str, body: Any = None, token: str | None = None, data: str | None = None
    ) -> TestResponse:
        return self.call("POST", url, token=token, json_body=body, data=data)


def expect(response: TestResponse, status: int, code: str | None = None) -> Any:
    assert response.status_code == status, (response.status_code, response.data[:300])
    if code is not None:
        assert response.json is not None
        assert response.json["error"]["code"] == code
    return response.json


@pytest.fixture
def documented_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(LOGIN_RATE_LIMIT="3 per minute")


@pytest.fixture
def api(documented_app: Flask) -> DocumentedApi:
    client = documented_app.test_client()
    document = client.get("/api/v1/openapi.json").json
    assert document is not None
    return DocumentedApi(client, document)


def test_the_document_is_valid_openapi_json_schema(api: DocumentedApi) -> None:
    for schema in api.components["schemas"].values():
        Draft202012Validator.check_schema({"$schema": SCHEMA_DIALECT, **schema})
    assert api.document["openapi"].startswith("3.1")


def test_every_answer_is_what_openapi_json_documents(
    api: DocumentedApi, clock: FakeClock, documented_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    public_endpoints(api)
    clerk, manager, admin = staff_logins(api)
    ticket = visitor_tickets(api)
    counter_actions(api, clerk, manager, ticket)
    visitor_actions(api, clerk, manager)
    printing(api, clerk, ticket)
    reports(api, clerk, manager, clock, documented_app)
    settings(api, clerk, manager, admin)
    appointments(api, clerk, manager)
    what_if(api, clerk, manager, clock)
    health(api, documented_app, monkeypatch)

    assert not api.drift, "\n".join(sorted(set(api.drift)))
    missing = []
    for path, methods in api.document["paths"].items():
        for method, operation in methods.items():
            statuses = {int(status) for status in operation["responses"]}
            seen = {status for (m, p, status) in api.seen if (m, p) == (method, path)}
            if not seen & {status for status in statuses if status < 400}:
                missing.append(f"{method.upper()} {path}: no success answer checked")
            if {status for status in statuses if status >= 400} and not {
                status for status in seen if status >= 400
            }:
                missing.append(f"{method.upper()} {path}: no error answer checked")
    assert not missing, "\n".join(missing)


def public_endpoints(api: DocumentedApi) -> None:
    expect(api.get("/api/v1/openapi.json"), 200)
    for path in ("/api/v1/services", "/api/v1/queues", "/api/v1/display/snapshot"):
        expect(api.get(path), 200)
        expect(api.get(path + "?site=nowhere"), 400, "invalid_field")


def staff_logins(api: DocumentedApi) -> tuple[str, str, str]:
    expect(api.post("/api/v1/auth/login", {"username": "clerk01"}), 400, "invalid_field")
    expect(api.post("/api/v1/auth/login", data="[1]"), 400, "invalid_json")
    for _ in range(3):
        wrong = {"username": "clerk09", "password": "wrong"}
        expect(api.post("/api/v1/auth/login", wrong), 401, "unauthenticated")
    expect(api.post("/api/v1/auth/login", wrong), 429)
    expect(api.post("/api/v1/auth/login", {"x": "y" * 70_000}), 413)
    tokens = []
    for username in ("clerk01", "manager", "admin"):
        login = {"username": username, "password": "demo"}
        tokens.append(expect(api.post("/api/v1/auth/login", login), 200)["token"])
    clerk, manager, admin = tokens
    spare = expect(api.post("/api/v1/auth/login", login), 200)["token"]
    assert expect(api.post("/api/v1/auth/logout", token=spare), 200) == {"logged_out": True}
    expect(api.post("/api/v1/auth/logout", token=spare), 401, "unauthenticated")
    return clerk, manager, admin


def visitor_tickets(api: DocumentedApi) -> dict[str, Any]:
    issue = {"service": "employment", "visitor_id": ID_CARD, "phone": "13800138000"}
    ticket: dict[str, Any] = expect(api.post("/api/v1/tickets", issue), 201)["ticket"]
    assert expect(api.post("/api/v1/tickets", issue), 200)["reused"] is True
    expect(api.post("/api/v1/tickets", {"service": "nope"}), 400, "unknown_service")
    expect(api.post("/api/v1/tickets", data="{"), 400, "invalid_json")
    expect(api.get(f"/api/v1/tickets/{ticket['id']}"), 200)
    expect(api.get("/api/v1/tickets/nope"), 404, "not_found")
    for _ in range(2, 6):
        expect(api.post("/api/v1/tickets", {"service": "employment"}), 201)
    expect(api.post("/api/v1/tickets", {"service": "maternity"}), 201)
    return ticket


def counter_actions(api: DocumentedApi, clerk: str, manager: str, ticket: dict[str, Any]) -> None:
    at = "/api/v1/counters"
    expect(api.get(at), 401, "unauthenticated")
    expect(api.get(at, token="not-a-token"), 401, "unauthenticated")
    expect(api.get(at + "?site=nowhere", token=manager), 404, "not_found")
    expect(api.get(f"{at}/1", token=clerk), 200)
    expect(api.get(f"{at}/99", token=clerk), 404, "not_found")
    expect(api.get(f"{at}/1"), 401)

    for action in ("sign-in", "sign-out", "pause", "resume", "recall", "start", "no-show"):
        expect(api.post(f"{at}/1/{action}"), 401, "unauthenticated")
        expect(api.post(f"{at}/1/{action}", token=clerk, data="["), 400, "invalid_json")
        if action != "sign-in":  # a clerk may sign in at any free counter it may use
            expect(api.post(f"{at}/2/{action}", token=clerk), 403, "forbidden")
        expect(api.post(f"{at}/99/{action}", token=manager), 404, "not_found")
    valid = {"number": "A001", "reason": "缺材料", "queue": "C"}  # a body each of them takes
    for action in ("call-next", "call", "finish", "transfer", "hold"):
        expect(api.post(f"{at}/1/{action}", valid), 401, "unauthenticated")
        expect(api.post(f"{at}/2/{action}", valid, token=clerk), 403)
        expect(api.post(f"{at}/99/{action}", valid, token=manager), 404)
        expect(api.post(f"{at}/1/{action}", token=clerk, data="1"), 400, "invalid_json")
    expect(api.post(f"{at}/1/call-next", token=manager), 409, "counter_not_open")

    expect(api.get(at, token=clerk), 200)
    expect(api.post(f"{at}/1/sign-in", token=clerk), 200)
    expect(api.post(f"{at}/1/sign-in", token=manager), 403, "forbidden")  # signs into none
    expect(api.post(f"{at}/8/sign-in", token=clerk), 403, "forbidden")  # not clerk01's
    expect(api.post(f"{at}/2/sign-in", token=clerk), 409, "counter_occupied")
    expect(api.post(f"{at}/1/start", token=clerk), 409)
    expect(api.post(f"{at}/1/recall", token=clerk), 409)
    expect(api.post(f"{at}/1/no-show", token=clerk), 409)
    expect(api.post(f"{at}/1/finish", token=clerk), 409)
    expect(api.post(f"{at}/1/transfer", {"queue": "C"}, token=clerk), 409)
    expect(api.post(f"{at}/1/hold", {"reason": "缺材料"}, token=clerk), 409)
    expect(api.post(f"{at}/1/call", {"number": "A099"}, token=clerk), 404)
    expect(api.post(f"{at}/1/call", {"number": 1}, token=clerk), 400, "invalid_field")
    expect(api.post(f"{at}/1/finish", {"outcome": "maybe"}, token=clerk), 400)
    expect(api.post(f"{at}/1/transfer", {"position": "middle"}, token=clerk), 400)
    expect(api.post(f"{at}/1/hold", {}, token=clerk), 400, "invalid_field")

    called = expect(api.post(f"{at}/1/call-next", token=clerk), 200)["ticket"]
    assert called["id"] == ticket["id"]
    assert expect(api.get("/api/v1/display/snapshot"), 200)["calls"]  # a call on the screens
    expect(api.get("/api/v1/stats/live", token=manager), 200)
    expect(api.get(f"{at}/1", token=clerk), 200)  # with a ticket in hand
    expect(api.post(f"{at}/1/recall", token=clerk), 200)
    expect(api.post(f"{at}/1/start", token=clerk), 200)
    expect(api.post(f"{at}/1/finish", {"outcome": "done"}, token=clerk), 200)

    rate = f"{at}/1/rating"
    expect(api.post(rate, {"rating": 9}), 400, "invalid_field")
    expect(api.post(rate, data="x"), 400, "invalid_json")
    expect(api.post(f"{at}/99/rating", {"rating": 1}), 404)
    counters = expect(api.get("/api/v1/display/snapshot"), 200)["counters"]
    assert counters[0]["evaluation_until"]  # the rating of the step just finished is open
    expect(api.post(rate, {"rating": 1, "reasons": ["wait"]}), 201)
    expect(api.post(rate, {"rating": 1}), 409, "evaluation_closed")
    expect(api.post(f"{at}/2/rating", {"rating": 1}), 409, "evaluation_closed")

    expect(api.post(f"{at}/1/call", {"number": "A002"}, token=clerk), 200)
    expect(api.post(f"{at}/1/transfer", {"queue": "C"}, token=clerk), 200)
    expect(api.post(f"{at}/1/transfer", {"queue": "ZZ"}, token=clerk), 409)
    expect(api.post(f"{at}/1/call-next", token=clerk), 200)
    expect(api.post(f"{at}/1/hold", {"reason": "缺材料", "keep_counter": False}, token=clerk), 200)
    expect(api.post(f"{at}/1/call-next", token=clerk), 200)
    expect(api.post(f"{at}/1/no-show", token=clerk), 200)
    expect(api.post(f"{at}/1/pause", token=clerk), 200)
    expect(api.post(f"{at}/1/resume", token=clerk), 200)
    expect(api.get(f"{at}/1", token=manager), 200)  # held and missed tickets
    expect(api.get(at, token=manager), 200)


def visitor_actions(api: DocumentedApi, clerk: str, manager: str) -> None:
    counter = expect(api.get("/api/v1/counters/1", token=clerk), 200)
    held = [ticket for ticket in _tickets(api, manager) if ticket["state"] == "held"]
    missed = [ticket for ticket in _tickets(api, manager) if ticket["state"] == "missed"]
    assert held, counter
    assert missed, counter
    base = "/api/v1/tickets"
    expect(api.post(f"{base}/{held[0]['id']}/reinstate"), 409, "invalid_state")
    expect(api.post(f"{base}/{held[0]['id']}/return"), 200)
    expect(api.post(f"{base}/{held[0]['id']}/return"), 409, "invalid_state")
    expect(api.post(f"{base}/{missed[0]['id']}/return"), 409)
    expect(api.post(f"{base}/{missed[0]['id']}/reinstate"), 200)
    expect(api.post(f"{base}/{missed[0]['id']}/cancel"), 200)
    expect(api.post(f"{base}/{missed[0]['id']}/cancel"), 409, "invalid_state")
    for action in ("cancel", "return", "reinstate"):
        expect(api.post(f"{base}/nope/{action}"), 404, "not_found")
        expect(api.post(f"{base}/{held[0]['id']}/{action}", data="[]"), 400, "invalid_json")

    expect(api.post("/api/v1/counters/1/sign-out", token=clerk), 200)
    expect(api.post("/api/v1/counters/1/sign-in", token=clerk), 200)
    pickup_later = {"pickup_on": "2026-11-23"}  # the first visit's 出件 waits (a visits row)
    while expect(api.post("/api/v1/counters/1/call-next", token=clerk), 200)["ticket"]:
        expect(api.post("/api/v1/counters/1/finish", pickup_later, token=clerk), 200)
        pickup_later = {}


def _tickets(api: DocumentedApi, manager: str) -> list[dict[str, Any]]:
    found = []
    for number in ("A001", "A002", "A003", "A004", "A005", "C001"):
        answer = api.get(f"/api/v1/tickets?number={number}", token=manager)
        if answer.status_code == 200:
            found.append(answer.json["ticket"])
    return found


def printing(api: DocumentedApi, clerk: str, finished: dict[str, Any]) -> None:
    base = "/api/v1/tickets"
    expect(api.post(f"{base}/{finished['id']}/reprint", {}, token=clerk), 409, "invalid_state")
    issue = {"service": "social_insurance", "visitor_id": ID_CARD, "kiosk": "K1"}
    ticket = expect(api.post(base, issue), 201)["ticket"]
    expect(api.get(f"{base}?number=A001", token=clerk), 200)
    expect(api.get(f"{base}?number=Z999", token=clerk), 404, "not_found")
    expect(api.get(f"{base}?site=main", token=clerk), 400, "invalid_field")
    expect(api.get(f"{base}?number=A001"), 401)

    expect(api.get(f"{base}/{ticket['id']}/ticket.png"), 200)
    expect(api.get(f"{base}/{ticket['id']}/ticket.png?width=3"), 400, "invalid_field")
    expect(api.get(f"{base}/nope/ticket.png"), 404)

    expect(api.post(f"{base}/{ticket['id']}/reprint", {}, token=clerk), 202)
    expect(api.post(f"{base}/{ticket['id']}/reprint", {"kiosk": "K9"}, token=clerk), 400)
    expect(api.post(f"{base}/{ticket['id']}/reprint", {}), 401)
    expect(api.post(f"{base}/nope/reprint", {}, token=clerk), 404)
    expect(api.post(f"{base}/{ticket['id']}/reprint", data="x", token=clerk), 400)

    lookup = {"number": ticket["number"], "visitor_id": ID_CARD}
    expect(api.post(f"{base}/lookup", lookup), 200)
    expect(api.post(f"{base}/lookup", {**lookup, "number": "A999"}), 404, "not_found")
    expect(api.post(f"{base}/lookup", {"number": "A001"}), 400)


def reports(api: DocumentedApi, clerk: str, manager: str, clock: FakeClock, app: Flask) -> None:
    expect(api.post("/api/v1/tickets", {"service": "card_services"}), 201)
    clock.advance(minutes=30)
    assert send_alerts(app.extensions["yihao"]) >= 1  # a wait past its target
    assert expect(api.get("/api/v1/alerts", token=manager), 200)["alerts"]
    assert expect(api.get("/api/v1/stats/live", token=manager), 200)["alerts"]
    for path in (
        "/api/v1/stats/live",
        "/api/v1/events",
        "/api/v1/stats",
        "/api/v1/stats?group=hour",
        "/api/v1/stats?group=counter",
        "/api/v1/stats/export.csv",
        "/api/v1/stats/heatmap",
        "/api/v1/stats/appointments",
        "/api/v1/stats/appointments?group=day",
        "/api/v1/stats/visits",
        "/api/v1/reviews",
        "/api/v1/alerts",
        "/api/v1/settings",
    ):
        expect(api.get(path, token=manager), 200)
        expect(api.get(path, token=clerk), 403, "forbidden")
        expect(api.get(path), 401, "unauthenticated")
    for bad in (
        "/api/v1/events?since=-1",
        "/api/v1/stats?group=weekday",
        "/api/v1/stats/export.csv?from=yesterday",
        "/api/v1/stats/heatmap?to=2026-13-01",
        "/api/v1/stats/appointments?group=queue",
        "/api/v1/stats/visits?from=2026-11-21&to=2026-11-20",
        "/api/v1/reviews?rating_max=9",
        "/api/v1/alerts?limit=0",
    ):
        expect(api.get(bad, token=manager), 400, "invalid_field")
    expect(api.get("/api/v1/stats/live?site=nowhere", token=manager), 404)

    review = expect(api.get("/api/v1/reviews", token=manager), 200)["reviews"][0]
    base = f"/api/v1/reviews/{review['id']}"
    expect(api.post(f"{base}/reopen", token=manager), 409)
    expect(api.post(f"{base}/assign", {"assignee": "clerk01"}, token=manager), 200)
    expect(api.post(f"{base}/assign", {"assignee": "nobody"}, token=manager), 400)
    expect(api.post(f"{base}/note", {"note": "已回访"}, token=manager), 200)
    expect(api.post(f"{base}/note", {}, token=manager), 400)
    expect(api.post(f"{base}/close", {}, token=manager), 200)
    expect(api.post(f"{base}/close", {}, token=manager), 409)
    expect(api.post(f"{base}/assign", {"assignee": "clerk01"}, token=manager), 409)
    expect(api.post(f"{base}/reopen", token=manager), 200)
    for action, body in (
        ("assign", {"assignee": "clerk01"}),
        ("note", {"note": "x"}),
        ("close", {"note": "x"}),
        ("reopen", None),
    ):
        expect(api.post(f"/api/v1/reviews/abc/{action}", body, token=manager), 404)
        expect(api.post(f"{base}/{action}", body, token=clerk), 403)
        expect(api.post(f"{base}/{action}", body), 401)
    expect(api.post(f"{base}/close", data="[]", token=manager), 400, "invalid_json")


def what_if(api: DocumentedApi, clerk: str, manager: str, clock: FakeClock) -> None:
    day = clock.now.date().isoformat()  # today's tickets, replayed tomorrow
    clock.advance(days=1)
    run = expect(api.post("/api/v1/whatif", {"date": day, "counters": 2}, token=manager), 202)
    path = f"/api/v1/whatif/{run['run']['id']}"
    deadline = time.monotonic() + 30
    while expect(api.get(path, token=manager), 200)["run"]["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert expect(api.get(path, token=manager), 200)["run"]["state"] == "done"
    expect(api.post("/api/v1/whatif", {"date": "2026-02-30"}, token=manager), 400, "invalid_field")
    expect(api.post("/api/v1/whatif", {"date": day}, token=clerk), 403, "forbidden")
    expect(api.post("/api/v1/whatif", {"date": day}), 401, "unauthenticated")
    expect(api.get("/api/v1/whatif/nothing", token=manager), 404, "not_found")
    expect(api.get(path, token=clerk), 403, "forbidden")
    expect(api.get(path), 401, "unauthenticated")


def settings(api: DocumentedApi, clerk: str, manager: str, admin: str) -> None:
    base = "/api/v1/settings"
    for path, body in (
        (f"{base}/services/employment", {"daily_quota": 7}),
        (f"{base}/counters/2", {"strategy": "ordered"}),
        (f"{base}/notice", {"notice": "今日下午系统维护"}),
    ):
        expect(api.post(path, body, token=admin), 200)
        expect(api.post(path, body, token=manager), 403, "forbidden")
        expect(api.post(path, body, token=clerk), 403)
        expect(api.post(path, body), 401)
        if "notice" not in path:
            expect(api.post(path, {}, token=admin), 400, "invalid_field")
    expect(api.post(f"{base}/notice", {"notice": "x" * 501}, token=admin), 400)
    expect(api.post(f"{base}/services/nope", {"daily_quota": 1}, token=admin), 404)
    expect(api.post(f"{base}/counters/99", {"strategy": "fifo"}, token=admin), 404)
    expect(api.post(f"{base}/counters/2", {"queues": ["ZZ"]}, token=admin), 400)

    quota = {"daily_quota": 1}
    expect(api.post(f"{base}/services/pickup", quota, token=admin), 200)
    expect(api.post("/api/v1/tickets", {"service": "pickup"}), 201)
    expect(api.post("/api/v1/tickets", {"service": "pickup"}), 409, "quota_reached")


def appointments(api: DocumentedApi, clerk: str, manager: str) -> None:
    base = "/api/v1/appointments"
    expect(api.get(f"{base}/slots?service=social_insurance&date=2026-11-21"), 200)
    expect(api.get(f"{base}/slots?service=employment&date=2026-11-21"), 400, "not_bookable")
    booking = {
        "service": "social_insurance",
        "visitor_id": ID_CARD,
        "date": "2026-11-21",
        "start": "10:00",
    }
    appointment = expect(api.post(base, booking), 201)["appointment"]
    expect(api.post(base, booking), 409, "already_booked")
    expect(api.post(base, {**booking, "start": "10:10"}), 400, "invalid_field")
    expect(api.post(base, data="[]"), 400, "invalid_json")
    expect(api.post("/api/v1/tickets", {"appointment": appointment["code"]}), 409, "too_early")
    expect(api.post("/api/v1/tickets", {"appointment": "99999x"}), 404, "not_found")
    expect(api.get(base, token=manager), 200)
    expect(api.get(f"{base}?date=2026-11-21", token=manager), 200)
    expect(api.get(f"{base}?date=tomorrow", token=manager), 400, "invalid_field")
    expect(api.get(f"{base}?site=nowhere", token=manager), 404)
    expect(api.get(base, token=clerk), 403, "forbidden")
    expect(api.get(base), 401, "unauthenticated")
    expect(api.post(f"{base}/{appointment['id']}/cancel"), 200)
    expect(api.post(f"{base}/{appointment['id']}/cancel"), 409, "invalid_state")
    expect(api.post(f"{base}/nope/cancel"), 404, "not_found")
    expect(api.get("/api/v1/stats/appointments?to=2026-11-21", token=manager), 200)  # a row
    expect(api.post(f"{base}/{appointment['id']}/cancel", data="1"), 400, "invalid_json")


def health(api: DocumentedApi, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    expect(api.get("/healthz"), 200)

    def no_database() -> Any:
        raise OSError("the database is down")

    monkeypatch.setattr(app.extensions["yihao"].engine, "connect", no_database)
    expect(api.get("/healthz"), 503)
