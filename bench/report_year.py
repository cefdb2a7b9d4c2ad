"""A year of a whole city's queue on PostgreSQL, and how fast the reports answer over it.

    python -m bench.report_year --database postgresql://postgres@127.0.0.1:5432/test_h8 \
        [--steps 6000000] [--quick] [--keep] [--reuse]

1. Resets the database's `public` schema and creates it through the app's own `create_app`,
   with one big hall holding the whole city's traffic (the worst case for one report: every
   step of the year in the site being reported on): 60 counters, 70 clerks, the demo hall's
   lines and businesses.
2. Generates a year of realistic visits (working days only, morning and afternoon peaks,
   transfers, no-shows, cancellations, ratings; waits longer at peak hours) and loads the
   tickets and steps with COPY. "Today" is left half done: waiting, called and serving steps
   that a report reads from the steps table.
3. Runs the real `daily_summaries` job until every finished day is summarised.
4. Times `GET /api/v1/stats` for the last month and the last year, for each group, through the
   Flask test client with a manager's token (first call, and the median of three more), and the
   year's CSV export and heatmap.
5. Checks the year report's totals against one direct SQL aggregate over the steps.
6. Prints a table, then drops everything (DROP SCHEMA public CASCADE) unless --keep.

--quick loads 300,000 steps; --reuse times the data a previous --keep run left.
Never point this at a database that holds anything you want: it is wiped first and last.
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import yaml
from flask import Flask
from flask.testing import FlaskClient

from queue_server import create_app
from queue_server.config import DEFAULT_HALL_FILE
from queue_server.domain.calendar import HallCalendar
from queue_server.domain.reporting import GROUPS
from queue_server.manager.jobs import write_summaries

SITE = "city"
ZONE = ZoneInfo("Asia/Shanghai")
# "Today" (the clock of the app): Friday 20 November 2026, 15:00 in Shanghai.
NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
TODAY = NOW.astimezone(ZONE).date()
YEAR_FIRST = TODAY - timedelta(days=364)
MONTH_FIRST = TODAY - timedelta(days=29)
LIMIT_S = 2.0

COUNTERS = 60
CLERKS = 70
# Counters 1–40 serve the comprehensive lines A and B, 41–48 the special line C, 49–54
# pickup D, 55–60 the enterprise back office E.
COUNTERS_OF = {
    "A": range(1, 41),
    "B": range(1, 41),
    "C": range(41, 49),
    "D": range(49, 55),
    "E": range(55, 61),
}
# (service, share of visits); the queue follows the demo hall's routing.
SERVICE_MIX = (
    ("social_insurance", 0.26),
    ("medical_insurance", 0.18),
    ("employment", 0.12),
    ("card_services", 0.14),
    ("admin_approval", 0.05),
    ("hiring_filing", 0.03),
    ("maternity", 0.06),
    ("chronic_disease", 0.04),
    ("pickup", 0.12),
)
# Arrivals per local half hour from 08:30 to 17:00 (relative weights): two peaks.
ARRIVAL_WEIGHTS = (6, 10, 12, 12, 11, 9, 7, 3, 2, 5, 8, 9, 9, 7, 5, 3, 2)


# -- the hall ----------------------------------------------------------------------------
def city_hall() -> dict[str, Any]:
    """The demo hall's lines, businesses and calendar, grown to a whole city's hall."""
    demo = yaml.safe_load(Path(DEFAULT_HALL_FILE).read_text(encoding="utf-8"))
    site = demo["sites"][0]
    password_hash = demo["users"][0]["password_hash"]
    counters = []
    for number in range(1, COUNTERS + 1):
        queues = [code for code, numbers in COUNTERS_OF.items() if number in numbers]
        counters.append({"number": number, "name": f"{number}号窗口", "queues": queues})
    users = [
        {
            "username": f"clerk{index:03d}",
            "name": f"柜员{index:03d}",
            "role": "clerk",
            "clerk_no": f"RS{index:03d}",
            "password_hash": password_hash,
        }
        for index in range(1, CLERKS + 1)
    ]
    users.append(
        {"username": "manager", "name": "孙经理", "role": "manager", "password_hash": password_hash}
    )
    site = {**site, "code": SITE, "name": "全市人社服务大厅", "counters": counters}
    site["kiosks"] = [{"code": "K1", "name": "一楼取号机"}]
    return {"sites": [site], "users": users}


def working_days(hall: dict[str, Any]) -> list[date]:
    """The hall calendar's working days of the year (the library's holidays and the hall's)."""
    calendar = HallCalendar.of(**hall["sites"][0].get("calendar", {}))
    days = []
    day = YEAR_FIRST
    while day <= TODAY:
        if calendar.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


# -- the data ----------------------------------------------------------------------------
QUEUE_OF = {
    "social_insurance": "A",
    "medical_insurance": "A",
    "employment": "A",
    "card_services": "A",
    "admin_approval": "A",
    "hiring_filing": "B",
    "maternity": "C",
    "chronic_disease": "C",
    "pickup": "D",
}
PREFIX = {"A": "A", "B": "B", "C": "C", "D": "D", "E": "E"}
STEP_COLUMNS = (
    "id, ticket_id, site_code, business_day, position, queue_code, services, status,"
    " priority_class, enqueued_at, sort_at, called_at, started_at, ended_at, counter_number,"
    " clerk_username, recalls, outcome, keep_counter, rating, rating_reasons, rated_at"
)
TICKET_COLUMNS = (
    "id, site_code, business_day, issue_queue, number, service_code, party, headcount,"
    " priority, state, current_step, issued_at, ended_at"
)
NULL = "\\N"


def stamp(moment: datetime | None) -> str:
    return NULL if moment is None else moment.isoformat(sep=" ")


@dataclass
class DayWriter:
    """Makes one business day's tickets and steps as COPY text."""

    rng: random.Random
    day: date
    first_step_id: int
    steps: list[str] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)

    @property
    def next_step_id(self) -> int:
        return self.first_step_id + len(self.steps)

    def clerk_at(self, counter: int) -> str:
        # Clerks rotate over the counters from day to day.
        return f"clerk{(counter + self.day.toordinal()) % CLERKS + 1:03d}"

    def wait_s(self, local_hour: float) -> float:
        peak = 9.0 <= local_hour < 11.5 or 14.0 <= local_hour < 16.0
        return min(7200.0, self.rng.expovariate(1 / (900.0 if peak else 360.0)))

    def service_s(self) -> float:
        return min(3600.0, self.rng.lognormvariate(math.log(240), 0.6))

    def visit(self, arrival: datetime, now: datetime | None) -> int:
        """One ticket and its steps; `now` cuts today's day short. Returns its steps."""
        rng = self.rng
        service = rng.choices(SERVICE_MIX_CODES, SERVICE_MIX_WEIGHTS)[0]
        party = "enterprise" if service == "hiring_filing" or rng.random() < 0.08 else "individual"
        queue = QUEUE_OF[service]
        if party == "enterprise" and queue == "A":
            queue = "E" if rng.random() < 0.15 else "B"
        self.numbers[queue] = self.numbers.get(queue, 0) + 1
        number = f"{PREFIX[queue]}{self.numbers[queue]:04d}"
        ticket_id = f"{self.day:%Y%m%d}{queue}{self.numbers[queue]:06d}"
        first_queue = queue
        transfer = rng.random() < 0.12 and queue in ("A", "B")
        enqueued = arrival
        position = 1
        state = "done"
        ended: datetime | None = None
        services = [service]
        if rng.random() < 0.2 and queue == "A":
            services.append(rng.choice(("card_services", "employment", "medical_insurance")))
        made = 0
        while True:
            local_hour = enqueued.astimezone(ZONE).hour + enqueued.astimezone(ZONE).minute / 60
            wait = self.wait_s(local_hour)
            called: datetime | None = enqueued + timedelta(seconds=wait)
            roll = rng.random()
            outcome: str | None
            if roll < 0.03:
                # Cancelled by the visitor before being called.
                outcome, called = "cancelled", None
                ended = enqueued + timedelta(seconds=wait * rng.random())
            elif roll < 0.07:
                outcome = "no_show"
                assert called is not None
                ended = called + timedelta(seconds=rng.uniform(60, 300))
            else:
                outcome = "transferred" if transfer and position == 1 else "done"
                assert called is not None
                ended = called + timedelta(seconds=20 + self.service_s())
            started = None
            if outcome in ("done", "transferred") and called is not None and rng.random() < 0.95:
                started = called + timedelta(seconds=rng.uniform(5, 40))
            status = "ended"
            if now is not None and ended > now:
                # Today: still in the hall.
                if called is None or called > now:
                    status, called, started, outcome, ended = "waiting", None, None, None, None
                elif started is None or started > now:
                    status, started, outcome, ended = "called", None, None, None
                else:
                    status, outcome, ended = "serving", None, None
            counter = None
            clerk = None
            if called is not None:
                counter = rng.choice(COUNTERS_OF[queue])
                clerk = self.clerk_at(counter)
            rating = None
            rated = None
            if outcome == "done" and ended is not None and rng.random() < 0.35:
                rating = rng.choices((5, 4, 3, 2, 1), (70, 18, 6, 3, 3))[0]
                rated = ended + timedelta(seconds=rng.uniform(3, 100))
                if now is not None and rated > now:
                    rating, rated = None, None
            reasons = '["wait"]' if rating is not None and rating <= 2 else NULL
            services_json = "[" + ", ".join(f'"{code}"' for code in services) + "]"
            self.steps.append(
                "\t".join(
                    (
                        str(self.next_step_id),
                        ticket_id,
                        SITE,
                        self.day.isoformat(),
                        str(position),
                        queue,
                        services_json,
                        status,
                        "2",
                        stamp(enqueued),
                        stamp(enqueued),
                        stamp(called),
                        stamp(started),
                        stamp(ended),
                        NULL if counter is None else str(counter),
                        NULL if clerk is None else clerk,
                        "0",
                        NULL if outcome is None else outcome,
                        "f",
                        NULL if rating is None else str(rating),
                        reasons,
                        stamp(rated),
                    )
                )
            )
            made += 1
            if status != "ended":
                state = status
                ended = None
                break
            if outcome != "transferred":
                state = {"done": "done", "no_show": "expired", "cancelled": "cancelled"}[outcome]
                break
            # The transfer: a new step in the other line, enqueued at the transfer.
            position += 1
            assert ended is not None
            enqueued = ended
            queue = "B" if queue == "A" else "A"
            services = [rng.choice(("employment", "social_insurance", "card_services"))]
        self.tickets.append(
            "\t".join(
                (
                    ticket_id,
                    SITE,
                    self.day.isoformat(),
                    first_queue,
                    number,
                    service,
                    party,
                    "1",
                    "normal",
                    state,
                    str(position),
                    stamp(arrival),
                    stamp(ended),
                )
            )
        )
        return made


SERVICE_MIX_CODES = [code for code, _ in SERVICE_MIX]
SERVICE_MIX_WEIGHTS = [share for _, share in SERVICE_MIX]


def arrivals(rng: random.Random, day: date, count: int) -> Iterator[datetime]:
    """`count` arrival times over the day's opening hours, in order."""
    opening = datetime(day.year, day.month, day.day, 8, 30, tzinfo=ZONE).astimezone(UTC)
    slots = rng.choices(range(len(ARRIVAL_WEIGHTS)), ARRIVAL_WEIGHTS, k=count)
    offsets = sorted(slot * 1800 + rng.random() * 1800 for slot in slots)
    for offset in offsets:
        yield opening + timedelta(seconds=offset)


def load(database: str, hall: dict[str, Any], total_steps: int) -> tuple[int, int]:
    """COPY a year of tickets and steps into the database. Returns (tickets, steps)."""
    rng = random.Random(20261120)  # reproducible
    days = working_days(hall)
    # Visits make ~1.12 steps each; today is cut at 15:00 (about 70 % of a day's arrivals).
    visits_per_day = total_steps / 1.12 / (len(days) - 0.3)
    step_id = 1
    tickets = 0
    with psycopg.connect(database) as connection, connection.cursor() as cursor:
        # Generated rows are consistent by construction: skip the per-row foreign-key
        # triggers while loading (the schema's keys stay; ANALYZE follows).
        cursor.execute("SET session_replication_role = replica")
        for index, day in enumerate(days):
            is_today = day == TODAY
            weekday_factor = (1.25, 1.05, 1.0, 0.95, 0.9, 0.8, 0.8)[day.weekday()]
            count = int(visits_per_day * weekday_factor * rng.uniform(0.85, 1.15))
            writer = DayWriter(rng, day, step_id)
            for arrival in arrivals(rng, day, count):
                if is_today and arrival > NOW:
                    break
                writer.visit(arrival, NOW if is_today else None)
            with cursor.copy(f"COPY tickets ({TICKET_COLUMNS}) FROM STDIN") as copy:
                copy.write("\n".join(writer.tickets) + "\n")
            with cursor.copy(f"COPY steps ({STEP_COLUMNS}) FROM STDIN") as copy:
                copy.write("\n".join(writer.steps) + "\n")
            step_id = writer.next_step_id
            tickets += len(writer.tickets)
            if index % 25 == 0:
                connection.commit()
                print(f"  {day}: {step_id - 1:>10,} steps", flush=True)
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SELECT setval(pg_get_serial_sequence('steps', 'id'), %s)", (step_id,))
        connection.commit()
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE tickets")
        connection.execute("VACUUM ANALYZE steps")
    return tickets, step_id - 1


def reset(database: str) -> None:
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


# -- timing ------------------------------------------------------------------------------
def timed_get(client: FlaskClient, path: str, headers: dict[str, str]) -> tuple[float, Any]:
    started = time.perf_counter()
    response = client.get(path, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, response.status_code, response.get_data()[:300])
    return elapsed, response


def time_reports(app: Flask) -> tuple[list[tuple[str, str, float, float, int]], dict[str, Any]]:
    client = app.test_client()
    login = client.post("/api/v1/auth/login", json={"username": "manager", "password": "demo"})
    assert login.status_code == 200, login.json
    headers = {"Authorization": f"Bearer {login.json['token']}"}
    results = []
    year_total: dict[str, Any] = {}
    for label, first in (("month", MONTH_FIRST), ("year", YEAR_FIRST)):
        for group in GROUPS:
            path = f"/api/v1/stats?from={first}&to={TODAY}&group={group}"
            cold, response = timed_get(client, path, headers)
            warm = statistics.median(timed_get(client, path, headers)[0] for _ in range(3))
            results.append((label, group, cold, warm, len(response.json["rows"])))
            if label == "year":
                year_total = response.json["total"]
                if group in ("service", "queue", "hour", "day"):
                    # Every step is in exactly one of these rows: they add up to the total.
                    issued = sum(row["issued"] for row in response.json["rows"])
                    assert issued == year_total["issued"], (group, issued)
                    # And every ticket in exactly one (its first step's).
                    tickets = sum(row["tickets"] for row in response.json["rows"])
                    assert tickets == year_total["tickets"], (group, tickets)
    for label, path in (
        ("year CSV", f"/api/v1/stats/export.csv?from={YEAR_FIRST}&to={TODAY}&group=service"),
        ("year heatmap", f"/api/v1/stats/heatmap?from={YEAR_FIRST}&to={TODAY}"),
    ):
        cold, _ = timed_get(client, path, headers)
        warm = statistics.median(timed_get(client, path, headers)[0] for _ in range(3))
        results.append((label, "", cold, warm, 0))
    return results, year_total


# -- the check ---------------------------------------------------------------------------
def sql_totals(database: str, hall: dict[str, Any], first: date, last: date) -> dict[str, Any]:
    """The report's total computed by PostgreSQL straight from the steps."""
    targets = {
        service["code"]: service["target_wait_min"] for service in hall["sites"][0]["services"]
    }
    values = ", ".join(f"('{code}', {minutes * 60})" for code, minutes in targets.items())
    query = f"""
        WITH step AS (
            SELECT services->>0 AS service, outcome, rating,
                   json_array_length(services) AS businesses,
                   CASE WHEN called_at IS NOT NULL
                        THEN GREATEST(0, floor(extract(epoch FROM called_at - enqueued_at)))
                   END AS wait_s,
                   CASE WHEN outcome = 'done' THEN GREATEST(0, floor(extract(epoch FROM
                        ended_at - coalesce(started_at, called_at)))) END AS service_s
            FROM steps
            WHERE site_code = %(site)s AND business_day BETWEEN %(first)s AND %(last)s
              AND enqueued_at IS NOT NULL
        )
        SELECT count(*),
               count(*) FILTER (WHERE outcome = 'done'),
               coalesce(sum(businesses) FILTER (WHERE outcome = 'done'), 0),
               count(*) FILTER (WHERE outcome = 'no_show'),
               count(wait_s), sum(wait_s), max(wait_s),
               percentile_disc(0.5) WITHIN GROUP (ORDER BY wait_s),
               percentile_disc(0.9) WITHIN GROUP (ORDER BY wait_s),
               count(service_s), sum(service_s),
               count(*) FILTER (WHERE wait_s <= target.seconds),
               count(rating), sum(rating)
        FROM step LEFT JOIN (VALUES {values}) AS target (service, seconds) USING (service)
    """  # noqa: S608  (the VALUES list is the hall file's own codes and numbers)
    # Numbers taken and time in the hall: each ticket with its first step (position 1).
    visits = """
        SELECT count(*),
               count(*) FILTER (WHERE tickets.state = 'done' AND tickets.ended_at IS NOT NULL),
               coalesce(sum(GREATEST(0, floor(extract(epoch FROM tickets.ended_at
                   - tickets.issued_at)))) FILTER (WHERE tickets.state = 'done'), 0)
        FROM steps JOIN tickets ON tickets.id = steps.ticket_id AND steps.position = 1
        WHERE steps.site_code = %(site)s AND steps.business_day BETWEEN %(first)s AND %(last)s
          AND steps.enqueued_at IS NOT NULL
    """
    with psycopg.connect(database) as connection:
        row = connection.execute(query, {"site": SITE, "first": first, "last": last}).fetchone()
        visit_row = connection.execute(
            visits, {"site": SITE, "first": first, "last": last}
        ).fetchone()
    assert row is not None
    assert visit_row is not None
    tickets, visit_count, visit_sum = visit_row
    (issued, served, items, no_show, called, wait_sum, wait_max, p50, p90, service_count,
     service_sum, sla_met, rating_count, rating_sum) = row  # fmt: skip

    def mean(total: Any, count: int, digits: int) -> float | None:
        return round(float(total) / count, digits) if count else None

    return {
        "tickets": tickets,
        "issued": issued,
        "served": served,
        "items": int(items),
        "no_show": no_show,
        "avg_wait_s": mean(wait_sum, called, 1),
        "p50_wait_s": None if p50 is None else int(p50),
        "p90_wait_s": None if p90 is None else int(p90),
        "max_wait_s": None if wait_max is None else int(wait_max),
        "avg_service_s": mean(service_sum, service_count, 1),
        "avg_visit_s": mean(visit_sum, visit_count, 1),
        "sla_pct": mean(100 * sla_met, called, 1),
        "rating_avg": mean(rating_sum, rating_count, 2),
    }


# -- the machine -------------------------------------------------------------------------
def machine(database: str) -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    with psycopg.connect(database) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        shared = connection.execute("SHOW shared_buffers").fetchone()
    server = f"PostgreSQL {row[0] if row else '?'} (shared_buffers {shared[0] if shared else '?'})"
    cores = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    return (
        f"{cpu}, {cores} cores{memory}; {server}; Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}"
    )


def table_size(database: str) -> str:
    with psycopg.connect(database) as connection:
        rows = connection.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class"
            " WHERE relname IN ('steps', 'tickets', 'daily_summaries') ORDER BY relname"
        ).fetchall()
        count = connection.execute("SELECT count(*) FROM daily_summaries").fetchone()
    sizes = ", ".join(f"{name} {size}" for name, size in rows)
    return f"{sizes}; {count[0] if count else 0:,} summary rows"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL URL (wiped!)")
    parser.add_argument("--steps", type=int, default=6_000_000)
    parser.add_argument("--quick", action="store_true", help="300,000 steps")
    parser.add_argument("--keep", action="store_true", help="leave the data in the database")
    parser.add_argument("--reuse", action="store_true", help="time the data already loaded")
    args = parser.parse_args()
    if not args.database.startswith(("postgresql://", "postgres://")):
        parser.error("--database must be a PostgreSQL URL")
    database = args.database.replace("postgres://", "postgresql://", 1)
    steps_wanted = 300_000 if args.quick else args.steps
    hall = city_hall()

    if not args.reuse:
        reset(database)
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {
                "DATABASE_URL": database,
                "SECRET_KEY": "bench-secret-key-for-yihao-report-year",
                "CLOCK": lambda: NOW,
                "TESTING": True,
                "HALL": hall,
                "INSTANCE_DIR": instance,
            }
        )
        yihao = app.extensions["yihao"]
        try:
            if not args.reuse:
                print(f"loading about {steps_wanted:,} steps, {YEAR_FIRST} … {TODAY}", flush=True)
                started = time.perf_counter()
                tickets, steps = load(database, hall, steps_wanted)
                load_s = time.perf_counter() - started
                print(f"loaded {tickets:,} tickets, {steps:,} steps in {load_s:.0f} s", flush=True)
            # The real job, run until it finds nothing to do (days, then finished months).
            started = time.perf_counter()
            days = 0
            while written := write_summaries(yihao):
                days += written
            summary_s = time.perf_counter() - started
            print(f"daily_summaries job: {days} days in {summary_s:.0f} s", flush=True)
            results, year_total = time_reports(app)
            expected = sql_totals(database, hall, YEAR_FIRST, TODAY)
            reported = {name: year_total[name] for name in expected}
            print()
            print(machine(database))
            print(table_size(database))
            print()
            print(f"{'range':<13}{'group':<9}{'rows':>6}{'first s':>10}{'median s':>10}")
            for label, group, cold, warm, rows in results:
                mark = "" if max(cold, warm) < LIMIT_S else "  > 2 s"
                rows_text = str(rows) if rows else ""
                print(f"{label:<13}{group:<9}{rows_text:>6}{cold:>10.3f}{warm:>10.3f}{mark}")
            print()
            print(f"year total: {reported}")
            if reported != expected:
                print(f"SQL says:   {expected}")
                raise SystemExit("the year report does not match the SQL aggregate")
            print("year total equals the direct SQL aggregate over the steps")
            slow = [result for result in results if result[3] >= LIMIT_S]
            if slow:
                raise SystemExit(f"{len(slow)} reports slower than {LIMIT_S} s")
        finally:
            yihao.engine.dispose()
            if not args.keep:
                reset(database)


if __name__ == "__main__":
    main()
