"""The managers' what-if tab in real Chromium against a real `python run.py`: yesterday is
recorded through the API (an app on the same database with yesterday's clock), the manager
asks for the day with two more comprehensive counters and sees both columns and the chart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from queue_server.app import create_app
from queue_server.config import load_settings
from tests.e2e.conftest import PageErrors, screenshot
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def record_yesterday(database: str, workdir: Path) -> str:
    """Forty visitors a minute apart from 09:00 yesterday (hall time), one counter serving
    each for three minutes: a line that grows all morning."""
    zone = load_settings().hall_config.sites[0].zone
    yesterday = datetime.now(zone).date() - timedelta(days=1)
    start = datetime.combine(yesterday, time(9), zone)
    clock = Clock(start)
    app = create_app(
        {"DATABASE_URL": database, "CLOCK": clock, "INSTANCE_DIR": str(workdir), "TESTING": True}
    )
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": "clerk01", "password": "demo"}
    ).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/counters/1/sign-in", headers=headers).status_code == 200
    arrivals = [start + timedelta(minutes=index) for index in range(40)]
    calls = [start + timedelta(minutes=3 * index) for index in range(40)]
    moments = sorted([(at, 0) for at in arrivals] + [(at, 1) for at in calls])
    for at, kind in moments:
        clock.now = at
        if kind == 0:
            response = client.post("/api/v1/tickets", json={"service": "social_insurance"})
            assert response.status_code == 201, response.json
        else:
            if at > start:
                client.post("/api/v1/counters/1/finish", headers=headers)
            client.post("/api/v1/counters/1/call-next", headers=headers)
    clock.now += timedelta(minutes=3)
    client.post("/api/v1/counters/1/finish", headers=headers)
    client.post("/api/v1/counters/1/sign-out", headers=headers)
    app.extensions["yihao"].engine.dispose()
    return yesterday.isoformat()


@pytest.fixture(scope="module")
def recorded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    workdir = tmp_path_factory.mktemp("whatif")
    server = LiveServer(workdir)
    day = record_yesterday(server.database, workdir)
    server.start()
    yield server, day
    server.stop()


def test_a_what_if_shows_both_days(
    recorded_server: tuple[LiveServer, str], new_page: Any, page_errors: PageErrors
) -> None:
    server, day = recorded_server
    page = new_page(viewport={"width": 1400, "height": 900})
    page.goto(server.url + "/manager")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#username", "manager")
    page.fill("#password", "demo")
    page.click("#login-submit")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")

    page.click('#tabs button[data-tab="whatif"]')
    expect(page.locator("#whatif-form")).to_be_visible()
    expect(page.locator('#whatif-form input[name="date"]')).to_have_value(day)  # by default
    page.fill('#whatif-form input[name="date"]', day)
    page.fill('#whatif-form input[name="counters"]', "3")
    page.click('#whatif-form button[type="submit"]')

    original = page.locator('#whatif-original tr[data-line="A"]')
    changed = page.locator('#whatif-changed tr[data-line="A"]')
    expect(original).to_be_visible(timeout=20_000)
    expect(changed).to_be_visible()
    expect(original.locator("td").nth(1)).to_have_text("40")
    expect(changed.locator("td").nth(1)).to_have_text("40")
    expect(page.locator("#whatif-original .whatif-summary")).to_contain_text("40")
    expect(page.locator("#whatif-chart")).to_be_visible()
    # One counter for a visitor a minute, three minutes each: the changed day waits less.
    assert original.locator("td").nth(3).inner_text() != changed.locator("td").nth(3).inner_text()
    screenshot(page, "manager-whatif")

    page.fill('#whatif-form input[name="counters_by_hour"]', "nine")
    page.click('#whatif-form button[type="submit"]')
    expect(page.locator("#whatif-error")).not_to_be_empty()
    assert page_errors == []
