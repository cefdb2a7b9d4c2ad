"""Chromium hall screens on `python run.py` as it comes (gevent): Chromium offers
permessage-deflate, the server declines it (queue_server/realtime/fanout.py
`decline_compression`), so the screen's WebSocket is a plain one and the broadcasts reach it
on the direct path; the call is drawn. (The screens' other tests run against the same
default server: tests/e2e/conftest.py `live_server`.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import PageErrors
from tests.e2e.test_screens import HALL_SCREEN, NewPage, act, issue, sign_in
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e


def header(headers: dict[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)


def test_a_chromium_hall_screen_speaks_plain_websocket_and_draws_the_call(
    live_server: LiveServer, new_page: NewPage, page_errors: PageErrors
) -> None:
    token = sign_in(live_server, 6)
    ticket = issue(live_server)
    page = new_page(viewport=HALL_SCREEN)
    requests: list[dict[str, str]] = []
    responses: list[dict[str, str]] = []
    frames: list[str] = []
    devtools = page.context.new_cdp_session(page)
    devtools.on(
        "Network.webSocketWillSendHandshakeRequest",
        lambda event: requests.append(event["request"]["headers"]),
    )
    devtools.on(
        "Network.webSocketHandshakeResponseReceived",
        lambda event: responses.append(event["response"]["headers"]),
    )

    def frame(event: dict[str, Any]) -> None:
        frames.append(event["response"]["payloadData"])

    devtools.on("Network.webSocketFrameReceived", frame)
    devtools.send("Network.enable")
    page.goto(live_server.url + "/display/hall")
    page.wait_for_selector("body[data-synced='true']")

    assert requests, "the screen opened a WebSocket"
    offered = header(requests[0], "sec-websocket-extensions") or ""
    assert "permessage-deflate" in offered, "Chromium offers compression"
    assert header(responses[0], "sec-websocket-extensions") is None, "the server declined it"

    number = act(live_server, token, 6, "call-next")["ticket"]["number"]
    assert number == ticket["number"]
    page.wait_for_selector(f"#cards .card[data-counter='6'][data-number='{number}']", timeout=2000)
    assert page.text_content("#banner-text") == f"请{number}号到6号窗口办理"
    calls = [text for text in frames if text.startswith('42/display,["call"')]
    assert len(calls) == 1, "the call arrived once, as an uncompressed text frame"
    assert f'"number":"{number}"' in calls[0]
    assert not page_errors
