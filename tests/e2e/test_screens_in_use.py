"""Issue 14: the public screens as a hall uses them all day, in real Chromium against a real
`python run.py` — the hall screen's notice, layout, reason words and offline voice, the
counter-top screen's badge, the phone page's return confirmation and close-to-turn alert,
the kiosk's keypads and a visit of two businesses.

Headless Chromium has no speech voices at all: exactly the hall PC without a Chinese voice,
so a call there must play the server's recorded clips, in order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import PageErrors, screenshot, wait_until
from tests.e2e.test_screens import (
    HALL_SCREEN,
    NewPage,
    act,
    call,
    current_call,
    issue,
    open_synced,
    sign_in,
    speech_log,
)
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
COUNTER_TOP = {"width": 1280, "height": 400}
KIOSK = {"width": 1080, "height": 1920}
GREEN = "rgb(39, 163, 90)"  # --green of screens.css
SPEECH_TIMEOUT_MS = 20_000
# A browser that locks audio until a click, as one without the kiosk flag does.
LOCKED_AUDIO = """
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
# The phone's vibration and notifications, recorded.
PHONE_ALERTS = """
(() => {
  window.alerts = { vibrate: [], notifications: [] };
  navigator.vibrate = (pattern) => { window.alerts.vibrate.push(pattern); return true; };
  window.Notification = class {
    constructor(title, options) { window.alerts.notifications.push([title, options.body]); }
    static get permission() { return 'granted'; }
    static requestPermission() { return Promise.resolve('granted'); }
  };
})();
"""


def boxes_overlap(first: dict[str, float], second: dict[str, float]) -> bool:
    return not (
        first["x"] + first["width"] <= second["x"]
        or second["x"] + second["width"] <= first["x"]
        or first["y"] + first["height"] <= second["y"]
        or second["y"] + second["height"] <= first["y"]
    )


def expected_clips(server: LiveServer, speech: str) -> list[str]:
    """The clips of a speech text, by the manifest: a run of digits is a counter number,
    other words are matched piece by piece, longest first."""
    manifest: dict[str, str] = server.get("/display/static/voice/manifest.json").json()["clips"]
    keys = sorted(manifest, key=len, reverse=True)
    files: list[str] = []
    for word in speech.split():
        at = 0
        while at < len(word):
            digits = len(word[at:]) - len(word[at:].lstrip("0123456789"))
            key = (
                word[at : at + digits]
                if digits
                else next(key for key in keys if word.startswith(key, at))
            )
            files.append("/display/static/voice/" + manifest[key])
            at += len(key)
    return files


# -- hall screen -----------------------------------------------------------------------
def notice_animation(page: Any) -> str:
    name: str = page.evaluate("getComputedStyle(document.getElementById('notice')).animationName")
    return name


def test_a_notice_saved_by_the_admin_reaches_an_open_hall_screen(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    hall = open_synced(new_page, live_server.url + "/display/hall", HALL_SCREEN)
    admin = live_server.login("admin")
    before = live_server.get("/api/v1/display/snapshot").json()["notice"]
    notice = "今日下午三点起社保卡业务暂停办理，请合理安排时间"
    response = live_server.post("/api/v1/settings/notice", {"notice": notice}, token=admin)
    assert response.status_code == 200, response.text
    wait_until(hall, "text => document.getElementById('notice').textContent === text", arg=notice)
    assert hall.is_visible("#notice-bar")
    # It fits the bar: it stands still (a scroll is redrawn 60 times a second for nothing).
    assert notice_animation(hall) == "none"
    # One too long for the bar scrolls, and keeps scrolling after the window narrows.
    long_notice = "，".join([notice] * 6)
    response = live_server.post("/api/v1/settings/notice", {"notice": long_notice}, token=admin)
    assert response.status_code == 200, response.text
    wait_until(
        hall, "text => document.getElementById('notice').textContent === text", arg=long_notice
    )
    assert notice_animation(hall) == "marquee"
    hall.set_viewport_size({"width": 1366, "height": 768})
    assert notice_animation(hall) == "marquee"
    # Back to a short one on a wide screen: still again.
    hall.set_viewport_size(HALL_SCREEN)
    response = live_server.post("/api/v1/settings/notice", {"notice": notice}, token=admin)
    assert response.status_code == 200, response.text
    wait_until(hall, "text => document.getElementById('notice').textContent === text", arg=notice)
    assert notice_animation(hall) == "none"
    # An empty notice takes the bar away, still without a reload.
    live_server.post("/api/v1/settings/notice", {"notice": ""}, token=admin)
    hall.wait_for_selector("#notice-bar", state="hidden")
    live_server.post("/api/v1/settings/notice", {"notice": before}, token=admin)
    hall.wait_for_selector("#notice-bar", state="visible")
    screenshot(hall, "issue14-hall-notice")
    assert page_errors == []


def test_the_hall_screen_reads_well_across_a_hall(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    tokens = {counter: sign_in(live_server, counter) for counter in (1, 6, 7)}
    act(live_server, tokens[7], 7, "pause")
    ticket = issue(live_server)
    hall = new_page(viewport=HALL_SCREEN)
    hall.add_init_script(LOCKED_AUDIO)
    hall.goto(live_server.url + "/display/hall")
    hall.wait_for_selector("body[data-synced='true']")
    hall.wait_for_selector("#sound-button", state="visible")
    call(live_server, tokens[1], 1, ticket["number"])
    hall.wait_for_selector(f"#recent .recent-item[data-number='{ticket['number']}']")

    # 点击开启声音 hides nothing: not the calls, the recent calls, the lines or the notice.
    button = hall.locator("#sound-button").bounding_box()
    for selector in ("#cards", "#banner", "#recent", ".lines-table", "#notice-bar"):
        box = hall.locator(selector).bounding_box()
        assert box is not None, selector
        assert not boxes_overlap(button, box), f"the sound button covers {selector}"

    # Line C's long name is there in full (wrapped, never cut off with an ellipsis).
    name = hall.locator("#queues tr[data-queue='C'] .line-name")
    assert name.text_content() == "C专项（生育保险/特殊慢性病）"
    assert name.evaluate("cell => cell.scrollWidth <= cell.clientWidth")
    assert name.evaluate("cell => getComputedStyle(cell).textOverflow") != "ellipsis"

    # The recent calls are readable across a hall: at least 32 px at 1920×1080.
    for selector in (".recent-number", ".recent-place", ".recent-time"):
        size = hall.locator(f"#recent .recent-item:first-child {selector}").evaluate(
            "node => parseFloat(getComputedStyle(node).fontSize)"
        )
        assert size >= 32, (selector, size)

    # A counter with no one at it says so: 空闲, 暂停服务 — never a bare grey bar.
    assert hall.text_content("#cards .card[data-counter='6'] .card-number") == "空闲"
    assert hall.text_content("#cards .card[data-counter='7'] .card-number") == "暂停服务"
    screenshot(hall, "issue14-hall-1920x1080")

    act(live_server, tokens[7], 7, "resume")
    act(live_server, tokens[1], 1, "finish")
    for counter in (1, 6, 7):
        act(live_server, tokens[counter], counter, "sign-out")
    assert page_errors == []


def test_reasons_are_in_the_visitors_words_and_green_is_green_on_both_screens(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    token = sign_in(live_server, 9)
    issue(live_server, service="pickup")
    green = issue(live_server, service="pickup", priority="green")
    hall = open_synced(new_page, live_server.url + "/display/hall", HALL_SCREEN)
    counter = open_synced(new_page, live_server.url + "/display/counter/9", COUNTER_TOP)

    called = act(live_server, token, 9, "call-next")["ticket"]
    assert called["number"] == green["number"]
    card_badge = hall.locator("#cards .card[data-counter='9'] .badge")
    card_badge.wait_for()
    counter.wait_for_selector(f"#counter-main[data-number='{green['number']}']")
    counter_badge = counter.locator("#current-badge")
    assert card_badge.text_content() == counter_badge.text_content() == "绿色通道"
    background = "node => getComputedStyle(node).backgroundColor"
    assert card_badge.evaluate(background) == counter_badge.evaluate(background) == GREEN
    screenshot(counter, "issue14-counter-top-green")

    # A call by number reads 指定呼叫 (SPEC §2), not the clerks' 指呼.
    act(live_server, token, 9, "finish")
    plain = issue(live_server, service="pickup")
    newer = issue(live_server, service="pickup")
    call(live_server, token, 9, newer["number"])
    hall.wait_for_selector(f"#cards .card[data-counter='9'][data-number='{newer['number']}']")
    assert card_badge.text_content() == "指定呼叫"
    act(live_server, token, 9, "finish")
    call(live_server, token, 9, plain["number"])
    act(live_server, token, 9, "finish")
    act(live_server, token, 9, "sign-out")
    assert page_errors == []


def test_without_a_chinese_voice_a_call_plays_the_recorded_clips_in_order(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    token = sign_in(live_server, 10)
    ticket = issue(live_server, service="hiring_filing", party="enterprise", headcount=12)
    hall = open_synced(new_page, live_server.url + "/display/hall?repeat=1", HALL_SCREEN)
    assert (
        hall.evaluate("speechSynthesis.getVoices().filter((v) => /^zh/.test(v.lang)).length") == 0
    )

    call(live_server, token, 10, ticket["number"])
    speech = current_call(live_server, 10)["speech"]
    last_digit = "零一二三四五六七八九"[int(ticket["number"][-1])]
    assert speech == f"请 E 零 零 {last_digit} 号 到 三楼10 号窗口办理"
    wait_until(
        hall,
        "speech => window.yihaoSpeech.played.some((entry) => entry.speech === speech)",
        arg=speech,
        timeout_ms=SPEECH_TIMEOUT_MS,
    )
    entry = next(item for item in speech_log(hall)["played"] if item["speech"] == speech)
    assert entry["mode"] == "clips"
    played = [url.split("?")[0] for url in speech_log(hall)["clips"]]
    expected = expected_clips(live_server, speech)
    assert [url.split("/")[-1] for url in expected] == [
        "qing.ogg",
        "letter-e.ogg",
        "digit-0.ogg",
        "digit-0.ogg",
        expected[4].split("/")[-1],
        "hao.ogg",
        "dao.ogg",
        "location-1.ogg",
        "counter-10.ogg",
        "hao.ogg",
        "chuangkou-banli.ogg",
    ]
    assert [url.removeprefix(live_server.url) for url in played] == expected
    assert entry["end"] - entry["start"] > 2000  # the clips were heard, not skipped

    act(live_server, token, 10, "finish")
    act(live_server, token, 10, "sign-out")
    assert page_errors == []


# -- phone page ------------------------------------------------------------------------
def test_the_phone_asks_before_a_return_and_alerts_once_when_the_turn_is_near(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    token = sign_in(live_server, 8)
    ahead = [issue(live_server, service="chronic_disease") for _ in range(5)]
    ticket = issue(live_server, service="chronic_disease")
    phone = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.add_init_script(PHONE_ALERTS)
    phone.goto(ticket["status_url"])
    phone.wait_for_selector("body[data-synced='true']")
    phone.click("#number")  # a first touch: browsers allow vibration only after one
    assert phone.text_content("#ahead") == "5 人"
    assert phone.is_hidden("#close-banner")

    # 4 ahead: not yet. 3 ahead: the banner, one vibration, one notification.
    for number, left in ((ahead[0]["number"], 4), (ahead[1]["number"], 3)):
        call(live_server, token, 8, number)
        act(live_server, token, 8, "finish")
        wait_until(
            phone, "text => document.getElementById('ahead').textContent === text", arg=f"{left} 人"
        )
    phone.wait_for_selector("#close-banner", state="visible")
    banner = "快轮到您了！前面还有 3 人，请在大厅留意叫号。"
    assert phone.text_content("#close-banner") == banner
    alerts = phone.evaluate("window.alerts")
    assert len(alerts["vibrate"]) == 1
    assert alerts["notifications"] == [[f"快轮到您了 · {ticket['number']}", banner]]
    screenshot(phone, "issue14-phone-close")
    call(live_server, token, 8, ahead[2]["number"])
    act(live_server, token, 8, "finish")
    wait_until(phone, "document.getElementById('ahead').textContent === '2 人'")
    assert len(phone.evaluate("window.alerts.vibrate")) == 1  # once, not at every step

    # 我回来了 asks first: the visitor confirms being in the hall.
    for other in ahead[3:]:
        call(live_server, token, 8, other["number"])
        act(live_server, token, 8, "finish")
    call(live_server, token, 8, ticket["number"])
    act(live_server, token, 8, "hold", {"reason": "病历原件"})
    phone.wait_for_selector("#status[data-state='held']")
    phone.click("button[data-action='return']")
    assert phone.text_content(".confirm") == (
        "请确认您已回到服务大厅、备齐了材料。不在大厅时重新排队，叫号时不在会过号。"
    )
    screenshot(phone, "issue14-phone-return-confirm")
    phone.click("button[data-action='return-no']")
    assert phone.get_attribute("#status", "data-state") == "held"
    assert phone.is_visible("button[data-action='return']")
    phone.click("button[data-action='return']")
    phone.click("button[data-action='return-yes']")
    phone.wait_for_selector("#status[data-state='waiting']")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    act(live_server, token, 8, "sign-out")
    assert page_errors == []


# -- kiosk -----------------------------------------------------------------------------
def test_the_kiosk_keys_say_what_they_do_and_a_visit_shows_every_business(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    page = new_page(viewport=KIOSK)
    page.goto(live_server.url + "/kiosk")
    page.wait_for_selector("body[data-ready=true]")
    page.click("#party-enterprise")
    page.click("[data-service=employment]")
    page.fill("#headcount", "")
    page.click("[data-pad=headcount] [data-key='2']")
    page.click("#headcount-ok")
    page.wait_for_selector("#screen-identity.active")
    keys = page.eval_on_selector_all("#identity-pad .key", "keys => keys.map((k) => k.textContent)")
    assert keys.count("C") == 1  # the credit code's letter, and only it
    assert "清除" in keys
    assert "退格" in keys
    screenshot(page, "issue14-kiosk-credit-code-pad")
    page.click("#identity-pad [data-key='C']")
    page.click("#identity-pad [data-key='1']")
    page.click("#identity-pad [data-action='backspace']")
    assert page.input_value("#identity") == "C"
    page.click("#identity-pad [data-action='clear']")
    assert page.input_value("#identity") == ""

    # A second business joins the visit: the screen names both.
    for service in ("employment", "card_services"):
        page.goto(live_server.url + "/kiosk")
        page.wait_for_selector("body[data-ready=true]")
        page.click("#party-individual")
        page.click(f"[data-service={service}]")
        page.fill("#identity", "11010519491231002X")
        page.click("#identity-next")
        page.click("#green-no")
        page.wait_for_selector("#screen-result.active")
    assert page.text_content("#result-services") == "就业登记、社保卡业务"
    screenshot(page, "issue14-kiosk-two-businesses")
    assert page_errors == []
