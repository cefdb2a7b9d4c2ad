"""Two `run.py` processes on one PostgreSQL database and one Redis message queue serve one
hall: a call made through one reaches a screen connected to the other; numbers issued
through both never collide; clerks on both call every ticket exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import socketio

from tests.conftest import postgres_and_redis, reset_postgres
from tests.live_server import LiveServer, processes_on

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def two_processes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, LiveServer]]:
    postgres_url, redis_url = postgres_and_redis()
    reset_postgres(postgres_url)
    with processes_on(tmp_path_factory.mktemp("scale"), postgres_url, redis_url) as servers:
        yield servers[0], servers[1]


def test_a_call_on_one_process_reaches_a_screen_on_the_other(
    two_processes: tuple[LiveServer, LiveServer],
) -> None:
    first, second = two_processes
    arrived = threading.Event()
    calls: list[dict[str, Any]] = []
    screen = socketio.Client(reconnection=False)

    def on_call(payload: dict[str, Any]) -> None:
        calls.append(payload)
        arrived.set()

    screen.on("call", on_call, namespace="/display")
    screen.connect(second.url, namespaces=["/display"], transports=["websocket"])
    try:
        ticket = first.post("/api/v1/tickets", {"service": "maternity"}).json()["ticket"]
        token = first.login("clerk08")
        first.post("/api/v1/counters/8/sign-in", token=token)
        assert first.post("/api/v1/counters/8/call-next", token=token).status_code == 200
        assert arrived.wait(3), "the call made on process A reached the screen on process B"
    finally:
        screen.disconnect()
    assert calls[0]["number"] == ticket["number"]
    assert calls[0]["text"] == f"请{ticket['number']}号到8号窗口办理"


def test_both_processes_share_numbers_and_calls(
    two_processes: tuple[LiveServer, LiveServer],
) -> None:
    first, second = two_processes

    def issue(server: LiveServer) -> list[str]:
        return [
            server.post("/api/v1/tickets", {"service": "employment"}).json()["ticket"]["number"]
            for _ in range(20)
        ]

    with ThreadPoolExecutor(4) as pool:
        batches = list(pool.map(issue, [first, second, first, second]))
    numbers = [number for batch in batches for number in batch]
    assert len(numbers) == len(set(numbers)) == 80

    clerks = []
    for server, counter in ((first, 1), (first, 2), (second, 3), (second, 4)):
        token = server.login(f"clerk{counter:02d}")
        assert server.post(f"/api/v1/counters/{counter}/sign-in", token=token).status_code == 200
        clerks.append((server, counter, token))

    def work(item: tuple[LiveServer, int, str]) -> list[str]:
        server, counter, token = item
        called = []
        while True:
            response = server.post(f"/api/v1/counters/{counter}/call-next", token=token)
            assert response.status_code == 200, response.text
            ticket = response.json()["ticket"]
            if ticket is None:
                return called
            called.append(ticket["number"])
            server.post(f"/api/v1/counters/{counter}/finish", token=token)

    with ThreadPoolExecutor(4) as pool:
        per_clerk = list(pool.map(work, clerks))
    calls = Counter(number for batch in per_clerk for number in batch)
    assert set(calls) == set(numbers)
    assert set(calls.values()) == {1}


def test_a_change_gives_each_screen_one_line_count_whichever_process_made_it(
    two_processes: tuple[LiveServer, LiveServer],
) -> None:
    """Line counts (`queues`) are coalesced per process and go to that process's own
    screens: with two processes a ticket taken on one is counted once on every screen, not
    once per process (each process remakes its estimates when the seq moves, and both used
    to push through the queue to everyone)."""
    first, second = two_processes
    received: dict[str, list[int]] = {"first": [], "second": []}
    screens = []
    for name, server in (("first", first), ("second", second)):
        screen = socketio.Client(reconnection=False)
        screen.on(
            "queues",
            lambda payload, name=name: received[name].append(payload["seq"]),
            namespace="/display",
        )
        screen.connect(server.url, namespaces=["/display"], transports=["websocket"])
        screens.append(screen)
    try:
        time.sleep(1.0)  # the connect's own pushes settle
        for seqs in received.values():
            seqs.clear()
        first.post("/api/v1/tickets", {"service": "employment"})
        time.sleep(2.0)  # eight publisher ticks
    finally:
        for screen in screens:
            screen.disconnect()
    # Counted by the change's seq: a board remade for its age (every 30 s, the same seq)
    # may push once before the ticket; nothing is pushed twice for the ticket's seq.
    changed = max(received["first"] + received["second"])
    assert received["first"].count(changed) == 1, received
    assert received["second"].count(changed) == 1, received
