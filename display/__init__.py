"""Public screens: the hall screen (综合屏), the counter-top screens (窗口屏), the
visitor's live phone page and the booking page /book (预约), with the vendored Socket.IO
client other pages load too."""

from __future__ import annotations

from flask import Flask

from display.booking import booking
from display.views import DisplaySettings, display


def register(app: Flask) -> None:
    """Called by queue_server.create_app(): the `display` blueprint and its string catalog."""
    app.extensions["display"] = DisplaySettings.load(app.extensions["yihao"].settings)
    app.register_blueprint(display)
    app.register_blueprint(booking)  # /book (预约)


__all__ = ["display", "register"]
