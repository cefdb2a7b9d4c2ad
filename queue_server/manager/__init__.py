"""The managers' page `/manager`: live board (lines, counters, alerts) and reports with
charts; registered by create_app(). See queue_server/manager/views.py."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from queue_server.manager.views import register_pages

    register_pages(app)


__all__ = ["register"]
