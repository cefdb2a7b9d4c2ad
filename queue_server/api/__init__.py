"""/api/v1: thin views (parse → one use case → JSON), errors in the SPEC's shape."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, g, request
from flask_babel import gettext
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from queue_server.api.schemas import MAX_DB_INT
from queue_server.app_context import Yihao, yihao
from queue_server.config import SiteConfig, UserConfig
from queue_server.errors import (
    N_,
    BadRequest,
    Forbidden,
    NotFound,
    Unauthenticated,
    YihaoError,
)
from queue_server.i18n import error_message

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_JSON_DEPTH = 32  # no request of ours nests deeper than 3
# C0 control characters and DEL (tab, line feed and carriage return are text), and C1.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
ROLES_OF_AUTH: dict[str, tuple[str, ...]] = {
    "staff": (),
    "manager": ("manager", "admin"),
    "admin": ("admin",),
}

api = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass(frozen=True)
class Operation:
    """One endpoint as the OpenAPI document describes it."""

    method: str
    path: str
    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    auth: str | None  # None (public), "staff", "manager"
    tag: str
    errors: tuple[int, ...]
    response_list: bool = False
    content_type: str = "application/json"
    also: tuple[int, ...] = ()  # other success statuses with the same answer


def implied_errors(
    path: str,
    body: type[BaseModel] | None,
    query: type[BaseModel] | None,
    auth: str | None,
    errors: tuple[int, ...],
) -> tuple[int, ...]:
    """The error statuses an operation can answer: its own, and those of the shared steps.
    A body: 400 (not a JSON object, not sent as JSON, a bad field) and 413 (too large). A
    query: 400. A path parameter: 400 (a control character) and 404 (nothing by that id, or
    a number beyond the database's range). A staff endpoint: 401 without a valid token, 403
    for a role or a site it may not act in, 404 for an unknown `?site=`."""
    statuses = set(errors)
    if body is not None:
        statuses |= {400, 413}
    if query is not None or "{" in path:
        statuses |= {400, 404} if "{" in path else {400}
    if auth is not None:
        statuses |= {401, 403, 404}
    return tuple(sorted(statuses))


OPERATIONS: list[Operation] = []


def operation(
    method: str,
    path: str,
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    response_list: bool = False,
    status: int = 200,
    auth: str | None = None,
    tag: str = "tickets",
    errors: tuple[int, ...] = (),
    content_type: str = "application/json",
    also: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view on the blueprint and describe it for /api/v1/openapi.json."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        flask_rule = path.replace("{", "<").replace("}", ">")
        flask_rule = flask_rule.replace("<n>", "<int:n>")
        endpoint = view if auth is None else _token_first(view, ROLES_OF_AUTH[auth])
        api.add_url_rule(flask_rule, view.__name__, endpoint, methods=[method])
        OPERATIONS.append(
            Operation(
                method.lower(),
                path,
                summary,
                body,
                query,
                response,
                status,
                auth,
                tag,
                implied_errors(path, body, query, auth, errors),
                response_list,
                content_type,
                also,
            )
        )
        return view

    return decorate


def _token_first(view: Callable[..., Any], roles: tuple[str, ...]) -> Callable[..., Any]:
    """A staff endpoint checks its token (401) and role (403) before anything else, so an
    anonymous caller never learns what a good body looks like (SPEC §4)."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        _user_of_token(yihao(), roles)
        return view(*args, **kwargs)

    return checked


def read_json_body(*, any_type: bool = False) -> Any:
    """The request's body as JSON, or None when it is empty. A body must be sent as
    `application/json` (a cross-site form cannot), be JSON, and nest at most MAX_JSON_DEPTH
    deep; anything else is `invalid_json` (never 415, never a 500). An empty body is {}."""
    raw = request.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A chunked body is cut at the limit by Werkzeug without a word: refuse it whole.
        raise RequestEntityTooLarge()
    if not raw.strip():
        return {}
    if not (request.is_json or any_type):
        raise BadRequest(N_("请求体须以 application/json 发送"), code="invalid_json")
    if _nesting_depth(raw) > MAX_JSON_DEPTH:
        raise BadRequest(N_("请求体不是合法的 JSON"), code="invalid_json")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest(N_("请求体不是合法的 JSON"), code="invalid_json") from None


def _nesting_depth(raw: bytes) -> int:
    """How deep the brackets of a JSON text nest (brackets inside strings count too: only a
    bound, and no request of ours has many)."""
    depth = deepest = 0
    for byte in raw.translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def parse_body(model: type[ModelT]) -> ModelT:
    """Any body that is not a JSON object is `invalid_json` (never 415); an empty body is {}."""
    data = read_json_body()
    if not isinstance(data, dict):
        raise BadRequest(N_("请求体应为 JSON 对象"), code="invalid_json")
    return validate(model, data)


def parse_query(model: type[ModelT]) -> ModelT:
    return validate(model, request.args.to_dict())


def check_text(value: Any, where: str = "body") -> None:
    """No NUL or other control character in any text of a request (the databases refuse
    some, screens and printers choke on others): 400 `invalid_field`."""
    if isinstance(value, str):
        if CONTROL_CHARACTERS.search(value):
            raise BadRequest(
                N_("%(field)s: 含有控制字符"), code="invalid_field", field=where or "body"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, where)
            check_text(item, f"{where}.{key}" if where != "body" else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_text(item, f"{where}.{index}")


def validate(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    check_text(data)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "body"
        # A model may say, per field, what a person should read (in the catalogue's words)
        # instead of pydantic's English.
        messages: Mapping[str, str] = getattr(model, "FIELD_MESSAGES", {})
        field = str(problem["loc"][0]) if problem["loc"] else ""
        if field in messages:
            raise BadRequest(messages[field], code="invalid_field") from None
        raise BadRequest(
            "%(field)s: %(problem)s", code="invalid_field", field=where, problem=problem["msg"]
        ) from None


def base_url() -> str:
    """The configured public address, else the one this request came to. (Not
    `request.host_url`: its IRI conversion cost 4 % of a ticket; the ASCII form of the host
    is what a QR code needs anyway.)"""
    configured = current_app.extensions["yihao"].settings.public_url
    return str(configured or f"{request.scheme}://{request.host}").rstrip("/")


def public_site(code: str | None) -> SiteConfig:
    site = yihao().hall.config.site(code)
    if site is None:
        raise BadRequest("没有这个站点：%(site)s", code="invalid_field", site=code)
    return site


def current_user(*roles: str) -> UserConfig:
    return _user_of_token(yihao(), roles)


def bearer_token(headers: Any) -> str:
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(N_("请先登录"))
    return str(token.strip())


def _user_of_token(extension: Yihao, roles: tuple[str, ...]) -> UserConfig:
    token = bearer_token(request.headers)
    checked = g.get("staff_token")
    if checked is not None and checked[0] == token:
        user = checked[1]  # checked once in this request (before its body)
    else:
        user = extension.staff.user_for_token(token)
        g.staff_token = (token, user)
    if roles and user.role not in roles:
        raise Forbidden(N_("没有权限"))
    g.user = user
    return user


def staff_site(user: UserConfig) -> SiteConfig:
    return _site_of_user(yihao(), user)


def check_staff_site(user: UserConfig, code: str) -> None:
    """Staff who belong to a site work in it, whatever their role (as on Socket.IO): 403 for
    any other; staff of no site (the hall's own managers and admins) work in any."""
    if user.site and code != user.site:
        raise Forbidden(N_("没有权限"))


def _site_of_user(extension: Yihao, user: UserConfig) -> SiteConfig:
    """The site named by ?site= (`check_staff_site`), else the user's own."""
    requested = request.args.get("site")
    if requested:
        check_staff_site(user, requested)
    site = extension.hall.config.site(requested or user.site)
    if site is None:
        raise NotFound("没有这个站点：%(site)s", site=requested)
    return site


@dataclass(frozen=True)
class StaffAction:
    """A staff request, checked in this order: its token (401, 403), its site (403, 404),
    then its body (400); the use case then runs in one transaction with these."""

    yihao: Yihao
    user: UserConfig
    site: SiteConfig
    base_url: str


def staff_action(body: type[ModelT], *roles: str) -> tuple[StaffAction, ModelT]:
    extension = yihao()
    user = _user_of_token(extension, roles)
    site = _site_of_user(extension, user)
    parsed = parse_body(body)
    return StaffAction(extension, user, site, base_url()), parsed


def error_response(status: int, code: str, message: str) -> tuple[dict[str, Any], int]:
    return {"error": {"code": code, "message": message}}, status


HTTP_CODES = {
    400: "invalid_field",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "too_many_requests",
}
HTTP_MESSAGES = {
    404: N_("没有这个地址"),
    405: N_("不支持此请求方法"),
    413: N_("请求体太大"),
    429: N_("尝试次数过多，请稍后再试"),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(YihaoError)
    def _yihao_error(error: YihaoError) -> tuple[dict[str, Any], int]:
        return error_response(error.status, error.code, error_message(error))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        status = error.code or 500
        json_path = request.path.startswith("/api/") or request.path == "/healthz"
        if not json_path and status not in (413, 429):
            return error
        code = HTTP_CODES.get(status, "error")
        words = HTTP_MESSAGES.get(status)
        message = gettext(words) if words else error.description or ""
        body, status = error_response(status, code, message)
        # 405 keeps its Allow header (and 429 its Retry-After).
        headers = [(name, value) for name, value in error.get_headers() if name != "Content-Type"]
        return body, status, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[dict[str, Any], int]:
        current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", gettext(N_("服务器内部错误，请稍后再试")))


@api.before_request
def _check_path_and_query() -> None:
    """The path's parameters and the query are input too: a number beyond the database's
    range names nothing (404; it reached the database and gave a 500), and a control
    character is refused (a NUL in a ticket id reached PostgreSQL and gave a 500)."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and value > MAX_DB_INT:
            raise NotFound(N_("没有这个地址"))
        check_text(value, name)
    for name, value in request.args.items(multi=True):
        check_text(name, "query")
        check_text(value, name)


def register_api(app: Flask) -> None:
    # Import the view modules for their @operation registrations.
    from queue_server.api import (  # noqa: F401
        appointments,
        counters,
        openapi,
        printing,
        staff,
        tickets,
    )
    from queue_server.manager import api as manager_api  # noqa: F401  (its API beside its page)

    app.register_blueprint(api)
    register_error_handlers(app)
