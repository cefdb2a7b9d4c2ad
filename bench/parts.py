"""The parts of the suite. Each starts a fresh deployment, measures, checks the invariants
(no duplicate number, no double call) and returns {row: cell} for the table."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.deploy import Deployment, Setup
from bench.http_clients import Http, issue_tickets, percentile, run_clerks, run_load
from bench.socket_clients import Fleet


@dataclass(frozen=True)
class Sizes:
    issue_clients: tuple[int, ...] = (1, 16, 64)
    issue_seconds: float = 5.0
    counters: tuple[int, ...] = (6, 30)
    call_tickets: int = 600
    screens: tuple[int, ...] = (10, 200, 1000)
    calls_per_s: float = 20.0
    screen_seconds: float = 6.0
    phones: int = 5000
    phones_per_ticket: int = 5
    hold_seconds: float = 32.0  # beyond one ping interval (25 s): every phone answers a ping
    estimate_draws: int = 100
    estimate_big_day: bool = True  # the 五华-like day (≈3 minutes on 2 cores)
    outside_scale: float = 60.0  # the hall clock of outside-estimates, × the wall clock
    outside_seeds: tuple[int, ...] = (1, 2, 3)
    outside_days: int | None = None  # all three


FULL = Sizes()
QUICK = Sizes(
    issue_clients=(1, 16),
    issue_seconds=1.5,
    counters=(6,),
    call_tickets=60,
    screens=(10, 100),
    screen_seconds=2.0,
    phones=200,
    phones_per_ticket=5,
    hold_seconds=2.0,
    estimate_draws=50,
    estimate_big_day=False,
    outside_scale=120.0,
    outside_seeds=(1,),
    outside_days=1,  # 20 at once, no history: half a minute
)

Cells = dict[str, str]


class InvariantBroken(AssertionError):
    pass


def check_numbers(numbers: list[str]) -> str:
    """No number twice; per prefix, 1..n without a gap."""
    counts = Counter(numbers)
    doubles = sorted(number for number, count in counts.items() if count > 1)
    if doubles:
        raise InvariantBroken(f"duplicate ticket numbers: {doubles[:10]}")
    by_prefix: dict[str, set[int]] = {}
    for number in numbers:
        match = re.fullmatch(r"([A-Z]+)(\d+)", number)
        assert match, number
        by_prefix.setdefault(match.group(1), set()).add(int(match.group(2)))
    gaps = sum(max(values) - len(values) for values in by_prefix.values())
    return f"{len(numbers)} numbers, 0 duplicates, {gaps} gaps"


def check_calls(called: list[str], issued: list[str]) -> str:
    counts = Counter(called)
    doubles = sorted(number for number, count in counts.items() if count > 1)
    if doubles:
        raise InvariantBroken(f"tickets called twice: {doubles[:10]}")
    missing = set(issued) - set(counts)
    if missing:
        raise InvariantBroken(f"{len(missing)} tickets never called, e.g. {sorted(missing)[:5]}")
    return f"{len(called)} calls, 0 double calls"


def ms(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def sign_in(deployment: Deployment, counters: int) -> list[tuple[str, int, str]]:
    """Clerks 1..n signed into counters 1..n, spread over the processes: (url, counter, token)."""
    clerks = []
    for counter in range(1, counters + 1):
        server = deployment.servers[(counter - 1) % len(deployment.servers)]
        token = server.login(f"clerk{counter:02d}")
        response = server.post(f"/api/v1/counters/{counter}/sign-in", token=token)
        assert response.status_code == 200, response.text
        clerks.append((server.url, counter, token))
    return clerks


# -- ticket issue -----------------------------------------------------------------------------
def part_issue(setup: Setup, sizes: Sizes, clients: tuple[int, ...] | None = None) -> Cells:
    cells: Cells = {}
    numbers: list[str] = []
    with Deployment(setup) as deployment:
        for count in clients or sizes.issue_clients:
            issue = run_load(deployment.urls, "issue", count, sizes.issue_seconds)
            trivial = run_load(deployment.urls, "trivial", count, sizes.issue_seconds)
            numbers += issue["numbers"]
            errors = issue["errors"] + trivial["errors"]
            cells[f"issue {count:>2} clients: tickets/s (trivial/s, ratio)"] = (
                f"{issue['per_s']:.0f} ({trivial['per_s']:.0f}, "
                f"{issue['per_s'] / trivial['per_s']:.2f})" + (f" {errors} err" if errors else "")
            )
            cells[f"issue {count:>2} clients: p50/p99 ms"] = (
                f"{ms(issue['p50_ms'])} / {ms(issue['p99_ms'])}"
            )
    cells["issue: numbers checked"] = check_numbers(numbers)
    return cells


# -- call-next + finish -----------------------------------------------------------------------
def part_calls(setup: Setup, sizes: Sizes) -> Cells:
    cells: Cells = {}
    for counters in sizes.counters:
        with Deployment(setup) as deployment:
            tickets = issue_tickets(deployment.urls, sizes.call_tickets)
            issued = [ticket["number"] for ticket in tickets]
            check_numbers(issued)
            clerks = sign_in(deployment, counters)
            called, seconds = run_clerks(clerks)
            cells[f"call-next+finish {counters:>2} counters: calls/s"] = (
                f"{len(called) / seconds:.0f} ({check_calls(called, issued).split(',')[1].strip()})"
            )
    return cells


# -- call → screen ----------------------------------------------------------------------------
def _caller(url: str, counter: int, token: str, times: list[float], sent: dict[str, float]) -> None:
    client = Http(url, token)
    holding = False
    for at in times:
        while (now := time.perf_counter()) < at:
            time.sleep(min(0.005, at - now))
        if holding:
            client.request("POST", f"/api/v1/counters/{counter}/finish")
        started = time.perf_counter()
        status, body = client.request("POST", f"/api/v1/counters/{counter}/call-next")
        assert status == 200, (status, body)
        ticket = body.get("ticket")
        holding = ticket is not None
        if ticket is not None:
            sent[ticket["number"]] = started
    if holding:
        client.request("POST", f"/api/v1/counters/{counter}/finish")


def paced_calls(
    clerks: list[tuple[str, int, str]], calls_per_s: float, seconds: float
) -> dict[str, float]:
    """Calls at `calls_per_s` in all, round robin over the clerks (one thread per clerk, so a
    slow call does not hold back the others). Returns number → when its call-next was sent."""
    total = round(calls_per_s * seconds)
    start = time.perf_counter() + 0.2
    schedules: list[list[float]] = [[] for _ in clerks]
    for index in range(total):
        schedules[index % len(clerks)].append(start + index / calls_per_s)
    sent: dict[str, float] = {}
    workers = [
        threading.Thread(target=_caller, args=(*clerk, schedules[index], sent))
        for index, clerk in enumerate(clerks)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sent


def part_screen(setup: Setup, sizes: Sizes, screens: tuple[int, ...] | None = None) -> Cells:
    cells: Cells = {}
    levels = screens or sizes.screens
    calls_each = round(sizes.calls_per_s * sizes.screen_seconds)
    with Deployment(setup) as deployment:
        tickets = issue_tickets(deployment.urls, calls_each * len(levels) + 10)
        check_numbers([ticket["number"] for ticket in tickets])
        clerks = sign_in(deployment, 6)
        processes = 1 if max(levels) <= 50 else 2
        fleet = Fleet(deployment.urls, "/display", processes)
        all_called: list[str] = []
        try:
            for level in levels:
                connected = fleet.connect(level)
                time.sleep(0.5)
                fleet.reset()
                sent = paced_calls(clerks, sizes.calls_per_s, sizes.screen_seconds)
                time.sleep(1.5)  # late deliveries still count, and show in p99
                result = fleet.collect()
                all_called += list(sent)
                latencies = [
                    (at - sent[number]) * 1000 for number, at in result["records"] if number in sent
                ]
                expected = len(sent) * connected
                missed = expected - len(latencies)
                label = f"call→screen {level:>4} screens: p50/p99 ms"
                cells[label] = (
                    f"{ms(percentile(latencies, 0.5))} / {ms(percentile(latencies, 0.99))}"
                )
                notes = []
                if connected < level:
                    notes.append(f"{connected} connected")
                if missed:
                    notes.append(f"{missed} of {expected} missed")
                if result["drops"]:
                    notes.append(f"{result['drops']} drops")
                if len(sent) < calls_each:
                    notes.append(f"{len(sent)} calls")
                if notes:
                    cells[label] += " (" + ", ".join(notes) + ")"
        finally:
            fleet.close()
    check_calls(all_called, all_called)
    cells["call→screen: log lines 'Invalid HTTP method'"] = str(
        deployment.final_log.count("Invalid HTTP method")
    )
    return cells


# -- phones held through a ping cycle ---------------------------------------------------------
def part_phones(setup: Setup, sizes: Sizes, phones: int | None = None) -> Cells:
    cells: Cells = {}
    total = phones or sizes.phones
    with Deployment(setup) as deployment:
        tickets = issue_tickets(deployment.urls, max(1, total // sizes.phones_per_ticket))
        check_numbers([ticket["number"] for ticket in tickets])
        auths: list[Any] = [{"ticket": ticket["id"]} for ticket in tickets]
        fleet = Fleet(deployment.urls, "/ticket", 4 if total > 1000 else 2, auths)
        try:
            started = time.perf_counter()
            connected = fleet.connect(total)
            connect_s = time.perf_counter() - started
            fleet.reset()
            time.sleep(sizes.hold_seconds)
            result = fleet.collect()
        finally:
            fleet.close()
    label = f"/ticket phones held {sizes.hold_seconds:.0f} s"
    cells[label] = (
        f"{result['alive']} of {total} (connect {connect_s:.0f} s, "
        f"{result['drops']} drops, ≥{result['min_pings']} pings each)"
    )
    if connected < total:
        cells[label] += f"; only {connected} connected"
    return cells


def part_estimates(setup: Setup, sizes: Sizes) -> Cells:
    """Wait estimates against simulated days (bench/estimates.py): no server, no database;
    the same figures in every column, so it runs in the first one only."""
    from bench.estimates import DAYS, cells, measure

    days = DAYS if sizes.estimate_big_day else DAYS[1:]
    seeds = 3 if sizes.estimate_big_day else 1
    return cells(measure(days, seeds=seeds, draws=sizes.estimate_draws))


def part_outside_estimates(setup: Setup, sizes: Sizes) -> Cells:
    """The printed estimates against real waits on live servers in scaled time
    (bench/outside_estimates.py): SQLite servers of its own, so it runs in the first column
    only, like `estimates`."""
    from bench.outside_estimates import cells, measure

    return cells(
        measure(scale=sizes.outside_scale, seeds=sizes.outside_seeds, only=sizes.outside_days)
    )


PARTS = {
    "issue": part_issue,
    "calls": part_calls,
    "screen": part_screen,
    "phones": part_phones,
    "estimates": part_estimates,
    "outside-estimates": part_outside_estimates,
}
