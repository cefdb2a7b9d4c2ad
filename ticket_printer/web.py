"""The kiosk page (取号机) `/kiosk`: a touch page for portrait 1080×1920 and landscape
screens. Everything it does goes through the public API (`/api/v1/services`,
`POST /api/v1/tickets`, `POST /api/v1/tickets/lookup`, ticket.png), so the kiosk holds no
secrets. `?kiosk=K2` names the kiosk (default K1), `?site=` the site, `?lang=en` English.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, render_template, request, url_for

from queue_server.app_context import yihao
from queue_server.config import DEFAULT_PRINTER_KIOSK
from queue_server.i18n import HTML_LANG, current_language, local_name, page_strings
from queue_server.web_policy import public_page_headers
from ticket_printer.texts import PREFIX, TEXTS

PACKAGE_DIR = Path(__file__).resolve().parent
IDLE_S = 20

kiosk_pages = Blueprint(
    "kiosk",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/kiosk/static",
)


def _asset(filename: str) -> str:
    path = PACKAGE_DIR / "static" / filename
    version = int(path.stat().st_mtime) if path.exists() else 0
    return url_for("kiosk.static", filename=filename, v=version)


kiosk_pages.after_request(public_page_headers)


@kiosk_pages.get("/kiosk")
def kiosk_page() -> Any:
    site = yihao().hall.config.site(request.args.get("site"))
    if site is None:
        abort(404)
    code = request.args.get("kiosk") or DEFAULT_PRINTER_KIOSK
    kiosk = site.kiosk(code)
    if kiosk is None:
        abort(404)
    lang = current_language()
    strings = page_strings(TEXTS, PREFIX)
    page = {
        "site": site.code,
        "site_name": local_name(site),
        "kiosk": kiosk.code,
        "prints": kiosk.prints,
        "lang": lang,
        "strings": strings,
        "hours": {"from": site.hours.issue_from, "until": site.hours.issue_until},
        "backoffice_headcount": site.policy.enterprise_backoffice_headcount,
        "max_headcount": site.policy.max_headcount,
        "idle_s": IDLE_S,
        "queues": {queue.code: local_name(queue) for queue in site.queues},
        "services": [
            {
                "code": service.code,
                "name": local_name(service),
                "category": service.category,
                "parties": list(service.parties),
            }
            for service in site.services
        ],
    }
    other = "zh" if lang == "en" else "en"
    switch_args = {**request.args.to_dict(), "lang": other}
    return render_template(
        "kiosk/kiosk.html",
        page=page,
        t=strings,
        html_lang=HTML_LANG[lang],
        asset=_asset,
        switch_url=f"{request.path}?{urlencode(switch_args)}",
    )


def register(app: Flask) -> None:
    """Called by queue_server.create_app()."""
    app.register_blueprint(kiosk_pages)
