"""Monthly roll-ups of the daily summaries: a finished month is added up once, and a report
over whole months reads them and still gives the known day's numbers to the second."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask

from queue_server.manager.models import MonthlySummary
from queue_server.manager.stats import drop_daily_summaries, plan_range, write_daily_summaries
from tests.conftest import FakeClock, Staff
from tests.integration import test_reports
from tests.integration.test_reports import EXPECTED, ok, without_names

known_day = test_reports.known_day  # the known day of the reports test, as a fixture here
MONTH = "from=2026-11-01&to=2026-11-30"
KNOWN_DAY = date(2026, 11, 20)


def test_a_finished_month_is_rolled_up_once_and_reports_read_it(
    known_day: dict[str, Any], login: Callable[[str], Staff], app: Flask, clock: FakeClock
) -> None:
    manager = login("manager")
    extension = app.extensions["yihao"]
    site = extension.hall.config.default_site
    clock.advance(days=1)
    with app.app_context():
        extension.run(site, "test", write_daily_summaries)
    with extension.sessions() as session:
        assert session.query(MonthlySummary).count() == 0  # November is not over
    clock.advance(days=12)  # 3 December
    with app.app_context():
        assert extension.run(site, "test", write_daily_summaries) == []
        extension.run(site, "test", write_daily_summaries)  # once only
    with extension.sessions() as session:
        rows = session.query(MonthlySummary).all()
        assert {row.report_group for row in rows} == {
            "service", "queue", "counter", "clerk", "hour", "all", "weekday_hour"
        }  # fmt: skip
        assert len([row for row in rows if row.report_group == "all"]) == 1
        assert len(rows) == len({(r.report_group, r.key) for r in rows})

    plan = extension.read(site, plan_range, date(2026, 11, 1), date(2026, 11, 30))
    assert (plan.months, plan.summarised, plan.open_days) == ([date(2026, 11, 1)], [], [])
    for group, expected in EXPECTED.items():
        body = ok(manager.get(f"/api/v1/stats?group={group}&{MONTH}"))
        assert without_names(body["rows"]) == expected, group
        assert body["total"] == dict(EXPECTED["day"][0], key="total"), group
    heat = ok(manager.get(f"/api/v1/stats/heatmap?{MONTH}"))
    assert heat["cells"] == [
        {"weekday": 4, "hour": 9, "arrivals": 5, "avg_wait_s": 876.0, "p90_wait_s": 1320},
        {"weekday": 4, "hour": 10, "arrivals": 1, "avg_wait_s": None, "p90_wait_s": None},
    ]

    # Dropping a day's summaries drops its month too; the next run rebuilds both.
    with app.app_context():
        extension.run(site, "test", drop_daily_summaries, KNOWN_DAY, KNOWN_DAY)
    with extension.sessions() as session:
        assert session.query(MonthlySummary).count() == 0
    with app.app_context():
        extension.run(site, "test", write_daily_summaries)
    with extension.sessions() as session:
        assert session.query(MonthlySummary).filter_by(report_group="all").count() == 1
    body = ok(manager.get(f"/api/v1/stats?group=service&{MONTH}"))
    assert without_names(body["rows"]) == EXPECTED["service"]
