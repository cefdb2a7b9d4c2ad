"""The counter terminals outside a browser.

The terminal client (`python -m counter_client`) runs as a real process with its commands piped
in, against a real server (tests.live_server.LiveServer). The web terminal's login form, logout,
session, token renewal and figures are checked through the Flask test client."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from counter_client.keys import COMMANDS, SHORTCUTS
from queue_server import protocol
from tests.conftest import FakeClock, Staff
from tests.live_server import ROOT, LiveServer, free_port

# -- the terminal client through a pipe ---------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("client"), "--no-scheduler").start()
    yield live
    live.stop()


def client_command(server_url: str, counter: int, user: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "counter_client",
        "--server", server_url, "--counter", str(counter), "--user", user, *extra,
    ]  # fmt: skip


def client_env(password: str | None = "demo") -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "YIHAO_PASSWORD"}
    if password is not None:
        env["YIHAO_PASSWORD"] = password
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_client(
    server_url: str,
    counter: int,
    user: str,
    commands: str,
    *extra: str,
    password: str | None = "demo",
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        client_command(server_url, counter, user, *extra),
        input=commands,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=client_env(password),
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def take_ticket(server: LiveServer, service: str, **fields: Any) -> dict[str, Any]:
    response = server.post("/api/v1/tickets", json={"service": service, **fields})
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket


def ticket_of(server: LiveServer, ticket_id: str) -> dict[str, Any]:
    ticket: dict[str, Any] = server.get(f"/api/v1/tickets/{ticket_id}").json()["ticket"]
    return ticket


def counter_row(server: LiveServer, number: int) -> dict[str, Any]:
    rows = server.get("/api/v1/counters", token=server.login("manager")).json()
    row: dict[str, Any] = next(row for row in rows if row["counter"] == number)
    return row


def test_piped_call_start_finish(server: LiveServer) -> None:
    ticket = take_ticket(server, "maternity")
    number = ticket["number"]
    result = run_client(server.url, 8, "clerk08", "n\ns\nf\nq\n")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "黄丽 已签到 8号窗口（专项窗口）" in out
    assert f"✓ 已叫 {number}" in out
    assert f"✓ 开始办理 {number}" in out
    assert f"✓ {number} 已完成" in out
    assert "已签退 8号窗口" in out
    # The whole counter once, at the start; then what changed, a line each (issue 14): the
    # ticket in hand, its state, the line's count, then no ticket.
    assert out.count("── 8号窗口 · 专项窗口 · 开放") == 1
    assert "队列 C" in out
    assert re.search(rf"^{number} 已叫号 · 个人 · 1 人 · 生育保险 · 第 1 步 / 共 1 步", out, re.M)
    assert re.search(rf"^{number} 办理中$", out, re.M)
    assert re.search(r"^排队: C \d+人$", out, re.M)
    assert re.search(r"^当前号: 当前没有号$", out, re.M)
    assert result.stderr == ""
    assert ticket_of(server, ticket["id"])["state"] == "done"
    assert counter_row(server, 8)["state"] == "closed"


def test_piped_call_number_recall_transfer_hold(server: LiveServer) -> None:
    first = take_ticket(server, "hiring_filing", party="enterprise", headcount=30)
    second = take_ticket(server, "employment", party="enterprise", headcount=12)
    commands = f"c {second['number'].lower()}\nr\nt D\nc {first['number']}\nh 缺营业执照\n?\nq\n"
    result = run_client(server.url, 10, "clerk10", commands)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"✓ 已叫 {second['number']}" in result.stdout
    assert f"✓ 已重呼 {second['number']}" in result.stdout
    assert f"✓ {second['number']} 已转移到 D" in result.stdout
    assert f"✓ {first['number']} 已挂起" in result.stdout
    assert "命令：n 叫号" in result.stdout  # `?`
    moved = ticket_of(server, second["id"])
    assert (moved["state"], moved["queue"]) == ("waiting", "D")
    held = ticket_of(server, first["id"])
    assert held["state"] == "held"
    # The pickup counter's client sees it in its line and calls it.
    pickup = run_client(server.url, 9, "clerk09", "n\nf\n")  # end of input: as q
    assert pickup.returncode == 0, pickup.stdout + pickup.stderr
    assert f"下一位 {second['number']}(转移)" in pickup.stdout
    assert f"✓ {second['number']} 已完成" in pickup.stdout
    assert ticket_of(server, second["id"])["state"] == "done"


def test_businesses_and_lines_by_name(server: LiveServer) -> None:
    """Issue 14: `f 社保卡业务` and `t 出件` take names (Chinese or English) as well as codes."""
    manager = server.login("manager")
    first = take_ticket(server, "card_services", phone="13900000001")
    second = take_ticket(server, "social_insurance", phone="13900000002")
    third = take_ticket(server, "employment", phone="13900000003")
    commands = (
        f"c {first['number']}\nf 社保卡业务、社会保险\n"
        f"c {second['number']}\nt 出件\n"
        f"c {third['number']}\nt 出件领证 back\nq\n"
    )
    result = run_client(server.url, 5, "clerk05", commands)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    finished = server.get(f"/api/v1/tickets?number={first['number']}", token=manager).json()[
        "ticket"
    ]
    assert finished["state"] == "done"
    assert finished["steps"][-1]["services"] == ["card_services", "social_insurance"]
    moved = ticket_of(server, second["id"])
    assert (moved["state"], moved["queue"]) == ("waiting", "D")
    by_business = server.get(f"/api/v1/tickets?number={third['number']}", token=manager).json()[
        "ticket"
    ]
    assert (by_business["state"], by_business["queue"]) == ("waiting", "D")
    assert by_business["steps"][-1]["services"] == ["pickup"]

    # In English: the English names.
    fourth = take_ticket(server, "medical_insurance", phone="13900000004")
    english = run_client(
        server.url, 5, "clerk05",
        f"c {fourth['number']}\nf Medical insurance, social security card\nq\n", "--lang", "en",
    )  # fmt: skip
    assert english.returncode == 0, english.stdout + english.stderr
    done = server.get(f"/api/v1/tickets?number={fourth['number']}", token=manager).json()["ticket"]
    assert done["steps"][-1]["services"] == ["medical_insurance", "card_services"]
    # The pickup counter serves the two sent to line D, so they wait for no other test.
    pickup = run_client(
        server.url, 9, "clerk09", f"c {second['number']}\nf\nc {third['number']}\nf\n"
    )
    assert pickup.returncode == 0, pickup.stdout + pickup.stderr


def test_end_of_input_signs_out(server: LiveServer) -> None:
    result = run_client(server.url, 7, "clerk07", "")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "已签到 7号窗口" in result.stdout
    assert "已签退 7号窗口" in result.stdout
    assert counter_row(server, 7)["state"] == "closed"


def test_refusals_are_told_and_the_ticket_survives_quitting(server: LiveServer) -> None:
    ticket = take_ticket(server, "social_insurance")
    result = run_client(server.url, 6, "clerk06", "x\nn\nu\nzz\nc\nq\n")
    # A ticket in hand: the counter cannot be signed out; it stays open with the ticket.
    assert result.returncode == 1
    assert "✗ 过号: 6号窗口当前没有号，不能过号 [409 invalid_state]" in result.stderr
    # `u` on an open counter says so (issue 14), not "✓ 已恢复服务".
    assert "✗ 恢复: 窗口未暂停（暂停服务用 p）" in result.stderr
    assert "已恢复服务" not in result.stdout
    assert "未知命令：zz" in result.stderr
    assert "用法：c 号码" in result.stderr
    assert "未能签退：请先处理完当前号再签退 [409 invalid_state]" in result.stderr
    row = counter_row(server, 6)
    assert (row["state"], row["current"]) == ("open", ticket["number"])
    # Back again: the ticket is still in hand there.
    again = run_client(server.url, 6, "clerk06", "p\nf\np 会议\np\nu\nq\n")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"当前号: {ticket['number']} · 已叫号" in again.stdout
    assert "✗ 暂停: 请先处理完当前号再暂停 [409 invalid_state]" in again.stderr
    assert f"✓ {ticket['number']} 已完成" in again.stdout
    assert "✓ 已暂停服务" in again.stdout
    assert "窗口: 暂停服务 · 会议" in again.stdout  # `p 会议`: the reason, shown as it changed
    assert "✗ 暂停: 窗口已暂停服务（恢复服务用 u）" in again.stderr  # `p` again
    assert again.stdout.count("✓ 已暂停服务") == 1
    assert "✓ 已恢复服务" in again.stdout


def test_bad_login(server: LiveServer) -> None:
    result = run_client(server.url, 3, "clerk03", "q\n", password="wrong")
    assert result.returncode == 3
    assert "登录失败：用户名或密码错误" in result.stderr
    assert counter_row(server, 3)["state"] == "closed"


def test_no_password(server: LiveServer) -> None:
    result = run_client(server.url, 3, "clerk03", "q\n", password=None)
    assert result.returncode == 2
    assert "YIHAO_PASSWORD" in result.stderr


def test_unknown_counter(server: LiveServer) -> None:
    result = run_client(server.url, 99, "clerk01", "q\n")
    assert result.returncode == 4
    assert "没有99号窗口" in result.stderr


def test_another_clerks_counter(server: LiveServer) -> None:
    owner = server.login("clerk01")
    assert server.post("/api/v1/counters/1/sign-in", token=owner).status_code == 200
    result = run_client(server.url, 1, "clerk02", "q\n", "--lang", "en")
    assert result.returncode == 4
    assert "Cannot sign into counter 1: The counter is taken" in result.stderr
    assert counter_row(server, 1)["clerk"] == "clerk01"
    assert server.post("/api/v1/counters/1/sign-out", token=owner).status_code == 200


def test_a_counter_the_clerk_may_not_use(server: LiveServer) -> None:
    result = run_client(server.url, 8, "clerk01", "q\n", "--lang", "en")
    assert result.returncode == 4
    assert "Cannot sign into counter 8:" in result.stderr
    assert "[403 forbidden]" in result.stderr
    assert counter_row(server, 8)["clerk"] is None
    chinese = run_client(server.url, 10, "manager", "q\n")
    assert chinese.returncode == 4
    assert "您无权登录10号窗口" in chinese.stderr


def test_unreachable_server() -> None:
    result = run_client(f"http://127.0.0.1:{free_port()}", 1, "clerk01", "q\n")
    assert result.returncode == 5
    assert "无法连接服务器" in result.stderr


def test_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "counter_client", "--help"],
        capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0
    for words in (
        "--server URL",
        "--counter N",
        "--user NAME",
        "YIHAO_PASSWORD",
        "c NUMBER",
        "t QUEUE",
        "h REASON",
        "l ",
        "exit status",
    ):
        assert words in result.stdout


def test_lines_are_shown_live(server: LiveServer) -> None:
    """With its input still open, the client prints the lines again when a ticket arrives."""
    process = subprocess.Popen(
        client_command(server.url, 9, "clerk09", "--lang", "en"),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, encoding="utf-8", env=client_env(), cwd=ROOT,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    everything: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            everything.append(line)
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def wait_for(pattern: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no {pattern!r} in {''.join(seen)!r}")

    try:
        wait_for(r"signed into counter 9")
        wait_for(r"Line D .*: 0 waiting")
        ticket = take_ticket(server, "pickup")
        # What changed, not the whole counter again (issue 14) ...
        wait_for(r"^Waiting: D 1$")
        assert sum(line.startswith("── Counter 9") for line in everything) == 1
        # ... and the whole counter on request.
        assert process.stdin is not None
        process.stdin.write("l\n")
        process.stdin.flush()
        line = wait_for(rf"Line D .*: 1 waiting.*next {ticket['number']}")
        assert "longest" in line
        assert sum(line.startswith("── Counter 9") for line in everything) == 2
        process.stdin.write("n\n")
        process.stdin.flush()
        wait_for(rf"^{ticket['number']} Called · ")  # states capitalised in English (9c2ed25)
        process.stdin.write("f\nq\n")
        process.stdin.close()
        assert process.wait(timeout=30) == 0
        wait_for(r"Signed out of counter 9")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


# -- the web terminal through the Flask test client ----------------------------------------

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def json_of(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert isinstance(body, dict), response.status_code
    return body


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found.group(1)


def login_form(client: FlaskClient, path: str = "/login") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return csrf_of(response.get_data(as_text=True))


def form_login(
    client: FlaskClient, username: str, password: str = "demo", next_path: str | None = None
) -> Any:
    token = login_form(client)
    data = {"username": username, "password": password, "csrf_token": token}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/login", data=data)


def page_config(client: FlaskClient, path: str = "/counter") -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    found = re.search(
        r'<script type="application/json" id="terminal-config">(.*?)</script>', html, re.S
    )
    assert found
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def test_counter_page_sends_a_stranger_to_the_login(client: FlaskClient) -> None:
    response = client.get("/counter?counter=3")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/counter?counter%3D3"
    assert client.get("/counter/token").status_code == 401


def test_login_form_refuses_a_post_without_its_csrf_token(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "clerk01", "password": "demo"})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert client.get("/counter").status_code == 302  # not signed in
    forged = client.post(
        "/login", data={"username": "clerk01", "password": "demo", "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert client.get("/counter").status_code == 302


def test_login_then_the_terminal_with_a_working_token(app: Flask, client: FlaskClient) -> None:
    response = form_login(client, "clerk09", next_path="/counter")
    assert response.status_code == 302
    assert response.headers["Location"] == "/counter"
    page = client.get("/counter")
    assert page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    html = page.get_data(as_text=True)
    assert '<option value="9" selected>' in html  # the clerk's usual counter
    assert 'src="/display/static/vendor/socket.io.min.js"' in html
    config = page_config(client)
    assert config["counter"] == 9
    assert config["user"]["username"] == "clerk09"
    assert config["actions"] == protocol.ACTIONS
    assert config["events"]["ticket"] == protocol.EVENT_TICKET
    assert config["text"]["action_call_next"] == "叫号"
    staff = app.extensions["yihao"].staff
    assert staff.user_for_token(config["token"]).username == "clerk09"
    # The page's token works with the API; a new one comes from the session on request.
    signed = client.post(
        "/api/v1/counters/9/sign-in", headers={"Authorization": f"Bearer {config['token']}"}
    )
    assert signed.status_code == 200
    renewed = client.get("/counter/token")
    assert renewed.status_code == 200
    assert staff.user_for_token(json_of(renewed)["token"]).username == "clerk09"


def test_english_pages(client: FlaskClient) -> None:
    assert "Staff sign-in" in client.get("/login?lang=en").get_data(as_text=True)
    form_login(client, "clerk02")
    config = page_config(client)  # the language is remembered for the session
    assert config["lang"] == "en"
    assert config["text"]["action_call_next"] == "Call next"
    assert "中文" in client.get("/counter").get_data(as_text=True)


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/counter", "/\\evil.example", "counter"]
)
def test_only_a_local_next_follows_the_login(client: FlaskClient, target: str) -> None:
    response = form_login(client, "clerk01", next_path=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/counter"


def test_unknown_counter_page(client: FlaskClient) -> None:
    form_login(client, "clerk01")
    response = client.get("/counter?counter=77")
    assert response.status_code == 404


def picker_numbers(html: str) -> list[int]:
    picker = re.search(r'<select name="counter" id="counter-select">(.*?)</select>', html, re.S)
    assert picker
    return [int(number) for number in re.findall(r'<option value="(\d+)"', picker.group(1))]


@pytest.mark.parametrize(
    ("username", "offered", "signs_in"),
    [
        ("clerk03", [1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6, 7]),
        ("clerk08", [8], [8]),
        ("clerk10", [10], [10]),
        ("manager", list(range(1, 11)), []),  # acts on any counter, signs into none
    ],
)
def test_the_terminal_offers_only_the_counters_the_user_may_use(
    client: FlaskClient, username: str, offered: list[int], signs_in: list[int]
) -> None:
    form_login(client, username)
    page = client.get("/counter")
    assert page.status_code == 200
    assert picker_numbers(page.get_data(as_text=True)) == offered
    config = page_config(client)
    assert config["sign_in"] == signs_in
    usual = offered[0] if username == "manager" else int(username[-2:])
    assert config["counter"] == usual
    # Transfers may still go to any counter of the hall.
    assert [row["number"] for row in config["counters"]] == list(range(1, 11))


def test_the_terminal_refuses_a_counter_the_clerk_may_not_use(client: FlaskClient) -> None:
    form_login(client, "clerk01")
    refused = client.get("/counter?counter=8")
    assert refused.status_code == 403
    assert 8 not in picker_numbers(refused.get_data(as_text=True))
    assert client.get("/counter?counter=7").status_code == 200


def test_the_counter_a_clerk_is_signed_into_stays_offered(
    client: FlaskClient, app: Flask, login: Callable[[str], Staff]
) -> None:
    # Signed in before the hall file changed: the clerk can still reach it to sign out.
    clerk = login("clerk01")
    assert clerk.counter(1, "sign-in").status_code == 200
    user = app.extensions["yihao"].hall.config.user("clerk01")
    object.__setattr__(user, "counters", (2,))
    form_login(client, "clerk01")
    config = page_config(client)
    assert config["counter"] == 1
    assert config["sign_in"] == [2]
    assert picker_numbers(client.get("/counter").get_data(as_text=True)) == [1, 2]


def test_failed_logins_are_rate_limited(client: FlaskClient) -> None:
    token = login_form(client)
    for _ in range(10):
        response = client.post(
            "/login", data={"username": "clerk04", "password": "wrong", "csrf_token": token}
        )
        assert response.status_code == 401
        assert "用户名或密码错误" in response.get_data(as_text=True)
    refused = client.post(
        "/login", data={"username": "clerk04", "password": "demo", "csrf_token": token}
    )
    assert refused.status_code == 429
    assert "尝试次数过多" in refused.get_data(as_text=True)
    assert 'value="clerk04"' in refused.get_data(as_text=True)  # the form, not a JSON error
    # Another user from the same address is not held back, and good logins are not counted.
    for _ in range(12):
        assert form_login(client, "clerk05").status_code == 302


def test_logout_needs_its_csrf_token_and_closes_the_counter(
    client: FlaskClient,
    make_ticket: Callable[..., dict[str, Any]],
    login: Callable[[str], Staff],
) -> None:
    form_login(client, "clerk03")
    config = page_config(client)
    bearer = {"Authorization": f"Bearer {config['token']}"}
    assert client.post("/api/v1/counters/3/sign-in", headers=bearer).status_code == 200
    assert client.post("/logout").status_code == 400
    assert client.get("/counter").status_code == 200  # still signed in

    make_ticket("employment")
    assert json_of(client.post("/api/v1/counters/3/call-next", headers=bearer))["ticket"]
    response = client.post("/logout", data={"csrf_token": csrf_of(client.get("/counter").text)})
    assert response.headers["Location"] == "/login?notice=kept&counter=3"
    assert "3号窗口仍有号在手" in client.get(response.headers["Location"]).text
    # The logout ended the page's token too (D9); a manager sees the counter.
    assert client.get("/api/v1/counters/3", headers=bearer).status_code == 401
    manager = login("manager").headers
    detail = json_of(client.get("/api/v1/counters/3", headers=manager))
    assert detail["counter"]["state"] == "open"  # the ticket in hand keeps it open
    assert detail["ticket"]["state"] == "called"

    form_login(client, "clerk03")
    bearer = {"Authorization": f"Bearer {page_config(client)['token']}"}
    assert client.post("/api/v1/counters/3/finish", headers=bearer).status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_of(client.get("/counter").text)})
    assert response.headers["Location"] == "/login?notice=logged_out"
    closed = json_of(client.get("/api/v1/counters/3", headers=manager))
    assert closed["counter"]["state"] == "closed"
    assert client.get("/counter").status_code == 302


def test_the_session_ends_with_a_tokens_life(client: FlaskClient, clock: FakeClock) -> None:
    form_login(client, "clerk01")
    assert client.get("/counter").status_code == 200
    clock.advance(hours=11)
    assert client.get("/counter/token").status_code == 200
    clock.advance(hours=2)
    response = client.get("/counter")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/counter&notice=login_again"
    assert "登录已过期" in client.get(response.headers["Location"]).text
    assert json_of(client.get("/counter/token"))["error"]["code"] == "unauthenticated"


def test_todays_own_figures(
    client: FlaskClient,
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., dict[str, Any]],
    clock: FakeClock,
) -> None:
    clerk = clerk_at(1)
    other = clerk_at(2)
    for _ in range(4):
        make_ticket("employment")
    assert clerk.get("/counter/figures").json["served"] == 0

    clerk.counter(1, "call-next")
    clock.advance(minutes=1)
    clerk.counter(1, "start")
    clock.advance(minutes=5)
    clerk.counter(1, "finish")
    assert client.post("/api/v1/counters/1/rating", json={"rating": 5}).status_code == 201

    clerk.counter(1, "call-next")
    clock.advance(minutes=3)  # never started: from the call
    clerk.counter(1, "finish")
    assert client.post("/api/v1/counters/1/rating", json={"rating": 2}).status_code == 201

    clerk.counter(1, "call-next")
    clerk.counter(1, "no-show")
    other.counter(2, "call-next")
    other.counter(2, "finish")

    figures = clerk.get("/counter/figures").json
    assert figures["served"] == 2
    assert figures["called"] == 3
    assert figures["no_show"] == 1
    assert figures["avg_service_s"] == (5 * 60 + 3 * 60) // 2
    assert figures["rating_avg"] == 3.5
    assert figures["ratings"] == 2
    assert other.get("/counter/figures").json["served"] == 1
    assert client.get("/counter/figures").status_code == 401


COUNTER_ACTIONS = [
    (name, path)
    for name, path in protocol.ACTIONS.items()
    if path.startswith("/counters/{n}") and name != "sign_in"
]


@pytest.mark.parametrize(("name", "path"), COUNTER_ACTIONS, ids=[n for n, _ in COUNTER_ACTIONS])
def test_every_action_at_another_clerks_counter_is_forbidden(
    clerk_at: Callable[[int], Staff],
    login: Callable[[str], Staff],
    make_ticket: Callable[..., dict[str, Any]],
    name: str,
    path: str,
) -> None:
    owner = clerk_at(1)
    ticket = make_ticket("employment")
    assert owner.counter(1, "call", {"number": ticket["number"]}).status_code == 200
    intruder = login("clerk02")
    bodies = {
        "call": {"number": ticket["number"]},
        "transfer": {"queue": "D"},
        "hold": {"reason": "x"},
    }
    response = intruder.post(protocol.API_PREFIX + path.replace("{n}", "1"), bodies.get(name))
    assert response.status_code == 403, response.json
    assert response.json["error"]["code"] == "forbidden"
    assert owner.get("/api/v1/counters/1").json["ticket"]["state"] == "called"


def test_protocol_paths_exist(app: Flask) -> None:
    """Every path the terminals use is served by the API (the contract they share)."""
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    for path in protocol.ACTIONS.values():
        flask_path = path.replace("{n}", "<int:n>").replace("{id}", "<ticket_id>")
        assert protocol.API_PREFIX + flask_path in rules, path
    assert protocol.LOGIN_PATH in rules


def test_docs_name_every_command() -> None:
    text = (Path(ROOT) / "docs" / "counter.md").read_text(encoding="utf-8")
    for letter in COMMANDS:
        assert f"`{letter}" in text
    for _action, key in SHORTCUTS:
        assert key in text
