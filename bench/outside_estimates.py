"""The printed wait estimates checked from outside (issue 17, SPEC §10), in scaled time.

A real `python run.py` (the demo hall with 2 comprehensive counters [A, B] fifo, a fresh
SQLite database, its scheduler on) runs on a rehearsal's hall clock `scale` times as fast as
the wall clock (YIHAO_CLOCK_SCALE, docs/DEPLOYMENT.md): its interval jobs (the learned
service times every 5 hall minutes) and its estimate cache follow that clock. From outside:

- a seeded arrival pattern takes tickets through `POST /api/v1/tickets` (one business, line
  A); each ticket's `est_wait_s` is read from that answer, as the kiosk prints it;
- one clerk bot per counter signs in and loops call-next → (the walk from the seats) start →
  (the service) finish, sleeping the seeded log-normal times ÷ `scale` (walk median 30 s,
  σ 0.5; service σ 0.5 around the day's median); the times belong to the ticket (by its
  number), so a run repeats whichever counter takes which ticket;
- the real wait of a ticket is its first `call` in the event log minus its `issued_at`,
  both on the server's clock.

The error is SPEC §10's: Σ|estimate − actual| ÷ Σ actual over the day's tickets.

    python -m bench --only outside-estimates          # the three days at once, ≈6 minutes
"""

from __future__ import annotations

import math
import random
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.deploy import write_bench_hall
from bench.http_clients import Http
from tests.live_server import LiveServer

WALK_MEDIAN_S = 30.0
SIGMA = 0.5
CONFIGURED_S = 300.0  # the demo hall's policy.default_service_s: the estimator's prior
BURST_GAP_REAL_S = 0.12  # tickets "at once" are taken this far apart on the wall clock
IDLE_POLL_REAL_S = 0.03  # an idle clerk bot asks again this often
CLOCK_START = "2026-12-01T08:30:00+08:00"  # a Tuesday


@dataclass(frozen=True)
class OutsideDay:
    """Arrivals as (hall seconds after the first, service median s), in order."""

    name: str
    arrivals: tuple[tuple[float, float], ...]


def burst(at_s: float, count: int, median_s: float) -> list[tuple[float, float]]:
    return [(at_s, median_s)] * count


def poisson(
    begin_s: float, end_s: float, per_hour: float, median_s: float, rng: random.Random
) -> list[tuple[float, float]]:
    arrivals, moment = [], begin_s
    while True:
        moment += rng.expovariate(per_hour / 3600)
        if moment >= end_s:
            return arrivals
        arrivals.append((moment, median_s))


def days(seed: int) -> list[OutsideDay]:
    """The issue's three shapes. The slower morning: a day whose businesses take 450 s (the
    hall file says 300 s, and there is no other history): 2 hours of arrivals (18 an hour)
    teach the estimator, then 20 at once when the morning's line is gone."""
    rng = random.Random(seed)
    slow = 450.0
    return [
        OutsideDay("20 at once, no history", tuple(burst(0, 20, 300.0))),
        OutsideDay(
            "20 at once after a slower morning",
            tuple(poisson(0, 2 * 3600, 18, slow, rng) + burst(3.5 * 3600, 20, slow)),
        ),
        OutsideDay(
            "a ticket every 90 s for 90 minutes",
            tuple((index * 90.0, 300.0) for index in range(60)),
        ),
    ]


@dataclass
class DayRun:
    day: OutsideDay
    scale: float
    seed: int
    issued: list[dict[str, Any]] = field(default_factory=list)  # the POST answers' tickets
    waits: dict[str, tuple[float, float]] = field(default_factory=dict)  # number → (est, real)
    wall_s: float = 0.0

    def truth(self) -> dict[str, tuple[float, float]]:
        """(walk, service) seconds of the k-th ticket, A001 first (one line, one kiosk)."""
        rng = random.Random(self.seed * 1000 + 7)
        return {
            f"A{index + 1:03d}": (
                rng.lognormvariate(math.log(WALK_MEDIAN_S), SIGMA),
                rng.lognormvariate(math.log(median), SIGMA),
            )
            for index, (_, median) in enumerate(self.day.arrivals)
        }


def clerk_bot(
    url: str, counter: int, token: str, run: DayRun, done: threading.Event, errors: list[str]
) -> None:
    http = Http(url, token)
    truth = run.truth()
    status, _ = http.request("POST", f"/api/v1/counters/{counter}/sign-in")
    if status != 200:
        errors.append(f"counter {counter}: sign-in {status}")
        return
    while True:
        status, body = http.request("POST", f"/api/v1/counters/{counter}/call-next")
        if status != 200:
            errors.append(f"counter {counter}: call-next {status} {body}")
            return
        ticket = body["ticket"]
        if ticket is None:
            if done.is_set():
                return
            time.sleep(IDLE_POLL_REAL_S)
            continue
        walk_s, service_s = truth[ticket["number"]]
        time.sleep(walk_s / run.scale)
        http.request("POST", f"/api/v1/counters/{counter}/start")
        time.sleep(service_s / run.scale)
        status, body = http.request("POST", f"/api/v1/counters/{counter}/finish")
        if status != 200:
            errors.append(f"counter {counter}: finish {status} {body}")
            return


def issue_all(url: str, run: DayRun, errors: list[str]) -> None:
    http = Http(url)
    started = time.monotonic()
    last = 0.0
    for at_s, _ in run.day.arrivals:
        due = max(started + at_s / run.scale, last + BURST_GAP_REAL_S)
        time.sleep(max(0.0, due - time.monotonic()))
        last = time.monotonic()
        status, body = http.request("POST", "/api/v1/tickets", {"service": "employment"})
        if status != 201:
            errors.append(f"issue: {status} {body}")
            return
        run.issued.append(body["ticket"])


def first_calls(http: Http) -> dict[str, datetime]:
    calls: dict[str, datetime] = {}
    since = 0
    while True:
        status, body = http.request("GET", f"/api/v1/events?since={since}")
        assert status == 200, body
        if not body["events"]:
            return calls
        for event in body["events"]:
            if event["kind"] == "call" and event["ticket_id"] not in calls:
                calls[event["ticket_id"]] = datetime.fromisoformat(event["at"])
        since = body["events"][-1]["seq"]


def run_day(run: DayRun, starting: threading.Lock, counters: int = 2) -> DayRun:
    """One day against its own server (started while holding `starting`: servers starting
    all at once on a loaded machine miss their deadline); fills `run.waits`."""
    with tempfile.TemporaryDirectory(prefix="yihao-outside-") as workdir:
        hall = write_bench_hall(Path(workdir) / "hall.yaml", counters=counters)
        env = {
            "YIHAO_CLOCK_START": CLOCK_START,
            "YIHAO_CLOCK_SCALE": str(run.scale),
            "YIHAO_PUBLISH_INTERVAL_S": "0.05",  # boards remade within a few hall seconds
            "YIHAO_SECRET_KEY": "bench-secret",
        }
        server = LiveServer(Path(workdir), "--config", str(hall), env=env)
        with starting:
            server.start(timeout=120)
        started = time.monotonic()
        try:
            tokens = [server.login(f"clerk{number:02d}") for number in range(1, counters + 1)]
            errors: list[str] = []
            done = threading.Event()
            bots = [
                threading.Thread(
                    target=clerk_bot, args=(server.url, number, token, run, done, errors)
                )
                for number, token in enumerate(tokens, start=1)
            ]
            for bot in bots:
                bot.start()
            time.sleep(0.5)  # both counters open before the first ticket
            issue_all(server.url, run, errors)
            done.set()
            for bot in bots:
                bot.join()
            if errors:
                raise RuntimeError("; ".join(errors[:3]))
            calls = first_calls(Http(server.url, server.login("manager")))
        finally:
            server.stop()
    for ticket in run.issued:
        issued_at = datetime.fromisoformat(ticket["issued_at"])
        real = (calls[ticket["id"]] - issued_at).total_seconds()
        run.waits[ticket["number"]] = (float(ticket["est_wait_s"] or 0), real)
    run.wall_s = time.monotonic() - started
    return run


def error_pct(pairs: Sequence[tuple[float, float]]) -> float:
    actual = sum(real for _, real in pairs)
    return 100 * sum(abs(estimate - real) for estimate, real in pairs) / actual if actual else 0.0


def measure(
    scale: float = 60.0, seeds: Sequence[int] = (1, 2, 3), only: int | None = None
) -> list[DayRun]:
    """The days of every seed at once, each on its own server (threads: the work is the
    servers', and the bots mostly sleep)."""
    runs = [
        DayRun(day, scale, seed)
        for seed in seeds
        for day in (days(seed) if only is None else days(seed)[:only])
    ]
    starting = threading.Lock()
    threads = [threading.Thread(target=run_day, args=(run, starting)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return runs


def cells(runs: Sequence[DayRun]) -> dict[str, str]:
    """Per day: each seed's error at issue and bias, then the mean over the seeds."""
    out: dict[str, str] = {}
    names = list(dict.fromkeys(run.day.name for run in runs))
    for name in names:
        parts, errors = [], []
        for run in (run for run in runs if run.day.name == name):
            pairs = list(run.waits.values())
            if len(pairs) < len(run.day.arrivals):
                parts.append(f"seed {run.seed}: {len(pairs)} of {len(run.day.arrivals)} measured")
                continue
            bias = sum(estimate - real for estimate, real in pairs) / len(pairs)
            mean_wait = sum(real for _, real in pairs) / len(pairs)
            errors.append(error_pct(pairs))
            parts.append(
                f"seed {run.seed}: {errors[-1]:.1f} % (bias {bias:+.0f} s, {len(pairs)} "
                f"tickets, mean wait {mean_wait / 60:.1f} min, {run.wall_s:.0f} s wall)"
            )
        label = f"outside estimates ×{runs[0].scale:g}: {name}: error at issue"
        mean = f"mean {sum(errors) / len(errors):.1f} %; " if errors else ""
        out[label] = mean + "; ".join(parts)
    return out
