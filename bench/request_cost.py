"""What one request costs the server itself: CPU time, wall time and SQL statements of the
requests a busy hall makes most (issue, call-next, finish, a staff token's check), run
in-process through Flask's test client on the demo hall with a queue of waiting tickets.
No HTTP, no other load, one thread: the figures are the request's own code and its
database round trips, to compare one tree with another (docs/PERFORMANCE.md).

    python -m bench.request_cost [--db sqlite|postgres|all] [--requests 300] [--waiting 200]

PostgreSQL is the bench's own database (`YIHAO_BENCH_POSTGRES_URL`, default test_h7)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event

from bench.deploy import POSTGRES_URL, reset_postgres
from queue_server import create_app, migrations
from queue_server.db import make_engine

SECRET = "bench-secret-key-for-request-cost-only"


class Hall:
    """The demo hall in-process, with clerk01 signed in at counter 1."""

    def __init__(self, url: str, folder: Path) -> None:
        if url.startswith("postgresql"):
            reset_postgres(url)
            engine = make_engine(url)
            with engine.connect() as connection:
                migrations.upgrade(connection, "head")
            engine.dispose()
        self.app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": SECRET, "INSTANCE_DIR": str(folder)}
        )
        self.client = self.app.test_client()
        self.statements = 0
        engine = self.app.extensions["yihao"].engine

        @event.listens_for(engine, "before_cursor_execute")
        def count(*_: Any) -> None:
            self.statements += 1

        answer = self.client.post(
            "/api/v1/auth/login", json={"username": "clerk01", "password": "demo"}
        )
        self.token = answer.json["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.expect(self.client.post("/api/v1/counters/1/sign-in", headers=self.headers))

    @staticmethod
    def expect(answer: Any) -> None:
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"{answer.status_code}: {answer.json}")

    def issue(self) -> None:
        self.expect(self.client.post("/api/v1/tickets", json={"service": "employment"}))

    def call_next(self) -> None:
        self.expect(self.client.post("/api/v1/counters/1/call-next", headers=self.headers))

    def finish(self) -> None:
        self.expect(self.client.post("/api/v1/counters/1/finish", headers=self.headers))

    def token_check(self) -> None:
        self.app.extensions["yihao"].staff.user_for_token(self.token)

    def measure(
        self,
        request: Callable[[], None],
        count: int,
        between: Callable[[], None] | None = None,
    ) -> dict[str, float]:
        """`request` `count` times (with `between`, not measured, after each): median CPU
        and wall time, statements a request."""
        cpu, wall, statements = [], [], 0
        for _ in range(count):
            self.statements = 0
            started_cpu, started = time.process_time(), time.perf_counter()
            request()
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started)
            statements += self.statements
            if between is not None:
                between()
        return {
            "cpu_ms": statistics.median(cpu) * 1000,
            "wall_ms": statistics.median(wall) * 1000,
            "statements": statements / count,
        }


def measure_database(url: str, requests: int, waiting: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="yihao-request-cost-") as folder:
        hall = Hall(url, Path(folder))
        # The served hall's mode: requests read the boards the publisher keeps, never
        # computing one (services/estimates.py `background`).
        hall.issue()
        hall.app.extensions["yihao"].hall.estimates.background = True
        for _ in range(waiting + 2 * requests):
            hall.issue()
        hall.call_next()
        hall.finish()  # warm: every statement prepared once
        if url.startswith("postgresql"):
            # Statistics of the filled tables now, not from autovacuum in the middle of the
            # measurement (a plan changing halfway made runs differ by half).
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute("VACUUM ANALYZE")
        figures = {"issue": hall.measure(hall.issue, requests)}
        figures["call-next"] = hall.measure(hall.call_next, requests, between=hall.finish)
        hall.call_next()
        figures["finish"] = hall.measure(hall.finish, requests, between=hall.call_next)
        hall.finish()
        figures["token check"] = hall.measure(hall.token_check, requests)
        hall.app.extensions["yihao"].engine.dispose()
        return figures


def chosen_databases(choice: str) -> Iterator[tuple[str, str, Path]]:
    """(label, URL, a scratch folder) of each database `--db` names (sqlite, postgres, all):
    SQLite as a new file in the folder, PostgreSQL the bench's database."""
    for label, name, url in (("SQLite", "sqlite", None), ("PostgreSQL", "postgres", POSTGRES_URL)):
        if choice in (name, "all"):
            with tempfile.TemporaryDirectory(prefix="yihao-bench-db-") as folder:
                yield label, url or f"sqlite:///{folder}/bench.sqlite3", Path(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.request_cost", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--waiting", type=int, default=200)
    args = parser.parse_args(argv)
    print("| request | database | CPU ms (median) | wall ms (median) | statements |")
    print("|---|---|---|---|---|")
    for label, database, _ in chosen_databases(args.db):
        for name, row in measure_database(database, args.requests, args.waiting).items():
            print(
                f"| {name} | {label} | {row['cpu_ms']:.2f} | {row['wall_ms']:.2f} "
                f"| {row['statements']:.1f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
