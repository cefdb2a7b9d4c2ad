"""/manager: the managers' page (live board, reports with charts, bad reviews, settings).

Login: the staff web login at /login (counter_client.web, session cookie) — a signed-out
visitor is sent there and comes back; the page gets a bearer token for the session's user
in its configuration (renewed through /manager/token) and uses the JSON API and Socket.IO
`/manager` with it. When the web login is not installed, the page shows its own login form
(POST /api/v1/auth/login) and keeps the token in sessionStorage.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from flask import Blueprint, Flask, Response, redirect, render_template, request, url_for
from werkzeug.routing import BuildError

from queue_server.app_context import Yihao, yihao
from queue_server.config import UserConfig
from queue_server.errors import Unauthenticated
from queue_server.manager import settings as hall_settings
from queue_server.web_policy import CONTENT_SECURITY_POLICY

MANAGER_ROLES = ("manager", "admin")
LANGUAGES = ("zh", "en")

blueprint = Blueprint(
    "manager",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/manager/static",
)


def _web_login() -> ModuleType | None:
    try:
        return importlib.import_module("counter_client.web")
    except ModuleNotFoundError:
        return None


def _session_user() -> tuple[UserConfig | None, bool]:
    """(the session's user, whether the web login exists at all)."""
    web = _web_login()
    if web is None:
        return None, False
    user: UserConfig | None = web.session_user()
    return user, True


def _language() -> str:
    web = _web_login()
    if web is not None:
        return str(web.language())
    requested = request.args.get("lang")
    return requested if requested in LANGUAGES else "zh"


def _static(filename: str) -> str:
    return url_for("manager.static", filename=filename)


def _socketio_script() -> str | None:
    try:
        return url_for("display.static", filename="vendor/socket.io.min.js")
    except BuildError:
        return None


@blueprint.get("/manager")
def index() -> Any:
    user, has_web_login = _session_user()
    lang = _language()
    if user is None and has_web_login:
        try:
            return redirect(url_for("counter.login", next=request.full_path.rstrip("?")))
        except BuildError:
            pass
    if user is not None and user.role not in MANAGER_ROLES:
        return render_template("manager/forbidden.html", lang=lang), 403
    extension = yihao()
    site = extension.hall.config.site(user.site if user else None)
    assert site is not None
    config: dict[str, Any] = {
        "lang": lang,
        "site": site.code,
        "site_name": site.name,
        "token": extension.staff.issue_token(user) if user else None,
        "user": (
            {"username": user.username, "name": user.name, "role": user.role} if user else None
        ),
        "own_login": not has_web_login,
        "urls": {
            "api": "/api/v1",
            "token": url_for(".token"),
            "logout": _logout_url(),
        },
        "services": [{"code": s.code, "name": s.name} for s in site.services],
        "queues": [{"code": q.code, "name": q.name} for q in site.queues],
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
        page_style=_static("manager.css"),
    )


def _logout_url() -> str | None:
    try:
        return url_for("counter.logout")
    except BuildError:
        return None


@blueprint.get("/manager/token")
def token() -> Any:
    """A fresh bearer token for the session's manager; 401 once the session has expired."""
    user, _ = _session_user()
    if user is None:
        raise Unauthenticated("请重新登录")
    if user.role not in MANAGER_ROLES:
        return {"error": {"code": "forbidden", "message": "没有权限"}}, 403
    return {"token": yihao().staff.issue_token(user)}


@blueprint.after_request
def security_headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
    return response


def register_pages(app: Flask) -> None:
    extension: Yihao = app.extensions["yihao"]
    app.register_blueprint(blueprint)
    # Settings an admin changed survive a restart: counters get their lines back after the
    # hall file sync, and the hall configuration gets the stored values laid over it.
    with extension.sessions() as session:
        hall_settings.reapply_counter_settings(session, extension.hall.config)
    hall_settings.refresh(extension, force=True)

    @app.before_request
    def _fresh_settings() -> None:
        hall_settings.refresh(extension)
