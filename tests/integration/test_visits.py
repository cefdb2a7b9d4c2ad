"""Visits across days (SPEC §8, 统一出证) through the HTTP API with the test clock, on SQLite
and PostgreSQL: finish {pickup_on}, the pickup ticket linked to the visit with returning
priority, the pickup as a further step of a ticket held that day, and the visits report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from queue_server.config import SiteConfig
from queue_server.domain.identity import id_card_check_char
from queue_server.manager.visit_stats import (
    APPOINTMENT_GROUPS,
    appointments_summary,
    visits_summary,
)
from queue_server.scheduler import appointment_no_show_job, day_close_job
from queue_server.services.event_replay import (
    bookings_from_events,
    issued_from_events,
    tickets_from_events,
)
from tests.conftest import FakeClock, Staff

TODAY = date(2026, 11, 20)  # the test clock's Friday
MONDAY = date(2026, 11, 23)


def id_card(serial: int) -> str:
    first17 = f"11010519800101{serial:03d}"
    return first17 + id_card_check_char(first17)


def issue(client: FlaskClient, **body: Any) -> Any:
    return client.post("/api/v1/tickets", json={"service": "employment", **body})


def accepted(
    client: FlaskClient, clerk: Staff, pickup_on: date = MONDAY, **identity: Any
) -> dict[str, Any]:
    """A visit taken, called at counter 1 and finished with its pickup on a later day."""
    ticket: dict[str, Any] = issue(client, **identity).json["ticket"]
    assert clerk.counter(1, "call-next").json["ticket"]["number"] == ticket["number"]
    response = clerk.counter(1, "finish", {"pickup_on": pickup_on.isoformat()})
    assert response.status_code == 200, response.json
    return ticket


def to_day(clock: FakeClock, day: date) -> None:
    clock.advance(days=(day - TODAY).days - (clock.now.date() - TODAY).days)


def test_finish_with_a_pickup_day_ends_the_visit_and_shows_it(
    client: FlaskClient, clerk_at: Callable[[int], Staff]
) -> None:
    clerk = clerk_at(1)
    ticket = issue(client, visitor_id=id_card(1)).json["ticket"]
    clerk.counter(1, "call-next")
    answer = clerk.counter(1, "finish", {"pickup_on": "2026-11-23"}).json["ticket"]
    assert answer["state"] == "done"
    assert answer["pickup_on"] == "2026-11-23"
    mine = client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]
    assert (mine["state"], mine["pickup_on"], mine["visit_of"]) == ("done", "2026-11-23", None)
    # The phone page carries the day and the words for it, in either language.
    page = client.get(f"/t/{ticket['id']}").get_data(as_text=True)
    assert "2026-11-23" in page
    assert "出件：{date}起" in page
    english = client.get(f"/t/{ticket['id']}?lang=en").get_data(as_text=True)
    assert "Pickup from {date}" in english


def test_a_pickup_day_must_be_a_future_working_day(
    client: FlaskClient, clerk_at: Callable[[int], Staff], login: Callable[[str], Staff]
) -> None:
    clerk = clerk_at(1)
    issue(client, visitor_id=id_card(2))
    clerk.counter(1, "call-next")
    days = ("2026-11-20", "2026-11-19", "2026-11-21", "2026-10-01", "2026-11-3x", "2003-03-03")
    for day in days:  # 2003: a past year the calendar does not know
        response = clerk.counter(1, "finish", {"pickup_on": day})
        assert response.status_code == 400, day
        assert response.json["error"]["code"] == "invalid_field", day
    alerts = login("manager").get("/api/v1/alerts").json["alerts"]
    assert [alert for alert in alerts if alert["kind"] == "calendar"] == []
    refused = clerk.counter(1, "finish", {"pickup_on": "2026-11-23", "outcome": "cancelled"})
    assert refused.status_code == 400
    # Nothing was finished by the refusals: the ticket is still in hand.
    assert clerk.counter(1, "finish", {"pickup_on": "2026-11-24"}).json["ticket"]["state"] == "done"


def test_a_pickup_day_more_than_a_year_ahead_is_refused_and_alerts_nobody(
    client: FlaskClient, clerk_at: Callable[[int], Staff], login: Callable[[str], Staff]
) -> None:
    """A typo (9999) never reaches the visitor's page nor asks managers for that year's
    holidays; a working day of next year within the horizon is still taken."""
    clerk = clerk_at(1)
    issue(client, visitor_id=id_card(3))
    clerk.counter(1, "call-next")
    for day in ("9999-12-31", "2099-01-05", "2027-11-22"):  # 2027-11-22: 367 days ahead
        response = clerk.counter(1, "finish", {"pickup_on": day})
        assert response.status_code == 400, day
        assert response.json["error"]["code"] == "invalid_field", day
        assert "2027-11-21" in response.json["error"]["message"], day
    alerts = login("manager").get("/api/v1/alerts").json["alerts"]
    assert [alert for alert in alerts if alert["kind"] == "calendar"] == []
    taken = clerk.counter(1, "finish", {"pickup_on": "2027-11-19"}).json["ticket"]
    assert (taken["state"], taken["pickup_on"]) == ("done", "2027-11-19")


def test_on_the_day_the_same_identity_gets_a_linked_pickup_ticket_ahead_of_others(
    client: FlaskClient, clerk_at: Callable[[int], Staff], clock: FakeClock
) -> None:
    first = accepted(client, clerk_at(1), visitor_id=id_card(3))
    # Before the day: an ordinary pickup ticket, no link.
    to_day(clock, TODAY + timedelta(days=1))
    early = issue(client, service="pickup", visitor_id=id_card(3)).json["ticket"]
    assert early["visit_of"] is None
    client.post(f"/api/v1/tickets/{early['id']}/cancel")

    to_day(clock, MONDAY)
    clock.advance(hours=1)
    other = issue(client, service="pickup", visitor_id=id_card(4)).json["ticket"]
    clock.advance(minutes=5)
    response = issue(client, service="pickup", visitor_id=id_card(3))
    assert response.status_code == 201
    pickup = response.json["ticket"]
    assert pickup["visit_of"] == {"number": first["number"], "date": TODAY.isoformat()}
    assert pickup["number"] != other["number"]
    assert pickup["waiting_ahead"] == 0  # returning priority: ahead of the older ticket
    clerk = clerk_at(9)  # the pickup counter
    called = clerk.counter(9, "call-next").json["ticket"]
    assert (called["id"], called["reason"]) == (pickup["id"], "next_step")
    clerk.counter(9, "finish")
    # Collected: another pickup ticket of that identity is an ordinary one.
    again = issue(client, service="pickup", visitor_id=id_card(3)).json["ticket"]
    assert again["visit_of"] is None


def test_a_phone_keyed_visit_and_a_later_day_still_find_the_pickup(
    client: FlaskClient, clerk_at: Callable[[int], Staff], clock: FakeClock
) -> None:
    first = accepted(client, clerk_at(1), phone="13800138001")
    to_day(clock, MONDAY + timedelta(days=1))  # a day after the pickup day
    # Another business is not the pickup: an ordinary ticket.
    other = issue(client, service="employment", phone="13800138001").json["ticket"]
    assert other["visit_of"] is None
    client.post(f"/api/v1/tickets/{other['id']}/cancel")
    # A visitor_id is another identity than the phone alone.
    stranger = issue(client, service="pickup", visitor_id=id_card(5), phone="13800138001")
    assert stranger.json["ticket"]["visit_of"] is None
    pickup = issue(client, service="pickup", phone="13800138001").json["ticket"]
    assert pickup["visit_of"] == {"number": first["number"], "date": TODAY.isoformat()}


def test_a_pickup_not_collected_that_day_stays_open(
    client: FlaskClient, clerk_at: Callable[[int], Staff], clock: FakeClock
) -> None:
    first = accepted(client, clerk_at(1), visitor_id=id_card(6))
    to_day(clock, MONDAY)
    assert issue(client, service="pickup", visitor_id=id_card(6)).json["ticket"]["visit_of"]
    to_day(clock, MONDAY + timedelta(days=1))  # that ticket expired unserved
    pickup = issue(client, service="pickup", visitor_id=id_card(6)).json["ticket"]
    assert pickup["visit_of"] == {"number": first["number"], "date": TODAY.isoformat()}


def test_a_visitor_holding_a_ticket_gets_the_pickup_as_a_further_step(
    client: FlaskClient, clerk_at: Callable[[int], Staff], clock: FakeClock, login: Any
) -> None:
    first = accepted(client, clerk_at(1), visitor_id=id_card(7))
    to_day(clock, MONDAY)
    held = issue(client, service="employment", visitor_id=id_card(7))
    assert held.status_code == 201
    ticket = held.json["ticket"]
    reused = issue(client, service="pickup", visitor_id=id_card(7))
    assert reused.status_code == 200
    assert reused.json["reused"] is True
    mine = client.get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]
    assert mine["steps_total"] == 2
    assert mine["visit_of"] == {"number": first["number"], "date": TODAY.isoformat()}
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")
    after = clerk.counter(1, "finish").json["ticket"]
    assert (after["state"], after["queue"]) == ("waiting", "D")
    called = clerk_at(9).counter(9, "call-next").json["ticket"]
    assert (called["id"], called["reason"]) == (ticket["id"], "next_step")
    clerk_at(9).counter(9, "finish")
    events = login("manager").get("/api/v1/events?since=0").json["events"]
    links = [event for event in events if event["kind"] == "visit_link"]
    assert [event["detail"]["visit_number"] for event in links] == [first["number"]]


def test_the_visits_report_gives_the_time_from_acceptance_to_pickup(
    client: FlaskClient, clerk_at: Callable[[int], Staff], clock: FakeClock, login: Any
) -> None:
    first = accepted(client, clerk_at(1), visitor_id=id_card(8))
    accepted(client, clerk_at(1), visitor_id=id_card(9))  # never picked up
    issued_at = first["issued_at"]
    to_day(clock, MONDAY)
    pickup = issue(client, service="pickup", visitor_id=id_card(8)).json["ticket"]
    clock.advance(minutes=10)
    clerk_at(9).counter(9, "call-next")
    clerk_at(9).counter(9, "finish")
    manager = login("manager")
    report = manager.get("/api/v1/stats/visits?from=2026-11-20&to=2026-11-20").json
    rows = {row["number"]: row for row in report["rows"]}
    assert len(rows) == 2
    row = rows[first["number"]]
    assert row["issued_at"] == issued_at
    assert row["pickup_on"] == MONDAY.isoformat()
    assert row["pickup"]["number"] == pickup["number"]
    assert row["pickup"]["date"] == MONDAY.isoformat()
    assert row["total_s"] > 3 * 86400
    assert report["total"] == {"visits": 2, "picked_up": 1, "avg_total_s": row["total_s"]}
    waiting = next(item for number, item in rows.items() if number != first["number"])
    assert (waiting["pickup"], waiting["total_s"]) == (None, None)
    assert clerk_at(1).get("/api/v1/stats/visits").status_code == 403


def book(client: FlaskClient, serial: int, start: str) -> dict[str, Any]:
    body = {
        "service": "social_insurance",
        "visitor_id": id_card(serial),
        "date": TODAY.isoformat(),
        "start": start,
    }
    response = client.post("/api/v1/appointments", json=body)
    assert response.status_code == 201, response.json
    appointment: dict[str, Any] = response.json["appointment"]
    return appointment


def test_the_appointments_report_gives_share_and_on_time_rate(
    client: FlaskClient, clock: FakeClock, login: Any
) -> None:
    on_time = book(client, 21, "09:30")
    book(client, 22, "09:30")  # never comes: a no-show once its time is over
    late = book(client, 23, "10:00")
    cancelled = book(client, 24, "10:00")
    client.post(f"/api/v1/appointments/{cancelled['id']}/cancel")
    clock.advance(minutes=40)  # 09:40
    assert client.post("/api/v1/tickets", json={"appointment": on_time["code"]}).status_code == 201
    clock.advance(minutes=40)  # 10:20: past 10:00 + 15 minutes
    assert client.post("/api/v1/tickets", json={"appointment": late["code"]}).status_code == 201
    issue(client, service="social_insurance")  # a number taken without a booking
    issue(client)  # another business, no bookings
    manager = login("manager")
    by_service = manager.get("/api/v1/stats/appointments?group=service").json
    rows = {row["key"]: row for row in by_service["rows"]}
    assert rows["social_insurance"] == {
        "key": "social_insurance",
        "name": "社保业务",
        "tickets": 3,
        "booked": 3,
        "checked_in": 1,
        "late": 1,
        "no_show": 1,
        "cancelled": 1,
        "share_pct": 66.7,
        "on_time_pct": 50.0,
    } | {"name": rows["social_insurance"]["name"]}
    assert rows["employment"]["share_pct"] == 0.0
    assert rows["employment"]["on_time_pct"] is None
    assert by_service["total"]["tickets"] == 4
    by_day = manager.get("/api/v1/stats/appointments?group=day").json["rows"]
    assert [(row["key"], row["share_pct"], row["on_time_pct"]) for row in by_day] == [
        (TODAY.isoformat(), 50.0, 50.0)
    ]
    bad = manager.get("/api/v1/stats/appointments?group=counter")
    assert bad.status_code == 400
    assert bad.json["error"]["code"] == "invalid_field"


def all_events(manager: Staff) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        since = events[-1]["seq"] if events else 0
        page = manager.get(f"/api/v1/events?since={since}").json["events"]
        if not page:
            return events
        events += page


def reports_and_rebuilt(
    manager: Staff, site: SiteConfig, now: datetime, first: date, last: date
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The three reports of [first, last] from the API, and the same rebuilt from the event
    log alone (the names of the keys left out: they come from the hall file)."""
    dates = f"from={first.isoformat()}&to={last.isoformat()}"
    events = all_events(manager)
    reported: dict[str, Any] = {"visits": manager.get(f"/api/v1/stats/visits?{dates}").json}
    rebuilt: dict[str, Any] = {
        "visits": visits_summary(site, first, last, tickets_from_events(events, site, now))
    }
    for group in APPOINTMENT_GROUPS:
        report = manager.get(f"/api/v1/stats/appointments?group={group}&{dates}").json
        for row in report["rows"]:
            del row["name"]
        reported[group] = report
        rebuilt[group] = appointments_summary(
            group,
            first,
            last,
            issued_from_events(events, site.zone),
            bookings_from_events(events, site, now),
        )
    return reported, rebuilt


def test_the_visits_and_appointments_reports_come_out_the_same_from_the_event_log(
    app: Flask, client: FlaskClient, clerk_at: Callable[[int], Staff], clock: FakeClock, login: Any
) -> None:
    """SPEC §2: statistics are computable from events alone. Two days of visits across days
    and bookings, read on a third: the reports equal their rebuild from GET /api/v1/events,
    before the day-close and no-show jobs have written anything (a pickup left waiting reads
    expired, a booking past its time no_show) and after, when the rows have changed."""
    yihao = app.extensions["yihao"]
    site = yihao.hall.config.default_site
    clerk = clerk_at(1)
    collected = accepted(client, clerk, visitor_id=id_card(45))
    forgotten = accepted(client, clerk, visitor_id=id_card(46))
    further = accepted(client, clerk, visitor_id=id_card(47))
    on_time = book(client, 41, "09:30")
    book(client, 42, "09:30")  # never comes
    late = book(client, 43, "10:00")
    cancelled = book(client, 44, "10:00")
    client.post(f"/api/v1/appointments/{cancelled['id']}/cancel")
    clock.advance(minutes=40)  # 09:40
    assert client.post("/api/v1/tickets", json={"appointment": on_time["code"]}).status_code == 201
    clock.advance(minutes=40)  # 10:20: late
    assert client.post("/api/v1/tickets", json={"appointment": late["code"]}).status_code == 201
    issue(client, service="social_insurance")

    to_day(clock, MONDAY)
    issue(client, service="pickup", visitor_id=id_card(45))
    issue(client, service="pickup", visitor_id=id_card(46))  # taken, never called
    held = issue(client, service="employment", visitor_id=id_card(47)).json["ticket"]
    issue(client, service="pickup", visitor_id=id_card(47))  # a further step of that ticket
    clock.advance(minutes=7)
    pickup_clerk = clerk_at(9)
    assert pickup_clerk.counter(9, "call-next").status_code == 200
    pickup_clerk.counter(9, "finish")
    clerk.counter(1, "call-next")  # the employment step of id 47, then its pickup
    clerk.counter(1, "finish")
    clock.advance(minutes=4)
    assert pickup_clerk.counter(9, "call", {"number": held["number"]}).status_code == 200
    pickup_clerk.counter(9, "finish")

    to_day(clock, MONDAY + timedelta(days=1))
    manager = login("manager")
    ranges = [(TODAY, TODAY), (TODAY, MONDAY + timedelta(days=1))]
    before = []
    for first, last in ranges:
        reported, rebuilt = reports_and_rebuilt(manager, site, clock.now, first, last)
        assert reported == rebuilt
        before.append(reported)
    visits = {row["number"]: row for row in before[0]["visits"]["rows"]}
    assert visits[collected["number"]]["pickup"]["state"] == "done"
    assert visits[forgotten["number"]]["pickup"]["state"] == "expired"  # its row says waiting
    assert visits[forgotten["number"]]["total_s"] is None
    assert visits[further["number"]]["total_s"] > visits[collected["number"]]["total_s"]
    assert before[0]["visits"]["total"]["picked_up"] == 2
    by_service = {row["key"]: row for row in before[0]["service"]["rows"]}
    assert (by_service["social_insurance"]["no_show"], by_service["social_insurance"]["late"]) == (
        1,
        1,
    )

    day_close_job(yihao, clock.now)
    appointment_no_show_job(yihao, clock.now)
    for (first, last), earlier in zip(ranges, before, strict=True):
        reported, rebuilt = reports_and_rebuilt(manager, site, clock.now, first, last)
        assert reported == rebuilt == earlier
