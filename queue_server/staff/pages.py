"""Staff sign-in for every staff page: `/login` and `/logout` (session cookie, CSRF-protected
forms, failed logins limited per address and user name), and the session's user.

The clerk's terminal (`counter_client/web.py`) and the managers' page
(`queue_server/manager/page.py`) ask `session_user()` who is there and send a signed-out
visitor to `url_for("staff.login", next=…)`; both then act through the JSON API with a bearer
token issued for the session's user (`services/auth.py` `StaffDirectory`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from counter_client.i18n import LANGUAGES, pick_language, table, translate
from queue_server.app_context import Yihao, yihao
from queue_server.config import SiteConfig, UserConfig
from queue_server.errors import Conflict, NotFound, Unauthenticated
from queue_server.services import counters as counter_services
from queue_server.services.auth import new_login_id, revoke_login
from queue_server.web_policy import CONTENT_SECURITY_POLICY

blueprint = Blueprint(
    "staff",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/staff/static",
)

SESSION_USER = "yihao_user"  # the signed-in user's name
SESSION_SINCE = "yihao_since"  # when they signed in (epoch seconds)
SESSION_LANGUAGE = "yihao_lang"
SESSION_LOGIN = "yihao_login"  # the login's id: logging out revokes it (and its tokens)
MANAGER_ROLES = ("manager", "admin")


# -- forms ------------------------------------------------------------------------------
class _SessionLongCsrf(FlaskForm.Meta):
    @cached_property
    def csrf_time_limit(self) -> int:
        """A terminal page stays open all day: its forms stay valid as long as a login."""
        return yihao().settings.token_max_age_s


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
    if _now(extension) - since > extension.settings.token_max_age_s:
        return None
    login_id = session.get(SESSION_LOGIN)
    if not isinstance(login_id, str) or extension.staff.is_revoked(login_id):
        return None  # logged out (on this browser or with a copy of its cookie)
    return extension.staff.hall.user(username)


def session_token(user: UserConfig) -> str:
    """A bearer token for the page of this browser session: it ends with the session's
    logout."""
    login_id = session.get(SESSION_LOGIN)
    return yihao().staff.issue_token(user, login_id if isinstance(login_id, str) else None)


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
        return url_for("manager.index")
    return url_for("counter.terminal")


def user_site(extension: Yihao, user: UserConfig) -> SiteConfig:
    site = extension.hall.config.site(user.site)
    if site is None:
        raise NotFound("没有这个站点：%(site)s", site=user.site)
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
                session[SESSION_LOGIN] = new_login_id()
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
            "staff/login.html",
            form=form,
            t=table(lang),
            lang=lang,
            error=translate(error, lang) if error else None,
            notice=message,
            current=current,
            role_words=translate(f"role_{current.role}", lang) if current else None,
            other_language_url=language_switch_url(lang),
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
    login_id = session.get(SESSION_LOGIN)
    if isinstance(login_id, str):
        extension = yihao()
        with extension.sessions.begin() as db_session:
            revoke_login(db_session, login_id, extension.settings.token_max_age_s)
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


def language_switch_url(lang: str) -> str:
    args: dict[str, Any] = request.args.to_dict()
    args["lang"] = "zh" if lang == "en" else "en"
    return url_for(request.endpoint or ".login", **args)


@blueprint.after_request
def staff_page_headers(response: Response) -> Response:
    """Pages carry a token or a CSRF field: never cached, never framed, scripts only ours."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
    return response


# -- registration -----------------------------------------------------------------------
def register(app: Flask) -> None:
    app.register_blueprint(blueprint)
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    extension: Yihao = app.extensions["yihao"]
    if extension.login_limit is not None:
        # The same bucket as the API's login (app.py `_limit_logins`): one per (user,
        # address). The limit is checked by the wrapper, so the wrapper must be the view.
        app.view_functions["staff.login"] = extension.login_limit(app.view_functions["staff.login"])
