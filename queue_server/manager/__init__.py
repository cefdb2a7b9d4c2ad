"""The managers' feature, in one place:

- `page.py`, `templates/`, `static/`: the page `/manager` (live board, reports, reviews,
  settings);
- `api.py`: its JSON endpoints (`/api/v1/stats…`, `/reviews…`, `/alerts`, `/settings…`), on
  the API blueprint;
- `models.py`: its tables (daily and monthly summaries, alerts, review follow-ups, settings);
- `stats.py`, `reviews.py`, `settings.py`: its use cases (services: no web code);
- `jobs.py`: its scheduled jobs, listed in `queue_server/scheduler.py`.

Alerts are raised by every part of the hall, so their use case is `services/alerts.py`; the
live board's figures are `services/reports.py`, which the publisher also pushes.
Nothing is imported here, so the models and use cases load without Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    from queue_server.manager.page import register_pages

    register_pages(app)


__all__ = ["register"]
