"""The public pages' routes (display blueprint) through Flask's test client: what each page
is given to start with, its language, its 404s, its headers and its local assets."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from queue_server import create_app

DISPLAY_DIR = Path(__file__).resolve().parents[2] / "display"
PAGE_CONFIG = re.compile(r'<script type="application/json" id="page-config">(.*?)</script>', re.S)
ASSET_ATTRIBUTE = re.compile(r'(?:src|href)="([^"]*)"')
REASONS = (
    "transfer",
    "return",
    "next_step",
    "green",
    "reinstated",
    "overdue",
    "manual",
    "appointment",
)
STATES = ("waiting", "called", "serving", "held", "missed", "done", "cancelled", "expired")


def page_config(html: str) -> dict[str, Any]:
    found = PAGE_CONFIG.search(html)
    assert found, "the page carries its configuration"
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def html_of(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


# -- hall screen -----------------------------------------------------------------------
def test_hall_screen_is_in_chinese_with_voice_on_and_only_local_assets(
    client: FlaskClient,
) -> None:
    html = html_of(client, "/display/hall")
    assert '<html lang="zh-CN"' in html
    assert "一号人社综合服务大厅" in html
    assert "当前叫号" in html
    assert "最近叫号" in html
    assert "排队情况" in html
    assert "点击开启声音" in html
    assert "请保管好您的号票" in html  # the hall file's notice
    config = page_config(html)
    assert config["page"] == "hall"
    assert config["site"] == "main"
    assert config["timezone"] == "Asia/Shanghai"
    manifest_url = config["sound"].pop("clips")
    assert config["sound"] == {"enabled": True, "voice": True, "repeat": 2, "rate": 0.9}
    # The offline voice (no zh voice in the browser): a clip for every piece of a call.
    assert manifest_url.startswith("/display/static/voice/manifest.json?v=")
    response = client.get(manifest_url)
    manifest = response.get_json()
    response.close()
    pieces = ["请", "号", "到", "窗口办理", "三楼", *"零一二三四五六七八九", *"AEZ", "1", "10"]
    for piece in pieces:
        response = client.get("/display/static/voice/" + manifest["clips"][piece])
        assert response.status_code == 200, piece
        assert response.mimetype in ("audio/ogg", "application/ogg"), response.mimetype
        response.close()
    assert config["strings"]["reason.green"] == "绿色通道"
    assert not any(key.startswith(("ticket.", "rating.")) for key in config["strings"])
    assets = ASSET_ATTRIBUTE.findall(html)
    assert "/display/static/vendor/socket.io.min.js" in {asset.split("?")[0] for asset in assets}
    assert all(asset.startswith(("/", "data:")) for asset in assets), assets


def test_hall_screen_in_english(client: FlaskClient) -> None:
    html = html_of(client, "/display/hall?lang=en")
    assert '<html lang="en"' in html
    assert "Now calling" in html
    assert "Recent calls" in html
    assert page_config(html)["strings"]["reason.transfer"] == "Transferred"


@pytest.mark.parametrize(
    ("query", "sound"),
    [
        ("repeat=1", {"enabled": True, "voice": True, "repeat": 1, "rate": 0.9}),
        ("repeat=99&rate=3", {"enabled": True, "voice": True, "repeat": 5, "rate": 1.5}),
        ("repeat=x&rate=nan", {"enabled": True, "voice": True, "repeat": 2, "rate": 0.9}),
        ("voice=0", {"enabled": True, "voice": False, "repeat": 2, "rate": 0.9}),
        ("sound=off&repeat=0", {"enabled": False, "voice": True, "repeat": 0, "rate": 0.9}),
    ],
)
def test_hall_screen_sound_parameters(
    client: FlaskClient, query: str, sound: dict[str, Any]
) -> None:
    options = page_config(html_of(client, f"/display/hall?{query}"))["sound"]
    assert options.pop("clips").startswith("/display/static/voice/manifest.json")
    assert options == sound


def test_speech_repeat_default_comes_from_the_settings(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "SPEECH_REPEAT": 3})
    try:
        html = app.test_client().get("/display/hall").get_data(as_text=True)
        assert page_config(html)["sound"]["repeat"] == 3
    finally:
        app.extensions["yihao"].engine.dispose()


def test_unknown_site_is_a_chinese_404(client: FlaskClient) -> None:
    html = html_of(client, "/display/hall?site=nowhere", 404)
    assert "没有这个服务大厅" in html


# -- counter-top screen ----------------------------------------------------------------
def test_counter_screen_names_its_counter_and_has_the_five_rating_buttons(
    client: FlaskClient,
) -> None:
    html = html_of(client, "/display/counter/10")
    assert "三楼10号窗口" in html
    assert "后台企业业务" in html
    labels = re.findall(r'data-rating="(\d)">([^<]+)<', html)
    assert labels == [
        ("5", "非常满意"),
        ("4", "满意"),
        ("3", "基本满意"),
        ("2", "不满意"),
        ("1", "非常不满意"),
    ]
    config = page_config(html)
    assert (config["counter"], config["location"], config["rating"]) == (10, "三楼", True)
    assert config["sound"]["enabled"] is False  # the hall screen speaks, not every counter
    assert config["ratingReasons"]["wait"] == "等候时间长"
    assert page_config(html_of(client, "/display/counter/3?rating=0&sound=1"))["rating"] is False


def test_counter_screen_in_english_keeps_reasons_in_chinese(client: FlaskClient) -> None:
    config = page_config(html_of(client, "/display/counter/1?lang=en"))
    assert config["strings"]["rating.5"] == "Very satisfied"
    assert config["ratingReasons"]["attitude"] == "服务态度差"


def test_unknown_counter_is_a_chinese_404(client: FlaskClient) -> None:
    assert "没有这个窗口" in html_of(client, "/display/counter/99", 404)
    assert client.get("/display/counter/abc").status_code == 404


# -- the visitor's phone page ----------------------------------------------------------
def test_ticket_page_starts_from_the_ticket_without_its_id_or_staff_fields(
    client: FlaskClient, make_ticket: Callable[..., dict[str, Any]]
) -> None:
    ticket = make_ticket("pickup")
    response = client.get(f"/t/{ticket['id']}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    assert ticket["number"] in html
    assert "出件领证" in html
    config = page_config(html)
    assert config["ticketId"] == ticket["id"]
    shown = config["ticket"]
    assert shown["number"] == ticket["number"]
    assert shown["state"] == "waiting"
    assert (shown["step"], shown["steps_total"]) == (1, 1)
    assert "id" not in shown
    assert "status_url" not in shown
    assert not {"party", "headcount", "priority", "visitor_id_masked", "phone_masked"} & set(shown)
    assert config["services"]["pickup"] == "出件领证"
    assert config["counters"]["10"] == {"name": "后台企业业务", "location": "三楼"}
    assert "state.waiting" in config["strings"]
    assert not any(key.startswith(("hall.", "rating.")) for key in config["strings"])


def test_ticket_page_in_english(
    client: FlaskClient, make_ticket: Callable[..., dict[str, Any]]
) -> None:
    ticket = make_ticket()
    html = html_of(client, f"/t/{ticket['id']}?lang=en")
    assert "Your number" in html
    assert page_config(html)["strings"]["state.called"] == "It's your turn"


def test_a_citys_ticket_page_finds_its_site_in_one_look(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """A city's deployment hosts many sites: the phone page finds the ticket's site by its
    id (one look), not by asking each site in turn (two reads a site)."""
    from sqlalchemy import event

    from bench.city import site_code, write_city_hall

    app = make_app(CONFIG=str(write_city_hall(tmp_path / "city.yaml", sites=12)))
    client = app.test_client()
    last = site_code(12)
    issued = client.post("/api/v1/tickets", json={"service": "employment", "site": last})
    assert issued.status_code == 201, issued.json
    ticket = issued.json["ticket"]
    statements: list[str] = []
    engine = app.extensions["yihao"].engine
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    html = html_of(client, f"/t/{ticket['id']}")
    assert page_config(html)["ticket"]["number"] == ticket["number"]
    assert "第12号人社服务大厅" in html
    by_id = [text for text in statements if re.search(r"FROM tickets\s+WHERE tickets.id =", text)]
    assert len(by_id) == 2, by_id  # its site, then the ticket (was two reads a site: 24)


@pytest.mark.parametrize("ticket_id", ["NoSuchTicketId0000000", "short", "a" * 80, "bad.id..name"])
def test_unknown_ticket_is_a_chinese_404(client: FlaskClient, ticket_id: str) -> None:
    response = client.get(f"/t/{ticket_id}")
    assert response.status_code == 404
    assert "没有找到这张号票" in response.get_data(as_text=True)


# -- assets and strings ----------------------------------------------------------------
def test_vendored_socket_io_client_is_served_where_other_pages_look_for_it(
    app: Flask, client: FlaskClient
) -> None:
    with app.test_request_context():
        path = url_for("display.static", filename="vendor/socket.io.min.js")
    assert path == "/display/static/vendor/socket.io.min.js"
    response = client.get(path)
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    body = response.get_data(as_text=True)
    assert "Socket.IO v4." in body
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    versioned = client.get(path + "?v=1")
    assert versioned.headers["Cache-Control"] == "public, max-age=604800"
    response.close()
    versioned.close()
    assert (DISPLAY_DIR / "static" / "vendor" / "socket.io.LICENSE").exists()


def test_our_scripts_and_styles_load_nothing_from_outside() -> None:
    for path in [
        *(DISPLAY_DIR / "static" / "js").glob("*.js"),
        *(DISPLAY_DIR / "static" / "css").glob("*.css"),
        *(DISPLAY_DIR / "templates").rglob("*.html"),
    ]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://|//cdn|@import|url\(", text), path


def test_catalog_has_every_string_in_both_languages() -> None:
    from display.texts import PREFIX, TEXTS
    from queue_server.translations import table, translations

    catalog = {lang: table(TEXTS, PREFIX, translations(lang)) for lang in ("zh", "en")}
    assert set(catalog) == {"zh", "en"}
    assert set(catalog["zh"]) == set(catalog["en"])
    for reason in REASONS:
        assert f"reason.{reason}" in catalog["zh"]
    for state in STATES:
        assert f"state.{state}" in catalog["zh"]
    assert [catalog["zh"][f"reason.{reason}"] for reason in REASONS] == [
        "转窗",
        "补材料返回",
        "下一步",
        "绿色通道",
        "过号重排",
        "超时优先",
        "指定呼叫",
        "预约",
    ]
