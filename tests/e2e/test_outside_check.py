"""An outside check of the managers' page in real Chromium against a real `python run.py`:
what is not personal data is shown in the page's language, so an English page has no Chinese
left but names — the `calendar` alert was its stored Chinese message, a bad review's reasons
the counter-top screen's stored Chinese words, and the visits report said "1 visits"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import chinese_calendar
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PageErrors, screenshot
from tests.e2e.test_english import visible_han
from tests.e2e.test_manager_board import log_in
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# The first year the calendar library does not know, whichever release is installed.
UNKNOWN_YEAR = max(day.year for day in chinese_calendar.holidays) + 1
PICKUP_DAY = next(
    day
    for day in (date(UNKNOWN_YEAR, 1, 4) + timedelta(days=offset) for offset in range(7))
    if day.weekday() < 5
)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A morning of 1 December of the last year the library knows (a rehearsal's hall
    clock), so the pickup below is within a year and in a year the calendar does not know."""
    morning = f"{UNKNOWN_YEAR - 1}-12-01T09:35:00+08:00"
    with LiveServer(
        tmp_path_factory.mktemp("live"), "--no-scheduler", env={"YIHAO_CLOCK_START": morning}
    ) as server:
        yield server


@pytest.fixture(scope="module")
def calendar_alert(live_server: LiveServer) -> str:
    """A visit whose pickup is set in a year the calendar does not know: the managers get a
    `calendar` alert (SPEC §9) instead of a guess."""
    clerk = live_server.login("clerk01")
    assert live_server.post("/api/v1/counters/1/sign-in", token=clerk).ok
    assert live_server.post("/api/v1/tickets", json={"service": "admin_approval"}).ok
    assert live_server.post("/api/v1/counters/1/call-next", token=clerk).ok
    finished = live_server.post(
        "/api/v1/counters/1/finish", json={"pickup_on": PICKUP_DAY.isoformat()}, token=clerk
    )
    assert finished.ok, finished.text
    # A bad rating with the reasons the counter-top screen stores (its Chinese words).
    rated = live_server.post(
        "/api/v1/counters/1/rating", json={"rating": 1, "reasons": ["等候时间长", "服务态度差"]}
    )
    assert rated.status_code == 201, rated.text
    manager = live_server.login("manager")
    alerts = live_server.get("/api/v1/alerts", token=manager).json()["alerts"]
    assert [alert["kind"] for alert in alerts] == ["calendar"]
    assert HAN.search(alerts[0]["message"])  # stored in the hall's language
    return str(alerts[0]["message"])


def open_board(new_page: Any, server: LiveServer, lang: str, viewport: dict[str, int]) -> Any:
    page = new_page(viewport=viewport)
    log_in(page, server, "manager")
    page.goto(f"{server.url}/manager?lang={lang}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    return page


def test_an_english_board_shows_the_calendar_alert_in_english(
    live_server: LiveServer, calendar_alert: str, new_page: Any, page_errors: PageErrors
) -> None:
    page = open_board(new_page, live_server, "en", {"width": 1920, "height": 1080})
    alert = page.locator("#alerts li.calendar")
    expect(alert).to_contain_text(
        f"The hall calendar has no holidays and make-up workdays for {UNKNOWN_YEAR}"
    )
    expect(alert).to_contain_text(f"(needed for {PICKUP_DAY.isoformat()})")
    assert not HAN.search(alert.inner_text())
    # Nothing Chinese on the board but people's names and the language switch, and no
    # full-width brackets around a clerk's number.
    assert visible_han(page, ("孙经理", "张敏", "中文")) == []
    expect(page.locator('#clerks tr[data-clerk="clerk01"] td').first).to_have_text("张敏 (RS001)")
    screenshot(page, "outside-check-manager-board-en-calendar-alert")
    # The visit waiting for its pickup, in the reports: no "1 visits".
    page.click("[data-tab=reports]")
    expect(page.locator("#visits-summary")).to_contain_text("Visits: 1; picked up: 0;")
    # The bad review's reasons in English too, as the counter-top screen says them.
    page.click("[data-tab=reviews]")
    reasons = page.locator("#review-list tbody tr td").nth(3)
    expect(reasons).to_have_text("Long wait, Unfriendly staff")
    assert page_errors == []


def test_a_chinese_board_shows_it_as_stored(
    live_server: LiveServer, calendar_alert: str, new_page: Any, page_errors: PageErrors
) -> None:
    page = open_board(new_page, live_server, "zh", {"width": 1366, "height": 768})
    # as stored, with what needed the day
    expect(page.locator("#alerts li.calendar span")).to_have_text(calendar_alert)
    page.click("[data-tab=reviews]")
    expect(page.locator("#review-list tbody tr td").nth(3)).to_have_text("等候时间长、服务态度差")
    expect(page.locator('#clerks tr[data-clerk="clerk01"] td').first).to_have_text("张敏（RS001）")
    assert page_errors == []


def test_the_kiosk_never_says_about_0_minutes(
    live_server: LiveServer, calendar_alert: str, new_page: Any, page_errors: PageErrors
) -> None:
    """Counter 1 is open and free (the fixture's visit is done): the next visitor's estimate
    is 0 s, which the kiosk says as the phone page does, not "预计等候约 0 分钟"."""
    clerk = live_server.login("clerk01")
    page = new_page(viewport={"width": 1080, "height": 1920})
    for lang, words in (("zh", "即将轮到"), ("en", "Very soon")):
        page.goto(f"{live_server.url}/kiosk?lang={lang}")
        page.wait_for_selector("body[data-ready=true]")
        page.click("#party-individual")
        page.click("[data-service=employment]")
        page.click("#identity-skip")
        page.click("#green-no")
        page.wait_for_selector("#screen-result.active")
        expect(page.locator("#result-estimate")).to_have_text(words)
        # served at once: the counter is free again for the next language
        assert live_server.post("/api/v1/counters/1/call-next", token=clerk).ok
        assert live_server.post("/api/v1/counters/1/finish", token=clerk).ok
    assert page_errors == []
