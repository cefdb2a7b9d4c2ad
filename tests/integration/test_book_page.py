"""The booking page /book and the QR of a booking code: what the first paint embeds, a
strict CSP, everything local."""

from __future__ import annotations

import io
import json
import re

from flask.testing import FlaskClient
from PIL import Image

from queue_server.web_policy import CONTENT_SECURITY_POLICY
from tests.integration.test_i18n import form_login

CONFIG = re.compile(r'<script type="application/json" id="page-config">(.*?)</script>', re.S)


def page_config(html: str) -> dict:  # type: ignore[type-arg]
    found = CONFIG.search(html)
    assert found, html[:500]
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_the_page_offers_the_bookable_businesses_and_days(client: FlaskClient) -> None:
    response = client.get("/book")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    config = page_config(html)
    assert [service["code"] for service in config["services"]] == [
        "social_insurance",
        "medical_insurance",
    ]
    assert config["services"][0]["name"] == "社会保险"
    assert config["days"][0] == "2026-11-20"
    assert len(config["days"]) == 8  # today and 7 days ahead
    assert "预约办理" in html
    assert "http" not in re.sub(r'href="[^"]*"|src="[^"]*"', "", html)  # nothing from outside
    assert not re.search(r'(src|href)="(https?:)?//', html)
    english = page_config(client.get("/book?lang=en").get_data(as_text=True))
    assert english["services"][0]["name"] == "Social insurance"
    assert client.get("/book?site=nowhere").status_code == 404


def test_the_qr_of_a_code(client: FlaskClient) -> None:
    response = client.get("/book/qr/123456.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.size[0] == image.size[1] >= 100
    for bad in ("12345", "abcdef", "1234567"):
        assert client.get(f"/book/qr/{bad}.png").status_code == 404


def test_the_manager_board_lists_todays_bookings(client: FlaskClient) -> None:
    form_login(client, "manager")
    html = client.get("/manager").get_data(as_text=True)
    assert 'id="bookings"' in html
    assert "/manager/static/bookings.js" in html
    assert "今日预约" in html  # the board's strings carry the section's words
