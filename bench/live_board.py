"""What the managers' live board costs (`live_stats`: `GET /api/v1/stats/live`, and the `stats`
push that the publisher recomputes a few times a second in a burst), on a busy day.

    python -m bench.live_board [--tickets 1500] [--runs 30] [--database URL]

Builds the demo hall on a fresh SQLite file (or the PostgreSQL database given, whose `public`
schema is wiped first), then plays a day through the API with a fake clock: a number taken
every 15 s from 08:30, six comprehensive counters calling and finishing, one rating in four.
Prints the median time of `live_stats` as a whole and of the day-board queries alone
(services/day_board.py), with the row counts they read, and how many SQL statements one
`live_stats` sends.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, select, text

from queue_server import create_app
from queue_server.db import normalise_url
from queue_server.models import Step
from queue_server.services import day_board
from queue_server.services.reports import live_stats
from queue_server.services.unit_of_work import UnitOfWork

COUNTERS = (1, 2, 3, 4, 5, 6)
SERVICES = ("employment", "social_insurance", "medical_insurance", "card_services")


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def median_ms(runs: int, work: Callable[[], Any]) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def play_day(client: Any, clock: Clock, tickets: int) -> None:
    def token(username: str) -> str:
        answer = client.post("/api/v1/auth/login", json={"username": username, "password": "demo"})
        return str(answer.json["token"])

    clerks = {
        number: {"Authorization": f"Bearer {token(f'clerk{number:02d}')}"} for number in COUNTERS
    }
    for number, headers in clerks.items():
        client.post(f"/api/v1/counters/{number}/sign-in", headers=headers)
    busy: dict[int, bool] = dict.fromkeys(COUNTERS, False)
    for index in range(tickets):
        client.post("/api/v1/tickets", json={"service": SERVICES[index % len(SERVICES)]})
        clock.now += timedelta(seconds=15)
        if index % 8 >= len(COUNTERS):  # six counters for eight arrivals: a queue builds up
            continue
        number = COUNTERS[index % 8]
        headers = clerks[number]
        if busy[number]:
            client.post(f"/api/v1/counters/{number}/finish", headers=headers)
            if index % 4 == 0:
                client.post(f"/api/v1/counters/{number}/rating", json={"rating": 1 + index % 5})
        answer = client.post(f"/api/v1/counters/{number}/call-next", headers=headers)
        busy[number] = bool(answer.json and answer.json.get("ticket"))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.live_board")
    parser.add_argument("--tickets", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database", default=None, help="PostgreSQL URL (wiped first)")
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="yihao-live-board-"))
    database = arguments.database or f"sqlite:///{folder / 'live.sqlite3'}"
    if database.startswith("postgresql"):
        engine = create_engine(normalise_url(database))
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    clock = Clock(datetime(2026, 11, 20, 0, 30, tzinfo=UTC))  # 08:30 in the hall
    app = create_app(
        {
            "DATABASE_URL": database,
            "SECRET_KEY": "x" * 40,
            "TESTING": True,
            "CLOCK": clock,
            "INSTANCE_DIR": str(folder / "instance"),
        }
    )
    extension = app.extensions["yihao"]
    site = extension.hall.config.sites[0]
    started = time.perf_counter()
    play_day(app.test_client(), clock, arguments.tickets)
    played_s = time.perf_counter() - started

    def each(query: Callable[[UnitOfWork], Any]) -> Callable[[], Any]:
        return lambda: extension.read(site, query)

    def board_queries(uow: UnitOfWork) -> None:
        lines = day_board.line_hours(uow)
        day_board.day_totals(uow, lines, day_board.wait_histogram(uow))
        day_board.clerk_day(uow)
        day_board.overdue_lines(uow)
        day_board.in_hand(uow)

    with app.app_context():
        stats = extension.read(site, live_stats)
        statements: list[str] = []

        def count(*_: Any) -> None:
            statements.append("")

        event.listen(extension.engine, "before_cursor_execute", count)
        extension.read(site, live_stats)
        event.remove(extension.engine, "before_cursor_execute", count)
        steps = extension.read(
            site, lambda uow: uow.session.scalar(select(func.count()).select_from(Step))
        )
        whole = median_ms(arguments.runs, lambda: extension.read(site, live_stats))
        queries = median_ms(arguments.runs, lambda: extension.read(site, board_queries))
        parts = {
            name: median_ms(arguments.runs, each(query))
            for name, query in (
                ("line_hours", day_board.line_hours),
                ("wait_histogram", day_board.wait_histogram),
                ("clerk_day", day_board.clerk_day),
                ("overdue_lines", day_board.overdue_lines),
                ("in_hand", day_board.in_hand),
            )
        }
    kind = "PostgreSQL" if database.startswith("postgresql") else "SQLite"
    print(
        f"{kind}: {arguments.tickets} numbers taken, {steps} steps today "
        f"(played in {played_s:.1f} s)"
    )
    print(
        f"today: tickets {stats['today']['tickets']}, served {stats['today']['served']}, "
        f"p50 {stats['today']['p50_wait_s']} s, p90 {stats['today']['p90_wait_s']} s, "
        f"clerks {len(stats['clerks'])}"
    )
    print(
        f"live_stats (whole payload), median of {arguments.runs}: {whole:.1f} ms, "
        f"{len(statements)} SQL statements"
    )
    print(f"day-board queries alone (5 aggregates), median of {arguments.runs}: {queries:.1f} ms")
    print(
        "  each, in its own read: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in parts.items())
    )
    extension.engine.dispose()


if __name__ == "__main__":
    main()
