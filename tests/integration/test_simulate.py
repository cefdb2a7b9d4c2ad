"""`python run.py simulate` from outside: a CSV day, and a day recorded through the API
replayed from its database."""

from __future__ import annotations

import heapq
import json
import math
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import FakeClock, Staff
from tests.live_server import ROOT


def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "simulate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_csv_day_as_json(tmp_path: Path) -> None:
    day = tmp_path / "day.csv"
    rows = ["time,service,party,headcount"]
    rows += [f"09:{minute:02d}:00,social_insurance,individual,1" for minute in range(40)]
    rows += ["10:00:00,hiring_filing,enterprise,2", "10:05:00,pickup,individual,1"]
    day.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = simulate("--arrivals", str(day), "--counters", "2", "--seed", "3", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    lines = {line["line"]: line for line in report["lines"]}
    assert lines["A"]["visitors"] == 40
    assert lines["B"]["visitors"] == 1
    assert lines["D"]["visitors"] == 1
    assert lines["A"]["p90_wait_s"] >= lines["A"]["p50_wait_s"] > 0
    assert 0 <= lines["A"]["within_target_pct"] <= 100
    assert report["estimate_error_pct"] >= 0
    again = simulate("--arrivals", str(day), "--counters", "2", "--seed", "3", "--json")
    assert again.stdout == result.stdout
    bad = simulate("--arrivals", str(day), "--counters", "none")
    assert bad.returncode == 2


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def test_a_recorded_day_is_reproduced(
    database_url: str,
    clock: FakeClock,
    clerk_at: Callable[[int], Staff],
    make_ticket: Callable[..., dict[str, Any]],
) -> None:
    """One counter serves twelve visitors arriving every 40 s, calling whenever it is free;
    the replay with one counter gives their waits back."""
    clerk = clerk_at(1)
    start = clock.now
    arrivals = [start + timedelta(seconds=40 * index) for index in range(12)]
    issued: list[tuple[datetime, dict[str, Any]]] = []
    called: dict[str, datetime] = {}
    free_at = start
    served = 0
    while served < 12:
        next_arrival = arrivals[len(issued)] if len(issued) < 12 else None
        waiting = len(issued) - served
        if next_arrival is not None and (waiting == 0 or next_arrival <= free_at):
            clock.now = max(clock.now, next_arrival)
            service = "social_insurance" if len(issued) % 3 else "employment"
            issued.append((clock.now, make_ticket(service)))
            continue
        clock.now = max(clock.now, free_at)
        ticket = clerk.counter(1, "call-next").json["ticket"]
        called[ticket["number"]] = clock.now
        clock.advance(seconds=20)  # the walk to the window
        assert clerk.counter(1, "start").status_code == 200
        clock.advance(seconds=150 + 25 * (served % 4))
        assert clerk.counter(1, "finish").status_code == 200
        free_at = clock.now
        served += 1
    waits = [(called[ticket["number"]] - at).total_seconds() for at, ticket in issued]
    result = simulate(
        "--date", "2026-11-20", "--database", database_url, "--counters", "1", "--json"
    )
    assert result.returncode == 0, result.stderr
    line = next(line for line in json.loads(result.stdout)["lines"] if line["line"] == "A")
    assert line["visitors"] == 12
    for share, key in ((0.5, "p50_wait_s"), (0.9, "p90_wait_s")):
        assert abs(line[key] - nearest_rank(waits, share)) <= 0.1 * nearest_rank(waits, share)
    empty_day = simulate("--date", "2026-11-21", "--database", database_url, "--json")
    assert empty_day.returncode == 2
    assert "no tickets" in empty_day.stderr


def record_a_busy_day(
    clock: FakeClock, clerk_at: Callable[[int], Staff], client: Any, visitors: int, seed: int
) -> dict[str, list[float]]:
    """A morning driven through the HTTP API: `visitors` arrivals (Poisson, 40 an hour) of
    individuals (A, 5 % green, one in six with a pickup as a further step: D), enterprises
    (B) and special businesses (C); clerks at counters 1–3 ([A, B] fifo), 8 (C) and 9 (D)
    call whenever they are free, walk, start and finish with seeded times. The real waits
    per line (call − enqueue of each step)."""
    rng = random.Random(seed)
    counters = {number: clerk_at(number) for number in (1, 2, 3, 8, 9)}
    start = clock.now
    moment = 0.0
    events: list[tuple[datetime, int, str, Any]] = []
    for index in range(visitors):
        moment += rng.expovariate(40 / 3600)
        draw = rng.random()
        if draw < 0.12:
            body = {"service": "social_insurance", "party": "enterprise"}
            body["headcount"] = rng.randint(1, 5)
        elif draw < 0.2:
            body = {"service": rng.choice(["maternity", "chronic_disease"])}
        else:
            body = {"service": rng.choice(["employment", "medical_insurance", "card_services"])}
            body["priority"] = "green" if rng.random() < 0.05 else "normal"
            if rng.random() < 1 / 6:
                body["phone"] = f"138{index:08d}"  # the pickup is asked for with it
        events.append((start + timedelta(seconds=moment), index, "arrive", body))
    heapq.heapify(events)
    counter_time = {}  # (number, line) → (walk, service) seconds
    enqueued: dict[tuple[str, str], datetime] = {}
    waits: dict[str, list[float]] = {}
    busy: set[int] = set()
    order = visitors
    while events:
        at, _, kind, payload = heapq.heappop(events)
        clock.now = at
        if kind == "arrive":
            ticket = client.post("/api/v1/tickets", json=payload).json["ticket"]
            enqueued[(ticket["number"], ticket["queue"])] = at
            if "phone" in payload:
                pickup = {"service": "pickup", "phone": payload["phone"]}
                assert client.post("/api/v1/tickets", json=pickup).status_code == 200
        elif kind == "start":
            assert counters[payload].counter(payload, "start").status_code == 200
        else:
            answer = counters[payload].counter(payload, "finish").json["ticket"]
            busy.discard(payload)
            if answer["state"] == "waiting":  # on to its pickup step
                enqueued[(answer["number"], answer["queue"])] = at
        for number, clerk in counters.items():
            if number in busy:
                continue
            called = clerk.counter(number, "call-next").json["ticket"]
            if called is None:
                continue
            key = (called["number"], called["queue"])
            waits.setdefault(called["queue"], []).append((at - enqueued[key]).total_seconds())
            walk, service = counter_time.setdefault(
                key,
                (
                    rng.uniform(10, 40),
                    rng.uniform(60, 120)
                    if called["queue"] == "D"
                    else rng.lognormvariate(math.log(220), 0.45),
                ),
            )
            busy.add(number)
            order += 2
            heapq.heappush(events, (at + timedelta(seconds=walk), order, "start", number))
            heapq.heappush(
                events, (at + timedelta(seconds=walk + service), order + 1, "finish", number)
            )
    return waits


def test_a_busy_recorded_day_is_reproduced_within_ten_percent(
    database_url: str, clock: FakeClock, clerk_at: Callable[[int], Staff], client: Any
) -> None:
    """SPEC §10 / issue 17: a day of 120 visitors recorded through the API with clerks'
    actions at five counters; `simulate --date` with nothing changed (the three comprehensive
    counters, the special and the pickup one) gives each line's p50 and p90 wait within
    10 %."""
    waits = record_a_busy_day(clock, clerk_at, client, visitors=120, seed=11)
    assert sum(len(line) for line in waits.values()) >= 130  # 120 visits and their pickups
    result = simulate(
        "--date", "2026-11-20", "--database", database_url, "--counters", "3", "--json"
    )
    assert result.returncode == 0, result.stderr
    lines = {line["line"]: line for line in json.loads(result.stdout)["lines"]}
    for code, recorded in waits.items():
        assert lines[code]["visitors"] == len(recorded), code
        for share, key in ((0.5, "p50_wait_s"), (0.9, "p90_wait_s")):
            expected = nearest_rank(recorded, share)
            assert abs(lines[code][key] - expected) <= max(0.1 * expected, 1), (code, key)
    assert nearest_rank(waits["A"], 0.9) > 600  # a day with real queues, not an empty hall
