"""/api/v1: thin views (parse → one use case → JSON), errors in the SPEC's shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, g, request
from flask_babel import gettext
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

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
    body: type[BaseModel] | None, auth: str | None, errors: tuple[int, ...]
) -> tuple[int, ...]:
    """The error statuses an operation can answer: its own, and those of the shared steps.
    A body: 400 (not a JSON object, or a bad field) and 413 (too large). A staff endpoint:
    401 without a valid token, 403 for a role or a site it may not act in, 404 for an
    unknown `?site=`."""
    statuses = set(errors)
    if body is not None:
        statuses |= {400, 413}
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
        for name, converter in (("n", "int:n"),):
            flask_rule = flask_rule.replace(f"<{name}>", f"<{converter}>")
        api.add_url_rule(flask_rule, view.__name__, view, methods=[method])
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
                implied_errors(body, auth, errors),
                response_list,
                content_type,
                also,
            )
        )
        return view

    return decorate


def parse_body(model: type[ModelT]) -> ModelT:
    """Any body that is not a JSON object is `invalid_json` (never 415); an empty body is {}."""
    raw = request.get_data(cache=True)
    data: Any = {}
    if raw.strip():
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest(N_("请求体不是合法的 JSON"), code="invalid_json") from None
        if not isinstance(data, dict):
            raise BadRequest(N_("请求体应为 JSON 对象"), code="invalid_json")
    return validate(model, data)


def parse_query(model: type[ModelT]) -> ModelT:
    return validate(model, request.args.to_dict())


def validate(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "body"
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


def _user_of_token(extension: Yihao, roles: tuple[str, ...]) -> UserConfig:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(N_("请先登录"))
    user = extension.staff.user_for_token(token.strip())
    if roles and user.role not in roles:
        raise Forbidden(N_("没有权限"))
    g.user = user
    return user


def staff_site(user: UserConfig) -> SiteConfig:
    return _site_of_user(yihao(), user)


def _site_of_user(extension: Yihao, user: UserConfig) -> SiteConfig:
    """A clerk works in its own site; managers may name another with ?site=."""
    requested = request.args.get("site")
    if user.site and requested and requested != user.site and user.role == "clerk":
        raise Forbidden(N_("没有权限"))
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
        if not request.path.startswith("/api/") and status not in (413, 429):
            return error
        code = HTTP_CODES.get(status, "error")
        words = HTTP_MESSAGES.get(status)
        message = gettext(words) if words else error.description or ""
        return error_response(status, code, message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[dict[str, Any], int]:
        current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", gettext(N_("服务器内部错误，请稍后再试")))


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
