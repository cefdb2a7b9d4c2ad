"""Managers' endpoints: reports (+ CSV, heatmap), bad-review follow-up, alerts sent, and the
admins' hall settings. A clerk gets 403 on every one of them, a caller without token 401."""

from __future__ import annotations

from typing import Any

from flask import Response

from queue_server.api import current_user, operation, parse_body, parse_query, staff_site
from queue_server.api.schemas import (
    MAX_DB_INT,
    AlertsOut,
    AlertsQuery,
    CounterSettingIn,
    HeatmapOut,
    NoticeIn,
    RangeQuery,
    ReviewAssignIn,
    ReviewCloseIn,
    ReviewEnvelope,
    ReviewNoteIn,
    ReviewsOut,
    ReviewsQuery,
    ServiceSettingIn,
    SettingsOut,
    StatsOut,
    StatsQuery,
    WhatIfEnvelope,
    WhatIfIn,
)
from queue_server.app_context import yihao
from queue_server.errors import BadRequest, NotFound
from queue_server.manager import reviews, stats, whatif
from queue_server.manager import settings as hall_settings
from queue_server.realtime.cpu_process import CpuProcess
from queue_server.services import alerts

MANAGERS = ("manager", "admin")
ERRORS = (400, 401, 403)


@operation(
    "GET",
    "/stats",
    "Report rows over a date range, grouped by service|queue|counter|clerk|hour|day",
    query=StatsQuery,
    response=StatsOut,
    auth="manager",
    tag="manager",
    errors=ERRORS,
)
def stats_report() -> Any:
    user = current_user(*MANAGERS)
    query = parse_query(StatsQuery)
    return yihao().read(
        staff_site(user), stats.report, query.group, query.from_, query.to, query.lang
    )


@operation(
    "GET",
    "/stats/export.csv",
    "The same rows as CSV (Chinese headers; ?lang=en for English ones)",
    query=StatsQuery,
    auth="manager",
    tag="manager",
    errors=ERRORS,
    content_type="text/csv",
)
def stats_export() -> Any:
    user = current_user(*MANAGERS)
    query = parse_query(StatsQuery)
    result = yihao().read(
        staff_site(user), stats.report, query.group, query.from_, query.to, query.lang
    )
    text = stats.report_csv(result["rows"], query.group, query.lang)
    filename = f"yihao-{query.group}-{result['from']}-{result['to']}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@operation(
    "GET",
    "/stats/heatmap",
    "Arrivals and waits by weekday × hour over a date range",
    query=RangeQuery,
    response=HeatmapOut,
    auth="manager",
    tag="manager",
    errors=ERRORS,
)
def stats_heatmap() -> Any:
    user = current_user(*MANAGERS)
    query = parse_query(RangeQuery)
    return yihao().read(staff_site(user), stats.heatmap, query.from_, query.to)


@operation(
    "GET",
    "/reviews",
    "Bad reviews (rating ≤ rating_max) with their follow-up state and due date",
    query=ReviewsQuery,
    response=ReviewsOut,
    auth="manager",
    tag="manager",
    errors=ERRORS,
)
def list_reviews() -> Any:
    user = current_user(*MANAGERS)
    query = parse_query(ReviewsQuery)
    found = yihao().read(
        staff_site(user), reviews.list_reviews, query.rating_max, query.state, query.from_, query.to
    )
    return {"reviews": found}


def _review_id(review_id: str) -> int:
    """An id is ASCII digits within the database's range ("²" and 2**63 name nothing)."""
    if not (review_id.isascii() and review_id.isdigit()) or int(review_id) > MAX_DB_INT:
        raise NotFound("没有这条差评")
    return int(review_id)


def _follow_up(review_id: str, action: str, **fields: Any) -> Any:
    user = current_user(*MANAGERS)
    review = yihao().run(
        staff_site(user), user.username, reviews.follow_up, _review_id(review_id), action, **fields
    )
    return {"review": review}


@operation(
    "POST",
    "/reviews/{review_id}/assign",
    "Assign a bad review's follow-up to a member of staff",
    body=ReviewAssignIn,
    response=ReviewEnvelope,
    auth="manager",
    tag="manager",
    errors=(*ERRORS, 404, 409),
)
def assign_review(review_id: str) -> Any:
    body = parse_body(ReviewAssignIn)
    return _follow_up(review_id, "assign", assignee=body.assignee)


@operation(
    "POST",
    "/reviews/{review_id}/note",
    "Write what was done about a bad review",
    body=ReviewNoteIn,
    response=ReviewEnvelope,
    auth="manager",
    tag="manager",
    errors=(*ERRORS, 404),
)
def note_review(review_id: str) -> Any:
    body = parse_body(ReviewNoteIn)
    return _follow_up(review_id, "note", note=body.note)


@operation(
    "POST",
    "/reviews/{review_id}/close",
    "Close a bad review's follow-up (a note of what was done is required)",
    body=ReviewCloseIn,
    response=ReviewEnvelope,
    auth="manager",
    tag="manager",
    errors=(*ERRORS, 404, 409),
)
def close_review(review_id: str) -> Any:
    body = parse_body(ReviewCloseIn)
    return _follow_up(review_id, "close", note=body.note)


@operation(
    "POST",
    "/reviews/{review_id}/reopen",
    "Reopen a closed follow-up",
    response=ReviewEnvelope,
    auth="manager",
    tag="manager",
    errors=(*ERRORS, 404, 409),
)
def reopen_review(review_id: str) -> Any:
    return _follow_up(review_id, "reopen")


@operation(
    "GET",
    "/alerts",
    "The latest alerts sent to managers (newest first)",
    query=AlertsQuery,
    response=AlertsOut,
    auth="manager",
    tag="manager",
    errors=ERRORS,
)
def list_alerts() -> Any:
    user = current_user(*MANAGERS)
    query = parse_query(AlertsQuery)
    return {"alerts": yihao().read(staff_site(user), alerts.recent_alerts, query.limit)}


# -- hall settings (admin) ----------------------------------------------------------------
@operation(
    "GET",
    "/settings",
    "The hall's settings as in force now, and the latest changes",
    response=SettingsOut,
    auth="manager",
    tag="settings",
    errors=ERRORS,
)
def get_settings() -> Any:
    user = current_user(*MANAGERS)
    return yihao().read(staff_site(user), hall_settings.current_settings)


def _change(use_case: Any, *args: Any) -> Any:
    """Make the change, lay it over this process's hall at once, and answer the settings as
    now in force (read after the commit, so the change is among `changes`)."""
    user = current_user("admin")
    yihao().run(staff_site(user), user.username, use_case, user, *args)
    hall_settings.refresh(yihao(), force=True)
    return yihao().read(staff_site(user), hall_settings.current_settings)


@operation(
    "POST",
    "/settings/services/{code}",
    "Change a service's target wait (minutes) or daily quota (0 removes it)",
    body=ServiceSettingIn,
    response=SettingsOut,
    auth="admin",
    tag="settings",
    errors=(*ERRORS, 404),
)
def change_service(code: str) -> Any:
    body = parse_body(ServiceSettingIn)
    if body.target_wait_min is None and body.daily_quota is None:
        raise BadRequest("请给出 target_wait_min 或 daily_quota", code="invalid_field")
    return _change(hall_settings.change_service, code, body.target_wait_min, body.daily_quota)


@operation(
    "POST",
    "/settings/counters/{n}",
    "Change a counter's lines or strategy, or pause / resume / close it",
    body=CounterSettingIn,
    response=SettingsOut,
    auth="admin",
    tag="settings",
    errors=(*ERRORS, 404, 409),
)
def change_counter(n: int) -> Any:
    body = parse_body(CounterSettingIn)
    if body.queues is None and body.strategy is None and body.state is None:
        raise BadRequest("请给出 queues、strategy 或 state", code="invalid_field")
    return _change(hall_settings.change_counter, n, body.queues, body.strategy, body.state)


@operation(
    "POST",
    "/settings/notice",
    "Change the hall notice shown on the screens",
    body=NoticeIn,
    response=SettingsOut,
    auth="admin",
    tag="settings",
    errors=ERRORS,
)
def change_notice() -> Any:
    body = parse_body(NoticeIn)
    return _change(hall_settings.change_notice, body.notice)


# -- what-if (SPEC §10): a past day replayed with changes, off the request path ---------------
@operation(
    "POST",
    "/whatif",
    "Start a what-if: a past day replayed as it was and with changes; poll GET /whatif/{run_id}",
    body=WhatIfIn,
    response=WhatIfEnvelope,
    status=202,
    auth="manager",
    tag="manager",
    errors=(*ERRORS, 409),
)
def start_whatif() -> Any:
    user = current_user(*MANAGERS)
    site = staff_site(user)
    body = parse_body(WhatIfIn)
    extension = yihao()
    request = body.model_dump(mode="json", by_alias=True)
    run = extension.run(site, user.username, whatif.start, request)
    whatif_runner(extension)(_execute_whatif, extension, site, run["id"])
    return {"run": run}, 202


@operation(
    "GET",
    "/whatif/{run_id}",
    "A what-if's progress, and its result once done",
    response=WhatIfEnvelope,
    auth="manager",
    tag="manager",
    errors=(401, 403, 404),
)
def get_whatif(run_id: str) -> Any:
    user = current_user(*MANAGERS)
    return {"run": yihao().read(staff_site(user), whatif.view, run_id)}


def whatif_runner(extension: Any) -> Any:
    """Where a what-if runs: the app's background tasks (a thread, or a greenlet under
    gevent), never the request."""
    if extension.socketio is not None:
        return extension.socketio.start_background_task
    import threading

    return lambda target, *args: threading.Thread(target=target, args=args, daemon=True).start()


def _execute_whatif(extension: Any, site: Any, run_id: str) -> None:
    """Under gevent the two simulated days run in a process of their own, started for this
    what-if and ended with it: the process's loop keeps serving screens and tickets
    meanwhile without waiting for the GIL, and the boards' own process is not held up."""
    if extension.settings.async_mode != "gevent":
        whatif.execute(extension.sessions, site, run_id)
        return
    cpu = CpuProcess()
    try:
        whatif.execute(extension.sessions, site, run_id, cpu)
    finally:
        cpu.stop()
