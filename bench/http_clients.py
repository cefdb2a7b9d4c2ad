"""Lightweight HTTP clients in separate processes: http.client on kept-alive connections,
a few threads per process, so the server (not the client) is what is measured."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

CLIENT_PROCESSES = 4


class Http:
    """A client of one server that opens a connection per request, as nginx does towards its
    upstreams by default (HTTP/1.0, no upstream keepalive). On kept-alive connections gevent's
    server answers each request ≈40 ms late (Nagle + delayed ACK): see docs/PERFORMANCE.md."""

    def __init__(self, url: str, token: str | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = {"Content-Type": "application/json", "Connection": "close"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body).encode()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=payload, headers=self.headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return response.status, json.loads(data) if data else None


# -- load: N concurrent clients for a fixed time -------------------------------------------
def _timed_loop(
    url: str, kind: str, start_at: float, stop_at: float, out: list[tuple[str, float, float]]
) -> None:
    client = Http(url)
    while time.perf_counter() < start_at:
        time.sleep(0.001)
    while (now := time.perf_counter()) < stop_at:
        if kind == "issue":
            status, body = client.request("POST", "/api/v1/tickets", {"service": "employment"})
            number = body["ticket"]["number"] if status in (200, 201) else f"error {status}"
        else:
            status, _ = client.request("GET", "/api/v1/services")
            number = "" if status == 200 else f"error {status}"
        out.append((number, now, time.perf_counter()))


def _load_process(
    urls: list[str], kind: str, threads: int, offset: int, start_at: float, stop_at: float
) -> list[tuple[str, float, float]]:
    out: list[tuple[str, float, float]] = []
    workers = [
        threading.Thread(
            target=_timed_loop,
            args=(urls[(offset + index) % len(urls)], kind, start_at, stop_at, out),
        )
        for index in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return out


def spread(total: int, processes: int) -> list[int]:
    """`total` clients over at most `processes` processes, as evenly as possible."""
    processes = max(1, min(total, processes))
    return [
        total // processes + (1 if index < total % processes else 0) for index in range(processes)
    ]


def run_load(urls: list[str], kind: str, clients: int, seconds: float) -> dict[str, Any]:
    """`clients` concurrent clients doing `kind` ("issue" or "trivial") for `seconds`."""
    shares = spread(clients, CLIENT_PROCESSES)
    start_at = time.perf_counter() + 0.5 + 0.1 * len(shares)
    stop_at = start_at + seconds
    context = multiprocessing.get_context("fork")
    offsets = [sum(shares[:index]) for index in range(len(shares))]
    with context.Pool(len(shares)) as pool:
        batches = pool.starmap(
            _load_process,
            [
                (urls, kind, share, offset, start_at, stop_at)
                for share, offset in zip(shares, offsets, strict=True)
            ],
        )
    rows = [row for batch in batches for row in batch]
    ok = [row for row in rows if not row[0].startswith("error")]
    latencies = [end - start for _, start, end in ok]
    elapsed = max((end for _, _, end in rows), default=stop_at) - start_at
    return {
        "count": len(ok),
        "errors": len(rows) - len(ok),
        "per_s": len(ok) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "numbers": [number for number, _, _ in ok] if kind == "issue" else [],
    }


# -- prefill: a number of tickets, as fast as the server takes them ------------------------
def _issue_count(url: str, count: int) -> list[dict[str, Any]]:
    client = Http(url)
    tickets = []
    for _ in range(count):
        status, body = client.request("POST", "/api/v1/tickets", {"service": "employment"})
        assert status in (200, 201), (status, body)
        tickets.append({"id": body["ticket"]["id"], "number": body["ticket"]["number"]})
    return tickets


def issue_tickets(urls: list[str], count: int, clients: int = 8) -> list[dict[str, Any]]:
    shares = spread(count, clients)
    context = multiprocessing.get_context("fork")
    with context.Pool(min(len(shares), CLIENT_PROCESSES)) as pool:
        batches = pool.starmap(
            _issue_count, [(urls[index % len(urls)], share) for index, share in enumerate(shares)]
        )
    return [ticket for batch in batches for ticket in batch]


# -- clerks: call-next + finish until the lines are empty -----------------------------------
def _clerk_loop(url: str, counter: int, token: str, out: list[tuple[str, float]]) -> None:
    client = Http(url, token)
    while True:
        status, body = client.request("POST", f"/api/v1/counters/{counter}/call-next")
        assert status == 200, (status, body)
        if body.get("ticket") is None:
            return
        out.append((body["ticket"]["number"], time.perf_counter()))
        status, body = client.request("POST", f"/api/v1/counters/{counter}/finish")
        assert status == 200, (status, body)


def _clerk_process(clerks: list[tuple[str, int, str]], start_at: float) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    workers = [
        threading.Thread(target=_clerk_loop, args=(url, counter, token, out))
        for url, counter, token in clerks
    ]
    while time.perf_counter() < start_at:
        time.sleep(0.001)
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return out


def run_clerks(clerks: list[tuple[str, int, str]]) -> tuple[list[str], float]:
    """Every clerk (url, counter, token) calls and finishes until nothing is waiting.
    Returns the numbers called and the seconds it took."""
    shares = spread(len(clerks), CLIENT_PROCESSES)
    groups, taken = [], 0
    for share in shares:
        groups.append(clerks[taken : taken + share])
        taken += share
    start_at = time.perf_counter() + 0.5 + 0.1 * len(groups)
    context = multiprocessing.get_context("fork")
    with context.Pool(len(groups)) as pool:
        batches = pool.starmap(_clerk_process, [(group, start_at) for group in groups])
    rows = [row for batch in batches for row in batch]
    elapsed = max((at for _, at in rows), default=start_at) - start_at
    return [number for number, _ in rows], elapsed


# -- helpers --------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def in_threads(function: Callable[..., Any], items: list[tuple[Any, ...]]) -> list[Any]:
    results: list[Any] = [None] * len(items)

    def run(index: int) -> None:
        results[index] = function(*items[index])

    workers = [threading.Thread(target=run, args=(index,)) for index in range(len(items))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results
