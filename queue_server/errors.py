"""Errors with an API code and status; raised by services, rendered by the API layer."""

from __future__ import annotations


class YihaoError(Exception):
    status = 400
    code = "invalid_field"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(YihaoError):
    status = 400


class Unauthenticated(YihaoError):
    status = 401
    code = "unauthenticated"


class Forbidden(YihaoError):
    status = 403
    code = "forbidden"


class NotFound(YihaoError):
    status = 404
    code = "not_found"


class Conflict(YihaoError):
    status = 409
    code = "invalid_state"
