"""D1: the message-queue Redis goes away and comes back. A Redis of the test's own, on a port
of its own, is started, stopped and started again: /healthz says `degraded`, staff can still
log in (the login limit falls back to the process's memory and still holds), managers get a
`message_queue` alert, the log says so once at warning level, this process's screens still get
its calls, and when Redis returns publishing resumes and screens get a fresh `snapshot`."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import socketio
from flask import Flask

from tests.conftest import log_in_as
from tests.live_server import LiveServer, free_port

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


class OwnRedis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> OwnRedis:
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",  # noqa: S607
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path).start()
    yield server
    server.stop()


def wait_for(condition: Callable[[], Any], timeout_s: float = 10) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_redis_away_degrades_logins_alerts_and_recovers(
    make_app: Callable[..., Flask], own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(MESSAGE_QUEUE=own_redis.url, MESSAGE_QUEUE_CHANNEL=f"test-{own_redis.port}")
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok", "database": "ok", "message_queue": "ok"}

    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger="yihao.message_queue"):
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json == {"status": "degraded", "database": "ok", "message_queue": "down"}
        client.get("/healthz")  # said once, not on every check
    outage = [r for r in caplog.records if r.name == "yihao.message_queue"]
    assert len(outage) == 1
    assert outage[0].levelno == logging.WARNING
    assert f"127.0.0.1:{own_redis.port}" in outage[0].getMessage()

    # Staff can log in, and the limit still holds (in this process's memory).
    good = client.post("/api/v1/auth/login", json={"username": "manager", "password": "demo"})
    assert good.status_code == 200, good.json
    manager = {"Authorization": f"Bearer {good.json['token']}"}
    wrong = {"username": "clerk01", "password": "wrong"}
    statuses = [client.post("/api/v1/auth/login", json=wrong).status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]

    # Managers are told.
    alerts = client.get("/api/v1/alerts", headers=manager).json["alerts"]
    assert [alert["kind"] for alert in alerts] == ["message_queue"]
    assert "Redis" in alerts[0]["message"]

    own_redis.start()
    assert client.get("/healthz").json["status"] == "ok"
    assert client.post("/api/v1/auth/login", json=wrong).status_code in (401, 429)


def test_screens_keep_their_process_and_get_a_snapshot_when_redis_returns(
    own_redis: OwnRedis, tmp_path: Path
) -> None:
    channel = f"test-{own_redis.port}"
    env = {"YIHAO_MESSAGE_QUEUE_CHANNEL": channel, "YIHAO_MESSAGE_QUEUE_CHECK_S": "0.5"}
    server = LiveServer(tmp_path, "--message-queue", own_redis.url, "--no-scheduler", env=env)
    received: list[tuple[str, Any]] = []
    screen = socketio.Client(reconnection=False)
    for name in ("snapshot", "call"):
        screen.on(name, lambda payload, name=name: received.append((name, payload)), "/display")
    with server:
        screen.connect(server.url, namespaces=["/display"], transports=["websocket"])
        wait_for(lambda: received)
        token = server.login("clerk01")
        assert server.post("/api/v1/counters/1/sign-in", token=token).status_code == 200
        server.post("/api/v1/tickets", {"service": "employment"})

        own_redis.stop()
        wait_for(lambda: server.get("/healthz").json()["status"] == "degraded")
        received.clear()
        assert server.post("/api/v1/counters/1/call-next", token=token).status_code == 200
        wait_for(lambda: [name for name, _ in received] == ["call"])  # its own screens still

        own_redis.start()
        listener = redis.Redis.from_url(own_redis.url).pubsub()
        listener.subscribe(channel)
        # Within the check interval, without anyone asking /healthz: a fresh snapshot.
        snapshot = wait_for(lambda: [p for name, p in received if name == "snapshot"], 5)
        assert snapshot[0]["calls"]  # the call made while Redis was away
        assert server.post("/api/v1/counters/1/recall", token=token).status_code == 200
        published = wait_for(
            lambda: listener.get_message(ignore_subscribe_messages=True, timeout=0.2)
        )
        assert b"call" in published["data"]  # publishing resumed
        screen.disconnect()
    log = server.log_path.read_text(errors="replace")
    assert log.count("cannot be reached") == 1
    # Nothing is published while the queue is known to be down (the call alone would be
    # several messages, each two error lines). A publish already in flight at the instant
    # Redis went away (the publisher's tick) can fail once before the watch knows.
    assert log.count("Cannot publish to redis... giving up") <= 1


def test_a_publish_that_fails_stops_the_next_ones_before_the_watch_pings(
    make_app: Callable[..., Flask], own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis dies between two pings: the first publish that fails marks the queue down, so
    the messages after it are not tried (CI once logged four give-ups, each up to a connect
    timeout, between Redis dying and the watch's next ping). The next ping says the outage
    once; a ping that finds Redis answering (a blip) resumes publishing."""
    app = make_app(MESSAGE_QUEUE=own_redis.url, MESSAGE_QUEUE_CHANNEL=f"test-{own_redis.port}")
    yihao = app.extensions["yihao"]
    client = app.test_client()
    assert client.get("/healthz").json["status"] == "ok"
    own_redis.stop()
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            yihao.socketio.emit("queues", {}, namespace="/display", to="S1")
    gave_up = [r for r in caplog.records if "giving up" in r.getMessage()]
    assert len(gave_up) == 1
    assert yihao.message_queue_watch.manager.queue_down
    assert yihao.message_queue_watch.status == "ok"  # not pinged yet: the log says it next
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="yihao.message_queue"):
        assert client.get("/healthz").json["message_queue"] == "down"
    assert len([r for r in caplog.records if "cannot be reached" in r.getMessage()]) == 1

    own_redis.start()
    assert client.get("/healthz").json["message_queue"] == "ok"
    assert not yihao.message_queue_watch.manager.queue_down
    # A blip: a publish fails, but Redis answers the next ping: publishing resumes.
    yihao.message_queue_watch.manager.queue_down = True
    assert client.get("/healthz").json["message_queue"] == "ok"
    assert not yihao.message_queue_watch.manager.queue_down


def test_a_message_queue_that_refuses_at_start_is_a_degraded_start(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="yihao.message_queue"):
        app = make_app(MESSAGE_QUEUE=f"redis://127.0.0.1:{free_port()}/0")
    assert len([r for r in caplog.records if r.name == "yihao.message_queue"]) == 1
    client = app.test_client()
    assert client.get("/healthz").json["status"] == "degraded"
    login = client.post("/api/v1/auth/login", json={"username": "manager", "password": "demo"})
    assert login.status_code == 200


def test_a_commits_messages_cross_to_redis_together_and_in_order(
    make_app: Callable[..., Flask], own_redis: OwnRedis
) -> None:
    """A call's messages (`call`, `counter`…, `ticket`…) leave for the other processes in one
    pipeline when the commit's emits are done (fanout.py `publishing_together`): nothing
    before, all of them after, in the order they were emitted."""
    channel = f"test-{own_redis.port}"
    app = make_app(MESSAGE_QUEUE=own_redis.url, MESSAGE_QUEUE_CHANNEL=channel)
    yihao = app.extensions["yihao"]
    manager = yihao.socketio.server.manager
    listener = redis.Redis.from_url(own_redis.url).pubsub()
    listener.subscribe(channel)
    confirmed = wait_for(lambda: listener.get_message(timeout=0.1))
    assert confirmed["type"] == "subscribe"

    def published() -> list[dict[str, Any]]:
        found = []
        while (message := listener.get_message(timeout=0.3)) is not None:
            found.append(manager.json.loads(message["data"]))
        return found

    with manager.publishing_together():
        for number in range(3):
            yihao.socketio.emit("queues", {"n": number}, namespace="/display", to="S1")
        assert published() == []  # gathered, not sent
    assert [message["data"][0]["n"] for message in published()] == [0, 1, 2]

    client = app.test_client()
    clerk = log_in_as(client, "clerk01")
    assert clerk.counter(1, "sign-in").status_code == 200
    assert client.post("/api/v1/tickets", json={"service": "employment"}).status_code == 201
    published()
    assert clerk.counter(1, "call-next").status_code == 200
    call = [(m["namespace"], m["event"], m["data"][0]["seq"]) for m in published()]
    assert call[0][:2] == ("/display", "call")
    assert ("/display", "counter") in [(namespace, event) for namespace, event, _ in call]
    assert len({seq for _, _, seq in call}) == 1  # one commit's messages, its seq


def test_a_gathered_publish_that_fails_gives_up_once_and_marks_the_queue_down(
    make_app: Callable[..., Flask], own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(MESSAGE_QUEUE=own_redis.url, MESSAGE_QUEUE_CHANNEL=f"test-{own_redis.port}")
    yihao = app.extensions["yihao"]
    manager = yihao.socketio.server.manager
    assert app.test_client().get("/healthz").json["status"] == "ok"
    own_redis.stop()
    with caplog.at_level(logging.WARNING), manager.publishing_together():
        for _ in range(5):
            yihao.socketio.emit("queues", {}, namespace="/display", to="S1")
    gave_up = [r for r in caplog.records if "giving up" in r.getMessage()]
    assert len(gave_up) == 1
    assert "Cannot publish to redis... giving up (5 messages" in gave_up[0].getMessage()
    assert manager.queue_down
