"""`?lang=en` in a real browser: the kiosk and the hall screen show English only (the hall's
notice and the language switch's "中文" aside), names included, after their scripts ran."""

from __future__ import annotations

import re
from typing import Any

import requests

from tests.e2e.conftest import PageErrors, wait_until
from tests.live_server import LiveServer

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LANDSCAPE = {"width": 1920, "height": 1080}


def visible_han(page: Any, allowed: tuple[str, ...] = ()) -> list[str]:
    text: str = page.evaluate("document.body.innerText + ' ' + document.title")
    for word in allowed:
        text = text.replace(word, "")
    return re.findall(r".{0,20}[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+.{0,20}", text)


def test_kiosk_in_english(live_server: LiveServer, new_page: Any, page_errors: PageErrors) -> None:
    page = new_page(viewport=LANDSCAPE)
    page.goto(f"{live_server.url}/kiosk?lang=en")
    page.wait_for_selector("body[data-ready=true]")
    assert visible_han(page, ("中文",)) == []
    page.click("#party-individual")
    page.wait_for_selector("[data-service=employment]")
    assert "Employment registration" in page.text_content("[data-service=employment]")
    assert visible_han(page, ("中文",)) == []
    page.click("[data-service=employment]")
    page.click("#identity-skip")
    page.click("#green-no")
    page.wait_for_selector("#screen-result.active")
    assert page.text_content("#result-line") == "Comprehensive · individuals"
    # SPEC v2: no minutes while no counter of the line is open
    estimate = page.text_content("#result-estimate") or ""
    assert re.search(r"About \d+ minutes?|^No counter open yet$|^$", estimate)
    assert visible_han(page, ("中文",)) == []
    assert page_errors == []


def test_hall_screen_in_english(
    live_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    notice = "请保管好您的号票，一号到底：转窗口、补材料回来都不用重新取号。"
    session = requests.Session()
    token = session.post(
        f"{live_server.url}/api/v1/auth/login", json={"username": "clerk09", "password": "demo"}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert session.post(f"{live_server.url}/api/v1/counters/9/sign-in", headers=headers).ok
    taken = session.post(f"{live_server.url}/api/v1/tickets", json={"service": "pickup"})
    assert taken.ok
    page = new_page(viewport=LANDSCAPE)
    page.goto(f"{live_server.url}/display/hall?lang=en&sound=0")
    page.wait_for_selector("body[data-synced=true]")
    assert session.post(f"{live_server.url}/api/v1/counters/9/call-next", headers=headers).ok
    wait_until(page, "document.body.innerText.indexOf('Pickup') >= 0")
    assert visible_han(page, (notice,)) == []
    # longer English words never widen the screen past the display (the hall name is cut)
    for viewport in (LANDSCAPE, {"width": 1366, "height": 768}):
        page.set_viewport_size(viewport)
        assert page.evaluate("document.documentElement.scrollWidth") == viewport["width"]
    assert page_errors == []
