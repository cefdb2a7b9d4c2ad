"""Figures for the ticket server core, against a real `python run.py` on loopback.

    python -m bench.core_bench [--database URL]

Prints: tickets/s with 16 concurrent clients issuing 40 each (and whether the numbers are
A001…A640 with no gap or duplicate), call-next + finish per second with 6 clerks racing
(and whether every ticket was called exactly once), and call → hall screen latency.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
import socketio

from tests.live_server import LiveServer

CLIENTS, EACH, CLERKS = 16, 40, 6


def issue(server: LiveServer, count: int) -> list[tuple[str, float]]:
    session = requests.Session()
    out = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.post(
            server.url + "/api/v1/tickets", json={"service": "employment"}, timeout=30
        )
        out.append((response.json()["ticket"]["number"], time.perf_counter() - started))
    return out


def clerk_loop(server: LiveServer, counter: int, token: str) -> list[str]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    called = []
    while True:
        ticket = session.post(
            f"{server.url}/api/v1/counters/{counter}/call-next", timeout=30
        ).json()["ticket"]
        if ticket is None:
            return called
        called.append(ticket["number"])
        session.post(f"{server.url}/api/v1/counters/{counter}/finish", timeout=30)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def measure(server: LiveServer) -> dict[str, Any]:
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        batches = list(pool.map(lambda _: issue(server, EACH), range(CLIENTS)))
    issue_s = time.perf_counter() - started
    numbers = [number for batch in batches for number, _ in batch]
    latencies = [latency for batch in batches for _, latency in batch]
    tokens = []
    for counter in range(1, CLERKS + 1):
        token = server.login(f"clerk{counter:02d}")
        server.post(f"/api/v1/counters/{counter}/sign-in", token=token)
        tokens.append((counter, token))
    started = time.perf_counter()
    with ThreadPoolExecutor(CLERKS) as pool:
        called = list(pool.map(lambda item: clerk_loop(server, *item), tokens))
    call_s = time.perf_counter() - started
    calls = Counter(number for batch in called for number in batch)
    return {
        "tickets_per_s": len(numbers) / issue_s,
        "issue_p50_ms": statistics.median(latencies) * 1000,
        "issue_p99_ms": percentile(latencies, 0.99) * 1000,
        "numbers_ok": sorted(numbers) == [f"A{i:03d}" for i in range(1, CLIENTS * EACH + 1)],
        "calls_per_s": sum(calls.values()) / call_s,
        "each_called_once": len(calls) == CLIENTS * EACH and set(calls.values()) == {1},
        "screen_ms": call_latency(server, tokens[0][1]),
    }


def call_latency(server: LiveServer, token: str, rounds: int = 50) -> tuple[float, float]:
    arrived = threading.Event()
    screen = socketio.Client()
    screen.on("call", lambda _payload: arrived.set(), namespace="/display")
    screen.connect(server.url, namespaces=["/display"], transports=["websocket"])
    samples = []
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    for _ in range(rounds):
        session.post(server.url + "/api/v1/tickets", json={"service": "employment"}, timeout=30)
        arrived.clear()
        sent = time.perf_counter()
        session.post(server.url + "/api/v1/counters/1/call-next", timeout=30)
        arrived.wait(5)
        samples.append((time.perf_counter() - sent) * 1000)
        session.post(server.url + "/api/v1/counters/1/finish", timeout=30)
    screen.disconnect()
    return statistics.median(samples), percentile(samples, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        server = LiveServer(Path(workdir), "--no-scheduler", database=args.database).start()
        try:
            figures = measure(server)
        finally:
            server.stop()
    screen_p50, screen_p99 = figures.pop("screen_ms")
    print(f"database: {args.database or 'sqlite (file)'}")
    print(
        f"issue, {CLIENTS} clients x {EACH}: {figures['tickets_per_s']:.0f} tickets/s, "
        f"p50 {figures['issue_p50_ms']:.1f} ms, p99 {figures['issue_p99_ms']:.1f} ms, "
        f"A001..A{CLIENTS * EACH} without gap or duplicate: {figures['numbers_ok']}"
    )
    print(
        f"call-next + finish, {CLERKS} clerks: {figures['calls_per_s']:.0f} calls/s, "
        f"each ticket called exactly once: {figures['each_called_once']}"
    )
    print(f"call -> hall screen (1 screen): p50 {screen_p50:.1f} ms, p99 {screen_p99:.1f} ms")


if __name__ == "__main__":
    main()
