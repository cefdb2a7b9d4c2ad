"""Broadcasts under gevent take the direct path (queue_server/realtime/fanout.py): each frame
is built once and written straight to every plain WebSocket, coalesced per connection.

These tests run real `run.py --async-mode gevent` servers with real Socket.IO clients and
check what the direct path must keep: every screen gets every call exactly once, in seq
order, after its snapshot; screens joining while calls flow still get their snapshot first;
frames of every size parse; a call made on one process reaches screens on the other."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import socketio
from wsproto.connection import Connection, ConnectionType
from wsproto.events import TextMessage

from queue_server.realtime.fanout import (
    WatchedRedis,
    fanout_manager,
    library_problems,
    pipeline_problems,
)
from queue_server.realtime.websocket import FrameCache
from tests.conftest import postgres_and_redis, reset_postgres
from tests.live_server import LiveServer, processes_on, run_probe

SCREENS = 30
CALLS = 20
DEADLINE_S = 10.0


# -- frames --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "2",
        '42/display,["call",{"text":"请A023号到5号窗口办理","number":"A023"}]',
        "4" + "x" * 125,  # the largest frame with a one-byte length
        "4" + "x" * 300,  # a two-byte length
        "4" + "号" * 30_000,  # 90,001 bytes of UTF-8: an eight-byte length
    ],
)
def test_a_shared_frame_reads_back_as_the_same_text_message(text: str) -> None:
    frames = FrameCache()
    reader = Connection(ConnectionType.CLIENT)
    reader.receive_data(frames.frame(text))
    events = list(reader.events())
    assert len(events) == 1
    assert isinstance(events[0], TextMessage)
    assert events[0].data == text
    assert events[0].message_finished
    assert frames.frame(text) is frames.frame(text), "built once, then shared"


# -- the libraries' internals the direct path uses --------------------------------------
@pytest.mark.parametrize("async_mode", ["gevent"])
def test_the_library_internals_the_direct_path_uses_are_where_it_expects(
    async_mode: str,
) -> None:
    """fanout.py uses engine.io, python-socketio and simple-websocket internals (not public
    API). When an upgrade moves one, this test names it; the server itself then logs the
    same list and keeps broadcasts on the library's path."""
    import engineio

    assert library_problems(engineio.Server(async_mode=async_mode)) == []


def test_the_redis_manager_internals_a_commits_pipeline_uses_are_where_it_expects() -> None:
    """A commit's messages go to Redis in one pipeline through RedisManager attributes (not
    public API); when an upgrade moves one, this names it (the server logs the same list
    and publishes one by one)."""
    manager = fanout_manager("redis://127.0.0.1:6379/0", "shape-check")
    assert isinstance(manager, WatchedRedis)
    assert pipeline_problems(manager) == []


# -- one gevent process --------------------------------------------------------------
def test_under_gevent_broadcasts_go_straight_to_the_websockets(tmp_path: Path) -> None:
    """Only the server's own process can tell which path a frame took: the probe runs Yihao
    under gevent in a process of its own and reports its client manager's counts."""
    report = run_probe("tests.integration.fanout_probe", f"sqlite:///{tmp_path}/p.db")
    assert report["manager"] == "DirectFanout"
    assert all(calls == report["called"] for calls in report["received"])
    # 5 screens × (snapshot + 5 × (call, counter ×2, evaluate ×2)), less the first call's
    # evaluate close (nothing was open yet); `queues` updates come on top.
    assert report["direct_frames"] >= 5 * (1 + 5 * 5 - 1)
    assert report["queued_frames"] == 0


class Screen:
    """A Socket.IO client on /display recording every event it receives, in order."""

    def __init__(self, url: str) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.client = socketio.Client(reconnection=False)
        for name in ("snapshot", "call", "counter", "evaluate", "queues"):
            self.client.on(name, self._recorder(name), namespace="/display")
        self.client.connect(url, namespaces=["/display"], transports=["websocket"])

    def _recorder(self, name: str) -> Any:
        def record(payload: dict[str, Any]) -> None:
            self.events.append((name, payload))

        return record

    def calls(self) -> list[dict[str, Any]]:
        return [payload for name, payload in self.events if name == "call"]

    def close(self) -> None:
        self.client.disconnect()


def close_all(screens: list[Screen]) -> None:
    """In parallel: the client library takes about 3 s to close each connection."""
    with ThreadPoolExecutor(max(1, len(screens))) as pool:
        list(pool.map(Screen.close, screens))


@pytest.fixture(scope="module")
def gevent_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("fanout")
    with LiveServer(workdir, "--no-scheduler", "--async-mode", "gevent") as server:
        yield server


def sign_in(server: LiveServer, counter: int) -> str:
    token = server.login(f"clerk{counter:02d}")
    assert server.post(f"/api/v1/counters/{counter}/sign-in", token=token).status_code == 200
    return token


def serve(server: LiveServer, counter: int, token: str, rounds: int) -> list[str]:
    """call-next then finish, `rounds` times: the numbers called."""
    called = []
    for _ in range(rounds):
        response = server.post(f"/api/v1/counters/{counter}/call-next", token=token)
        assert response.status_code == 200, response.text
        ticket = response.json()["ticket"]
        assert ticket is not None
        called.append(ticket["number"])
        assert server.post(f"/api/v1/counters/{counter}/finish", token=token).status_code == 200
    return called


def issue(server: LiveServer, count: int) -> None:
    for _ in range(count):
        response = server.post("/api/v1/tickets", {"service": "employment"})
        assert response.status_code in (200, 201), response.text


def wait_for(condition: Any, seconds: float = DEADLINE_S) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def assert_in_order(screen: Screen, called: set[str]) -> None:
    names = [name for name, _ in screen.events]
    assert names[0] == "snapshot", names[:5]
    calls = screen.calls()
    numbers = [call["number"] for call in calls]
    assert sorted(numbers) == sorted(called), "every call exactly once"
    seqs = [call["seq"] for call in calls]
    assert seqs == sorted(seqs), "calls in seq order"
    assert len(set(seqs)) == len(seqs), "no call twice"
    for kind in ("counter", "evaluate"):
        kind_seqs = [payload["seq"] for name, payload in screen.events if name == kind]
        assert kind_seqs == sorted(kind_seqs), f"{kind} messages in seq order"
    for call in calls:
        assert call["text"] == f"请{call['number']}号到{call['counter']}号窗口办理"


def test_every_screen_gets_every_call_once_in_order(gevent_server: LiveServer) -> None:
    issue(gevent_server, CALLS)
    tokens = {counter: sign_in(gevent_server, counter) for counter in (1, 2)}
    with ThreadPoolExecutor(SCREENS) as pool:
        screens = list(pool.map(Screen, [gevent_server.url] * SCREENS))
    try:
        assert wait_for(lambda: all(screen.events for screen in screens))
        with ThreadPoolExecutor(2) as pool:
            batches = list(
                pool.map(
                    lambda counter: serve(gevent_server, counter, tokens[counter], CALLS // 2),
                    tokens,
                )
            )
        called = {number for batch in batches for number in batch}
        assert len(called) == CALLS
        assert wait_for(lambda: all(len(screen.calls()) >= CALLS for screen in screens))
        time.sleep(0.3)  # a duplicate would arrive now
        for screen in screens:
            assert_in_order(screen, called)
            # Each finish opened the rating buttons of its counter, each call closed them.
            opened = [p for name, p in screen.events if name == "evaluate" and p["open"]]
            assert len(opened) == CALLS
    finally:
        close_all(screens)


def test_screens_joining_while_calls_flow_get_their_snapshot_first(
    gevent_server: LiveServer,
) -> None:
    issue(gevent_server, CALLS)
    token = sign_in(gevent_server, 3)
    screens: list[Screen] = []
    stop = threading.Event()
    called: list[str] = []

    def keep_calling() -> None:
        while not stop.is_set() and len(called) < CALLS:
            called.extend(serve(gevent_server, 3, token, 1))

    caller = threading.Thread(target=keep_calling)
    caller.start()
    try:
        for _ in range(12):
            screens.append(Screen(gevent_server.url))
            time.sleep(0.05)
    finally:
        stop.set()
        caller.join()
        time.sleep(0.5)
        close_all(screens)
    assert called
    for screen in screens:
        assert screen.events
        assert screen.events[0][0] == "snapshot"
        snapshot_seq = screen.events[0][1]["seq"]
        seqs = [call["seq"] for call in screen.calls()]
        assert seqs == sorted(seqs)
        # What the screen shows is the snapshot plus the calls after it: none is missing.
        after = {call["number"] for call in screen.calls() if call["seq"] > snapshot_seq}
        expected_after = set(called[-len(after) :]) if after else set()
        assert after == expected_after


# -- two gevent processes on PostgreSQL and Redis ------------------------------------
@pytest.mark.postgres
def test_a_call_on_one_gevent_process_reaches_screens_on_both(tmp_path: Path) -> None:
    postgres_url, redis_url = postgres_and_redis()
    reset_postgres(postgres_url)
    screens: list[Screen] = []
    with processes_on(tmp_path, postgres_url, redis_url, "--async-mode", "gevent") as servers:
        try:
            screens = [Screen(server.url) for server in servers for _ in range(5)]
            first = servers[0]
            issue(first, 6)
            token = sign_in(first, 1)
            called = set(serve(first, 1, token, 6))
            assert wait_for(lambda: all(len(screen.calls()) >= 6 for screen in screens))
            time.sleep(0.3)
            for screen in screens:
                assert_in_order(screen, called)
        finally:
            close_all(screens)
