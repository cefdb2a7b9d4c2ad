"""Staff sign-in pages (`/login`, `/logout`) and the session's user, shared by the clerk's
terminal and the managers' page; API tokens are `services/auth.py`, their endpoints
`api/staff.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    from queue_server.staff.pages import register as register_pages

    register_pages(app)


__all__ = ["register"]
