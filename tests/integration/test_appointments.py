"""Bookings (预约, SPEC §8) through the HTTP API with the test clock, on SQLite and PostgreSQL:
slots inside the opening hours, book and cancel, the rules (one per visitor and day, full
slots, three no-shows), check-in by code or identity (on time, too early, late), the no-show
job, the managers' list, and 50 visitors racing for the last 3 places of a slot."""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from queue_server.domain.identity import id_card_check_char
from queue_server.models import Appointment, Ticket
from queue_server.scheduler import JOBS, appointment_no_show_job
from queue_server.services import appointments as appointments_service
from queue_server.services.appointments import write_no_shows
from tests.conftest import FakeClock, Staff

TODAY = date(2026, 11, 20)  # START: Friday 09:00 in Shanghai
TOMORROW = TODAY + timedelta(days=1)


def id_card(serial: int) -> str:
    first17 = f"11010519800101{serial:03d}"
    return first17 + id_card_check_char(first17)


def book(client: FlaskClient, serial: int = 1, **fields: Any) -> Any:
    body = {
        "service": "social_insurance",
        "visitor_id": id_card(serial),
        "date": TODAY.isoformat(),
        "start": "10:00",
        **fields,
    }
    return client.post("/api/v1/appointments", json=body)


def booked(client: FlaskClient, serial: int = 1, **fields: Any) -> dict[str, Any]:
    response = book(client, serial, **fields)
    assert response.status_code == 201, response.json
    appointment: dict[str, Any] = response.json["appointment"]
    return appointment


def slots(client: FlaskClient, day: date = TODAY, service: str = "social_insurance") -> Any:
    return client.get(f"/api/v1/appointments/slots?service={service}&date={day.isoformat()}")


def error_code(response: Any) -> str:
    code: str = response.json["error"]["code"]
    return code


def call_next(clerk: Staff, counter: int = 1) -> dict[str, Any]:
    response = clerk.counter(counter, "call-next")
    assert response.status_code == 200, response.json
    ticket: dict[str, Any] = response.json["ticket"]
    return ticket


# -- slots ------------------------------------------------------------------------------
def test_slots_of_a_day_with_places_taken(client: FlaskClient) -> None:
    today = slots(client).json["slots"]
    assert today[0] == {"start": "09:00", "end": "09:30", "capacity": 4, "booked": 0}
    assert today[-1]["start"] == "23:30"  # the demo hall is open round the clock
    assert len(slots(client, TOMORROW).json["slots"]) == 48
    booked(client)
    ten = next(slot for slot in slots(client).json["slots"] if slot["start"] == "10:00")
    assert ten["booked"] == 1
    other = slots(client, service="medical_insurance").json["slots"]
    assert all(slot["booked"] == 0 for slot in other)


def test_slots_refuse_unbookable_services_and_days(client: FlaskClient) -> None:
    response = slots(client, service="employment")
    assert (response.status_code, error_code(response)) == (400, "not_bookable")
    assert "就业登记不接受预约" in response.json["error"]["message"]
    assert error_code(slots(client, service="nope")) == "unknown_service"
    for day in (TODAY - timedelta(days=1), TODAY + timedelta(days=8)):
        assert slots(client, day).status_code == 400
    assert slots(client, TODAY + timedelta(days=7)).status_code == 200
    assert client.get("/api/v1/appointments/slots?service=social_insurance").status_code == 400


def hall_with_hours(demo_hall_data: Any) -> Any:
    """The demo hall with weekday hours and a lunch break, closed at weekends."""
    data = copy.deepcopy(demo_hall_data)
    day = [["08:30", "12:00"], ["13:30", "17:30"]]
    data["sites"][0]["hours"] = {
        "weekly": {
            **{name: day for name in ("mon", "tue", "wed", "thu", "fri")},
            "sat": [],
            "sun": [],
        }
    }
    return data


def test_slots_lie_inside_the_opening_hours(
    make_app: Callable[..., Flask], demo_hall_data: Any
) -> None:
    client = make_app(HALL=hall_with_hours(demo_hall_data)).test_client()
    monday = TODAY + timedelta(days=3)
    starts = [slot["start"] for slot in slots(client, monday).json["slots"]]
    assert starts[:2] == ["08:30", "09:00"]
    assert "11:30" in starts
    assert "12:00" not in starts
    assert "13:00" not in starts
    assert starts[-1] == "17:00"
    saturday = TODAY + timedelta(days=1)
    assert slots(client, saturday).json["slots"] == []
    response = book(client, date=saturday.isoformat())
    assert response.status_code == 400
    assert "不开放预约" in response.json["error"]["message"]
    response = book(client, date=monday.isoformat(), start="12:30")  # the lunch break
    assert response.status_code == 400
    assert booked(client, date=monday.isoformat(), start="13:30")["end"] == "14:00"


def test_a_hall_without_bookings() -> None:
    from queue_server.config import ConfigError, load_hall_file, parse_hall

    raw = load_hall_file.__globals__["yaml"].safe_load(
        load_hall_file.__globals__["DEFAULT_HALL_FILE"].read_text(encoding="utf-8")
    )
    raw["sites"][0]["appointments"]["capacity"] = {"nope": 2}
    with pytest.raises(ConfigError, match="appointments.capacity: unknown service 'nope'"):
        parse_hall(raw)
    raw["sites"][0]["appointments"]["capacity"] = {"employment": 0}
    with pytest.raises(ConfigError, match="at least 1 place"):
        parse_hall(raw)


# -- book and cancel --------------------------------------------------------------------
def test_book_answers_the_appointment(client: FlaskClient) -> None:
    appointment = booked(client, phone="13800138000")
    assert set(appointment) == {"id", "code", "service", "date", "start", "end", "state"}
    assert len(appointment["code"]) == 6
    assert appointment["code"].isdigit()
    assert len(appointment["id"]) >= 16
    assert (appointment["date"], appointment["start"], appointment["end"]) == (
        "2026-11-20",
        "10:00",
        "10:30",
    )
    assert appointment["state"] == "booked"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"start": "10:10"}, 400, "invalid_field"),  # not a slot
        ({"start": "08:30"}, 400, "invalid_field"),  # begun already
        ({"start": "25:00"}, 400, "invalid_field"),
        ({"date": "2026-11-28"}, 400, "invalid_field"),  # beyond days_ahead
        ({"date": "2026-11-19"}, 400, "invalid_field"),
        ({"service": "employment"}, 400, "not_bookable"),
        ({"visitor_id": "110105198001010010"}, 400, "invalid_visitor_id"),
        ({"party": "enterprise"}, 400, "invalid_visitor_id"),  # an ID card is no credit code
        ({"visitor_id": None}, 400, "invalid_field"),
        ({"headcount": 10001}, 400, "invalid_field"),  # over the hall's max_headcount
    ],
)
def test_book_refuses(client: FlaskClient, fields: dict[str, Any], status: int, code: str) -> None:
    response = book(client, **fields)
    assert (response.status_code, error_code(response)) == (status, code), response.json


def test_one_open_booking_per_visitor_per_day(client: FlaskClient) -> None:
    first = booked(client)
    response = book(client, start="15:00", service="medical_insurance")
    assert (response.status_code, error_code(response)) == (409, "already_booked")
    assert "10:00" in response.json["error"]["message"]
    assert booked(client, date=TOMORROW.isoformat())["state"] == "booked"  # another day
    assert booked(client, 2)["code"] != first["code"]  # someone else, the same slot
    cancelled = client.post(f"/api/v1/appointments/{first['id']}/cancel")
    assert cancelled.json["appointment"]["state"] == "cancelled"
    assert booked(client, start="15:00")["state"] == "booked"  # the day is free again


def test_a_full_slot(client: FlaskClient) -> None:
    made = [booked(client, serial) for serial in range(1, 5)]
    response = book(client, 5)
    assert (response.status_code, error_code(response)) == (409, "slot_full")
    assert "10:00的预约已满" in response.json["error"]["message"]
    assert book(client, 5, service="medical_insurance").status_code == 201  # its own places
    assert client.post(f"/api/v1/appointments/{made[0]['id']}/cancel").status_code == 200
    ten = next(slot for slot in slots(client).json["slots"] if slot["start"] == "10:00")
    assert ten["booked"] == 3
    assert book(client, 6).status_code == 201


def test_cancel_until_the_slot_starts(client: FlaskClient, clock: FakeClock) -> None:
    early, late = booked(client, 1), booked(client, 2, start="09:30")
    assert client.post("/api/v1/appointments/nope/cancel").status_code == 404
    clock.advance(minutes=30)  # 09:30: the second one's slot has begun
    response = client.post(f"/api/v1/appointments/{late['id']}/cancel")
    assert (response.status_code, error_code(response)) == (409, "invalid_state")
    assert client.post(f"/api/v1/appointments/{early['id']}/cancel").status_code == 200
    again = client.post(f"/api/v1/appointments/{early['id']}/cancel")
    assert (again.status_code, error_code(again)) == (409, "invalid_state")
    assert "已取消" in again.json["error"]["message"]


# -- check-in ---------------------------------------------------------------------------
def check_in(client: FlaskClient, code: str, **fields: Any) -> Any:
    return client.post("/api/v1/tickets", json={"appointment": code, **fields})


def test_on_time_check_in_is_called_ahead_of_older_tickets(
    client: FlaskClient,
    clock: FakeClock,
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., dict[str, Any]],
    login: Callable[[str], Staff],
) -> None:
    appointment = booked(client)
    make_ticket("social_insurance", priority="green")  # A001
    make_ticket("employment")  # A002
    clock.advance(minutes=35)  # 09:35: within [09:30, 10:15]
    response = check_in(client, appointment["code"])
    assert response.status_code == 201, response.json
    ticket = response.json["ticket"]
    assert ticket["service"] == "social_insurance"
    assert ticket["waiting_ahead"] == 0  # ahead of the green A001 and the ordinary A002
    clerk = clerk_at(1)
    called = call_next(clerk)
    assert called["number"] == ticket["number"]
    assert called["steps"][0]["call_reason"] == "appointment"
    snapshot = client.get("/api/v1/display/snapshot").json
    assert snapshot["calls"][0]["reason"] == "appointment"
    listed = login("manager").get("/api/v1/appointments").json["appointments"]
    assert listed[0]["state"] == "checked_in"
    # A used code, an unknown one.
    again = check_in(client, appointment["code"])
    assert (again.status_code, error_code(again)) == (409, "invalid_state")
    assert "已签到" in again.json["error"]["message"]
    unknown = check_in(client, "000000" if appointment["code"] != "000000" else "000001")
    assert (unknown.status_code, error_code(unknown)) == (404, "not_found")
    assert check_in(client, "12ab").status_code == 404


def test_too_early_says_when(client: FlaskClient, clock: FakeClock) -> None:
    appointment = booked(client)
    response = check_in(client, appointment["code"])  # 09:00, the window opens at 09:30
    assert (response.status_code, error_code(response)) == (409, "too_early")
    assert "请于09:30后签到" in response.json["error"]["message"]
    english = client.post(
        "/api/v1/tickets?lang=en", json={"appointment": appointment["code"]}
    ).json["error"]["message"]
    assert "09:30" in english
    assert not any("\u4e00" <= char <= "\u9fff" for char in english)
    tomorrow = booked(client, 2, date=TOMORROW.isoformat())
    response = check_in(client, tomorrow["code"])
    assert error_code(response) == "too_early"
    assert "11月21日" in response.json["error"]["message"]
    clock.advance(minutes=30)  # 09:30 sharp: on time
    assert check_in(client, appointment["code"]).status_code == 201


def test_a_late_check_in_gets_an_ordinary_ticket(
    client: FlaskClient,
    clock: FakeClock,
    login: Callable[[str], Staff],
    make_ticket: Callable[..., dict[str, Any]],
) -> None:
    appointment = booked(client)
    make_ticket("employment")
    clock.advance(hours=1, minutes=15, seconds=1)  # 10:15:01: past start + late_min
    ticket = check_in(client, appointment["code"]).json["ticket"]
    assert ticket["waiting_ahead"] == 1  # behind the older ordinary ticket
    listed = login("manager").get("/api/v1/appointments").json["appointments"]
    assert listed[0]["state"] == "late"


def test_a_code_past_its_slot_is_a_no_show(client: FlaskClient, clock: FakeClock) -> None:
    appointment = booked(client)
    clock.advance(hours=1, minutes=45, seconds=1)  # 10:45:01: past end + late_min
    response = check_in(client, appointment["code"])
    assert (response.status_code, error_code(response)) == (409, "invalid_state")
    assert "爽约" in response.json["error"]["message"]


def test_check_in_by_identity_for_the_booked_service_only(
    client: FlaskClient,
    clock: FakeClock,
    login: Callable[[str], Staff],
    make_ticket: Callable[..., dict[str, Any]],
) -> None:
    booked(client)
    visitor = {"visitor_id": id_card(1)}
    # Another business, too early for the booking: an ordinary ticket, never too_early.
    other = client.post("/api/v1/tickets", json={"service": "maternity", **visitor})
    assert other.status_code == 201
    assert client.post(f"/api/v1/tickets/{other.json['ticket']['id']}/cancel").status_code == 200
    # The booked business, too early: too_early.
    response = client.post("/api/v1/tickets", json={"service": "social_insurance", **visitor})
    assert error_code(response) == "too_early"
    clock.advance(minutes=40)
    make_ticket("employment")  # older, ordinary
    response = client.post("/api/v1/tickets", json={"service": "social_insurance", **visitor})
    assert response.status_code == 201
    assert response.json["ticket"]["waiting_ahead"] == 0
    listed = login("manager").get("/api/v1/appointments").json["appointments"]
    assert listed[0]["state"] == "checked_in"


def test_a_visitor_who_holds_a_ticket_keeps_it_raised(
    client: FlaskClient,
    clock: FakeClock,
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., dict[str, Any]],
) -> None:
    appointment = booked(client, phone="13800138000")
    make_ticket("admin_approval")  # A001, older (target 30 minutes: not overdue by 09:35)
    mine = make_ticket("employment", visitor_id=id_card(1))  # A002, ordinary
    assert mine["waiting_ahead"] == 1
    clock.advance(minutes=35)
    response = check_in(client, appointment["code"])
    assert response.status_code == 200
    assert response.json["reused"] is True
    assert response.json["ticket"]["number"] == mine["number"]
    assert response.json["ticket"]["services"] == ["employment", "social_insurance"]
    assert "id" not in response.json["ticket"]  # a reused answer never hands over the ticket
    called = call_next(clerk_at(1))
    assert (called["number"], called["steps"][0]["call_reason"]) == (mine["number"], "appointment")


def test_a_ticket_by_code_keeps_the_booked_identity(client: FlaskClient, clock: FakeClock) -> None:
    appointment = booked(client)
    clock.advance(minutes=40)
    ticket = check_in(client, appointment["code"]).json["ticket"]
    again = client.post("/api/v1/tickets", json={"service": "employment", "visitor_id": id_card(1)})
    assert again.status_code == 200
    assert again.json["ticket"]["number"] == ticket["number"]


def test_a_ticket_needs_a_service_or_a_code(client: FlaskClient) -> None:
    response = client.post("/api/v1/tickets", json={})
    assert (response.status_code, error_code(response)) == (400, "invalid_field")


# -- no-shows ---------------------------------------------------------------------------
def test_no_show_at_read_time_then_written_once_by_the_job(
    app: Flask, client: FlaskClient, clock: FakeClock, login: Callable[[str], Staff]
) -> None:
    booked(client)
    manager = login("manager")
    clock.advance(hours=1, minutes=45)  # 10:45 exactly: end + late_min, still booked
    assert manager.get("/api/v1/appointments").json["appointments"][0]["state"] == "booked"
    clock.advance(seconds=1)
    assert manager.get("/api/v1/appointments").json["appointments"][0]["state"] == "no_show"
    extension = app.extensions["yihao"]
    site = extension.hall.config.default_site
    assert extension.run(site, "scheduler", write_no_shows) == 1
    assert extension.run(site, "scheduler", write_no_shows) == 0  # a re-run writes nothing
    appointment_no_show_job(extension, clock())
    events = manager.get("/api/v1/events").json["events"]
    no_shows = [event for event in events if event["kind"] == "appointment_no_show"]
    assert len(no_shows) == 1
    assert "appointment_no_show" in [job.id for job in JOBS]


def test_three_no_shows_in_30_days_refuse_a_booking(client: FlaskClient, clock: FakeClock) -> None:
    for offset in range(3):
        booked(client, date=(TODAY + timedelta(days=offset)).isoformat())
    clock.advance(days=3)
    response = book(client, date=(TODAY + timedelta(days=3)).isoformat())
    assert (response.status_code, error_code(response)) == (409, "booking_refused")
    assert book(client, 2, date=(TODAY + timedelta(days=3)).isoformat()).status_code == 201
    clock.advance(days=29)  # the first no-show is more than 30 days old
    assert book(client, date=(TODAY + timedelta(days=33)).isoformat()).status_code == 201


def test_late_does_not_count_as_a_no_show(client: FlaskClient, clock: FakeClock) -> None:
    codes = [
        booked(client, date=(TODAY + timedelta(days=offset)).isoformat())["code"]
        for offset in range(3)
    ]
    clock.advance(hours=1, minutes=20)  # 10:20 today: late
    assert check_in(client, codes[0]).status_code == 201
    clock.advance(days=3)
    assert book(client, date=(TODAY + timedelta(days=4)).isoformat()).status_code == 201


def test_a_no_show_frees_the_day_for_a_later_slot(client: FlaskClient, clock: FakeClock) -> None:
    booked(client, start="09:30")
    clock.advance(hours=1, minutes=16)  # 10:16: the 09:30 booking is a no-show
    assert booked(client, start="15:00")["state"] == "booked"


# -- managers ---------------------------------------------------------------------------
def test_the_managers_list(client: FlaskClient, login: Callable[[str], Staff]) -> None:
    booked(client, phone="13800138000")
    booked(client, 2, start="09:30", service="medical_insurance")
    booked(client, 3, date=TOMORROW.isoformat())
    manager = login("manager")
    listed = manager.get("/api/v1/appointments").json["appointments"]
    assert [item["start"] for item in listed] == ["09:30", "10:00"]
    assert listed[1]["visitor_id_masked"] == "1101**********" + id_card(1)[-4:]
    assert listed[1]["phone_masked"] == "138****8000"
    assert len(manager.get(f"/api/v1/appointments?date={TOMORROW}").json["appointments"]) == 1
    assert manager.get("/api/v1/appointments?date=nope").status_code == 400
    assert client.get("/api/v1/appointments").status_code == 401
    assert login("clerk01").get("/api/v1/appointments").status_code == 403


def test_the_identity_is_kept_as_a_keyed_hash_and_a_masked_form(
    app: Flask, client: FlaskClient
) -> None:
    appointment = booked(client, 5, phone="13800138000")
    with app.extensions["yihao"].sessions() as session:
        row = session.get(Appointment, appointment["id"])
        assert row is not None
        stored = [str(value) for value in row.__dict__.values()]
        assert (row.identity_masked, row.phone_masked) == (mask(id_card(5)), "138****8000")
        assert row.identity_hash not in (id_card(5), None)
    # Neither the ID-card number nor the phone is stored in any column.
    assert not [value for value in stored if id_card(5) in value or "13800138000" in value]
    # The hash is keyed like a ticket's: the same visitor's ticket carries the same one.
    ticket = client.post(
        "/api/v1/tickets", json={"service": "employment", "visitor_id": id_card(5)}
    )
    with app.extensions["yihao"].sessions() as session:
        tickets = session.scalars(select(Ticket.identity_hash)).all()
    assert ticket.status_code == 201
    assert tickets == [row.identity_hash]


def mask(visitor_id: str) -> str:
    return visitor_id[:4] + "*" * 10 + visitor_id[-4:]


def test_a_code_is_unique_among_the_open_bookings_of_its_day(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service draws again when a code is taken by an open booking of that day; a
    cancelled booking's code may come back; the schema refuses a second open one."""
    first = booked(client, 11)
    taken = int(first["code"])
    draws = iter([taken, taken, 123456])
    monkeypatch.setattr(appointments_service.secrets, "randbelow", lambda _: next(draws))
    second = booked(client, 12)
    assert second["code"] == "123456"
    client.post(f"/api/v1/appointments/{first['id']}/cancel")
    draws = iter([taken])
    third = booked(client, 13)
    assert third["code"] == first["code"]  # the cancelled booking's code is free again
    monkeypatch.undo()
    with app.extensions["yihao"].sessions() as session:
        row = session.get(Appointment, second["id"])
        assert row is not None
        with pytest.raises(IntegrityError):
            session.execute(
                update(Appointment).where(Appointment.id == row.id).values(code=third["code"])
            )
        session.rollback()


# -- the race ---------------------------------------------------------------------------
def test_fifty_visitors_race_for_the_last_three_places(app: Flask) -> None:
    client = app.test_client()
    booked(client, 1)  # 4 places: 3 left

    def attempt(serial: int) -> int:
        return book(app.test_client(), serial).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(attempt, range(100, 150)))
    assert statuses.count(201) == 3
    assert statuses.count(409) == 47
    ten = next(slot for slot in slots(client).json["slots"] if slot["start"] == "10:00")
    assert ten["booked"] == 4


def test_one_visitor_booking_twice_at_once_gets_one_booking(app: Flask) -> None:
    def attempt(start: str) -> int:
        return book(app.test_client(), 7, start=start).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, [f"{hour}:00" for hour in range(12, 20)]))
    assert sorted(statuses) == [201] + [409] * 7
