"""`python run.py simulate` from outside: a CSV day, and a day recorded through the API
replayed from its database."""

from __future__ import annotations

import json
import math
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
