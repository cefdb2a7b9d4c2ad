"""The managers' jobs with time passed in (the fake clock), each run twice: the second run
changes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from queue_server.config import load_settings
from queue_server.manager.jobs import send_alerts, write_summaries
from queue_server.manager.models import DailySummary, ManagerAlert
from queue_server.scheduler import JOBS, _trigger_args
from tests.conftest import FakeClock, Staff


def count(app: Flask, model: Any) -> int:
    with app.extensions["yihao"].sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_jobs_have_fixed_ids() -> None:
    ids = [job.id for job in JOBS]
    assert "manager_alerts" in ids
    assert "daily_summaries" in ids
    assert len(ids) == len(set(ids))


def test_a_rehearsal_clock_runs_fast_and_its_interval_jobs_as_often() -> None:
    """YIHAO_CLOCK_START / YIHAO_CLOCK_SCALE (browser tests, the bench): the hall clock
    starts where it is told and runs N× as fast; an interval job's interval is hall time."""
    settings = load_settings({"clock_start": "2026-12-01T09:00:00+08:00", "clock_scale": 600})
    clock = settings.hall_clock()
    first = clock()
    assert (
        datetime(2026, 12, 1, 1, 0, tzinfo=UTC) <= first < datetime(2026, 12, 1, 1, 1, tzinfo=UTC)
    )
    time.sleep(0.05)
    assert (clock() - first).total_seconds() >= 0.05 * 600
    service_times = next(job for job in JOBS if job.id == "service_times")  # every 5 minutes
    assert _trigger_args(service_times, 600) == {"seconds": 0.5}
    assert _trigger_args(service_times, 1) == service_times.trigger_args
    day_close = next(job for job in JOBS if job.id == "day_close")  # cron: the wall's minutes
    assert _trigger_args(day_close, 600) == day_close.trigger_args
    assert not load_settings().rehearsal


def test_wait_target_alert_once_per_ticket(
    app: Flask,
    clock: FakeClock,
    make_ticket: Callable[..., dict[str, Any]],
    login: Callable[[str], Staff],
) -> None:
    extension = app.extensions["yihao"]
    make_ticket("card_services")  # target 15 minutes
    clock.advance(minutes=15)
    assert send_alerts(extension) == 0  # exactly at the target: not past it
    clock.advance(seconds=1)
    assert send_alerts(extension) == 1
    assert send_alerts(extension) == 0  # run again: nothing new
    clock.advance(minutes=30)
    assert send_alerts(extension) == 0  # the same ticket is never alerted twice
    alerts = login("manager").get("/api/v1/alerts").json["alerts"]
    assert [alert["kind"] for alert in alerts] == ["wait_target"]
    assert "A001" in alerts[0]["message"]
    # Unambiguous: the wait, the business's own target, and by how much it is past it.
    assert "已等候15分钟；该业务目标等候15分钟，已超出0分钟" in alerts[0]["message"]
    assert "社保卡业务" in alerts[0]["message"]


def test_paused_counter_alert_once_per_pause(
    app: Flask, clock: FakeClock, clerk_at: Callable[[int], Staff]
) -> None:
    extension = app.extensions["yihao"]
    clerk = clerk_at(3)
    assert clerk.counter(3, "pause").status_code == 200
    clock.advance(minutes=14, seconds=59)
    assert send_alerts(extension) == 0
    clock.advance(seconds=1)
    assert send_alerts(extension) == 1
    assert send_alerts(extension) == 0
    clerk.counter(3, "resume")
    clerk.counter(3, "pause")
    clock.advance(minutes=20)
    assert send_alerts(extension) == 1  # a new pause is a new alert
    assert count(app, ManagerAlert) == 2


def test_alerts_reach_the_manager_namespace(
    app: Flask,
    clock: FakeClock,
    make_ticket: Callable[..., dict[str, Any]],
    login: Callable[[str], Staff],
) -> None:
    extension = app.extensions["yihao"]
    socketio = extension.socketio
    manager = socketio.test_client(
        app, namespace="/manager", auth={"token": login("manager").token}
    )
    manager.get_received("/manager")
    make_ticket("pickup")
    clock.advance(minutes=16)
    send_alerts(extension)
    alerts = [m for m in manager.get_received("/manager") if m["name"] == "alert"]
    assert len(alerts) == 1
    payload = alerts[0]["args"][0]
    assert payload["kind"] == "wait_target"
    assert set(payload) >= {"seq", "kind", "message", "at"}
    assert payload["at"].endswith("+08:00")
    manager.disconnect(namespace="/manager")


def test_clerks_cannot_listen_to_alerts(app: Flask, login: Callable[[str], Staff]) -> None:
    socketio = app.extensions["yihao"].socketio
    clerk = socketio.test_client(app, namespace="/manager", auth={"token": login("clerk01").token})
    assert not clerk.is_connected("/manager")


def test_daily_summaries_once_per_quiet_day(
    app: Flask,
    clock: FakeClock,
    make_ticket: Callable[..., dict[str, Any]],
    clerk_at: Callable[[int], Staff],
) -> None:
    extension = app.extensions["yihao"]
    make_ticket("employment")
    clerk = clerk_at(1)
    clock.advance(minutes=5)
    clerk.counter(1, "call-next")
    assert write_summaries(extension) == 0  # today is never summarised
    clock.advance(days=1)
    assert write_summaries(extension) == 0  # a ticket is still in hand at counter 1
    clerk.counter(1, "finish")
    assert write_summaries(extension) == 0  # finished just now: its rating may still come
    clock.advance(minutes=11)
    assert write_summaries(extension) == 1
    rows = count(app, DailySummary)
    assert rows > 0
    assert write_summaries(extension) == 0
    assert count(app, DailySummary) == rows
