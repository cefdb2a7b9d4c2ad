"""The booking page /book (预约, SPEC §8) for a visitor's phone, and the QR of a booking
code. The page books, shows the code and its QR, and cancels through the JSON API
(/api/v1/appointments); what it needs for its first paint is embedded in its config."""

from __future__ import annotations

import io
from typing import Any

import qrcode  # type: ignore[import-untyped]
from flask import Blueprint, Response, abort, render_template

from display.book_texts import PREFIX, TEXTS
from display.views import asset_url, page_language, requested_site
from queue_server.app_context import yihao
from queue_server.domain.appointments import is_code
from queue_server.i18n import HTML_LANG, local_name, page_strings
from queue_server.services import appointments
from queue_server.web_policy import CONTENT_SECURITY_POLICY

booking = Blueprint("booking", __name__, template_folder="templates")


def _strict(response: Response) -> Response:
    """Scripts and styles only from this server; nothing cached (a code is a key)."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@booking.get("/book")
def book_page() -> Response:
    site = requested_site()
    if site is None:
        abort(404)
    offer = yihao().read(site, appointments.booking_page)
    rules = site.appointments
    lang = page_language()
    page: dict[str, Any] = {
        "page": "book",
        "lang": lang,
        "site": site.code,
        "strings": page_strings(TEXTS, PREFIX),
        "services": [
            {"code": code, "name": local_name(service)}
            for code in offer["services"]
            if (service := site.service(code)) is not None
        ],
        "days": offer["days"],
        "early": rules.early_min if rules else 0,
        "late": rules.late_min if rules else 0,
        "urls": {"api": "/api/v1", "qr": "/book/qr/"},
    }
    html = render_template(
        "display/book.html",
        t=page["strings"],
        lang=lang,
        html_lang=HTML_LANG[lang],
        page=page,
        asset=asset_url,
        site_name=local_name(site),
    )
    return _strict(Response(html, mimetype="text/html"))


@booking.get("/book/qr/<code>.png")
def code_qr(code: str) -> Response:
    """The booking code as a QR image, drawn here (no outside service)."""
    if not is_code(code):
        abort(404)
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=2)
    qr.add_data(code)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return _strict(Response(buffer.getvalue(), mimetype="image/png"))
