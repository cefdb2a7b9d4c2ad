"""Public screens: the hall screen (综合屏), the counter-top screens (窗口屏) and the
visitor's live phone page, with the vendored Socket.IO client other pages load too."""

from __future__ import annotations

from flask import Flask

from display.views import DisplaySettings, display


def register(app: Flask) -> None:
    """Called by queue_server.create_app(): the `display` blueprint and its string catalog."""
    app.extensions["display"] = DisplaySettings.load(app.extensions["yihao"].settings)
    app.register_blueprint(display)


__all__ = ["display", "register"]
