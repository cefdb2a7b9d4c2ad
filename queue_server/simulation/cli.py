"""`python run.py simulate`: replay a day (or a synthetic one) under the hall's rules or
changed ones, in simulated time (SPEC §10).

    python run.py simulate --date 2026-12-01 --database sqlite:///instance/yihao.sqlite3
    python run.py simulate --arrivals day.csv --counters 9 --strategy ordered --json

A day from the database replays its tickets as they were taken, each business with the
counter time it really took (others drawn from the learned distributions); a CSV day
(`time,service,party,headcount`) draws every service time from the hall's history when
`--database` is given, else from the configured durations. Prints per line visitors, p50 and
p90 wait, the share called within the business's target wait, and the estimator's error
(Σ|estimate at issue − wait| ÷ Σ wait). Exit 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from queue_server.config import ConfigError, SiteConfig, load_settings
from queue_server.domain.estimates import FinishedStep, ServiceTimes, configured_service_times
from queue_server.domain.routing import RoutingRule, route
from queue_server.services.estimates import (
    HISTORY_DAYS,
    configured_durations,
    learn_for_site,
)
from queue_server.simulation.engine import CounterSetup, DayResult, EstimatorRun, Hall, Visit

CSV_FIELDS = ("time", "service", "party", "headcount")
CSV_DAY = date(2026, 1, 5)  # a synthetic day's date: only its hours matter
ESTIMATE_DRAWS = 20


class BadArguments(Exception):
    """A value the parser could not check alone (site, file, day): exit 2 with the message."""


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive whole number")
    return number


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date like 2026-12-01") from None


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python run.py simulate",
        description="Replay a day of the hall in simulated time, as it was or with changes.",
    )
    parser.add_argument("--database", help="database URL (default: the server's)")
    parser.add_argument("--config", help="YAML hall file (default: the server's)")
    parser.add_argument("--site", help="site code (default: the first of the hall file)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--date", type=day, help="replay this business day (YYYY-MM-DD)")
    which.add_argument("--arrivals", type=Path, help="CSV: time,service,party,headcount")
    parser.add_argument("--counters", type=positive, help="open comprehensive counters 1…N all day")
    parser.add_argument("--strategy", choices=("fifo", "ordered"), help="every counter's")
    parser.add_argument(
        "--threshold", type=positive, help="enterprise headcount sent to the back office"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    return parser.parse_args(list(argv))


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)  # exits 2 on a bad option
    try:
        return run(args)
    except (BadArguments, ConfigError) as error:
        print(f"yihao simulate: {error}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.config:
        overrides["CONFIG"] = args.config
    if args.database:
        overrides["DATABASE_URL"] = args.database
    settings = load_settings(overrides)
    site = settings.hall_config.site(args.site)
    if site is None:
        raise BadArguments(f"no site '{args.site}' in the hall file")
    rules = changed_rules(site, args.threshold)
    counters = changed_counters(site, args.counters, args.strategy)
    history: list[FinishedStep] = []
    if args.date is not None:
        visits, history = load_day(settings, site, args.date)
    else:
        visits = read_arrivals(site, args.arrivals)
        if args.database:
            history = load_recent_history(settings, site)
    result = simulate(site, counters, rules, visits, history, args.seed)
    report = summary(site, result)
    print(json.dumps(report, ensure_ascii=False) if args.json else table(report))
    return 0


def changed_rules(site: SiteConfig, threshold: int | None) -> tuple[RoutingRule, ...]:
    rules = site.rules()
    if threshold is None:
        return rules
    return tuple(
        replace(rule, min_headcount=threshold) if rule.min_headcount is not None else rule
        for rule in rules
    )


def comprehensive_lines(rules: Sequence[RoutingRule]) -> list[str]:
    """The lines a comprehensive business of one person goes to (A and B in the demo)."""
    lines = []
    for party in ("individual", "enterprise"):
        line = route(rules, "comprehensive", party, 1)
        if line is not None and line not in lines:
            lines.append(line)
    return lines


def changed_counters(
    site: SiteConfig,
    count: int | None,
    strategy: str | None,
) -> list[CounterSetup]:
    counters = [CounterSetup(c.number, tuple(c.queues), c.strategy) for c in site.counters]
    if count is not None:
        lines = comprehensive_lines(site.rules())  # the hall's, whatever the threshold
        is_comprehensive = [set(counter.queues) <= set(lines) for counter in counters]
        template = next(
            (counter for counter, yes in zip(counters, is_comprehensive, strict=True) if yes),
            CounterSetup(0, tuple(lines), "fifo"),
        )
        others = [c for c, yes in zip(counters, is_comprehensive, strict=True) if not yes]
        counters = [replace(template, number=number) for number in range(1, count + 1)]
        counters += [
            replace(counter, number=count + index) for index, counter in enumerate(others, 1)
        ]
    if strategy is not None:
        counters = [replace(counter, strategy=strategy) for counter in counters]
    return counters


def read_arrivals(site: SiteConfig, path: Path) -> list[Visit]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise BadArguments(f"cannot read {path}: {error.strerror}") from None
    reader = csv.DictReader(text.splitlines())
    if tuple(name.strip() for name in reader.fieldnames or ()) != CSV_FIELDS:
        raise BadArguments(f"{path}: the header must be {','.join(CSV_FIELDS)}")
    start = datetime.combine(CSV_DAY, time(0), site.zone)
    visits = []
    for line, row in enumerate(reader, start=2):
        where = f"{path}, line {line}"
        try:
            hours, minutes, seconds = (int(part) for part in row["time"].strip().split(":"))
            if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60):
                raise ValueError
        except (ValueError, AttributeError):
            raise BadArguments(f"{where}: time '{row['time']}' is not HH:MM:SS") from None
        code = (row["service"] or "").strip()
        service = site.service(code)
        if service is None:
            raise BadArguments(f"{where}: unknown service '{code}'")
        party = (row["party"] or "").strip() or "individual"
        if party not in service.parties:
            raise BadArguments(f"{where}: {code} is not for party '{party}'")
        try:
            headcount = int((row["headcount"] or "1").strip())
            if headcount < 1:
                raise ValueError
        except ValueError:
            raise BadArguments(f"{where}: headcount '{row['headcount']}' is not ≥ 1") from None
        at = start + timedelta(hours=hours, minutes=minutes, seconds=seconds)
        visits.append(Visit(at, code, party, headcount))
    if not visits:
        raise BadArguments(f"{path}: no arrivals")
    return sorted(visits, key=lambda visit: visit.at)


def _engine(settings: Any) -> Any:
    from queue_server import INSTANCE_DIR
    from queue_server.db import default_sqlite_url, make_engine

    url = settings.database_url or default_sqlite_url(Path(settings.instance_dir or INSTANCE_DIR))
    return make_engine(url)


def load_day(
    settings: Any, site: SiteConfig, business_day: date
) -> tuple[list[Visit], list[FinishedStep]]:
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from queue_server.services.estimates import finished_steps
    from queue_server.simulation.replay import day_visits

    engine = _engine(settings)
    try:
        with Session(engine) as session:
            visits = day_visits(session, site, business_day)
            history = finished_steps(
                session, site.code, business_day - timedelta(days=HISTORY_DAYS), business_day
            )
    except SQLAlchemyError as error:
        raise BadArguments(f"cannot read the database: {error.__class__.__name__}") from None
    finally:
        engine.dispose()
    if not visits:
        raise BadArguments(f"no tickets of site {site.code} on {business_day.isoformat()}")
    before = datetime.combine(business_day, time(0), site.zone)
    return visits, [step for step in history if step.ended_at < before]


def load_recent_history(settings: Any, site: SiteConfig) -> list[FinishedStep]:
    from sqlalchemy import func, select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from queue_server.models import Step
    from queue_server.services.estimates import finished_steps

    engine = _engine(settings)
    try:
        with Session(engine) as session:
            last = session.scalar(
                select(func.max(Step.business_day)).where(Step.site_code == site.code)
            )
            if last is None:
                return []
            return finished_steps(session, site.code, last - timedelta(days=HISTORY_DAYS), last)
    except SQLAlchemyError as error:
        raise BadArguments(f"cannot read the database: {error.__class__.__name__}") from None
    finally:
        engine.dispose()


def simulate(
    site: SiteConfig,
    counters: Sequence[CounterSetup],
    rules: Sequence[RoutingRule],
    visits: Sequence[Visit],
    history: Sequence[FinishedStep],
    seed: int,
) -> DayResult:
    """The day, with service times drawn from history (or the configured durations) where
    a visit has none recorded, and the estimator asked at every issue."""
    times: ServiceTimes = (
        learn_for_site(site, history)
        if history
        else configured_service_times(
            site.zone, site.policy.default_service_s, configured_durations(site)
        )
    )
    estimator = EstimatorRun(
        learn=lambda steps, now: learn_for_site(site, steps, now),
        history=history,
        draws=ESTIMATE_DRAWS,
        seed=seed + 1,
    )
    hall = Hall(site, counters, rules, times, random.Random(seed), estimator)
    return hall.run(visits)


def nearest_rank(ordered: Sequence[float], share: float) -> float:
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def summary(site: SiteConfig, result: DayResult) -> dict[str, Any]:
    lines = []
    for queue in site.queues:
        steps = [step for step in result.steps if step.queue == queue.code]
        waits = sorted(step.wait_s for step in steps if step.wait_s is not None)
        within = sum(
            1 for step in steps if step.wait_s is not None and step.wait_s <= step.target_s
        )
        lines.append(
            {
                "line": queue.code,
                "visitors": len(steps),
                "p50_wait_s": round(nearest_rank(waits, 0.5)) if waits else None,
                "p90_wait_s": round(nearest_rank(waits, 0.9)) if waits else None,
                "within_target_pct": round(100 * within / len(steps), 1) if steps else None,
            }
        )
    pairs = [
        (step.estimate_s, step.wait_s)
        for step in result.first_steps()
        if step.estimate_s is not None and step.wait_s is not None
    ]
    actual = sum(wait for _, wait in pairs)
    error = 100 * sum(abs(guess - wait) for guess, wait in pairs) / actual if actual else None
    return {
        "lines": lines,
        "estimate_error_pct": round(error, 1) if error is not None else None,
    }


def table(report: dict[str, Any]) -> str:
    columns = ("line", "visitors", "p50_wait_s", "p90_wait_s", "within_target_pct")
    rows = [columns] + [
        tuple("–" if line[key] is None else str(line[key]) for key in columns)
        for line in report["lines"]
    ]
    widths = [max(len(row[index]) for row in rows) for index in range(len(columns))]
    text = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    error = report["estimate_error_pct"]
    text.append(f"estimate_error_pct: {'–' if error is None else error}")
    return "\n".join(text)
