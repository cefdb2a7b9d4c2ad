"""The clerk's web terminal `/counter`.

The page acts through the JSON API with a bearer token issued for the session's user (the
staff sign-in, `queue_server/staff/`), and stays live through Socket.IO `/counter`;
`GET /counter/token` renews the token while the session lasts, so an expired token costs the
clerk nothing, and an expired session sends the clerk to `/login?next=…` (the ticket in hand
stays at the counter, server-side).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from counter_client.i18n import MESSAGES, PAUSE_REASONS, table
from counter_client.keys import SHORTCUTS
from queue_server import protocol
from queue_server.app_context import Yihao, yihao
from queue_server.config import SiteConfig, UserConfig
from queue_server.domain.lifecycle import ACTION_NEEDS
from queue_server.errors import Unauthenticated
from queue_server.i18n import local_location, local_name
from queue_server.services import counters as counter_services
from queue_server.services.clerk_figures import clerk_figures
from queue_server.staff.pages import (
    MANAGER_ROLES,
    SESSION_USER,
    LogoutForm,
    bearer_user,
    language,
    language_switch_url,
    session_token,
    session_user,
    staff_page_headers,
    user_json,
    user_site,
)

blueprint = Blueprint(
    "counter",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/counter/static",
)

# The terminal carries a token: the staff pages' headers (never cached, never framed).
blueprint.after_request(staff_page_headers)


# -- pages ------------------------------------------------------------------------------
@blueprint.get("/counter")
def terminal() -> Any:
    user = session_user()
    if user is None:
        expired = "login_again" if session.get(SESSION_USER) else None
        return redirect(url_for("staff.login", next=_this_path(), notice=expired))
    lang = language()
    extension = yihao()
    site = user_site(extension, user)
    every = extension.read(site, counter_services.list_counters)
    mine = next((int(row["counter"]) for row in every if row.get("clerk") == user.username), None)
    rows = [row for row in every if _offered(user, int(row["counter"]), mine)]
    numbers = [int(row["counter"]) for row in rows]
    requested = request.args.get("counter", type=int)
    status = 200
    if requested is not None and requested not in numbers:
        number: int | None = None
        exists = any(int(row["counter"]) == requested for row in every)
        status = 403 if exists else 404
    else:
        number = requested or mine or (user.counter if user.counter in numbers else None)
        number = number or (numbers[0] if numbers else None)
    config = _page_config(extension, site, user, lang, _local_names(site, every), number, requested)
    rows = _local_names(site, rows)
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
            other_language_url=language_switch_url(lang),
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
        "token": session_token(user),
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
        "queues": [{"code": queue.code, "name": local_name(queue)} for queue in site.queues],
        "services": [
            {"code": service.code, "name": local_name(service), "category": service.category}
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
        # The counters this user may sign into (SPEC §2); the others show no sign-in.
        "sign_in": [row["counter"] for row in rows if user.may_sign_into(int(row["counter"]))],
        "mine": next((row["counter"] for row in rows if row.get("clerk") == user.username), None),
        "transfer_position": site.policy.transfer_position,
        # The pause's reasons: stored in Chinese (the hall's screens show them), shown in the
        # page's language.
        "pause_reasons": [
            {"key": key, "value": MESSAGES[key][1], "label": table(lang)[key]}
            for key in PAUSE_REASONS
        ],
        "urls": {
            "login": url_for("staff.login", next=_this_path(), notice="login_again"),
            "token": url_for(".token"),
            "figures": url_for(".figures"),
            "terminal": url_for(".terminal"),
        },
    }


def _offered(user: UserConfig, number: int, mine: int | None) -> bool:
    """The counters the picker offers: those a clerk may sign into (and the one it is
    signed into); a manager or admin acts at any counter."""
    return not user.signs_in or user.may_sign_into(number) or number == mine


def _local_names(site: SiteConfig, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The counters' names and locations in the page's language."""
    counters = {counter.number: counter for counter in site.counters}
    local = []
    for row in rows:
        counter = counters.get(int(row["counter"]))
        if counter is not None:
            row = {
                **row,
                "counter_name": local_name(counter),
                "location": local_location(counter.location, counter.location_en),
            }
        local.append(row)
    return local


def _this_path() -> str:
    return request.full_path.rstrip("?")


def _socketio_script() -> str:
    return url_for("display.static", filename="vendor/socket.io.min.js")


# -- JSON for the page ------------------------------------------------------------------
@blueprint.get("/counter/token")
def token() -> Any:
    """A fresh bearer token for the session's user; 401 once the session has expired."""
    user = session_user()
    if user is None:
        raise Unauthenticated("登录已过期，请重新登录")
    return {"token": session_token(user), "user": user_json(user)}


@blueprint.get("/counter/figures")
def figures() -> Any:
    """The bearer's own figures today (as the API: `Authorization: Bearer <token>`)."""
    user = bearer_user()
    extension = yihao()
    return extension.read(user_site(extension, user), clerk_figures, user.username)


# -- registration -----------------------------------------------------------------------
def register(app: Flask) -> None:
    app.register_blueprint(blueprint)
