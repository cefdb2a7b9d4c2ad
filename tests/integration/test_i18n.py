"""One translation catalogue: it is complete and compiled, `?lang=en` is English on every page,
and every kind of API error speaks the request's language (`?lang=` or `Accept-Language`),
Chinese by default."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from queue_server.translations import LOCALES, translations
from queue_server.translations.tool import check
from tests.conftest import Staff

ROOT = Path(__file__).resolve().parents[2]
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
HAN_ESCAPED = re.compile(r"\\u(?:3[4-9a-f]|4[0-9a-d]|4[e-f]|[5-9][0-9a-f])[0-9a-f]{2}", re.I)
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def han_in(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Chinese left in `text` once the allowed words are taken out (with some context)."""
    for word in sorted(allowed, key=len, reverse=True):
        text = text.replace(word, "")
    assert not HAN_ESCAPED.search(text), "Han characters escaped as \\uXXXX"
    return re.findall(r".{0,30}[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+.{0,30}", text)[:5]


# -- the catalogue ----------------------------------------------------------------------
def test_catalogue_is_complete_and_compiled() -> None:
    """Every msgid of the code is in each .po, every one has its English, none is fuzzy,
    and the committed .mo files are the compiled .po files."""
    assert check() == []


def test_error_messages_are_msgids_not_f_strings() -> None:
    """An f-string message could not be found in the catalogue: parameters go as keywords."""
    errors = {"BadRequest", "Conflict", "NotFound", "Forbidden", "Unauthenticated", "YihaoError"}
    offenders = []
    for folder in ("queue_server", "display", "ticket_printer", "counter_client"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in errors
                    and node.args
                    and isinstance(node.args[0], ast.JoinedStr)
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_english_plurals() -> None:
    english = translations("en")
    assert english.npgettext("kiosk.estimate", "预计等候约 {n} 分钟", "预计等候约 {n} 分钟", 1) == (
        "About {n} minute"
    )
    assert english.npgettext("kiosk.estimate", "预计等候约 {n} 分钟", "预计等候约 {n} 分钟", 5) == (
        "About {n} minutes"
    )
    assert set(LOCALES) == {"zh", "en"}


def test_terminal_client_reads_the_catalogue_without_the_server() -> None:
    """counter_client.i18n reads the compiled catalogue with the standard library: Flask,
    Babel and the server package may all be missing."""
    script = (
        "import sys\n"
        "for name in ('flask', 'flask_babel', 'babel', 'queue_server', 'sqlalchemy'):\n"
        "    sys.modules[name] = None\n"
        "from counter_client.i18n import table, translate\n"
        "print(translate('cli_signed_in', 'en', clerk='x', number=3, name='n'))\n"
        "print(translate('cli_signed_in', 'zh', clerk='x', number=3, name='n'))\n"
        "assert len(table('en')) == len(table('zh'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    english, chinese = result.stdout.splitlines()
    assert english == "x signed into counter 3 (n). Type ? for commands"
    assert chinese == "x 已签到 3号窗口（n）。输入 ? 查看命令"


def test_page_scripts_hold_no_chinese_strings() -> None:
    """The pages' scripts take every word from their page's table (comments aside)."""
    scripts = [
        *(ROOT / "display" / "static" / "js").glob("*.js"),
        ROOT / "ticket_printer" / "static" / "kiosk.js",
        ROOT / "counter_client" / "static" / "terminal.js",
        ROOT / "queue_server" / "manager" / "static" / "manager.js",
        ROOT / "queue_server" / "manager" / "static" / "bookings.js",
        ROOT / "queue_server" / "manager" / "static" / "whatif.js",
    ]
    for path in scripts:
        code = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        code = re.sub(r"(^|\s)//[^\n]*", "", code)
        assert not HAN.search(code), (path, HAN.findall(code)[:5])


# -- pages ------------------------------------------------------------------------------
def form_login(client: FlaskClient, username: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = CSRF.search(html)
    assert token, html
    response = client.post(
        "/login", data={"username": username, "password": "demo", "csrf_token": token.group(1)}
    )
    assert response.status_code == 302


def personal_data(app: Flask) -> tuple[str, ...]:
    """What has no English form: people's names, the hall's notice (the hall writes it), the
    language switch's "中文"."""
    config = app.extensions["yihao"].hall.config
    return (
        *(user.name for user in config.users),
        *(site.notice for site in config.sites),
        "中文",
    )


def test_every_page_is_english_with_lang_en(
    app: Flask, client: FlaskClient, make_ticket: Callable[..., dict[str, Any]]
) -> None:
    ticket = make_ticket("maternity")
    make_ticket("pickup", party="enterprise")
    allowed = personal_data(app)
    public = [
        "/kiosk?lang=en",
        "/display/hall?lang=en",
        "/display/counter/1?lang=en",
        "/display/counter/10?lang=en",
        f"/t/{ticket['id']}?lang=en",
        "/t/no-such-ticket-000?lang=en",
        "/login?lang=en",
        "/book?lang=en",
    ]
    for path in public:
        html = client.get(path).get_data(as_text=True)
        # The reasons of a low rating are stored as the Chinese words whatever the screen's
        # language: values the screen posts, never shown.
        html = re.sub(r'"ratingReasons": \{[^}]*\}', "", html)
        assert han_in(html, allowed) == [], path

    form_login(client, "clerk01")
    # The pause's preset reasons are stored in Chinese whatever the page's language (the
    # hall's screens show them): values the page posts, shown by their English label.
    pause_reasons = re.compile(r'"value": "[^"]*"')
    html = pause_reasons.sub("", client.get("/counter?lang=en").get_data(as_text=True))
    assert han_in(html, allowed) == [], "/counter"
    # The session remembers the language.
    html = pause_reasons.sub("", client.get("/counter").get_data(as_text=True))
    assert han_in(html, allowed) == []

    manager = app.test_client()
    form_login(manager, "manager")
    html = manager.get("/manager?lang=en").get_data(as_text=True)
    # A low rating's reasons are stored as the counter-top screen's Chinese words: the page
    # maps those stored values to its own words (the keys of `reason_words`).
    reasons = re.search(r'"reason_words": \{[^}]*\}', html)
    assert reasons is not None
    assert "Long wait" in reasons.group(0)
    html = re.sub(r'"[^"]*": (?="[^"]*"[,}])', "", reasons.group(0)).join(
        html.split(reasons.group(0))
    )
    assert han_in(html, allowed) == [], "/manager"
    forbidden = app.test_client()
    form_login(forbidden, "clerk02")
    assert han_in(forbidden.get("/manager?lang=en").get_data(as_text=True), allowed) == []


def test_pages_stay_chinese_by_default_whatever_the_browser(client: FlaskClient) -> None:
    """The hall's screens and kiosks show Chinese whatever language their browser asks for."""
    for path in ("/kiosk", "/display/hall", "/display/counter/1", "/login"):
        html = client.get(path, headers=ENGLISH).get_data(as_text=True)
        assert HAN.search(html), path


def test_english_pages_name_things_in_english(client: FlaskClient) -> None:
    kiosk = client.get("/kiosk?lang=en").get_data(as_text=True)
    assert "Employment registration" in kiosk
    assert "Comprehensive · individuals" in kiosk
    counter = client.get("/display/counter/10?lang=en").get_data(as_text=True)
    assert "Enterprise back office" in counter
    assert "3rd floor" in counter
    hall = client.get("/display/hall?lang=en").get_data(as_text=True)
    assert '"minutes": {"one": "about {minutes} minute", "other": "about {minutes} minutes"}' in (
        hall
    )


def test_report_labels_in_english(login: Callable[[str], Staff]) -> None:
    manager = login("manager")
    for group in ("day", "service", "queue", "counter"):
        english = manager.get(f"/api/v1/stats?group={group}&lang=en")
        assert english.status_code == 200, english.json
        assert not HAN.search(english.get_data(as_text=True)), group


# -- API errors -------------------------------------------------------------------------
def error_of(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["code"] == code, error
    message: str = error["message"]
    return message


def english_and_chinese(
    call: Callable[[str, dict[str, str]], Any], status: int, code: str
) -> list[str]:
    """The message three ways: Accept-Language: en, ?lang=en, and by default (Chinese)."""
    by_header = error_of(call("", ENGLISH), status, code)
    by_query = error_of(call("lang=en", {"Accept-Language": "zh-CN"}), status, code)
    chinese = error_of(call("", {}), status, code)
    for message in (by_header, by_query):
        assert message
        assert not HAN.search(message), message
    assert HAN.search(chinese), chinese
    return [by_header, by_query, chinese]


def with_query(path: str, query: str) -> str:
    if not query:
        return path
    return f"{path}{'&' if '?' in path else '?'}{query}"


def test_api_errors_follow_the_requests_language(
    app: Flask,
    client: FlaskClient,
    login: Callable[[str], Staff],
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., dict[str, Any]],
) -> None:
    def post(path: str, body: Any = None, staff: Staff | None = None, **kwargs: Any) -> Any:
        def call(query: str, headers: dict[str, str]) -> Any:
            all_headers = {**headers, **(staff.headers if staff else {})}
            return client.post(with_query(path, query), json=body, headers=all_headers, **kwargs)

        return call

    def get(path: str, staff: Staff | None = None) -> Any:
        def call(query: str, headers: dict[str, str]) -> Any:
            all_headers = {**headers, **(staff.headers if staff else {})}
            return client.get(with_query(path, query), headers=all_headers)

        return call

    def raw(path: str, data: str) -> Any:
        def call(query: str, headers: dict[str, str]) -> Any:
            return client.post(
                with_query(path, query),
                data=data,
                headers={**headers, "Content-Type": "application/json"},
            )

        return call

    messages = english_and_chinese(raw("/api/v1/tickets", "not json"), 400, "invalid_json")
    assert messages[0] == "The request body is not valid JSON"
    english_and_chinese(
        post("/api/v1/tickets", {"service": "employment", "kiosk": "K9"}), 400, "invalid_field"
    )
    english_and_chinese(post("/api/v1/tickets", {"service": "nope"}), 400, "unknown_service")
    messages = english_and_chinese(
        post("/api/v1/tickets", {"service": "hiring_filing", "party": "individual"}),
        400,
        "party_not_allowed",
    )
    assert messages[0] == "Hiring filing is not available to this kind of visitor"
    assert messages[2] == "招录用工备案不能以此身份办理"
    english_and_chinese(
        post("/api/v1/tickets", {"service": "employment", "visitor_id": "12345"}),
        400,
        "invalid_visitor_id",
    )
    english_and_chinese(
        post("/api/v1/tickets", {"service": "employment", "phone": "123"}), 400, "invalid_phone"
    )
    english_and_chinese(post("/api/v1/counters/1/call-next"), 401, "unauthenticated")
    clerk = clerk_at(1)
    other = login("clerk02")
    messages = english_and_chinese(
        post("/api/v1/counters/1/call-next", staff=other), 403, "forbidden"
    )
    assert messages[0] == "You are not signed into counter 1"
    english_and_chinese(get("/api/v1/tickets/no-such-ticket-000"), 404, "not_found")
    english_and_chinese(get("/api/v1/no-such-path"), 404, "not_found")
    messages = english_and_chinese(
        post("/api/v1/counters/1/recall", staff=clerk), 409, "invalid_state"
    )
    assert messages[0] == "Counter 1 has no ticket in hand: cannot recall"
    ticket = make_ticket()
    assert client.post(f"/api/v1/tickets/{ticket['id']}/cancel", json={}).status_code == 200
    messages = english_and_chinese(
        post(f"/api/v1/tickets/{ticket['id']}/cancel", {}), 409, "invalid_state"
    )
    assert messages[0] == f"Ticket {ticket['number']} is cancelled: cannot cancel"
    assert clerk.counter(1, "pause").status_code == 200
    messages = english_and_chinese(
        post("/api/v1/counters/1/call-next", staff=clerk), 409, "counter_not_open"
    )
    assert messages[0] == "Counter 1 is paused"
    messages = english_and_chinese(
        post("/api/v1/counters/2/sign-in", staff=clerk), 409, "counter_occupied"
    )
    assert messages[0] == "You are signed into counter 1; sign out there first"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_too_many_logins_in_the_requests_language(client: FlaskClient, language: str) -> None:
    headers = {"Accept-Language": "en" if language == "en" else "zh-CN,zh;q=0.9"}
    for _ in range(10):
        response = client.post(
            "/api/v1/auth/login", json={"username": "clerk05", "password": "wrong"}, headers=headers
        )
        assert response.status_code == 401
        assert bool(HAN.search(response.json["error"]["message"])) == (language == "zh")
    refused = client.post(
        "/api/v1/auth/login", json={"username": "clerk05", "password": "wrong"}, headers=headers
    )
    message = error_of(refused, 429, "too_many_requests")
    assert bool(HAN.search(message)) == (language == "zh"), message
