"""A clerk's day at the counter: every action, the call order, and every refusal."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from queue_server.config import parse_hall
from tests.conftest import Staff

Issue = Callable[..., dict[str, Any]]


def numbers_called(clerk: Staff, counter: int, times: int) -> list[str | None]:
    called = []
    for _ in range(times):
        ticket = clerk.counter(counter, "call-next").json["ticket"]
        called.append(ticket["number"] if ticket else None)
        if ticket:
            clerk.counter(counter, "finish")
    return called


def test_lifecycle_of_a_plain_visit(
    client: FlaskClient, clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    clerk = clerk_at(5)
    ticket = make_ticket()
    called = clerk.counter(5, "call-next")
    assert called.status_code == 200
    view = called.json["ticket"]
    assert (view["number"], view["state"], view["counter"], view["reason"]) == (
        "A001",
        "called",
        5,
        None,
    )
    assert view["steps"][0]["clerk_name"] == "陈静"
    assert clerk.counter(5, "recall").json["ticket"]["steps"][0]["recalls"] == 1
    assert clerk.counter(5, "start").json["ticket"]["state"] == "serving"
    finished = clerk.counter(5, "finish", {"services": ["employment", "card_services"]})
    assert finished.json["ticket"]["state"] == "done"
    assert finished.json["ticket"]["services"] == ["employment", "card_services"]
    assert client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]["state"] == "done"
    assert clerk.counter(5, "call-next").json == {"ticket": None}


def test_auth_is_required_and_clerks_act_only_at_their_counter(
    client: FlaskClient, login: Callable[[str], Staff], clerk_at: Callable[[int], Staff]
) -> None:
    assert client.post("/api/v1/counters/1/call-next").status_code == 401
    bad = client.post("/api/v1/counters/1/call-next", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401
    assert bad.json["error"]["code"] == "unauthenticated"
    # the token is checked before the body: an anonymous caller learns nothing of the body
    for body in ("[", {"number": 12}, {"reason": ""}):
        for action in ("call", "hold", "finish"):
            anonymous = client.post(f"/api/v1/counters/1/{action}", json=body)
            assert anonymous.status_code == 401, (action, body)
    clerk_at(1)
    other = login("clerk02")
    response = other.counter(1, "call-next")
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert other.counter(1, "sign-out").status_code == 403
    manager = login("manager")
    assert manager.counter(1, "call-next").status_code == 200  # managers may act on any counter


def test_login_errors(client: FlaskClient) -> None:
    wrong = client.post("/api/v1/auth/login", json={"username": "clerk01", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json["error"]["code"] == "unauthenticated"
    assert client.post("/api/v1/auth/login", json={"username": "clerk01"}).status_code == 400
    ok = client.post("/api/v1/auth/login", json={"username": "manager", "password": "demo"})
    assert ok.json["user"] == {
        "username": "manager",
        "name": "孙经理",
        "role": "manager",
        "clerk_no": None,
        "counter": None,
    }


def test_failed_logins_are_rate_limited(client: FlaskClient) -> None:
    statuses = [
        client.post(
            "/api/v1/auth/login", json={"username": "clerk03", "password": "guess"}
        ).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    limited = client.post("/api/v1/auth/login", json={"username": "clerk03", "password": "demo"})
    assert limited.json["error"]["code"] == "too_many_requests"
    # Other users from the same address are not locked out.
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "clerk04", "password": "demo"}
        ).status_code
        == 200
    )


def test_sign_in_rules(
    login: Callable[[str], Staff], clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    clerk = clerk_at(1)
    assert clerk.counter(1, "sign-in").status_code == 200  # again: a no-op
    occupied = login("clerk02").counter(1, "sign-in")
    assert occupied.status_code == 409
    assert occupied.json["error"]["code"] == "counter_occupied"
    elsewhere = clerk.counter(2, "sign-in")
    assert elsewhere.status_code == 409
    assert elsewhere.json["error"]["code"] == "counter_occupied"
    assert clerk.counter(99, "sign-in").status_code == 404
    make_ticket()
    clerk.counter(1, "call-next")
    for action in ("sign-out", "pause"):
        refused = clerk.counter(1, action)
        assert refused.status_code == 409
        assert refused.json["error"]["code"] == "invalid_state"
    clerk.counter(1, "finish")
    assert clerk.counter(1, "pause").json["counter"]["state"] == "paused"
    paused = clerk.counter(1, "call-next")
    assert paused.status_code == 409
    assert paused.json["error"]["code"] == "counter_not_open"
    assert clerk.counter(1, "resume").json["counter"]["state"] == "open"
    assert clerk.counter(1, "sign-out").json["counter"]["state"] == "closed"
    closed = login("manager").counter(1, "call-next")
    assert closed.json["error"]["code"] == "counter_not_open"


def test_a_pause_says_why(
    client: FlaskClient, login: Callable[[str], Staff], clerk_at: Callable[[int], Staff]
) -> None:
    """Issue 14: the pause takes a reason (午休, 会议, 临时离开 or the clerk's words); the
    counter shows it while paused (terminal, counter-top screen's `counter` payload) and the
    `counter_paused` event records it; resuming clears it."""
    clerk = clerk_at(1)
    too_long = clerk.counter(1, "pause", json={"reason": "长" * 101})
    assert too_long.status_code == 400
    paused = clerk.counter(1, "pause", json={"reason": "午休"})
    assert paused.status_code == 200, paused.json
    assert (paused.json["counter"]["state"], paused.json["counter"]["pause_reason"]) == (
        "paused",
        "午休",
    )
    assert clerk.get("/api/v1/counters/1").json["counter"]["pause_reason"] == "午休"
    screens = client.get("/api/v1/display/snapshot").json["counters"]
    assert next(row for row in screens if row["counter"] == 1)["pause_reason"] == "午休"
    events = login("manager").get("/api/v1/events?since=0").json["events"]
    pause_event = next(event for event in events if event["kind"] == "counter_paused")
    assert pause_event["detail"]["reason"] == "午休"
    resumed = clerk.counter(1, "resume").json["counter"]
    assert (resumed["state"], resumed["pause_reason"]) == ("open", None)
    # Without a reason (as before): paused, no reason.
    plain = clerk.counter(1, "pause").json["counter"]
    assert (plain["state"], plain["pause_reason"]) == ("paused", None)


@pytest.mark.parametrize("action", ["recall", "start", "finish", "no-show", "transfer", "hold"])
def test_actions_with_nothing_in_hand_are_409(
    clerk_at: Callable[[int], Staff], action: str
) -> None:
    clerk = clerk_at(1)
    body = (
        {"queue": "D"}
        if action == "transfer"
        else {"reason": "缺材料"}
        if action == "hold"
        else None
    )
    response = clerk.counter(1, action, body)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_state"


def test_state_rules(clerk_at: Callable[[int], Staff], make_ticket: Issue) -> None:
    clerk = clerk_at(1)
    make_ticket()
    clerk.counter(1, "call-next")
    clerk.counter(1, "start")
    for action in ("recall", "start", "no-show"):
        response = clerk.counter(1, action)
        assert response.status_code == 409, action
        assert response.json["error"]["code"] == "invalid_state"
    assert clerk.counter(1, "call-next").json["error"]["code"] == "invalid_state"  # one in hand


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("transfer", {}),
        ("transfer", {"queue": "A", "counter": 2}),
        ("transfer", {"queue": "Z"}),
        ("transfer", {"counter": 77}),
        ("transfer", {"service": "nope"}),
        ("transfer", {"queue": "D", "position": "middle"}),
        ("hold", {}),
        ("hold", {"reason": ""}),
        ("hold", {"reason": "缺材料", "keep_counter": "yes"}),
        ("finish", {"services": ["no_such"]}),
        ("finish", {"services": []}),
        ("finish", {"outcome": "maybe"}),
        ("call", {}),
        ("call", {"number": 5}),
    ],
)
def test_bad_action_bodies_are_400_and_change_nothing(
    clerk_at: Callable[[int], Staff], make_ticket: Issue, action: str, body: dict[str, Any]
) -> None:
    clerk = clerk_at(1)
    make_ticket()
    clerk.counter(1, "call-next")
    response = clerk.counter(1, action, body)
    assert response.status_code == 400
    assert response.json["error"]["code"] in ("invalid_field", "unknown_service")
    assert clerk.counter(1, "start").json["ticket"]["state"] == "serving"  # still in hand


def test_transfer_service_not_allowed_for_party(
    clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    clerk = clerk_at(1)
    make_ticket()
    clerk.counter(1, "call-next")
    response = clerk.counter(1, "transfer", {"service": "hiring_filing"})
    assert response.json["error"]["code"] == "party_not_allowed"


def test_fifo_across_lines_and_ordered_counter(
    clerk_at: Callable[[int], Staff], make_ticket: Issue, clock: Any
) -> None:
    make_ticket("employment")  # A001
    clock.advance(seconds=10)
    make_ticket("social_insurance", party="enterprise")  # B001
    clock.advance(seconds=10)
    make_ticket("employment")  # A002
    clock.advance(seconds=10)
    make_ticket("social_insurance", party="enterprise")  # B002
    seventh = clerk_at(7)  # serves [B, A] ordered
    assert numbers_called(seventh, 7, 2) == ["B001", "B002"]
    first = clerk_at(1)  # serves [A, B] fifo
    assert numbers_called(first, 1, 3) == ["A001", "A002", None]


def test_green_channel_goes_ahead_with_its_reason(
    clerk_at: Callable[[int], Staff], make_ticket: Issue, clock: Any
) -> None:
    make_ticket()
    clock.advance(seconds=5)
    green = make_ticket(priority="green")
    assert green["waiting_ahead"] == 0
    clerk = clerk_at(1)
    called = clerk.counter(1, "call-next").json["ticket"]
    assert (called["number"], called["reason"]) == ("A002", "green")


def test_overdue_ticket_outranks_returning(
    clerk_at: Callable[[int], Staff], make_ticket: Issue, clock: Any
) -> None:
    make_ticket("card_services")  # target 15 min → overdue after 30 min
    clock.advance(minutes=31)
    clerk = clerk_at(1)
    make_ticket("pickup")
    called = clerk.counter(1, "call-next").json["ticket"]
    assert (called["number"], called["reason"]) == ("A001", "overdue")


def test_transfer_to_the_front_keeps_the_number(
    client: FlaskClient, clerk_at: Callable[[int], Staff], make_ticket: Issue, clock: Any
) -> None:
    for _ in range(3):
        make_ticket("pickup")  # D001..D003 already waiting at pickup
    visitor = make_ticket("employment")  # A001
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    moved = clerk.counter(1, "transfer", {"queue": "D"}).json["ticket"]
    assert (moved["number"], moved["queue"], moved["state"]) == ("A001", "D", "waiting")
    # SPEC v2: a transfer moves the visitor within the plan, never adds to it
    assert (moved["step"], moved["steps_total"]) == (1, 1)
    assert len(moved["steps"]) == 2  # staff still see every internal step
    assert moved["waiting_ahead"] == 0
    assert moved["steps"][0]["outcome"] == "transferred"
    pickup = clerk_at(9)
    called = pickup.counter(9, "call-next").json["ticket"]
    assert (called["number"], called["reason"]) == ("A001", "transfer")
    assert client.get(f"/api/v1/tickets/{visitor['id']}").json["ticket"]["counter"] == 9


def test_transfer_to_the_back_and_to_a_counter(
    clerk_at: Callable[[int], Staff], make_ticket: Issue, clock: Any
) -> None:
    make_ticket("pickup")
    make_ticket("employment")
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    back = clerk.counter(1, "transfer", {"queue": "D", "position": "back"}).json["ticket"]
    assert back["waiting_ahead"] == 1
    make_ticket("employment")
    clerk.counter(1, "call-next")
    to_counter = clerk.counter(1, "transfer", {"counter": 10}).json["ticket"]
    assert to_counter["queue"] == "E"
    backoffice = clerk_at(10)
    called = backoffice.counter(10, "call-next").json["ticket"]
    assert (called["number"], called["reason"]) == ("A002", "transfer")


def test_transfer_by_service_routes_it(
    clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    make_ticket("employment")
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    moved = clerk.counter(1, "transfer", {"service": "maternity"}).json["ticket"]
    assert moved["queue"] == "C"
    assert moved["services"] == ["employment", "maternity"]


def test_finishing_a_step_moves_the_visit_on(
    client: FlaskClient, clerk_at: Callable[[int], Staff]
) -> None:
    first = client.post(
        "/api/v1/tickets", json={"service": "employment", "phone": "13800138000"}
    ).json
    client.post("/api/v1/tickets", json={"service": "pickup", "phone": "13800138000"})
    client.post("/api/v1/tickets", json={"service": "pickup"})  # D001 waits before
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    after = clerk.counter(1, "finish").json["ticket"]
    assert (after["state"], after["queue"], after["step"], after["steps_total"]) == (
        "waiting",
        "D",
        2,
        2,
    )
    assert after["waiting_ahead"] == 0
    called = clerk_at(9).counter(9, "call-next").json["ticket"]
    assert (called["id"], called["number"], called["reason"]) == (
        first["ticket"]["id"],
        "A001",
        "next_step",
    )
    assert clerk_at(9) is not None


def test_hold_and_return_within_the_window(
    client: FlaskClient, clerk_at: Callable[[int], Staff], make_ticket: Issue, clock: Any
) -> None:
    visitor = make_ticket()
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    held = clerk.counter(1, "hold", {"reason": "缺少劳动合同复印件"}).json["ticket"]
    assert held["state"] == "held"
    assert held["return_until"] == "2026-11-20T10:00:00+08:00"
    for _ in range(2):
        make_ticket()
    clock.advance(minutes=30)  # (not 40: the two behind would be overdue, which outranks all)
    back = client.post(f"/api/v1/tickets/{visitor['id']}/return").json["ticket"]
    assert (back["number"], back["state"], back["waiting_ahead"]) == ("A001", "waiting", 0)
    called = clerk.counter(1, "call-next").json["ticket"]
    assert (called["number"], called["reason"]) == ("A001", "return")
    assert [step["outcome"] for step in called["steps"]] == ["held", None]


def test_return_after_the_window_goes_to_the_back(
    client: FlaskClient, clerk_at: Callable[[int], Staff], make_ticket: Issue, clock: Any
) -> None:
    visitor = make_ticket()
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    clerk.counter(1, "hold", {"reason": "预审"})
    make_ticket()
    clock.advance(minutes=61)
    back = client.post(f"/api/v1/tickets/{visitor['id']}/return").json["ticket"]
    assert back["waiting_ahead"] == 1


def test_hold_kept_at_the_counter(
    client: FlaskClient, clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    visitor = make_ticket()
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    clerk.counter(1, "hold", {"reason": "持件挂起", "keep_counter": True})
    other = clerk_at(2)
    refused = other.counter(2, "call", {"number": "A001"})
    assert refused.status_code == 409
    called = clerk.counter(1, "call", {"number": "a001"}).json["ticket"]
    assert (called["number"], called["reason"], called["counter"]) == ("A001", "manual", 1)
    clerk.counter(1, "hold", {"reason": "再去复印", "keep_counter": True})
    client.post(f"/api/v1/tickets/{visitor['id']}/return")
    assert other.counter(2, "call-next").json["ticket"] is None  # only counter 1 takes it back
    assert clerk.counter(1, "call-next").json["ticket"]["number"] == "A001"


def test_no_show_and_reinstate_behind_the_third(
    client: FlaskClient, clerk_at: Callable[[int], Staff], make_ticket: Issue, clock: Any
) -> None:
    visitor = make_ticket()
    for _ in range(5):
        clock.advance(seconds=20)
        make_ticket()
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    missed = clerk.counter(1, "no-show").json["ticket"]
    assert missed["state"] == "missed"
    assert missed["reinstate_until"] == "2026-11-20T09:31:40+08:00"  # 30 min after the no-show
    clock.advance(minutes=10)
    back = client.post(f"/api/v1/tickets/{visitor['id']}/reinstate").json["ticket"]
    assert (back["state"], back["waiting_ahead"]) == ("waiting", 3)
    called = numbers_called(clerk, 1, 4)
    assert called == ["A002", "A003", "A004", "A001"]


def test_reinstate_after_the_grace_is_409(
    client: FlaskClient, clerk_at: Callable[[int], Staff], make_ticket: Issue, clock: Any
) -> None:
    visitor = make_ticket()
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    clerk.counter(1, "no-show")
    clock.advance(minutes=31)
    response = client.post(f"/api/v1/tickets/{visitor['id']}/reinstate")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_state"
    assert clerk.counter(1, "call", {"number": "A001"}).status_code == 409


def test_call_a_missed_ticket_by_number_within_grace(
    clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    make_ticket()
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    clerk.counter(1, "no-show")
    called = clerk.counter(1, "call", {"number": "A001"}).json["ticket"]
    assert (called["state"], called["reason"]) == ("called", "manual")


def test_call_by_number_refusals(clerk_at: Callable[[int], Staff], make_ticket: Issue) -> None:
    make_ticket("maternity")
    clerk = clerk_at(1)
    assert clerk.counter(1, "call", {"number": "A999"}).status_code == 404
    other_line = clerk.counter(1, "call", {"number": "C001"})
    assert other_line.status_code == 409


@pytest.mark.parametrize("action", ["cancel", "return", "reinstate"])
def test_visitor_actions_in_the_wrong_state(
    client: FlaskClient, clerk_at: Callable[[int], Staff], make_ticket: Issue, action: str
) -> None:
    visitor = make_ticket()
    if action == "cancel":
        clerk = clerk_at(1)
        clerk.counter(1, "call-next")
    response = client.post(f"/api/v1/tickets/{visitor['id']}/{action}")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_state"
    assert client.post(f"/api/v1/tickets/unknown-ticket-0000/{action}").status_code == 404


def test_cancel(client: FlaskClient, make_ticket: Issue) -> None:
    visitor = make_ticket()
    cancelled = client.post(f"/api/v1/tickets/{visitor['id']}/cancel").json["ticket"]
    assert cancelled["state"] == "cancelled"
    assert client.get("/api/v1/queues").json[0]["waiting"] == 0
    assert client.post(f"/api/v1/tickets/{visitor['id']}/cancel").status_code == 409


def test_rating_once_while_open(
    client: FlaskClient, clerk_at: Callable[[int], Staff], make_ticket: Issue, clock: Any
) -> None:
    make_ticket()
    make_ticket()
    clerk = clerk_at(3)
    assert client.post("/api/v1/counters/3/rating", json={"rating": 5}).status_code == 409
    clerk.counter(3, "call-next")
    clerk.counter(3, "finish")
    rated = client.post("/api/v1/counters/3/rating", json={"rating": 2, "reasons": ["等候时间长"]})
    assert rated.status_code == 201
    assert rated.json == {"rating": {"counter": 3, "rating": 2, "at": "2026-11-20T09:00:00+08:00"}}
    again = client.post("/api/v1/counters/3/rating", json={"rating": 5})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "evaluation_closed"
    # The next finish opens it again, for two minutes only.
    clerk.counter(3, "call-next")
    clerk.counter(3, "finish")
    clock.advance(seconds=121)
    assert (
        client.post("/api/v1/counters/3/rating", json={"rating": 4}).json["error"]["code"]
        == "evaluation_closed"
    )


def test_next_call_closes_the_evaluation(
    client: FlaskClient, clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    make_ticket()
    make_ticket()
    clerk = clerk_at(3)
    clerk.counter(3, "call-next")
    clerk.counter(3, "finish")
    clerk.counter(3, "call-next")
    assert client.post("/api/v1/counters/3/rating", json={"rating": 5}).status_code == 409


@pytest.mark.parametrize(
    "body", [{"rating": 0}, {"rating": 6}, {"rating": "5"}, {}, {"rating": 1, "reasons": "x"}]
)
def test_bad_ratings_are_400(client: FlaskClient, body: dict[str, Any]) -> None:
    response = client.post("/api/v1/counters/3/rating", json=body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_field"


def test_ticket_by_number_for_staff(
    client: FlaskClient, login: Callable[[str], Staff], make_ticket: Issue
) -> None:
    make_ticket(visitor_id="11010519491231002X")
    staff = login("clerk01")
    found = staff.get("/api/v1/tickets?number=A001")
    assert found.json["ticket"]["visitor_id_masked"] == "1101**********002X"
    assert staff.get("/api/v1/tickets?number=A404").status_code == 404
    assert client.get("/api/v1/tickets?number=A001").status_code == 401


def test_counters_list_and_live_stats(
    login: Callable[[str], Staff], clerk_at: Callable[[int], Staff], make_ticket: Issue, clock: Any
) -> None:
    make_ticket()
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    counters = clerk.get("/api/v1/counters").json
    assert counters[0]["current"] == "A001"
    assert counters[0]["clerk_name"] == "张敏"
    assert clerk.get("/api/v1/stats/live").status_code == 403
    make_ticket()
    clock.advance(minutes=25)
    live = login("manager").get("/api/v1/stats/live").json
    line_a = live["queues"][0]
    assert (line_a["code"], line_a["waiting"], line_a["longest_wait_s"]) == ("A", 1, 1500)
    assert line_a["target_wait_s"] == 900  # the shortest target of businesses routed to A
    assert any(alert["kind"] == "wait_target" for alert in live["alerts"])
    assert live["counters"][0]["current"] == "A001"


def test_event_log_in_seq_order(
    login: Callable[[str], Staff], clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    make_ticket()
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    clerk.counter(1, "finish")
    events = login("manager").get("/api/v1/events?since=0").json["events"]
    assert [event["kind"] for event in events] == ["issue", "counter_open", "call", "finish"]
    assert [event["seq"] for event in events] == [1, 2, 3, 4]
    assert events[2]["from"] == "waiting"
    assert events[2]["to"] == "called"
    later = login("admin").get("/api/v1/events?since=2").json["events"]
    assert [event["seq"] for event in later] == [3, 4]
    assert login("manager").get("/api/v1/events?since=-1").status_code == 400
    assert login("manager").get("/api/v1/events?since=abc").status_code == 400


# -- who may sign in where (SPEC §2) -------------------------------------------------------
@pytest.mark.parametrize(
    ("username", "allowed", "refused"),
    [
        ("clerk01", [1, 2, 3, 4, 5, 6, 7], [8, 9, 10]),
        ("clerk07", [1, 7], [8, 9, 10]),
        ("clerk08", [8], [1, 7, 9, 10]),
        ("clerk09", [9], [1, 8, 10]),
        ("clerk10", [10], [1, 8, 9]),
        ("manager", [], [1, 7, 8, 9, 10]),
        ("admin", [], [1, 8, 10]),
    ],
)
def test_the_demo_hall_says_who_may_sign_in_where(
    login: Callable[[str], Staff], username: str, allowed: list[int], refused: list[int]
) -> None:
    staff = login(username)
    for number in refused:
        response = staff.counter(number, "sign-in")
        assert response.status_code == 403, (number, response.json)
        assert response.json["error"]["code"] == "forbidden"
    rows = {row["counter"]: row for row in staff.get("/api/v1/counters").json}
    assert all(rows[number]["clerk"] is None for number in refused)  # nobody signed in
    for number in allowed:
        assert staff.counter(number, "sign-in").status_code == 200, number
        assert staff.counter(number, "sign-out").status_code == 200, number


def test_a_refused_sign_in_says_so_in_the_callers_language(login: Callable[[str], Staff]) -> None:
    clerk = login("clerk01")
    zh = clerk.counter(8, "sign-in").json["error"]["message"]
    assert zh == "您无权登录8号窗口"
    english = clerk.client.post("/api/v1/counters/8/sign-in?lang=en", headers=clerk.headers).json[
        "error"
    ]["message"]
    assert english == "You may not sign into counter 8"


def test_rights_come_before_the_counters_state(
    login: Callable[[str], Staff], clerk_at: Callable[[int], Staff]
) -> None:
    clerk_at(8)
    refused = login("clerk01").counter(8, "sign-in")  # occupied, and not clerk01's anyway
    assert refused.status_code == 403
    assert login("clerk01").counter(99, "sign-in").status_code == 404  # unknown stays 404


def test_managers_sign_into_none_but_act_on_any_counter(
    login: Callable[[str], Staff], clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    clerk = clerk_at(8)
    ticket = make_ticket("maternity")
    manager = login("manager")
    assert manager.counter(8, "sign-in").status_code == 403
    called = manager.counter(8, "call-next")
    assert called.status_code == 200
    assert called.json["ticket"]["number"] == ticket["number"]
    assert manager.counter(8, "finish").status_code == 200
    assert clerk.counter(8, "sign-out").status_code == 200


def test_a_user_without_a_list_may_sign_in_anywhere(
    make_app: Callable[..., Any], demo_hall_data: Any
) -> None:
    data = copy.deepcopy(demo_hall_data)
    clerk = next(user for user in data["users"] if user["username"] == "clerk01")
    del clerk["counters"]
    client = make_app(HALL=parse_hall(data)).test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": "clerk01", "password": "demo"}
    ).json["token"]
    staff = Staff(client, token)
    for number in (8, 10, 1):
        assert staff.counter(number, "sign-in").status_code == 200, number
        assert staff.counter(number, "sign-out").status_code == 200, number
