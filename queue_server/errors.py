"""Errors with an API code and status; raised by services, rendered by the API layer.

A message is its Chinese msgid with `%(name)s` parameters (`Conflict("%(number)s号窗口未开放",
code="counter_not_open", number=3)`): `str(error)` and `error.message` are the Chinese text,
and the API's error handler renders the msgid in the request's language (queue_server/i18n.py).
Parameters that are words of ours are marked with `N_()`, names from the hall file are
`Named`: both are translated too. Nothing here imports Flask or Babel.
"""

from __future__ import annotations

from typing import Any


class Words(str):
    """A word or phrase of ours inside a message (with a msgctxt when the same Chinese word
    has several English ones): translated with the message."""

    __slots__ = ("context",)
    context: str | None

    def __new__(cls, text: str, context: str | None = None) -> Words:
        words = super().__new__(cls, text)
        words.context = context
        return words


def N_(message: str) -> Words:
    """Marks a message for extraction (pybabel keyword `N_`); it is translated when rendered."""
    return Words(message)


def NP_(context: str, message: str) -> Words:
    """The same with a msgctxt (keyword `NP_:1c,2`)."""
    return Words(message, context)


class Named(str):
    """A name from the hall file inside a message: its `name_en` on English answers."""

    __slots__ = ("english",)
    english: str | None

    def __new__(cls, name: str, english: str | None = None) -> Named:
        named = super().__new__(cls, name)
        named.english = english
        return named


class YihaoError(Exception):
    status = 400
    code = "invalid_field"

    def __init__(self, message: str, code: str | None = None, **params: Any) -> None:
        self.msgid = message
        self.params = params
        self.message = message % params if params else message
        super().__init__(self.message)
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
