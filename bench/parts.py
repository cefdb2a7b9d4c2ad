"""The parts of the suite. Each starts a fresh deployment, measures, checks the invariants
(no duplicate number, no double call) and returns {row: cell} for the table."""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.browsers import HallBrowsers
from bench.city import clerk_name, line_prefix, site_code, write_city_hall
from bench.deploy import CPU_PARTS, Deployment, Setup, cores_by_part
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
    browsers: int = 20  # Chromium hall screens during the largest screen level
    city_sites: int = 200
    city_screens_per_site: int = 10
    city_phones_per_site: int = 20
    city_calls_per_s: float = 40.0
    city_issue_per_s: float = 100.0
    city_seconds: float = 10.0


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
    browsers=2,
    city_sites=10,
    city_screens_per_site=3,
    city_phones_per_site=2,
    city_calls_per_s=5.0,
    city_issue_per_s=10.0,
    city_seconds=3.0,
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
def _caller(
    url: str,
    counter: int,
    token: str,
    times: list[float],
    sent: dict[str, float],
    wall: Any,
    took: list[float],
) -> None:
    client = Http(url, token)
    holding = False
    for at in times:
        while (now := time.perf_counter()) < at:
            time.sleep(min(0.005, at - now))
        if holding:
            client.request("POST", f"/api/v1/counters/{counter}/finish")
        started, started_wall = time.perf_counter(), time.time()
        status, body = client.request("POST", f"/api/v1/counters/{counter}/call-next")
        took.append((time.perf_counter() - started) * 1000)
        assert status == 200, (status, body)
        ticket = body.get("ticket")
        holding = ticket is not None
        if ticket is not None:
            sent[ticket["number"]] = started
            wall[ticket["number"]] = started_wall
    if holding:
        client.request("POST", f"/api/v1/counters/{counter}/finish")


def paced_calls(
    clerks: list[tuple[str, int, str]],
    calls_per_s: float,
    seconds: float,
    wall: dict[str, float] | None = None,
    took: list[float] | None = None,
) -> dict[str, float]:
    """Calls at `calls_per_s` in all, round robin over the clerks (one thread per clerk, so a
    slow call does not hold back the others). Returns number → when its call-next was sent
    (perf_counter); `wall` gets the same moments as epoch seconds (for browsers' stamps),
    `took` each call-next's round trip in ms (the request alone, before any screen)."""
    total = round(calls_per_s * seconds)
    start = time.perf_counter() + 0.2
    schedules: list[list[float]] = [[] for _ in clerks]
    for index in range(total):
        schedules[index % len(clerks)].append(start + index / calls_per_s)
    sent: dict[str, float] = {}
    workers = [
        threading.Thread(
            target=_caller,
            args=(
                *clerk,
                schedules[index],
                sent,
                {} if wall is None else wall,
                [] if took is None else took,
            ),
        )
        for index, clerk in enumerate(clerks)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sent


def server_rss_kb(deployment: Deployment) -> int:
    """Resident memory of the deployment's server processes, KB (Linux)."""
    total = 0
    for server in deployment.servers:
        assert server.process is not None
        status = Path(f"/proc/{server.process.pid}/status").read_text()
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return total


def screen_level(
    deployment: Deployment,
    fleet: Fleet,
    clerks: list[tuple[str, int, str]],
    sizes: Sizes,
    level: int,
    label: str,
    browsers: HallBrowsers | None = None,
) -> tuple[Cells, list[str]]:
    """`level` screens connected, calls at `sizes.calls_per_s`: the latency row `label`, and
    with `browsers` the row of the Chromium screens connected meanwhile."""
    calls_each = round(sizes.calls_per_s * sizes.screen_seconds)
    connected = fleet.connect(level)
    time.sleep(0.5)
    fleet.reset()
    if browsers is not None:
        browsers.reset()
    wall: dict[str, float] = {}
    cpu_before, started = deployment.cpu_seconds(), time.perf_counter()
    samplers = deployment.profile(sizes.screen_seconds)
    sent = paced_calls(clerks, sizes.calls_per_s, sizes.screen_seconds, wall)
    for sampler in samplers:
        sampler.wait()
    time.sleep(1.5)  # late deliveries still count, and show in p99
    server_cores = (deployment.cpu_seconds() - cpu_before) / (time.perf_counter() - started)
    result = fleet.collect()
    browser_cells = {} if browsers is None else browser_row(browsers, wall, level)
    latencies = [
        (at - sent[number]) * 1000 for number, at, _ in result["records"] if number in sent
    ]
    expected = len(sent) * connected
    missed = expected - len(latencies)
    cell = f"{ms(percentile(latencies, 0.5))} / {ms(percentile(latencies, 0.99))}"
    notes = []
    if connected < level:
        notes.append(f"{connected} connected")
    if missed:
        notes.append(f"{missed} of {expected} missed")
    if result["drops"]:
        notes.append(f"{result['drops']} drops")
    if len(sent) < calls_each:
        notes.append(f"{len(sent)} calls")
    notes.append(f"server {server_cores:.2f} core")
    cell += " (" + ", ".join(notes) + ")"
    return {label: cell, **browser_cells}, list(sent)


def browser_row(browsers: HallBrowsers, wall: dict[str, float], level: int) -> Cells:
    """Call → drawn on each Chromium page (the page's own stamp against the request's)."""
    latencies, missed = [], 0
    for drawn in browsers.drawn():
        for number, sent_at in wall.items():
            if number in drawn:
                latencies.append(drawn[number] - sent_at * 1000)
            else:
                missed += 1
    cell = f"{ms(percentile(latencies, 0.5))} / {ms(percentile(latencies, 0.99))}"
    if missed:
        cell += f" ({missed} of {len(wall) * browsers.count} not drawn)"
    label = f"call→screen {browsers.count} Chromium hall screens (with {level}): p50/p99 ms"
    return {label: cell}


def part_screen(setup: Setup, sizes: Sizes, screens: tuple[int, ...] | None = None) -> Cells:
    """Screens that offer permessage-deflate as browsers do, at every level; then, at the
    largest level, screens that offer no extension (the second row)."""
    cells: Cells = {}
    levels = screens or sizes.screens
    calls_each = round(sizes.calls_per_s * sizes.screen_seconds)
    with Deployment(setup) as deployment:
        tickets = issue_tickets(deployment.urls, calls_each * (len(levels) + 1) + 10)
        check_numbers([ticket["number"] for ticket in tickets])
        clerks = sign_in(deployment, 6)
        processes = 1 if max(levels) <= 50 else 2
        all_called: list[str] = []
        for deflate, chosen in ((True, levels), (False, levels[-1:])):
            fleet = Fleet(deployment.urls, "/display", processes, deflate=deflate)
            try:
                for level in chosen:
                    offer = "deflate offered" if deflate else "no extension"
                    label = f"call→screen {level:>4} screens, {offer}: p50/p99 ms"
                    if deflate and level == max(levels) and sizes.browsers:
                        with HallBrowsers(deployment.urls[0], sizes.browsers) as browsers:
                            level_cells, called = screen_level(
                                deployment, fleet, clerks, sizes, level, label, browsers
                            )
                    else:
                        level_cells, called = screen_level(
                            deployment, fleet, clerks, sizes, level, label
                        )
                    cells.update(level_cells)
                    all_called += called
                compressed = fleet.collect()["compressed"]
            finally:
                fleet.close()
            if deflate:
                cells["call→screen: connections the server compressed"] = (
                    f"{compressed} of {max(chosen)}"
                )
    check_calls(all_called, all_called)
    cells["call→screen: log lines 'Invalid HTTP method'"] = str(
        deployment.final_log.count("Invalid HTTP method")
    )
    return cells


# -- memory per idle connection ---------------------------------------------------------------
def part_memory(setup: Setup, sizes: Sizes) -> Cells:
    """Server RSS growth ÷ connections: idle screens (deflate offered) then idle phones."""
    cells: Cells = {}
    screens, phones = max(sizes.screens), sizes.phones // 2
    with Deployment(setup) as deployment:
        tickets = issue_tickets(deployment.urls, max(1, phones // sizes.phones_per_ticket))
        auths: list[Any] = [{"ticket": ticket["id"]} for ticket in tickets]
        warm = Fleet(deployment.urls, "/display", 1)  # the first connections build caches
        try:
            warm.connect(20)
        finally:
            warm.close()
        time.sleep(1)
        screen_fleet = Fleet(deployment.urls, "/display", 2)
        phone_fleet = Fleet(deployment.urls, "/ticket", 2, auths)
        try:
            before = server_rss_kb(deployment)
            connected = screen_fleet.connect(screens)
            time.sleep(3)
            with_screens = server_rss_kb(deployment)
            held = phone_fleet.connect(phones)
            time.sleep(3)
            with_phones = server_rss_kb(deployment)
        finally:
            screen_fleet.close()
            phone_fleet.close()
    cells["memory per idle /display screen (deflate offered)"] = (
        f"{(with_screens - before) / max(1, connected):.0f} KB ({connected} screens, "
        f"RSS {before / 1024:.0f} → {with_screens / 1024:.0f} MB)"
    )
    cells["memory per idle /ticket phone (deflate offered)"] = (
        f"{(with_phones - with_screens) / max(1, held):.0f} KB ({held} phones, "
        f"RSS → {with_phones / 1024:.0f} MB)"
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


# -- a city's halls on one deployment ---------------------------------------------------------
Issued = tuple[str, str, float, str]  # site, number, ms, ticket id


def _issuer(url: str, plan: list[tuple[float, str]], out: list[Issued], errors: list[int]) -> None:
    client = Http(url)
    for at, site in plan:
        while (now := time.perf_counter()) < at:
            time.sleep(min(0.005, at - now))
        started = time.perf_counter()
        status, body = client.request(
            "POST", "/api/v1/tickets", {"service": "employment", "site": site}
        )
        if status in (200, 201):
            ticket = body["ticket"]
            out.append(
                (site, ticket["number"], (time.perf_counter() - started) * 1000, ticket["id"])
            )
        else:
            errors.append(status)


def paced_issue(
    urls: list[str], sites: list[str], per_s: float, seconds: float, threads: int = 16
) -> tuple[list[Issued], list[int], float]:
    """Tickets at `per_s` in all, round robin over the sites and the servers: (site, number,
    ms, id) per ticket, the error statuses, and the seconds it took."""
    total = round(per_s * seconds)
    start = time.perf_counter() + 0.2
    plans: list[list[tuple[float, str]]] = [[] for _ in range(threads)]
    for index in range(total):
        plans[index % threads].append((start + index / per_s, sites[index % len(sites)]))
    out: list[Issued] = []
    errors: list[int] = []
    workers = [
        threading.Thread(target=_issuer, args=(urls[index % len(urls)], plan, out, errors))
        for index, plan in enumerate(plans)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return out, errors, time.perf_counter() - start


def part_city(setup: Setup, sizes: Sizes) -> Cells:
    """`sizes.city_sites` sites on PostgreSQL + Redis, 10 screens and 20 phones each; calls at
    `city_calls_per_s` spread over the sites while tickets are issued at `city_issue_per_s`.
    A screen's record carries its site: a call of another site counts as a wrong delivery."""
    if setup.db != "postgres":
        return {"city: part skipped": "needs PostgreSQL + Redis (--db postgres --processes 2)"}
    cells: Cells = {}
    count = sizes.city_sites
    sites = [site_code(index) for index in range(1, count + 1)]
    site_of_prefix = {line_prefix(index): site_code(index) for index in range(1, count + 1)}
    with Deployment(setup, hall_file=lambda path: write_city_hall(path, count)) as deployment:
        servers = deployment.servers
        clerks = []
        for index in range(1, count + 1):
            server = servers[index % len(servers)]
            token = server.login(clerk_name(index))
            response = server.post("/api/v1/counters/1/sign-in", token=token)
            assert response.status_code == 200, response.text
            clerks.append((server.url, 1, token))
        followed, errors, _ = paced_issue(
            deployment.urls, sites, 200, sizes.city_phones_per_site * count / 200
        )
        assert not errors, errors[:5]
        check_numbers([number for _, number, _, _ in followed])
        auths: list[Any] = [{"ticket": ticket_id} for _, _, _, ticket_id in followed]
        phone_tags = [("", site) for site, _, _, _ in followed]
        screens = Fleet(
            deployment.urls,
            "/display",
            2,
            queries=[
                (f"&site={site}", site)
                for _ in range(sizes.city_screens_per_site)
                for site in sites
            ],
        )
        phones_fleet: Fleet | None = None
        try:
            before = server_rss_kb(deployment)
            connected = screens.connect(count * sizes.city_screens_per_site)
            phones_fleet = Fleet(deployment.urls, "/ticket", 2, auths, queries=phone_tags)
            phones_held = phones_fleet.connect(len(auths))
            time.sleep(2)
            after = server_rss_kb(deployment)
            screens.reset()
            phones_fleet.reset()
            wall: dict[str, float] = {}
            load: dict[str, Any] = {}
            issuer = threading.Thread(
                target=lambda: load.update(
                    zip(
                        ("issued", "errors", "seconds"),
                        paced_issue(
                            deployment.urls, sites, sizes.city_issue_per_s, sizes.city_seconds
                        ),
                        strict=True,
                    )
                )
            )
            cpu_before, started = deployment.cpu_by_process(), time.perf_counter()
            samplers = deployment.profile(sizes.city_seconds)
            issuer.start()
            took: list[float] = []
            sent = paced_calls(clerks, sizes.city_calls_per_s, sizes.city_seconds, wall, took)
            issuer.join()
            for sampler in samplers:
                sampler.wait()
            time.sleep(2)
            cores = cores_by_part(
                cpu_before, deployment.cpu_by_process(), time.perf_counter() - started
            )
            seen = screens.collect()
            phones_seen = phones_fleet.collect()
        finally:
            screens.close()
            if phones_fleet is not None:
                phones_fleet.close()
    latencies: list[float] = []
    last: dict[str, float] = {}
    wrong = 0
    for number, at, tag in seen["records"]:
        if number not in sent:
            continue
        if site_of_prefix.get(number.rstrip("0123456789")) != tag:
            wrong += 1
            continue
        latency = (at - sent[number]) * 1000
        latencies.append(latency)
        last[number] = max(last.get(number, 0.0), latency)
    expected = len(sent) * sizes.city_screens_per_site
    issued = load.get("issued", [])
    cells["city: sites, screens, phones connected"] = (
        f"{count} sites, {connected} screens, {phones_held} phones"
    )
    cells["city: call→screen of its site p50/p99 ms (last screen p99)"] = (
        f"{ms(percentile(latencies, 0.5))} / {ms(percentile(latencies, 0.99))} "
        f"({ms(percentile(list(last.values()), 0.99))}); {len(sent)} calls, "
        f"{expected - len(latencies)} of {expected} missed"
    )
    cells["city: call-next requests alone p50/p99 ms"] = (
        f"{ms(percentile(took, 0.5))} / {ms(percentile(took, 0.99))}"
    )
    cells["city: load offered"] = (
        f"{sizes.city_calls_per_s:g} calls/s, {sizes.city_issue_per_s:g} tickets/s"
    )
    cells["city: deliveries to the wrong site"] = str(wrong)
    cells["city: server processes' CPU during the load"] = (
        f"{cores['servers'] + cores['estimators']:.2f} core (2 processes: "
        f"{cores['servers']:.2f} their own, {cores['estimators']:.2f} their estimators' "
        "child processes)"
    )
    cells["city: the machine's cores during the load"] = (
        ", ".join(f"{part} {cores[part]:.2f}" for part in CPU_PARTS)
        + f"; busy {cores['machine']:.2f} of {os.cpu_count()}"
    )
    cells["city: tickets/s issued (target, p99 ms)"] = (
        f"{len(issued) / load.get('seconds', 1):.0f} ({sizes.city_issue_per_s:.0f}, "
        f"{ms(percentile([row[2] for row in issued], 0.99))})"
        + (f", {len(load.get('errors', []))} errors" if load.get("errors") else "")
    )
    cells["city: phone updates delivered"] = f"{phones_seen['events']} `ticket` events"
    cells["city: drops (screens, phones)"] = f"{seen['drops']}, {phones_seen['drops']}"
    cells["city: memory per idle connection"] = (
        f"{(after - before) / max(1, connected + phones_held):.0f} KB "
        f"(RSS {before / 1024:.0f} → {after / 1024:.0f} MB, 2 processes)"
    )
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
    "memory": part_memory,
    "city": part_city,
    "estimates": part_estimates,
    "outside-estimates": part_outside_estimates,
}
