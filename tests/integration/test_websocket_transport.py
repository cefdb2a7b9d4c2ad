"""The WebSocket transport `python run.py` serves under gevent (queue_server/realtime/
websocket.py), spoken to frame by frame by wsproto's client side over a real socket: a bad
handshake is a 400, fragments are put together, ping frames are answered, engine.io's pings
come from the hub timers and a client that stops answering them is dropped, and a close, an
oversized message or a frame breaking the protocol ends the connection with the right code."""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import socketio
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Event, Ping, Pong, TextMessage
from wsproto.frame_protocol import CloseReason

from tests.live_server import LiveServer, run_probe

PING = {"YIHAO_PING_INTERVAL_S": "1", "YIHAO_PING_TIMEOUT_S": "1"}
MAX_MESSAGE = 64 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("transport")
    with LiveServer(workdir, "--no-scheduler", env=PING) as live:  # run.py as it comes
        yield live


def handshake(server: LiveServer, **headers: str) -> tuple[socket.socket, str]:
    """Send an upgrade request for engine.io's WebSocket transport; the socket and the
    answer's status line."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    fields = {
        "Host": f"127.0.0.1:{server.port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        **{name.replace("_", "-"): value for name, value in headers.items()},
    }
    request = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
    request += "".join(f"{name}: {value}\r\n" for name, value in fields.items() if value)
    sock.sendall((request + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return sock, head.decode("latin-1")


class Client:
    """An upgraded connection, framed by wsproto's client side."""

    def __init__(self, server: LiveServer) -> None:
        self.sock, head = handshake(server)
        assert head.startswith("HTTP/1.1 101"), head
        assert "sec-websocket-extensions" not in head.lower(), "no extension negotiated"
        self.ws = Connection(ConnectionType.CLIENT)
        self.closed = False

    def send(self, event: Event) -> None:
        self.sock.sendall(self.ws.send(event))

    def next_event(self, timeout: float = 5) -> Event | None:
        """The next event, or None once the server has closed the socket."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.ws.events():
                return event
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = self.sock.recv(65536)
            if not data:
                self.closed = True
                return None
            self.ws.receive_data(data)

    def text(self, timeout: float = 5) -> str:
        event = self.next_event(timeout)
        assert isinstance(event, TextMessage), event
        return event.data

    def open_display(self) -> None:
        assert self.text().startswith("0{"), "engine.io's open packet"
        # Socket.IO's connect packet, in two fragments.
        self.send(TextMessage(data="40/dis", message_finished=False))
        self.send(TextMessage(data="play,", message_finished=True))
        # The snapshot is sent by the connect handler, which python-socketio runs before it
        # acknowledges the connect; the client library holds events until the ack.
        answers = sorted(self.text()[:22] for _ in range(2))
        assert answers[0].startswith("40/display,{"), answers
        assert answers[1].startswith('42/display,["snapshot"'), answers

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"Sec_WebSocket_Key": ""}, "no key"),
        ({"Sec_WebSocket_Key": "c2hvcnQ="}, "a key that is not 16 bytes"),
        ({"Sec_WebSocket_Key": "not base64 at all!!!!!!!"}, "a key that is not base64"),
        ({"Sec_WebSocket_Version": "8"}, "an old protocol version"),
        ({"Sec_WebSocket_Version": ""}, "no version"),
    ],
)
def test_a_bad_handshake_is_a_400_and_the_server_serves_on(
    server: LiveServer, headers: dict[str, str], why: str
) -> None:
    sock, head = handshake(server, **headers)
    sock.close()
    assert head.startswith("HTTP/1.1 400"), (why, head)
    assert "Sec-WebSocket-Version: 13" in head
    assert server.get("/healthz").status_code == 200


def test_a_fragmented_message_is_put_together_and_a_screen_gets_its_snapshot(
    server: LiveServer,
) -> None:
    with Client(server) as client:
        client.open_display()


def test_a_ping_frame_is_answered_with_its_payload(server: LiveServer) -> None:
    with Client(server) as client:
        client.text()  # engine.io's open packet
        client.send(Ping(payload=b"still there?"))
        pong = client.next_event()
        assert isinstance(pong, Pong)
        assert pong.payload == b"still there?"


def test_engineio_pings_come_while_answered_and_a_client_that_stops_is_dropped(
    server: LiveServer,
) -> None:
    """Pings are sent from the hub's timers (websocket.ping_on_timers): with a 1 s interval
    a client answering them gets one a second; silent, it is dropped after the 1 s timeout."""
    with Client(server) as client:
        client.open_display()
        started = time.monotonic()
        pings = 0
        while pings < 3:
            if client.text(timeout=3) == "2":
                pings += 1
                client.send(TextMessage(data="3"))
        assert 2 <= time.monotonic() - started < 6, "one ping a second"
        silent_since = time.monotonic()
        while True:
            event = client.next_event(timeout=10)
            if event is None or isinstance(event, CloseConnection):
                break
        # interval (1 s, the last ping unanswered) + timeout (1 s) + the check's slack
        assert time.monotonic() - silent_since < 6


def test_a_close_frame_is_answered_and_the_connection_ends(server: LiveServer) -> None:
    with Client(server) as client:
        client.open_display()
        client.send(CloseConnection(code=CloseReason.NORMAL_CLOSURE, reason="bye"))
        answer = client.next_event()
        while isinstance(answer, TextMessage):  # a push already on its way
            answer = client.next_event()
        assert isinstance(answer, CloseConnection)
        assert answer.code == CloseReason.NORMAL_CLOSURE
        assert client.next_event() is None, "then the server closes the socket"


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        # A message past the limit (64 KB, the REST bodies' own).
        (Connection(ConnectionType.CLIENT).send(TextMessage(data="4" + "x" * MAX_MESSAGE)), 1009),
        # RFC 6455 §5.1: a server must close a connection whose client frames are unmasked.
        (b"\x81\x023x", 1002),  # FIN, text, unmasked, 2 bytes
    ],
    ids=["oversized", "unmasked"],
)
def test_a_message_breaking_the_rules_closes_with_its_code(
    server: LiveServer, frames: bytes, code: int
) -> None:
    with Client(server) as client:
        client.text()
        client.sock.sendall(frames)
        answer = client.next_event()
        assert isinstance(answer, CloseConnection), answer
        assert answer.code == code
        assert server.get("/healthz").status_code == 200


def test_a_connection_reset_mid_frame_leaves_the_server_serving(tmp_path: Path) -> None:
    with LiveServer(tmp_path, "--no-scheduler", env=PING) as live:
        with Client(live) as client:
            client.text()
            client.sock.sendall(b"\x81\xfe\x10\x00")  # a masked 4 KB frame's header, then nothing
            linger_zero = struct.pack("ii", 1, 0)  # close with a reset, not a FIN
            client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_zero)
        assert live.get("/healthz").status_code == 200
        with Client(live) as second:
            second.open_display()


def test_a_client_that_starts_on_polling_upgrades_and_gets_calls(server: LiveServer) -> None:
    """engine.io's upgrade (long-polling first, then `2probe`/`3probe`/`5` over the new
    WebSocket) goes through the same transport; broadcasts then reach the upgraded client."""
    got: dict[str, list[object]] = {"snapshot": [], "call": []}
    client = socketio.Client(reconnection=False)
    client.on("snapshot", got["snapshot"].append, namespace="/display")
    client.on("call", got["call"].append, namespace="/display")
    client.connect(server.url, namespaces=["/display"])  # polling, then the upgrade
    try:
        deadline = time.monotonic() + 5
        while client.transport() != "websocket" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.transport() == "websocket"
        token = server.login("clerk01")
        assert server.post("/api/v1/counters/1/sign-in", token=token).status_code == 200
        assert server.post("/api/v1/tickets", {"service": "employment"}).status_code in (200, 201)
        response = server.post("/api/v1/counters/1/call-next", token=token)
        number = response.json()["ticket"]["number"]
        deadline = time.monotonic() + 5
        while not got["call"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got["snapshot"], "the snapshot came first"
        assert [call["number"] for call in got["call"]] == [number]  # type: ignore[index]
    finally:
        client.disconnect()


def test_behind_another_wsgi_server_websockets_take_the_librarys_transport(
    tmp_path: Path,
) -> None:
    """Only `serving.serve_gevent` hands Yihao's transport the socket; behind gevent's plain
    WSGI server the same app falls back to engine.io's own transport and still serves."""
    report = run_probe("tests.integration.plain_pywsgi_probe", f"sqlite:///{tmp_path}/p.db")
    assert report["snapshot"] == 1
    assert report["calls"] == [report["called"]]
    assert report["registered"] == 0, "not on Yihao's transport"
    assert report["queued_frames"] > 0, "broadcasts through the client's queue"
