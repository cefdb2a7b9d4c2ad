"""The managers' page in real Chromium against a real `python run.py` with its scheduler:
login through /login, the live board, an alert arriving live over Socket.IO `/manager`,
the reports tab with its chart, and no script errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PageErrors, screenshot
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def scheduled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """With the scheduler on: the alerts job runs every 10 s."""
    server = LiveServer(tmp_path_factory.mktemp("manager")).start()
    yield server
    server.stop()


def log_in(page: Any, server: LiveServer, username: str) -> None:
    page.goto(server.url + "/manager")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(r"/manager"))
    expect(page.locator("body")).to_have_attribute("data-ready", "1")


def test_an_alert_arrives_live_on_the_board(
    scheduled_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    server = scheduled_server
    page = new_page(viewport={"width": 1400, "height": 900})
    log_in(page, server, "admin")
    expect(page.locator("#live-state")).to_have_class("online")
    expect(page.locator("#lines tbody tr")).to_have_count(5)
    expect(page.locator("#counters tbody tr")).to_have_count(10)

    admin = server.login("admin")
    clerk = server.login("clerk09")
    assert server.post("/api/v1/counters/9/sign-in", token=clerk).status_code == 200
    expect(page.locator('#counters tr[data-counter="9"]')).to_contain_text("周杰")

    # Pickup's target wait becomes 1.2 seconds (a setting, effective at once); the next run
    # of the alerts job finds the ticket past it and the alert reaches the open page.
    changed = server.post(
        "/api/v1/settings/services/pickup", json={"target_wait_min": 0.02}, token=admin
    )
    assert changed.status_code == 200, changed.text
    ticket = server.post("/api/v1/tickets", json={"service": "pickup"}).json()["ticket"]
    alert = page.locator("#alerts li.wait_target", has_text=ticket["number"])
    expect(alert).to_be_visible(timeout=25_000)
    expect(page.locator("#lines tbody tr.over")).to_have_count(1, timeout=15_000)
    screenshot(page, "manager-board-alert")

    called = server.post("/api/v1/counters/9/call-next", token=clerk).json()["ticket"]
    assert called["number"] == ticket["number"]
    expect(page.locator('#counters tr[data-counter="9"]')).to_contain_text(ticket["number"])
    server.post("/api/v1/counters/9/finish", token=clerk)

    page.click('#tabs button[data-tab="reports"]')
    expect(page.locator("#report tbody tr")).to_have_count(1)  # one service today: pickup
    expect(page.locator("#report tbody")).to_contain_text("出件领证")
    headers = page.locator("#report thead th")
    expect(headers.nth(0)).to_have_text("业务")  # names under the group's word, no codes
    expect(headers.nth(1)).to_have_text("取号")  # numbers taken (SPEC §4 `tickets`)
    expect(headers.nth(2)).to_have_text("排队人次")  # steps enqueued (`issued`)
    expect(page.locator("#report thead")).to_contain_text("平均在厅")
    expect(page.locator("#report tbody td").nth(1)).to_have_text("1")
    expect(page.locator("#wait-chart")).to_be_visible()
    page.select_option('#report-form select[name="group"]', "counter")
    page.click('#report-form button[type="submit"]')
    expect(page.locator("#report tbody")).to_contain_text("9号窗口")
    expect(headers.nth(2)).to_have_text("叫号人次")  # counter rows: steps called there
    expect(page.locator("#report tbody td").nth(1)).to_have_text("—")  # no tickets
    screenshot(page, "manager-reports")

    page.click('#tabs button[data-tab="settings"]')
    expect(page.locator("#service-settings tbody tr")).to_have_count(9)
    assert page_errors == []


def test_a_clerk_is_refused(
    scheduled_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    page = new_page()
    page.goto(scheduled_server.url + "/manager")
    page.fill("#username", "clerk03")
    page.fill("#password", "demo")
    page.click("#login-submit")
    response = page.goto(scheduled_server.url + "/manager")
    assert response is not None
    assert response.status == 403
    assert [error for error in page_errors if "403" not in error] == []
