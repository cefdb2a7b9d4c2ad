"""The public screens in real Chromium against a real `python run.py` (issue 3): the hall
screen, the counter-top screen with its rating buttons, the visitor's phone page.

Tests share one server per module, so each works at its own counters and, where lines are
shared, calls its own tickets by number. Headless Chromium has no speech voices: the hall's
speech queue is checked through its log, window.yihaoSpeech."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PageErrors, screenshot, wait_until
from tests.live_server import LiveServer, free_port

pytestmark = pytest.mark.e2e

HALL_SCREEN = {"width": 1920, "height": 1080}
SMALL_HALL_SCREEN = {"width": 1366, "height": 768}
COUNTER_SCREEN = {"width": 1280, "height": 400}
PHONE = {"width": 360, "height": 740}
CALL_DEADLINE_S = 2.0
# Headless Chromium has no Chinese voice: each call plays the recorded clips (≈6 s, twice).
SPEECH_TIMEOUT_MS = 45_000
RECONNECT_TIMEOUT_MS = 20_000
REFUSED = re.compile(
    r"^console: WebSocket connection to '.*' failed: .*ERR_CONNECTION_(REFUSED|RESET)$"
)

NewPage = Callable[..., Any]


# -- helpers ---------------------------------------------------------------------------
def sign_in(server: LiveServer, counter: int) -> str:
    token = server.login(f"clerk{counter:02d}")
    response = server.post(f"/api/v1/counters/{counter}/sign-in", token=token)
    assert response.status_code == 200, response.text
    return token


def act(server: LiveServer, token: str, counter: int, action: str, json: Any = None) -> Any:
    response = server.post(f"/api/v1/counters/{counter}/{action}", json=json, token=token)
    assert response.status_code == 200, response.text
    return response.json()


def issue(server: LiveServer, **fields: Any) -> dict[str, Any]:
    response = server.post("/api/v1/tickets", json={"service": "employment", **fields})
    assert response.status_code in (200, 201), response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket


def call(server: LiveServer, token: str, counter: int, number: str) -> dict[str, Any]:
    ticket: dict[str, Any] = act(server, token, counter, "call", {"number": number})["ticket"]
    assert ticket["number"] == number
    return ticket


def current_call(server: LiveServer, counter: int) -> dict[str, Any]:
    snapshot = server.get("/api/v1/display/snapshot").json()
    found: dict[str, Any] = next(item for item in snapshot["calls"] if item["counter"] == counter)
    return found


def open_synced(new_page: NewPage, url: str, viewport: dict[str, int], **options: Any) -> Any:
    page = new_page(viewport=viewport, **options)
    page.goto(url)
    page.wait_for_selector("body[data-synced='true']")
    return page


def speech_log(page: Any) -> dict[str, Any]:
    log: dict[str, Any] = page.evaluate("window.yihaoSpeech")
    return log


def wait_spoken(page: Any, speech: str, times: int = 1) -> None:
    wait_until(
        page,
        "([speech, times]) => window.yihaoSpeech.played"
        ".filter((entry) => entry.speech === speech).length >= times",
        arg=[speech, times],
        timeout_ms=SPEECH_TIMEOUT_MS,
    )


def recent_numbers(page: Any) -> list[str]:
    numbers: list[str] = page.eval_on_selector_all(
        "#recent .recent-item", "items => items.map((item) => item.dataset.number)"
    )
    return numbers


def manager_events(server: LiveServer, kind: str) -> list[dict[str, Any]]:
    token = server.login("manager")
    response = server.get("/api/v1/events?since=0", token=token)
    assert response.status_code == 200, response.text
    return [event for event in response.json()["events"] if event["kind"] == kind]


# -- hall screen and counter-top screen ------------------------------------------------
def test_a_call_shows_on_the_hall_and_counter_screens_within_two_seconds(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    token = sign_in(live_server, 8)
    ticket = issue(live_server, service="maternity")
    hall = open_synced(new_page, live_server.url + "/display/hall", HALL_SCREEN)
    counter = open_synced(new_page, live_server.url + "/display/counter/8", COUNTER_SCREEN)
    hall.wait_for_selector("#cards .card[data-counter='8']")
    counter.wait_for_selector("#counter-main[data-state='open']")

    started = time.monotonic()
    called = act(live_server, token, 8, "call-next")["ticket"]
    number = called["number"]
    assert number == ticket["number"]
    hall.wait_for_selector(
        f"#cards .card[data-counter='8'][data-number='{number}']",
        timeout=CALL_DEADLINE_S * 1000,
    )
    left_ms = max(1.0, (CALL_DEADLINE_S - (time.monotonic() - started)) * 1000)
    counter.wait_for_selector(f"#counter-main[data-number='{number}']", timeout=left_ms)
    assert time.monotonic() - started < CALL_DEADLINE_S

    assert hall.text_content("#banner-text") == f"请{number}号到8号窗口办理"
    assert recent_numbers(hall)[0] == number
    assert counter.text_content("#current-number") == number
    assert counter.is_visible("#clerk")
    assert counter.text_content("#clerk-name") == "黄丽"
    assert counter.text_content("#clerk-no") == "RS008"

    # The speech queue got the SPEC's `speech` text, and a recall announces it again.
    speech = current_call(live_server, 8)["speech"]
    assert speech.startswith("请 C 零 零")
    wait_spoken(hall, speech)
    act(live_server, token, 8, "recall")
    wait_until(
        hall,
        "speech => window.yihaoSpeech.queued.filter((text) => text === speech).length === 2",
        arg=speech,
    )
    hall.wait_for_selector("#recent .recent-item:first-child .badge:text('重呼')")
    wait_spoken(hall, speech, times=2)
    assert speech not in counter.evaluate("window.yihaoSpeech.played.map((e) => e.speech)")

    # Nothing that identifies the visitor is on a public screen.
    for page in (hall, counter):
        assert ticket["id"] not in page.content()
    screenshot(hall, "hall-screen")
    screenshot(counter, "counter-screen")

    act(live_server, token, 8, "start")
    act(live_server, token, 8, "finish")
    counter.wait_for_selector("#rating", state="visible")
    hall.wait_for_selector("#cards .card[data-counter='8'][data-number='']")
    assert page_errors == []


# Records, after the page is synced, which counter's card and which line's row each DOM
# change touched, and whether the lines' table had rows added or taken away.
WATCH_WRITES = """() => {
  window.yihaoWrites = [];
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      const node = mutation.target.nodeType === 1 ? mutation.target : mutation.target.parentElement;
      const card = node && node.closest('#cards .card');
      const row = node && node.closest('#queues tr');
      window.yihaoWrites.push({
        card: card ? card.dataset.counter : null,
        row: row ? row.dataset.queue : null,
        rows_changed: node && node.id === 'queues' && mutation.type === 'childList',
      });
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             characterData: true});
}"""


def test_a_call_redraws_its_own_card_and_a_new_count_its_own_row(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    """Every write that does not change the page is skipped: a rewritten text lays out and
    repaints its card or row again, which 20 calls a second on a screen pay for."""
    token = sign_in(live_server, 8)
    sign_in(live_server, 9)  # a second card, which the call must leave alone
    issue(live_server, service="maternity")
    hall = open_synced(new_page, live_server.url + "/display/hall", HALL_SCREEN)
    hall.wait_for_selector("#cards .card[data-counter='9']")
    hall.wait_for_selector("#cards .card[data-counter='8']")
    line = hall.eval_on_selector_all("#queues tr", "rows => rows.map((row) => row.dataset.queue)")
    assert len(line) > 1
    hall.evaluate(WATCH_WRITES)

    number = act(live_server, token, 8, "call-next")["ticket"]["number"]
    hall.wait_for_selector(f"#cards .card[data-counter='8'][data-number='{number}']")
    wait_until(hall, "() => window.yihaoWrites.some((write) => write.row !== null)")
    writes = hall.evaluate("window.yihaoWrites")
    assert {write["card"] for write in writes if write["card"]} == {"8"}
    # The called ticket's line lost one: that row's count changed, the table kept its rows.
    assert len({write["row"] for write in writes if write["row"]}) == 1
    assert not any(write["rows_changed"] for write in writes)
    # The call flashes the card and the banner on a timer, with no CSS animation running
    # (Blink restyles an animated node every frame), and the flash ends by itself.
    hall.wait_for_selector("#cards .card[data-counter='8'][data-lit]", state="attached")
    assert hall.evaluate("document.getAnimations().length") == 0
    hall.wait_for_selector("[data-lit]", state="detached", timeout=10_000)
    act(live_server, token, 8, "start")
    act(live_server, token, 8, "finish")
    assert page_errors == []


def test_out_of_order_calls_show_their_reason_and_never_talk_over_each_other(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    tokens = {counter: sign_in(live_server, counter) for counter in (2, 3)}
    green = issue(live_server, priority="green")
    plain = issue(live_server)
    hall = open_synced(new_page, live_server.url + "/display/hall", HALL_SCREEN)

    call(live_server, tokens[2], 2, plain["number"])
    call(live_server, tokens[3], 3, green["number"])
    hall.wait_for_selector(f"#cards .card[data-counter='3'][data-number='{green['number']}']")
    # A call by number is out of plain order: the hall sees why, in the visitor's words.
    assert hall.text_content("#cards .card[data-counter='3'] .badge") == "指定呼叫"
    assert hall.text_content("#banner-badge") == "指定呼叫"

    speeches = [current_call(live_server, counter)["speech"] for counter in (2, 3)]
    wait_spoken(hall, speeches[1])
    played = [entry for entry in speech_log(hall)["played"] if entry["speech"] in speeches]
    assert [entry["speech"] for entry in played] == speeches
    assert played[1]["start"] >= played[0]["end"], "two calls were announced at once"
    assert speech_log(hall)["blocked"] is False

    for counter in (2, 3):
        act(live_server, tokens[counter], counter, "finish")
    assert page_errors == []


def test_a_call_made_while_a_screen_was_offline_is_shown_and_announced_once(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    token = sign_in(live_server, 5)
    ticket = issue(live_server)
    hall = open_synced(new_page, live_server.url + "/display/hall", HALL_SCREEN)
    counter = open_synced(new_page, live_server.url + "/display/counter/5", COUNTER_SCREEN)

    for page in (hall, counter):
        page.evaluate("window.Yihao.socket.disconnect()")
        page.wait_for_selector("body[data-online='false']", state="attached")
    call(live_server, token, 5, ticket["number"])
    speech = current_call(live_server, 5)["speech"]
    time.sleep(0.3)
    for page in (hall, counter):
        page.evaluate("window.Yihao.socket.connect()")
        page.wait_for_selector("body[data-online='true'][data-synced='true']", state="attached")

    hall.wait_for_selector(f"#cards .card[data-counter='5'][data-number='{ticket['number']}']")
    counter.wait_for_selector(f"#counter-main[data-number='{ticket['number']}']")
    wait_spoken(hall, speech)
    # A second reconnect brings the same snapshot: nothing is shown or said twice.
    hall.evaluate("window.Yihao.socket.disconnect(); window.Yihao.socket.connect()")
    hall.wait_for_selector("body[data-online='true'][data-synced='true']", state="attached")
    time.sleep(0.5)
    assert speech_log(hall)["queued"].count(speech) == 1
    assert recent_numbers(hall).count(ticket["number"]) == 1

    act(live_server, token, 5, "finish")
    assert page_errors == []


def test_the_hall_screen_fits_a_1366_by_768_panel(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    tokens = {counter: sign_in(live_server, counter) for counter in (6, 7)}
    act(live_server, tokens[7], 7, "pause")
    hall = open_synced(new_page, live_server.url + "/display/hall", SMALL_HALL_SCREEN)
    hall.wait_for_selector("#cards .card[data-counter='7'][data-state='paused']")
    assert hall.text_content("#cards .card[data-counter='7'] .card-number") == "暂停服务"
    assert hall.text_content("#notice") != ""
    assert hall.text_content("#queues tr[data-queue='A'] .line-name") == "A综合·个人"
    sizes = hall.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert sizes == [SMALL_HALL_SCREEN["width"], SMALL_HALL_SCREEN["height"]]
    screenshot(hall, "hall-screen-1366x768")
    act(live_server, tokens[7], 7, "resume")
    assert page_errors == []


def test_the_sound_button_shows_while_the_browser_blocks_sound(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    page = new_page(viewport=HALL_SCREEN)
    # A browser without the kiosk flag keeps audio suspended until a click.
    page.add_init_script(
        """
        (() => {
          const Real = window.AudioContext;
          window.AudioContext = class extends Real {
            constructor() { super(); this.locked = true; }
            get state() { return this.locked ? 'suspended' : super.state; }
            resume() {
              if (navigator.userActivation.isActive) this.locked = false;
              return super.resume();
            }
          };
        })();
        """
    )
    page.goto(live_server.url + "/display/hall")
    page.wait_for_selector("#sound-button", state="visible")
    assert "点击开启声音" in page.text_content("#sound-button")
    assert speech_log(page)["blocked"] is True
    page.click("#sound-button")
    page.wait_for_selector("#sound-button", state="hidden")
    assert speech_log(page)["blocked"] is False
    assert page_errors == []


# -- rating on the counter-top screen --------------------------------------------------
def test_a_rating_pressed_on_the_counter_screen_is_stored_once(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    token = sign_in(live_server, 10)
    ticket = issue(live_server, party="enterprise", headcount=12)
    assert ticket["queue"] == "E"
    counter = open_synced(new_page, live_server.url + "/display/counter/10", COUNTER_SCREEN)
    rating_posts: list[str] = []

    def count_rating_posts(request: Any) -> None:
        if "/rating" in request.url:
            rating_posts.append(request.method)

    counter.on("request", count_rating_posts)
    act(live_server, token, 10, "call-next")
    counter.wait_for_selector(f"#counter-main[data-number='{ticket['number']}']")
    assert counter.text_content("#counter-number") == "三楼10号窗口"
    act(live_server, token, 10, "start")
    act(live_server, token, 10, "finish")

    counter.wait_for_selector("#rating", state="visible")
    assert counter.is_hidden("#serving")
    screenshot(counter, "counter-screen-rating")
    counter.dblclick("button[data-rating='5']")
    counter.wait_for_selector("#thanks", state="visible")
    assert counter.text_content("#thanks") == "感谢您的评价！"
    counter.wait_for_selector("#rating", state="hidden")
    counter.wait_for_timeout(300)
    assert rating_posts == ["POST"]

    again = live_server.post("/api/v1/counters/10/rating", json={"rating": 1})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "evaluation_closed"
    ratings = [event for event in manager_events(live_server, "rate") if event["counter"] == 10]
    assert [event["detail"]["rating"] for event in ratings] == [5]
    assert page_errors == []


def test_a_low_rating_takes_reasons_and_the_next_call_closes_the_buttons(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    token = sign_in(live_server, 9)
    first, second = issue(live_server, service="pickup"), issue(live_server, service="pickup")
    counter = open_synced(new_page, live_server.url + "/display/counter/9?lang=en", COUNTER_SCREEN)
    assert counter.text_content("#rating-title") == "How was our service today?"

    call(live_server, token, 9, first["number"])
    act(live_server, token, 9, "finish")
    counter.wait_for_selector("#rating", state="visible")
    counter.click("button[data-rating='1']")
    counter.wait_for_selector("#rating-reasons", state="visible")
    counter.click(".chip[data-reason='wait']")
    counter.click("#reasons-submit")
    counter.wait_for_selector("#thanks", state="visible")
    low = [event for event in manager_events(live_server, "rate") if event["counter"] == 9]
    assert [(event["detail"]["rating"], event["detail"]["reasons"]) for event in low] == [
        (1, ["等候时间长"])
    ]

    # Unanswered buttons close when the counter calls again.
    call(live_server, token, 9, second["number"])
    act(live_server, token, 9, "finish")
    counter.wait_for_selector("#rating", state="visible")
    ticket = issue(live_server, service="pickup")
    call(live_server, token, 9, ticket["number"])
    counter.wait_for_selector("#rating", state="hidden")
    counter.wait_for_selector(f"#counter-main[data-number='{ticket['number']}']")
    act(live_server, token, 9, "finish")
    assert page_errors == []


# -- the visitor's phone page ----------------------------------------------------------
def test_the_phone_page_follows_waiting_then_called(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    token = sign_in(live_server, 9)
    ticket = issue(live_server, service="pickup")
    phone = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto(ticket["status_url"])
    # The first paint needs no live connection: the ticket is in the page.
    assert phone.text_content("#number") == ticket["number"]
    phone.wait_for_selector("body[data-synced='true']")
    assert phone.get_attribute("#status", "data-state") == "waiting"
    assert phone.text_content("#state-title") == "排队中"
    assert phone.text_content("#service") == "出件领证"
    assert phone.text_content("#plan") == "第 1 步 / 共 1 步 · 出件"
    assert phone.text_content("#ahead") == "0 人"
    assert phone.is_visible("button[data-action='cancel']")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "phone-waiting")

    started = time.monotonic()
    call(live_server, token, 9, ticket["number"])
    phone.wait_for_selector("#status[data-state='called']", timeout=CALL_DEADLINE_S * 1000)
    assert time.monotonic() - started < CALL_DEADLINE_S
    assert phone.text_content("#call-box") == "请到 9 号窗口"
    assert phone.text_content("#state-title") == "轮到您了"
    assert phone.is_hidden("button[data-action='cancel']")
    screenshot(phone, "phone-called")

    act(live_server, token, 9, "start")
    phone.wait_for_selector("#status[data-state='serving']")
    act(live_server, token, 9, "finish")
    phone.wait_for_selector("#status[data-state='done']")
    assert phone.text_content("#state-title") == "已办结"
    assert page_errors == []


def test_the_phone_page_returns_after_a_hold_rejoins_after_a_miss_and_cancels(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    token = sign_in(live_server, 4)
    ticket = issue(live_server)
    phone = open_synced(new_page, ticket["status_url"], PHONE, is_mobile=True, has_touch=True)

    call(live_server, token, 4, ticket["number"])
    phone.wait_for_selector("#status[data-state='called']")
    act(live_server, token, 4, "hold", {"reason": "补充材料"})
    phone.wait_for_selector("#status[data-state='held']")
    assert "前回来可排在普通号前面优先办理" in phone.text_content("#state-note")
    screenshot(phone, "phone-held")
    phone.click("button[data-action='return']")
    phone.click("button[data-action='return-yes']")  # 我已在大厅 (issue 14)
    phone.wait_for_selector("#status[data-state='waiting']")

    call(live_server, token, 4, ticket["number"])
    phone.wait_for_selector("#status[data-state='called']")
    act(live_server, token, 4, "no-show")
    phone.wait_for_selector("#status[data-state='missed']")
    assert "前可以重新排队" in phone.text_content("#state-note")
    phone.click("button[data-action='reinstate']")
    phone.wait_for_selector("#status[data-state='waiting']")

    phone.click("button[data-action='cancel']")
    assert phone.text_content(".confirm") == "确定不再办理，取消这个号吗？"
    phone.click("button[data-action='cancel-yes']")
    phone.wait_for_selector("#status[data-state='cancelled']")
    assert phone.is_hidden("button[data-action='cancel']")
    # A second try (say, from another tab) gets the server's words, not a broken page.
    again = live_server.post(f"/api/v1/tickets/{ticket['id']}/cancel")
    assert again.status_code == 409
    assert page_errors == []


def test_the_phone_page_tells_the_hold_reason_and_where_to_wait(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    """Issue 12: the back office's line says 三楼 and that no counter is open yet (never
    "0 分钟"); a hold's reason is told live (一次告知)."""
    act(live_server, sign_in(live_server, 10), 10, "sign-out")  # counter 10 is E's only one
    ticket = issue(
        live_server, service="hiring_filing", party="enterprise", headcount=12, priority="green"
    )
    phone = open_synced(new_page, ticket["status_url"], PHONE, is_mobile=True, has_touch=True)
    assert phone.text_content("#location") == "请到三楼等候"
    assert phone.text_content("#estimate") == "窗口暂未开放"
    assert phone.is_hidden("#state-detail")  # never "下一位就是您" while nobody can call
    assert phone.is_visible("#green")
    token = sign_in(live_server, 10)
    call(live_server, token, 10, ticket["number"])
    phone.wait_for_selector("#status[data-state='called']")
    act(live_server, token, 10, "hold", {"reason": "劳动合同原件"})
    phone.wait_for_selector("#status[data-state='held']")
    phone.wait_for_selector("#hold-reason:not([hidden])")
    assert phone.text_content("#hold-reason") == "需补齐：劳动合同原件"
    assert phone.text_content("#location") == "请到三楼等候"
    screenshot(phone, "phone-held-reason")
    phone.click("button[data-action='return']")
    phone.click("button[data-action='return-yes']")  # 我已在大厅 (issue 14)
    phone.wait_for_selector("#status[data-state='waiting']")
    assert phone.is_hidden("#hold-reason")
    act(live_server, token, 10, "sign-out")
    assert page_errors == []


def test_the_phone_page_speaks_english_and_an_unknown_ticket_is_a_chinese_404(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    ticket = issue(live_server, service="pickup")
    phone = open_synced(new_page, ticket["status_url"] + "?lang=en", PHONE)
    assert phone.text_content("#state-title") == "Waiting"
    assert phone.text_content("#plan") == "Step 1 of 1 · Pickup"  # the line's name_en
    assert live_server.post(f"/api/v1/tickets/{ticket['id']}/cancel").status_code == 200
    phone.wait_for_selector("#status[data-state='cancelled']")
    assert phone.text_content("#state-title") == "Cancelled"

    assert page_errors == []

    missing = new_page(viewport=PHONE)
    response = missing.goto(live_server.url + "/t/NoSuchTicketId0000000")
    assert response is not None
    assert response.status == 404
    assert "没有找到这张号票" in missing.text_content("body")
    # Chromium logs the page's own 404 status; nothing else may go wrong.
    assert [error for error in page_errors if "status of 404" not in error] == []
    assert len(page_errors) == 1


# -- a server restart ------------------------------------------------------------------
def test_the_hall_screen_recovers_after_the_server_restarts(
    tmp_path: Path, new_page: NewPage, page_errors: PageErrors
) -> None:
    server = LiveServer(tmp_path, "--no-scheduler", port=free_port()).start()
    try:
        token = sign_in(server, 1)
        before = issue(server)
        hall = open_synced(new_page, server.url + "/display/hall", HALL_SCREEN)
        call(server, token, 1, before["number"])
        hall.wait_for_selector(f"#cards .card[data-counter='1'][data-number='{before['number']}']")
        before_speech = current_call(server, 1)["speech"]
        # The offline voice's clips are loaded at the start: wait for them, so the refused
        # requests below are the reconnects alone (a clip cut off by the stop is an error).
        wait_until(hall, "window.yihaoSpeech.clipsReady === true")

        assert page_errors == []
        server.stop()
        hall.wait_for_selector("body[data-online='false']", state="attached")
        hall.wait_for_selector(".offline", state="visible")
        screenshot(hall, "hall-screen-offline")
        server.start()
        hall.wait_for_selector(
            "body[data-online='true'][data-synced='true']",
            state="attached",
            timeout=RECONNECT_TIMEOUT_MS,
        )
        # While the server was down Chromium itself logs each refused reconnect attempt;
        # those, and only those, are expected.
        refused = [error for error in page_errors if REFUSED.search(error)]
        assert len(refused) == len(page_errors), page_errors
        page_errors.clear()
        hall.wait_for_selector(f"#cards .card[data-counter='1'][data-number='{before['number']}']")

        act(server, token, 1, "finish")
        after = issue(server)
        started = time.monotonic()
        call(server, token, 1, after["number"])
        hall.wait_for_selector(
            f"#cards .card[data-counter='1'][data-number='{after['number']}']",
            timeout=CALL_DEADLINE_S * 1000,
        )
        assert time.monotonic() - started < CALL_DEADLINE_S
        after_speech = current_call(server, 1)["speech"]
        wait_spoken(hall, after_speech)
        assert recent_numbers(hall)[:2] == [after["number"], before["number"]]
        queued = speech_log(hall)["queued"]
        assert queued.count(before_speech) == 1
        assert queued.count(after_speech) == 1
        screenshot(hall, "hall-screen-after-restart")
        assert page_errors == []
    finally:
        server.stop()
