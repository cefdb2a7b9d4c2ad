"""The clerk's web terminal: `/login` and `/logout` (session cookie, CSRF-protected forms,
rate-limited failed logins) and `/counter` (the terminal page).

The page acts through the JSON API with a bearer token issued here for the session's user,
and stays live through Socket.IO `/counter`; `GET /counter/token` renews the token while the
session lasts, so an expired token costs the clerk nothing, and an expired session sends the
clerk to `/login?next=…` (the ticket in hand stays at the counter, server-side).

Other staff pages use `session_user()` and send a signed-out visitor to
`url_for("counter.login", next=request.full_path)`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from counter_client.i18n import LANGUAGES, pick_language, table, translate
from counter_client.keys import SHORTCUTS
from queue_server import protocol
from queue_server.app_context import Yihao, yihao
from queue_server.config import SiteConfig, UserConfig
from queue_server.domain.lifecycle import ACTION_NEEDS
from queue_server.errors import Conflict, NotFound, Unauthenticated
from queue_server.services import counters as counter_services
from queue_server.services.clerk_figures import clerk_figures
from queue_server.web_policy import CONTENT_SECURITY_POLICY

blueprint = Blueprint(
    "counter",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/counter/static",
)

SESSION_USER = "yihao_user"  # the signed-in user's name
SESSION_SINCE = "yihao_since"  # when they signed in (epoch seconds)
SESSION_LANGUAGE = "yihao_lang"
MANAGER_ROLES = ("manager", "admin")


# -- forms ------------------------------------------------------------------------------
class _SessionLongCsrf(FlaskForm.Meta):
    @cached_property
    def csrf_time_limit(self) -> int:
        """A terminal page stays open all day: its forms stay valid as long as a login."""
        return int(yihao().settings["TOKEN_MAX_AGE_S"])


class LoginForm(FlaskForm):
    Meta = _SessionLongCsrf
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class LogoutForm(FlaskForm):
    Meta = _SessionLongCsrf


# -- session ----------------------------------------------------------------------------
def session_user() -> UserConfig | None:
    """The user of this browser session, while the login is younger than a token's life."""
    username = session.get(SESSION_USER)
    since = session.get(SESSION_SINCE)
    if not isinstance(username, str) or not isinstance(since, int | float):
        return None
    extension = yihao()
    if _now(extension) - since > int(extension.settings["TOKEN_MAX_AGE_S"]):
        return None
    return extension.staff.hall.user(username)


def _now(extension: Yihao) -> float:
    """Seconds since the epoch by the hall's clock (a test may move it)."""
    return extension.hall.clock().timestamp()


def language() -> str:
    """?lang=en switches the pages to English and is remembered for the session."""
    requested = request.args.get("lang")
    if requested in LANGUAGES:
        session[SESSION_LANGUAGE] = requested
        return requested
    return pick_language(session.get(SESSION_LANGUAGE))


def safe_next(target: str | None) -> str | None:
    """Only a path on this server (never //host or a scheme) may follow a login."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def landing_page(user: UserConfig) -> str:
    if user.role in MANAGER_ROLES:
        try:
            return url_for("manager.index")
        except BuildError:
            pass
        if any(rule.rule == "/manager" for rule in current_app.url_map.iter_rules()):
            return "/manager"
    return url_for(".terminal")


def user_site(extension: Yihao, user: UserConfig) -> SiteConfig:
    site = extension.hall.config.site(user.site)
    if site is None:
        raise NotFound(f"没有这个站点：{user.site}")
    return site


def bearer_user() -> UserConfig:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("请先登录")
    return yihao().staff.user_for_token(token.strip())


def user_json(user: UserConfig) -> dict[str, Any]:
    return {
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "clerk_no": user.clerk_no,
        "counter": user.counter,
    }


# -- pages ------------------------------------------------------------------------------
@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    lang = language()
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            expired = "csrf_token" in form.errors
            error, status = ("login_expired_form" if expired else "login_missing"), 400
        else:
            try:
                user = yihao().staff.authenticate(
                    form.username.data or "", form.password.data or ""
                )
            except Unauthenticated:
                error, status = "login_failed", 401  # counted by the rate limit
            else:
                session.clear()
                session[SESSION_USER] = user.username
                session[SESSION_SINCE] = int(_now(yihao()))
                session[SESSION_LANGUAGE] = lang
                return redirect(safe_next(form.next.data) or landing_page(user))
    return _login_page(form, lang, error, status)


def _login_page(form: LoginForm, lang: str, error: str | None, status: int) -> Any:
    notice = request.args.get("notice")
    notices = {"logged_out", "login_again"}
    message = None
    if notice in notices:
        message = translate(notice, lang)
    elif notice == "kept" and request.args.get("counter", "").isdigit():
        message = translate("logged_out_kept", lang, counter=request.args["counter"])
    current = session_user()
    return (
        render_template(
            "counter/login.html",
            form=form,
            t=table(lang),
            lang=lang,
            error=translate(error, lang) if error else None,
            notice=message,
            current=current,
            role_words=translate(f"role_{current.role}", lang) if current else None,
            other_language_url=_language_switch_url(lang),
        ),
        status,
    )


@blueprint.errorhandler(429)
def too_many_logins(_error: Exception) -> Any:
    lang = language()
    form = LoginForm(formdata=None)
    form.next.data = safe_next(request.form.get("next")) or ""
    form.username.data = request.form.get("username", "")[:64]
    return _login_page(form, lang, "login_too_many", 429)


@blueprint.post("/logout")
def logout() -> Any:
    form = LogoutForm()
    if not form.validate_on_submit():
        return Response(translate("login_expired_form", language()), 400, mimetype="text/plain")
    user = session_user()
    lang = session.get(SESSION_LANGUAGE)
    kept = _sign_out_everywhere(user) if user else None
    session.clear()
    if lang:
        session[SESSION_LANGUAGE] = lang
    if kept is not None:
        return redirect(url_for(".login", notice="kept", counter=kept))
    return redirect(url_for(".login", notice="logged_out"))


def _sign_out_everywhere(user: UserConfig) -> int | None:
    """Logging out signs the user out of its counter (it closes); with a ticket in hand the
    counter stays open and keeps it. Returns that counter's number, if any."""
    extension = yihao()
    site = user_site(extension, user)
    for row in extension.read(site, counter_services.list_counters):
        if row.get("clerk") != user.username:
            continue
        try:
            extension.run(site, user.username, counter_services.sign_out, row["counter"], user)
        except Conflict:
            return int(row["counter"])
    return None


@blueprint.get("/counter")
def terminal() -> Any:
    user = session_user()
    if user is None:
        expired = "login_again" if session.get(SESSION_USER) else None
        return redirect(url_for(".login", next=_this_path(), notice=expired))
    lang = language()
    extension = yihao()
    site = user_site(extension, user)
    rows = extension.read(site, counter_services.list_counters)
    numbers = [int(row["counter"]) for row in rows]
    requested = request.args.get("counter", type=int)
    mine = next((int(row["counter"]) for row in rows if row.get("clerk") == user.username), None)
    status = 200
    if requested is not None and requested not in numbers:
        number: int | None = None
        status = 404
    else:
        number = requested or mine or (user.counter if user.counter in numbers else None)
        number = number or (numbers[0] if numbers else None)
    config = _page_config(extension, site, user, lang, rows, number, requested)
    return (
        render_template(
            "counter/terminal.html",
            config=config,
            t=table(lang),
            lang=lang,
            user=user,
            counters=rows,
            number=number,
            logout_form=LogoutForm(),
            socketio_script=_socketio_script(),
            shortcuts=SHORTCUTS,
            other_language_url=_language_switch_url(lang),
        ),
        status,
    )


def _page_config(
    extension: Yihao,
    site: SiteConfig,
    user: UserConfig,
    lang: str,
    rows: list[dict[str, Any]],
    number: int | None,
    requested: int | None,
) -> dict[str, Any]:
    """Everything the page's script needs, so it holds no path, event name or word of its own."""
    return {
        "lang": lang,
        "text": table(lang),
        "user": user_json(user),
        "token": extension.staff.issue_token(user),
        "site": site.code,
        "counter": number,
        "requested": requested,
        "counters": [
            {
                "number": row["counter"],
                "name": row["counter_name"],
                "location": row["location"],
                "queues": row["queues"],
            }
            for row in rows
        ],
        "queues": [{"code": queue.code, "name": queue.name} for queue in site.queues],
        "services": [
            {"code": service.code, "name": service.name, "category": service.category}
            for service in site.services
        ],
        "api": protocol.API_PREFIX,
        "actions": protocol.ACTIONS,
        "needs": {action: sorted(states) for action, states in ACTION_NEEDS.items()},
        "shortcuts": SHORTCUTS,
        "namespace": protocol.COUNTER_NAMESPACE,
        "counter_query": protocol.COUNTER_QUERY,
        "transports": list(protocol.TRANSPORTS),
        "events": {
            "snapshot": protocol.EVENT_SNAPSHOT,
            "counter": protocol.EVENT_COUNTER,
            "ticket": protocol.EVENT_TICKET,
            "queues": protocol.EVENT_QUEUES,
        },
        "manager": user.role in MANAGER_ROLES,
        "mine": next((row["counter"] for row in rows if row.get("clerk") == user.username), None),
        "transfer_position": site.policy.transfer_position,
        "urls": {
            "login": url_for(".login", next=_this_path(), notice="login_again"),
            "token": url_for(".token"),
            "figures": url_for(".figures"),
            "terminal": url_for(".terminal"),
        },
    }


def _this_path() -> str:
    return request.full_path.rstrip("?")


def _socketio_script() -> str | None:
    try:
        return url_for("display.static", filename="vendor/socket.io.min.js")
    except BuildError:
        return None


def _language_switch_url(lang: str) -> str:
    args: dict[str, Any] = request.args.to_dict()
    args["lang"] = "zh" if lang == "en" else "en"
    return url_for(request.endpoint or ".login", **args)


# -- JSON for the page ------------------------------------------------------------------
@blueprint.get("/counter/token")
def token() -> Any:
    """A fresh bearer token for the session's user; 401 once the session has expired."""
    user = session_user()
    if user is None:
        raise Unauthenticated(translate("login_again"))
    return {"token": yihao().staff.issue_token(user), "user": user_json(user)}


@blueprint.get("/counter/figures")
def figures() -> Any:
    """The bearer's own figures today (as the API: `Authorization: Bearer <token>`)."""
    user = bearer_user()
    extension = yihao()
    return extension.read(user_site(extension, user), clerk_figures, user.username)


@blueprint.after_request
def security_headers(response: Response) -> Response:
    """Pages carry a token or a CSRF field: never cached, never framed, scripts only ours."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
    return response


# -- registration -----------------------------------------------------------------------
def _login_attempt_key() -> str:
    username = request.form.get("username", "")[:64]
    return f"{get_remote_address()}:{username}"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def register(app: Flask) -> None:
    app.register_blueprint(blueprint)
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    extension: Yihao = app.extensions["yihao"]
    limiter = extension.extras.get("limiter")
    if limiter is not None:
        limit: Callable[[Callable[..., Any]], Callable[..., Any]] = limiter.limit(
            extension.settings["LOGIN_RATE_LIMIT"],
            key_func=_login_attempt_key,
            methods=["POST"],
            deduct_when=_failed,
        )
        # The limit is checked by the wrapper, so the wrapper must be the view.
        app.view_functions["counter.login"] = limit(app.view_functions["counter.login"])
