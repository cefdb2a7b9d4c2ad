"""Bookings (预约) in real Chromium against a real `python run.py`: a visitor books on /book on
a phone, checks in with the code at the kiosk's 预约签到, and a clerk's call-next takes
that ticket ahead of an older ordinary one, with 预约 on the hall screen. A visitor booked
through the API checks in at the kiosk's 预约签到 screen; the hall screen shows today's hours."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import PageErrors, screenshot, wait_until
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
HALL_SCREEN = {"width": 1920, "height": 1080}
ID_CARD = "11010519491231002X"
KIOSK_SCREEN = {"width": 1920, "height": 1080}
HALL_ZONE = ZoneInfo("Asia/Shanghai")  # config/demo-hall.yaml


def book(live_server: LiveServer, day: date, start: str | None, visitor_id: str) -> str | None:
    """Books a medical-insurance slot through the API (the first one still offered when
    `start` is None); its 6-digit code, or None when no slot is left that day."""
    slots = live_server.get(
        f"/api/v1/appointments/slots?service=medical_insurance&date={day.isoformat()}"
    )
    assert slots.status_code == 200, slots.text
    offered = [
        slot["start"]
        for slot in slots.json()["slots"]
        if slot["booked"] < slot["capacity"] and (start is None or slot["start"] == start)
    ]
    if not offered:
        return None
    booked = live_server.post(
        "/api/v1/appointments",
        json={
            "service": "medical_insurance",
            "visitor_id": visitor_id,
            "date": day.isoformat(),
            "start": offered[0],
        },
    )
    assert booked.status_code == 201, booked.text
    code: str = booked.json()["appointment"]["code"]
    return code


def type_code(kiosk: Any, code: str) -> None:
    kiosk.click("#checkin-button")
    kiosk.wait_for_selector("#screen-checkin.active")
    kiosk.click("#screen-checkin [data-action=clear]")
    for digit in code:
        kiosk.click(f"#screen-checkin .key[data-key='{digit}']")
    assert kiosk.input_value("#checkin-code") == code


def test_book_check_in_and_be_called_first(
    live_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    older = live_server.post("/api/v1/tickets", json={"service": "employment"})
    assert older.status_code == 201, older.text

    phone = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto(f"{live_server.url}/book")
    phone.click("[data-service=social_insurance]")
    today = phone.get_attribute("#days .choice", "data-date")
    phone.click(f"[data-date='{today}']")
    phone.wait_for_selector("#slots .choice, #slots:has-text('没有可预约')")
    slots = phone.query_selector_all("#slots .choice:not([disabled])")
    if not slots:
        pytest.skip("no slot left today (after 23:30 in the hall's time zone)")
    # The first slot offered today starts within 30 minutes: its check-in window is open.
    start = slots[0].get_attribute("data-start")
    assert "余4" in slots[0].text_content()
    slots[0].click()
    phone.fill("#visitor-id", ID_CARD)
    phone.fill("#phone", "13800138000")
    # The page fits the phone: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.click("#submit")
    phone.wait_for_selector("#result:not([hidden])")
    code = phone.text_content("#code")
    assert code is not None
    assert len(code) == 6
    assert code.isdigit()
    # (Polled from here: the page's CSP forbids the eval that wait_for_function uses.)
    loaded = (
        "() => { const qr = document.getElementById('qr');"
        " return qr.complete && qr.naturalWidth > 0; }"
    )
    for _ in range(50):
        if phone.evaluate(loaded):
            break
        phone.wait_for_timeout(100)
    assert phone.evaluate(loaded), "the QR image did not load"
    assert start in (phone.text_content("#result-when") or "")
    screenshot(phone, "book-done-phone")

    hall = new_page(viewport=HALL_SCREEN)
    hall.goto(f"{live_server.url}/display/hall")
    hall.wait_for_selector("body[data-synced='true']")

    # The visitor checks in at the kiosk's 预约签到 with the code from the phone.
    kiosk = new_page(viewport=KIOSK_SCREEN)
    kiosk.goto(f"{live_server.url}/kiosk")
    kiosk.wait_for_selector("body[data-ready=true]")
    type_code(kiosk, code)
    kiosk.click("#checkin-ok")
    kiosk.wait_for_selector("#screen-result.active")
    number = kiosk.text_content("#result-number") or ""
    assert number
    assert number != older.json()["ticket"]["number"]

    token = live_server.login("clerk01")
    assert live_server.post("/api/v1/counters/1/sign-in", token=token).status_code == 200
    called = live_server.post("/api/v1/counters/1/call-next", token=token)
    assert called.status_code == 200, called.text
    assert called.json()["ticket"]["number"] == number  # ahead of the older ordinary ticket
    hall.wait_for_selector(f"#cards .card[data-counter='1'][data-number='{number}']")
    assert hall.text_content("#cards .card[data-counter='1'] .badge") == "预约"
    screenshot(hall, "book-called-hall")

    # The same code again: used.
    again = live_server.post("/api/v1/tickets", json={"appointment": code})
    assert again.status_code == 409
    assert page_errors == []


def test_book_and_cancel_on_the_phone(
    live_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    phone = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto(f"{live_server.url}/book?lang=en")
    phone.click("[data-service=medical_insurance]")
    tomorrow = phone.query_selector_all("#days .choice")[1].get_attribute("data-date")
    phone.click(f"[data-date='{tomorrow}']")
    phone.wait_for_selector("#slots .choice")
    phone.click("#slots .choice[data-start='10:00']")
    phone.fill("#visitor-id", "110105198001010019")  # a wrong check digit: the API says so
    phone.click("#submit")
    phone.wait_for_selector("#error:not([hidden])")
    assert "check" in (phone.text_content("#error") or "").lower()
    phone.fill("#visitor-id", "110101199003074477")
    phone.click("#slots .choice[data-start='10:00']")
    phone.click("#submit")
    phone.wait_for_selector("#result:not([hidden])")
    phone.on("dialog", lambda dialog: dialog.accept())
    phone.click("#cancel")
    phone.wait_for_selector("#result[data-state='cancelled']")
    assert phone.text_content("#result-title") == "Booking cancelled"
    assert phone.is_visible("#again")
    # Chromium logs the refused booking's 400 answer; nothing else went wrong.
    assert [error for error in page_errors if "400 (BAD REQUEST)" not in error] == []


def test_check_in_at_the_kiosk_with_the_code(
    live_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    today = datetime.now(HALL_ZONE).date()
    kiosk = new_page(viewport=KIOSK_SCREEN)
    kiosk.goto(f"{live_server.url}/kiosk")
    kiosk.wait_for_selector("body[data-ready=true]")
    assert kiosk.text_content("#checkin-button") == "预约签到"
    assert kiosk.is_visible("#have-ticket")

    # Tomorrow's booking is too early: the server's words, in place, say when.
    later = book(live_server, today + timedelta(days=1), "10:00", "110101198506120039")
    assert later is not None
    type_code(kiosk, later)
    kiosk.click("#checkin-ok")
    kiosk.wait_for_selector("body[data-error='too_early']")
    assert kiosk.is_visible("#screen-checkin.active")
    assert "10:00" in (kiosk.text_content("#checkin-error") or "")
    # A code too short is refused on the kiosk itself.
    kiosk.click("#screen-checkin [data-action=clear]")
    kiosk.click("#screen-checkin .key[data-key='1']")
    kiosk.click("#checkin-ok")
    assert kiosk.text_content("#checkin-error") == "预约码为6位数字"
    kiosk.click("#screen-checkin [data-action=home]")
    kiosk.wait_for_selector("#screen-start.active")

    code = book(live_server, today, None, "110101199202150049")
    if code is None:
        pytest.skip("no slot left today (after 23:30 in the hall's time zone)")
    type_code(kiosk, code)
    kiosk.click("#checkin-ok")
    kiosk.wait_for_selector("#screen-result.active")
    number = kiosk.text_content("#result-number") or ""
    assert re.fullmatch(r"[A-Z]\d{3}", number), number
    assert kiosk.is_visible("#result-printing")  # K1 prints: the paper is on its way
    wait_until(
        kiosk,
        "() => { const i = document.getElementById('result-image');"
        " return !i.hidden && i.complete && i.naturalWidth > 0; }",
    )
    screenshot(kiosk, "kiosk-checkin-result")
    # The ticket is the booking's: on the server, in the appointment class.
    token = live_server.login("manager")
    listed = live_server.get(f"/api/v1/appointments?date={today.isoformat()}", token=token)
    assert listed.status_code == 200, listed.text
    states = {item["code"]: item["state"] for item in listed.json()["appointments"]}
    assert states[code] == "checked_in"

    # The same code again: used, said in place.
    type_code(kiosk, code)
    kiosk.click("#checkin-ok")
    kiosk.wait_for_selector("body[data-error='invalid_state']")
    assert kiosk.is_visible("#screen-checkin.active")
    assert kiosk.text_content("#checkin-error")
    # Chromium logs the refused check-ins' 409 answers; nothing else went wrong.
    assert [error for error in page_errors if "409 (CONFLICT)" not in error] == []


def test_hall_screen_shows_todays_hours(
    live_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    snapshot = live_server.get("/api/v1/display/snapshot")
    assert snapshot.status_code == 200, snapshot.text
    hours = snapshot.json()["hours"]
    hall = new_page(viewport=HALL_SCREEN)
    hall.goto(f"{live_server.url}/display/hall?sound=0")
    hall.wait_for_selector("body[data-synced='true']")
    wait_until(hall, "() => document.getElementById('hours-today').textContent !== ''")
    if hours["today"] == [["00:00", "24:00"]]:
        expected = "全天开放"
    elif hours["today"]:
        expected = "今日 " + " ".join(f"{opens}–{closes}" for opens, closes in hours["today"])
    else:
        expected = "今日不开放"
    assert hall.text_content("#hours-today") == expected
    if hours["open"]:
        assert hall.is_hidden("#hours-next")
    else:
        assert hall.text_content("#hours-next") == f"下次开放：{hours['next_opening_text']}"
    screenshot(hall, "hall-hours")
    assert hall.evaluate("document.documentElement.scrollWidth") == HALL_SCREEN["width"]
    assert page_errors == []
