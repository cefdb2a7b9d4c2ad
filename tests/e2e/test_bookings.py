"""Bookings (预约) and the hall calendar in real Chromium against a real `python run.py`: a
visitor books on /book on a phone, checks in with the code at the kiosk's 预约签到, and a
clerk's call-next takes that ticket ahead of an older ordinary one, with 预约 on the hall
screen. A visitor booked through the API checks in at the kiosk's 预约签到 screen; the hall
screen shows today's hours and, while the hall is closed, when it next opens; the phone page
of a visit whose pickup waits for a later day says from when.

The servers run on a rehearsal's hall clock (YIHAO_CLOCK_START) so that the day and the hour
are the tests' own, never the machine's: the bookings' day starts at 09:35 on Tuesday
1 December 2026, whatever the time is where the tests run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import PageErrors, screenshot, wait_until
from tests.live_server import ROOT, LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
HALL_SCREEN = {"width": 1920, "height": 1080}
ID_CARD = "11010519491231002X"
KIOSK_SCREEN = {"width": 1920, "height": 1080}
TODAY = date(2026, 12, 1)  # a Tuesday; the demo hall is open round the clock
MORNING = "2026-12-01T09:35:00+08:00"  # the 09:30 and 10:00 slots' check-in windows are open


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo hall with its clock at 09:35 on 1 December 2026 (running at the wall's pace)."""
    with LiveServer(
        tmp_path_factory.mktemp("live"), "--no-scheduler", env={"YIHAO_CLOCK_START": MORNING}
    ) as server:
        yield server


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
    assert today == TODAY.isoformat()  # the hall clock's day, not the machine's
    phone.click(f"[data-date='{today}']")
    phone.wait_for_selector("#slots .choice")
    slots = phone.query_selector_all("#slots .choice:not([disabled])")
    # The first slot offered at 09:35 starts within 30 minutes (or began at 09:30, late
    # by less than 15): its check-in window is open.
    start = slots[0].get_attribute("data-start")
    assert start in ("09:30", "10:00"), start
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
    today = TODAY
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
    assert code is not None, "the demo hall offers slots all day"
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
    """The demo hall is open round the clock (SPEC §3): no next opening to show."""
    hours = live_server.get("/api/v1/display/snapshot").json()["hours"]
    assert hours["today"] == [["00:00", "24:00"]]
    assert hours["open"] is True
    hall = new_page(viewport=HALL_SCREEN)
    hall.goto(f"{live_server.url}/display/hall?sound=0")
    hall.wait_for_selector("body[data-synced='true']")
    wait_until(hall, "() => document.getElementById('hours-today').textContent !== ''")
    assert hall.text_content("#hours-today") == "全天开放"
    assert hall.is_hidden("#hours-next")
    screenshot(hall, "hall-hours")
    assert hall.evaluate("document.documentElement.scrollWidth") == HALL_SCREEN["width"]
    assert page_errors == []


def office_hall(path: Path) -> Path:
    """The demo hall keeping office hours: weekdays 08:30–12:00 and 13:30–17:30, closed at
    weekends and on public holidays (make-up workdays open with Monday's hours)."""
    hall: dict[str, Any] = yaml.safe_load((ROOT / "config" / "demo-hall.yaml").read_text("utf-8"))
    weekday = [["08:30", "12:00"], ["13:30", "17:30"]]
    hall["sites"][0]["hours"] = {
        "issue_from": "08:30",
        "issue_until": "17:30",
        "weekly": {
            **{day: weekday for day in ("mon", "tue", "wed", "thu", "fri")},
            "sat": [],
            "sun": [],
        },
        "open_on_holidays": False,
    }
    path.write_text(yaml.safe_dump(hall, allow_unicode=True, sort_keys=False), "utf-8")
    return path


@pytest.mark.parametrize(
    ("now", "today", "next_opening"),
    [
        # 国庆 2026 (chinese-calendar): 1–7 October off, back on Thursday the 8th.
        ("2026-10-03T10:00:00+08:00", "今日不开放", "10月8日（周四）08:30"),
        # After hours on the Friday before the make-up workday (调休) of Saturday 10 October.
        ("2026-10-09T18:00:00+08:00", "今日 08:30–12:00 13:30–17:30", "10月10日（周六）08:30"),
        # The lunch break.
        ("2026-12-01T12:30:00+08:00", "今日 08:30–12:00 13:30–17:30", "今天13:30"),
    ],
    ids=["holiday", "after-hours-before-a-make-up-workday", "lunch-break"],
)
def test_hall_screen_shows_the_next_opening_while_closed(
    tmp_path: Path,
    new_page: Any,
    page_errors: PageErrors,
    now: str,
    today: str,
    next_opening: str,
) -> None:
    hall_file = office_hall(tmp_path / "office-hall.yaml")
    with LiveServer(
        tmp_path, "--no-scheduler", "--config", str(hall_file), env={"YIHAO_CLOCK_START": now}
    ) as server:
        # The kiosk says the same: closed, and when it opens again.
        refused = server.post("/api/v1/tickets", json={"service": "employment"})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "hall_closed"
        assert next_opening in refused.json()["error"]["message"]

        hall = new_page(viewport=HALL_SCREEN)
        hall.goto(f"{server.url}/display/hall?sound=0")
        hall.wait_for_selector("body[data-synced='true']")
        wait_until(hall, "() => !document.getElementById('hours-next').hidden")
        assert hall.text_content("#hours-today") == today
        assert hall.text_content("#hours-next") == f"下次开放：{next_opening}"
        assert hall.get_attribute("#hours", "data-open") == "false"
        screenshot(hall, f"hall-closed-{now[:10]}")
    assert page_errors == []


def test_the_phone_page_says_from_which_day_the_pickup_waits(
    live_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    """受理 today, 出件 later (SPEC §8): finished with `pickup_on`, the visitor's page says
    "出件：12月3日起"."""
    issued = live_server.post("/api/v1/tickets", json={"service": "maternity"})  # line C
    assert issued.status_code == 201, issued.text
    ticket = issued.json()["ticket"]
    token = live_server.login("clerk08")
    assert live_server.post("/api/v1/counters/8/sign-in", token=token).status_code == 200
    called = live_server.post(
        "/api/v1/counters/8/call", json={"number": ticket["number"]}, token=token
    )
    assert called.status_code == 200, called.text
    phone = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto(ticket["status_url"])
    phone.wait_for_selector("#status[data-state='called']")
    pickup_on = (TODAY + timedelta(days=2)).isoformat()  # Thursday 3 December
    finished = live_server.post(
        "/api/v1/counters/8/finish", json={"pickup_on": pickup_on}, token=token
    )
    assert finished.status_code == 200, finished.text
    assert finished.json()["ticket"]["pickup_on"] == pickup_on
    phone.wait_for_selector("#status[data-state='done']")
    assert phone.text_content("#state-title") == "已办结"
    assert phone.text_content("#state-note") == "出件：12月3日起"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "phone-pickup-on")
    assert live_server.post("/api/v1/counters/8/sign-out", token=token).status_code == 200
    assert page_errors == []


def test_the_manager_board_lists_todays_bookings_with_who_came(
    tmp_path: Path, new_page: Any, page_errors: PageErrors
) -> None:
    """A hall clock 120× as fast: two bookings of the 09:30 slot at 09:20, one checked in,
    the other still absent when the slot and its 15 late minutes are over (09:45): the
    board's slot reads 到场 1 / 爽约 1 / 共 2, each booking with its state."""
    with LiveServer(
        tmp_path,
        "--no-scheduler",
        env={"YIHAO_CLOCK_START": "2026-12-01T09:20:00+08:00", "YIHAO_CLOCK_SCALE": "120"},
    ) as server:
        came = book(server, TODAY, "09:30", "110101199202150049")
        absent = book(server, TODAY, "09:30", "110101198506120039")
        assert came is not None
        assert absent is not None
        checked = server.post("/api/v1/tickets", json={"appointment": came})
        assert checked.status_code == 201, checked.text
        token = server.login("manager")

        def states() -> dict[str, str]:
            listed = server.get(f"/api/v1/appointments?date={TODAY.isoformat()}", token=token)
            return {item["code"]: item["state"] for item in listed.json()["appointments"]}

        for _ in range(300):  # 09:45 is at most 12.5 s away
            if states()[absent] == "no_show":
                break
            time.sleep(0.1)
        assert states() == {came: "checked_in", absent: "no_show"}

        page = new_page(viewport={"width": 1400, "height": 900})
        page.goto(server.url + "/manager")
        page.fill("#username", "manager")
        page.fill("#password", "demo")
        page.click("#login-submit")
        page.wait_for_selector("#bookings tr.booking")
        assert page.text_content("#bookings tr.booking-slot") == (
            "09:30–10:00  到场 1 / 爽约 1 / 共 2"
        )
        assert page.text_content(f"#bookings tr[data-code='{came}'] td:last-child") == "已到"
        assert page.text_content(f"#bookings tr[data-code='{absent}'] td:last-child") == "爽约"
        screenshot(page, "manager-bookings")
    assert page_errors == []
