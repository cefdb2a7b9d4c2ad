"""The kiosk page (取号机) clicked through in real Chromium against a real server."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import PageErrors, screenshot, wait_until
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
ID_CARD = "11010519491231002X"
ID_CARD_BAD_CHECK = "110105194912310021"


def open_kiosk(new_page: Any, server: LiveServer, viewport: dict[str, int], query: str = "") -> Any:
    page = new_page(viewport=viewport)
    page.goto(f"{server.url}/kiosk{query}")
    page.wait_for_selector("body[data-ready=true]")
    return page


def ticket_number(page: Any, created: bool = True) -> str:
    """The number on the result screen; a ticket this kiosk just created shows its paper's
    image, a reused or looked-up one never does (it carries no id: SPEC §2)."""
    page.wait_for_selector("#screen-result.active")
    number: str = page.text_content("#result-number")
    if created:
        wait_until(
            page,
            "document.getElementById('result-image').complete && "
            "document.getElementById('result-image').naturalWidth > 0",
        )
    else:
        assert page.is_hidden("#result-image")
    return number


def test_individual_takes_a_ticket(
    live_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    page = open_kiosk(new_page, live_server, PORTRAIT)
    screenshot(page, "kiosk-start-portrait")
    page.click("#party-individual")
    page.click("[data-service=employment]")
    screenshot(page, "kiosk-services-portrait")
    page.click("#identity-skip")
    page.click("#green-no")
    number = ticket_number(page)
    assert re.fullmatch(r"A\d{3}", number)
    assert "前面还有" in page.text_content("#result-ahead")
    screenshot(page, "kiosk-ticket-portrait")
    page.click("#done-button")
    page.wait_for_selector("#screen-start.active")
    assert page_errors == []


def test_enterprise_with_headcount_goes_to_the_back_office(
    live_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    page = open_kiosk(new_page, live_server, LANDSCAPE)
    page.click("#party-enterprise")
    page.click("[data-service=social_insurance]")
    page.wait_for_selector("#screen-headcount.active")
    page.click("[data-pad=headcount] [data-key='1']")
    page.click("[data-pad=headcount] [data-key='2']")
    assert page.input_value("#headcount") == "12"
    screenshot(page, "kiosk-headcount-landscape")
    page.click("#headcount-ok")
    page.click("#identity-skip")
    page.click("#green-no")
    assert re.fullmatch(r"E\d{3}", ticket_number(page))
    screenshot(page, "kiosk-ticket-landscape")

    page.click("#done-button")
    page.click("#party-enterprise")
    page.click("[data-service=social_insurance]")
    page.click("[data-pad=headcount] [data-key='3']")
    page.click("#headcount-ok")
    page.click("#identity-skip")
    page.click("#green-no")
    assert re.fullmatch(r"B\d{3}", ticket_number(page))
    assert page_errors == []


def test_id_validation_error_then_reused_ticket_and_reprint(
    live_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    page = open_kiosk(new_page, live_server, PORTRAIT)
    page.click("#party-individual")
    page.click("[data-service=medical_insurance]")
    page.fill("#identity", ID_CARD_BAD_CHECK)
    page.click("#identity-next")
    assert "校验码不对" in page.text_content("#identity-error")
    screenshot(page, "kiosk-id-error")
    page.fill("#identity", "")
    for key in ID_CARD:
        page.click(f"#identity-pad [data-key='{key}']")
    page.click("#identity-next")
    page.click("#green-yes")
    number = ticket_number(page)
    assert re.fullmatch(r"A\d{3}", number)
    assert page.is_hidden("#reused-note")

    page.click("#done-button")
    page.click("#party-individual")
    page.click("[data-service=card_services]")
    page.fill("#identity", ID_CARD)
    page.click("#identity-next")
    page.click("#green-no")
    assert ticket_number(page, created=False) == number
    assert page.text_content("#reused-note") == f"您已有号 {number}，无需重复取号"
    screenshot(page, "kiosk-reused")
    page.click("#reprint-button")
    wait_until(page, "document.getElementById('result-message').textContent.length > 0")
    assert "补打" in page.text_content("#result-message")

    # A returning visitor finds the ticket by its number and the ID given at issue.
    page.click("#done-button")
    page.click("#have-ticket")
    page.fill("#lookup-number", number)
    page.fill("#lookup-identity", ID_CARD)
    page.click("#lookup-find")
    assert ticket_number(page, created=False) == number
    page.click("#done-button")
    page.click("#have-ticket")
    page.fill("#lookup-number", number)
    page.fill("#lookup-identity", "13800138000")
    page.click("#lookup-find")
    wait_until(page, "document.getElementById('lookup-error').textContent.length > 0")
    assert "没有找到" in page.text_content("#lookup-error")
    # The wrong identity's 404 is the only console message (Chromium logs every failed fetch).
    assert [error for error in page_errors if "404" not in error] == []
    assert len(page_errors) == 1


def test_reused_ticket_shows_number_state_and_place_and_offers_the_paper_again(
    live_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    """Issue 12: knowing a credit code shows the ticket, never its QR code; "printing" is
    said only once the visitor asks for the paper again."""
    credit_code = "91350100M000100Y43"
    page = open_kiosk(new_page, live_server, PORTRAIT)
    for attempt in range(2):
        page.click("#party-enterprise")
        page.click("[data-service=hiring_filing]")
        page.fill("#headcount", "15")
        page.click("#headcount-ok")
        page.fill("#identity", credit_code)
        page.click("#identity-next")
        green = page.locator("#green-yes").bounding_box()
        take = page.locator("#green-no").bounding_box()
        assert green["height"] * green["width"] < take["height"] * take["width"] / 2
        page.click("#green-no")
        if attempt == 0:
            number = ticket_number(page)
            assert page.is_visible("#result-printing")
            page.click("#done-button")
    assert ticket_number(page, created=False) == number
    assert page.text_content("#result-state") == "等候中"
    assert page.text_content("#result-location") == "请到三楼等候"
    assert page.text_content("#result-estimate") == "窗口暂未开放"
    assert page.is_hidden("#result-printing")
    assert page.is_hidden("#result-image")
    assert page.locator("#result-image").get_attribute("src") is None
    screenshot(page, "kiosk-reused-back-office")
    page.click("#reprint-button")
    wait_until(page, "document.getElementById('result-message').textContent.length > 0")
    assert page.is_visible("#result-printing")
    assert page_errors == []


def test_english_and_server_messages(
    live_server: LiveServer, new_page: Any, page_errors: PageErrors
) -> None:
    page = open_kiosk(new_page, live_server, LANDSCAPE, "?lang=en")
    assert "Individual" in page.text_content("#party-individual")
    page.click("#party-individual")
    page.click("[data-service=chronic_disease]")
    page.click("#tab-phone")
    page.fill("#identity", "2380013800")
    page.click("#identity-next")
    assert "11 digits" in page.text_content("#identity-error")
    page.fill("#identity", "13900139000")
    page.click("#identity-next")
    page.click("#green-no")
    assert re.fullmatch(r"C\d{3}", ticket_number(page))
    assert "people ahead" in page.text_content("#result-ahead")
    screenshot(page, "kiosk-english")
    assert page_errors == []
