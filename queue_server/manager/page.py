"""/manager: the managers' page (live board, reports with charts, bad reviews, settings).

Sign-in: the staff web login at /login (`queue_server/staff/`, session cookie) — a signed-out
visitor is sent there and comes back; the page gets a bearer token for the session's user
in its configuration (renewed through /manager/token) and uses the JSON API and Socket.IO
`/manager` with it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_babel import gettext

from queue_server.app_context import yihao
from queue_server.config import SiteConfig
from queue_server.errors import N_, Unauthenticated
from queue_server.i18n import current_language, local_name, page_strings
from queue_server.manager.texts import PREFIX, TEXTS
from queue_server.services.views import business_day
from queue_server.staff.pages import (
    MANAGER_ROLES,
    language,
    session_token,
    session_user,
    staff_page_headers,
)

blueprint = Blueprint(
    "manager",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/manager/static",
)
# The page carries a token: the staff pages' headers (never cached, never framed).
blueprint.after_request(staff_page_headers)


def _static(filename: str) -> str:
    return url_for("manager.static", filename=filename)


def _socketio_script() -> str:
    return url_for("display.static", filename="vendor/socket.io.min.js")


@blueprint.get("/manager")
def index() -> Any:
    user = session_user()
    lang = language()
    if user is None:
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    if user.role not in MANAGER_ROLES:
        return render_template("manager/forbidden.html", lang=lang), 403
    extension = yihao()
    site = extension.hall.config.site(user.site)
    assert site is not None
    config: dict[str, Any] = {
        "lang": lang,
        "strings": manager_strings(),
        "names": english_names(site) if current_language() == "en" else {},
        "reason_words": reason_words(),
        "site": site.code,
        "site_name": local_name(site),
        # The what-if's first choice: the latest day it can replay, in the hall's time zone.
        "yesterday": (business_day(site, extension.hall.clock()) - timedelta(days=1)).isoformat(),
        "token": session_token(user),
        "user": {"username": user.username, "name": user.name, "role": user.role},
        "urls": {
            "api": "/api/v1",
            "token": url_for(".token"),
            "logout": url_for("staff.logout"),
        },
        "services": [{"code": s.code, "name": local_name(s)} for s in site.services],
        "queues": [{"code": q.code, "name": local_name(q)} for q in site.queues],
        "staff": [
            {"username": u.username, "name": u.name, "role": u.role}
            for u in extension.hall.config.users
            if u.site in (None, site.code)
        ],
    }
    return render_template(
        "manager/index.html",
        config=config,
        lang=lang,
        site=site,
        socketio_script=_socketio_script(),
        chart_script=_static("vendor/chart.umd.min.js"),
        page_script=_static("manager.js"),
        whatif_script=_static("whatif.js"),
        page_style=_static("manager.css"),
    )


@blueprint.get("/manager/token")
def token() -> Any:
    """A fresh bearer token for the session's manager; 401 once the session has expired."""
    user = session_user()
    if user is None:
        raise Unauthenticated("请重新登录")
    if user.role not in MANAGER_ROLES:
        return {"error": {"code": "forbidden", "message": gettext(N_("没有权限"))}}, 403
    return {"token": session_token(user)}


def manager_strings() -> dict[str, Any]:
    """The page's table; `cols.<column>` become an object and `weekdays.<n>` a list."""
    strings: dict[str, Any] = {}
    for key, text in page_strings(TEXTS, PREFIX).items():
        group, _, item = key.partition(".")
        if group == "cols":
            strings.setdefault("cols", {})[item] = text
        elif group == "weekdays":
            strings.setdefault("weekdays", []).append(text)
        else:
            strings[key] = text
    return strings


def reason_words() -> dict[str, str]:
    """A low rating's reasons are stored as the counter-top screen's Chinese words
    (display/views.py): each in the page's language, as that screen says it."""
    from display.texts import TEXTS as SCREEN_TEXTS

    reasons = [entry for entry in SCREEN_TEXTS if entry[0].startswith(REASON_PREFIX)]
    words = page_strings(reasons, REASON_PREFIX)
    return {entry[1]: words[entry[0].removeprefix(REASON_PREFIX)] for entry in reasons}


REASON_PREFIX = "screen.rating.reason."


def english_names(site: SiteConfig) -> dict[str, dict[str, str]]:
    return {
        "queues": {queue.code: local_name(queue) for queue in site.queues},
        "services": {service.code: local_name(service) for service in site.services},
        "counters": {str(counter.number): local_name(counter) for counter in site.counters},
    }


def register_pages(app: Flask) -> None:
    app.register_blueprint(blueprint)
